"""The token bucket and the limiter, driven by a fake clock."""

from __future__ import annotations

import pytest

from mockserver import ratelimit
from mockserver.ratelimit import (
    PENALTY_MAX_SECONDS,
    RateLimitConfig,
    RateLimiter,
    TokenBucket,
    scope_key,
)


class FakeClock:
    def __init__(self, now: float = 1000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


def _limiter(count: float, burst: int, **options: object) -> tuple[RateLimiter, FakeClock]:
    clock = FakeClock()
    config = RateLimitConfig(count, "s", burst, **options)  # type: ignore[arg-type]
    return RateLimiter(config, clock), clock


def _admitted(limiter: RateLimiter, n: int, key: str = "global") -> list[bool]:
    return [limiter.check(key).allowed for _ in range(n)]


def test_a_burst_then_the_steady_rate() -> None:
    limiter, clock = _limiter(10, burst=5)
    assert _admitted(limiter, 6) == [True] * 5 + [False]
    clock.advance(0.1)  # one token's worth
    assert _admitted(limiter, 2) == [True, False]
    clock.advance(0.35)  # three and a half tokens
    assert _admitted(limiter, 4) == [True, True, True, False]


def test_refill_stops_at_the_burst() -> None:
    limiter, clock = _limiter(10, burst=5)
    _admitted(limiter, 5)
    clock.advance(3600)
    assert _admitted(limiter, 6) == [True] * 5 + [False]


@pytest.mark.parametrize(("count", "expected"), [(2, 1), (0.2, 5), (1 / 3, 3), (0.1, 10)])
def test_retry_after_is_whole_seconds_until_a_token_and_waiting_it_works(
    count: float, expected: int
) -> None:
    limiter, clock = _limiter(count, burst=1)
    assert limiter.check("global").allowed
    refused = limiter.check("global")
    assert not refused.allowed and refused.retry_after == expected
    assert limiter.headers(refused)["Retry-After"] == str(expected)
    token_back = 1 / count  # Retry-After is this, rounded up to whole seconds
    clock.advance(token_back - 0.01)
    assert not limiter.check("global").allowed
    clock.advance(refused.retry_after - token_back + 0.01)  # waited exactly Retry-After
    assert limiter.check("global").allowed


def test_retry_after_is_at_least_one_second() -> None:
    limiter, _ = _limiter(1000, burst=1)
    limiter.check("global")
    assert limiter.check("global").retry_after == 1


def test_buckets_are_per_key() -> None:
    limiter, _ = _limiter(1, burst=2, scope="token")
    assert _admitted(limiter, 3, "Bearer a") == [True, True, False]
    assert _admitted(limiter, 2, "Bearer b") == [True, True]
    assert len(limiter) == 2


def test_scope_keys() -> None:
    assert scope_key("global", "Bearer a", "10.0.0.1") == "global"
    assert scope_key("token", "Bearer a", "10.0.0.1") == "Bearer a"
    assert scope_key("token", None, "10.0.0.1") == "anonymous"
    assert scope_key("client", "Bearer a", "10.0.0.1") == "10.0.0.1"


def test_penalty_extends_the_window_of_a_client_that_keeps_sending() -> None:
    polite, _ = _limiter(1, burst=1)
    rude, clock = _limiter(1, burst=1, penalty=True)
    polite.check("global")
    rude.check("global")
    assert [polite.check("global").retry_after for _ in range(4)] == [1, 1, 1, 1]
    assert [rude.check("global").retry_after for _ in range(4)] == [2, 3, 4, 5]
    clock.advance(4.9)  # just short of the last Retry-After: refused, and charged again
    assert rude.check("global").retry_after == 2
    clock.advance(2)
    assert rude.check("global").allowed


def test_penalty_is_bounded() -> None:
    limiter, _ = _limiter(2, burst=1, penalty=True)
    limiter.check("global")
    for _ in range(10_000):
        last = limiter.check("global")
    assert last.retry_after <= PENALTY_MAX_SECONDS + 1


def test_long_run_admitted_rate_is_the_configured_rate() -> None:
    limiter, clock = _limiter(20, burst=5)
    admitted = 0
    for _ in range(100_000):  # 1000 requests/s for 100 s against a 20/s limit
        admitted += limiter.check("global").allowed
        clock.advance(0.001)
    assert abs(admitted - (20 * 100 + 5)) <= 1


def test_headers_describe_the_policy_and_the_bucket() -> None:
    limiter, _ = _limiter(20, burst=5)
    ok = limiter.check("global")
    headers = limiter.headers(ok)
    assert headers == {
        "RateLimit-Policy": '"default";q=20;w=1',
        "RateLimit": '"default";r=4;t=1',
        "X-RateLimit-Limit": "20",
        "X-RateLimit-Remaining": "4",
        "X-RateLimit-Reset": "1",
    }
    _admitted(limiter, 4)
    refused = limiter.check("global")
    assert limiter.headers(refused)["X-RateLimit-Remaining"] == "0"
    assert limiter.headers(refused)["Retry-After"] == "1"


def test_fractional_rates_get_whole_number_policies() -> None:
    half, _ = _limiter(0.5, burst=1)
    assert half.headers(half.check("g"))["RateLimit-Policy"] == '"default";q=1;w=2'
    per_minute = RateLimiter(RateLimitConfig(90, "min", 10), FakeClock())
    assert per_minute.headers(per_minute.check("g"))["RateLimit-Policy"] == '"default";q=90;w=60'


def test_full_buckets_are_forgotten_when_there_are_too_many(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(ratelimit, "MAX_BUCKETS", 10)
    limiter, clock = _limiter(1, burst=1, scope="client")
    for n in range(10):
        limiter.check(f"10.0.0.{n}")
    clock.advance(5)  # every bucket is full again
    limiter.check("10.0.1.1")
    assert len(limiter) == 1


def test_bucket_arithmetic() -> None:
    bucket = TokenBucket(rate=4, burst=2, now=0)
    assert bucket.try_take(0) and bucket.try_take(0) and not bucket.try_take(0)
    assert bucket.wait() == 0.25 and bucket.until_full() == 0.5
    bucket.refill(0.125)
    assert bucket.tokens == 0.5
