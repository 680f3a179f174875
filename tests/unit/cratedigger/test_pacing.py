from __future__ import annotations

import math

import pytest

from cratedigger.headers import announced_rate, retry_after_seconds
from cratedigger.pacing import AutoTuning, Pacer, RateLimit


def _lower(headers: dict[str, str]) -> dict[str, str]:
    return {k.lower(): v for k, v in headers.items()}  # as the drivers hand them over


def answer(pacer: Pacer, now: float, status: int, headers: dict[str, str]) -> None:
    """What the exchange does with an answer: read its hint once, tell the pacer."""
    lowered = _lower(headers)
    hint = retry_after_seconds(lowered, None) if status == 429 else None
    pacer.on_response(now, status, lowered, hint)


def announced(headers: dict[str, str]) -> float | None:
    return announced_rate(_lower(headers))


def test_parse_rate_limit() -> None:
    assert RateLimit.parse("auto") == RateLimit("auto")
    assert RateLimit.parse("off") == RateLimit("off")
    assert RateLimit.parse("20/s") == RateLimit("fixed", 20.0)
    assert RateLimit.parse("120/min") == RateLimit("fixed", 2.0)
    assert str(RateLimit.parse("2.5")) == "2.5/s"
    for bad in ("fast", "-1/s", "3/h", "nan"):
        with pytest.raises(ValueError, match="expected"):
            RateLimit.parse(bad)


def send_all(pacer: Pacer, until: float, step: float = 0.001) -> list[float]:
    """Simulate a client that sends whenever the pacer lets it, on a fake clock."""
    sent, now = [], 0.0
    while now < until:
        wait, booked = pacer.book(now)
        now += wait
        if booked:
            sent.append(now)
            now += step if wait == 0 else 0.0
    return sent


def test_off_sends_without_waiting() -> None:
    pacer = Pacer(RateLimit("off"))
    assert all(pacer.book(0.0) == (0.0, True) for _ in range(100))


def test_fixed_rate_is_kept() -> None:
    sent = send_all(Pacer(RateLimit("fixed", 20.0)), until=10.0)
    assert len(sent) == pytest.approx(200, abs=2)


def test_callers_waiting_together_each_book_their_own_slot() -> None:
    pacer = Pacer(RateLimit("fixed", 10.0))
    bookings = [pacer.book(0.0) for _ in range(5)]
    assert [booked for _, booked in bookings] == [True] * 5
    assert [wait for wait, _ in bookings] == pytest.approx([0.0, 0.1, 0.2, 0.3, 0.4])
    assert pacer.book(0.25) == (pytest.approx(0.25), True)  # the next free slot, at 0.5


def test_429_pauses_everyone_until_retry_after() -> None:
    pacer = Pacer(RateLimit("off"))
    answer(pacer, 1.0, 429, {"Retry-After": "2"})
    assert pacer.book(1.5) == (pytest.approx(1.5), False)
    assert pacer.paused_for(1.5) == pytest.approx(1.5)
    assert pacer.book(3.0) == (0.0, True)
    assert pacer.paused_for(3.0) == 0.0
    answer(pacer, 3.1, 429, {"Retry-After": "1"})
    answer(pacer, 3.2, 429, {"Retry-After": "1"})  # overlapping: counted once, extended
    assert pacer.pauses == 2
    assert pacer.pause_time == pytest.approx(2.0 + 1.1)
    assert pacer.rate_limited == 3


def test_auto_adopts_announced_rate_with_headroom() -> None:
    pacer = Pacer(RateLimit("auto"))
    answer(pacer, 0.1, 200, {"RateLimit-Policy": "20;w=1"})
    assert pacer.rate == pytest.approx(20 * AutoTuning().headroom)


def test_auto_holds_initial_window_until_first_answer() -> None:
    pacer = Pacer(RateLimit("auto"))
    assert [pacer.book(0.0) for _ in range(4)] == [(0.0, True)] * 4
    wait, booked = pacer.book(0.0)
    assert wait > 0 and not booked
    answer(pacer, 0.05, 200, {})
    assert pacer.book(0.05) == (0.0, True)
    assert math.isinf(pacer.rate)


def test_auto_decreases_on_429_and_probes_back_up() -> None:
    pacer = Pacer(RateLimit("auto"))
    answer(pacer, 0.0, 200, {})
    now = 0.0
    for _ in range(100):  # 50 requests/s for two seconds
        assert pacer.book(now) == (0.0, True)
        now += 0.02
    answer(pacer, now, 429, {"Retry-After": "1"})
    lowered = pacer.rate
    assert lowered == pytest.approx(50 * 0.85, rel=0.05)
    answer(pacer, now + 0.01, 429, {"Retry-After": "1"})  # same episode: no second cut
    assert pacer.rate == lowered
    for t in range(1, 11):
        answer(pacer, now + 1 + t, 200, {})
    assert lowered < pacer.rate < lowered * 1.3


def test_announced_rate_forms() -> None:
    assert announced({"RateLimit-Policy": "10;w=2"}) == 5.0
    assert announced({"RateLimit-Policy": '"burst";q=100;w=60'}) == pytest.approx(100 / 60)
    assert announced({"X-RateLimit-Limit": "20"}) == 20.0
    assert announced({"X-RateLimit-Limit": "60", "X-RateLimit-Window": "60"}) == 1.0
    assert announced({}) is None
