from __future__ import annotations

import time

import pytest

from cratedigger.headers import retry_after_seconds as read_hint
from cratedigger.models import Failure, Response
from cratedigger.retry import (
    BOT_CHALLENGE,
    Accept,
    Blocked,
    GiveUp,
    Reauthenticate,
    Retry,
    RetryPolicy,
    TransportError,
    blocked_by_challenge,
    is_bot_challenge,
)

POLICY = RetryPolicy(retries=3, base_delay=0.5, max_delay=4.0, rate_limit_retries=5)


def retry_after_seconds(headers: dict[str, str]) -> float | None:
    """The hint as the exchange reads it: lower-case names (the drivers' job), the wall clock."""
    return read_hint({k.lower(): v for k, v in headers.items()}, time.time())


def decide(
    outcome: Response | TransportError,
    failures: int = 1,
    limited: int = 0,
    reauth: bool = False,
    jitter: float = 0.5,
) -> object:
    hint = retry_after_seconds(dict(outcome.headers)) if isinstance(outcome, Response) else None
    return POLICY.decide(
        outcome,
        failures=failures,
        rate_limited=limited,
        reauthenticated=reauth,
        jitter=jitter,
        retry_after=hint,
    )


def test_success_is_accepted() -> None:
    assert decide(Response(200, b"{}")) == Accept()


@pytest.mark.parametrize("status", [500, 502, 503, 504])
def test_5xx_retried_with_backoff_then_given_up(status: int) -> None:
    assert decide(Response(status, b""), failures=1, jitter=0.5) == Retry(0.25, f"HTTP {status}")
    assert decide(Response(status, b""), failures=3, jitter=0.5) == Retry(1.0, f"HTTP {status}")
    final = decide(Response(status, b""), failures=4)
    assert isinstance(final, GiveUp) and final.status == status and "4 attempts" in final.reason


def test_backoff_is_full_jitter_and_capped() -> None:
    assert POLICY.backoff(1, 0.0) == 0.0
    assert POLICY.backoff(1, 0.999) == pytest.approx(0.4995)
    assert POLICY.backoff(10, 0.999) == pytest.approx(3.996)  # capped by max_delay


@pytest.mark.parametrize("kind", ["timeout", "connection", "payload"])
def test_transport_errors_are_transient(kind: str) -> None:
    err = TransportError(kind, "x")  # type: ignore[arg-type]
    assert isinstance(decide(err, failures=2), Retry)
    assert isinstance(decide(err, failures=4), GiveUp)


def test_429_waits_at_least_retry_after() -> None:
    d = decide(Response(429, b"", {"Retry-After": "3"}), limited=1, jitter=0.0)
    assert d == Retry(3.0, "HTTP 429")
    d = decide(Response(429, b"", {"retry-after": "0"}), limited=4, jitter=0.99)
    assert isinstance(d, Retry) and d.delay == pytest.approx(POLICY.backoff(4, 0.99))


def test_429_budget_is_separate_and_bounded() -> None:
    assert isinstance(decide(Response(429, b""), failures=0, limited=5), Retry)
    assert isinstance(decide(Response(429, b""), failures=0, limited=6), GiveUp)


def test_401_reauthenticates_once() -> None:
    assert decide(Response(401, b"")) == Reauthenticate()
    assert isinstance(decide(Response(401, b""), reauth=True), GiveUp)


def test_other_4xx_given_up_at_once() -> None:
    assert decide(Response(404, b"")) == GiveUp("HTTP 404", 404)
    assert decide(Response(400, b"")) == GiveUp("HTTP 400", 400)


def test_retry_after_hints() -> None:
    assert retry_after_seconds({"Retry-After": "2"}) == 2.0
    assert retry_after_seconds({"X-RateLimit-Reset": "5"}) == 5.0
    assert retry_after_seconds({"RateLimit": '"default";r=0;t=7'}) == 7.0
    assert retry_after_seconds({"Retry-After": "2", "X-RateLimit-Reset": "4"}) == 4.0
    assert retry_after_seconds({"X-RateLimit-Reset": "1700000000"}) is None  # epoch, not delay
    assert retry_after_seconds({"Retry-After": "soon"}) is None
    assert retry_after_seconds({"Retry-After": "Wed, 21 Oct 2015 07:28:00 GMT"}) == 0.0
    assert retry_after_seconds({}) is None


CHALLENGE = Response(403, b"<html>Just a moment...</html>", {"Cf-Mitigated": "challenge"})


def test_a_bot_challenge_is_given_up_at_once_with_its_own_reason() -> None:
    d = decide(CHALLENGE, failures=0)
    assert isinstance(d, Blocked) and isinstance(d, GiveUp) and d.status == 403
    assert d.reason.startswith(BOT_CHALLENGE) and "--source api" in d.reason
    assert blocked_by_challenge(Failure(d.reason, d.status))


@pytest.mark.parametrize(
    ("status", "headers", "expected"),
    [
        (403, {"cf-mitigated": "challenge"}, True),
        (403, {"CF-MITIGATED": " Challenge "}, True),
        (403, {}, False),  # a plain 403 is an ordinary refusal
        (403, {"cf-mitigated": "block"}, False),
        (503, {"cf-mitigated": "challenge"}, False),
        (200, {"cf-mitigated": "challenge"}, False),
    ],
)
def test_is_bot_challenge(status: int, headers: dict[str, str], expected: bool) -> None:
    assert is_bot_challenge(status, headers) is expected


def test_a_plain_403_stays_an_ordinary_give_up() -> None:
    d = decide(Response(403, b""))
    assert d == GiveUp("HTTP 403", 403) and not isinstance(d, Blocked)
    assert not blocked_by_challenge(Failure("HTTP 403", 403))
