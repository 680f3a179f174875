"""Token-bucket rate limiting with an injected clock, and the headers that describe it.

One bucket per scope key (everything, each bearer token, or each client address). A request
takes one token; an empty bucket answers 429 with `Retry-After` = the whole seconds until a
token is back. In penalty mode every request refused during that window costs a token too, so
a client that ignores Retry-After pushes its own window further out.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

__all__ = [
    "PERIODS",
    "SCOPES",
    "Decision",
    "RateLimitConfig",
    "RateLimiter",
    "TokenBucket",
    "scope_key",
]

PERIODS = {"s": 1.0, "min": 60.0, "h": 3600.0}
SCOPES = ("global", "token", "client")
# Penalty debt is capped so that a client that stops misbehaving is let back in within this
# many seconds, however hard it hammered.
PENALTY_MAX_SECONDS = 60.0
# Past this many buckets (scope=client/token with many callers), full ones are dropped: a full
# bucket is indistinguishable from a new one, so forgetting it changes nothing.
MAX_BUCKETS = 4096
_POLICY = '"default"'  # the IETF draft's quota policy identifier (a structured-field string)


@dataclass(frozen=True, slots=True)
class RateLimitConfig:
    """A token bucket refilled with `count` tokens per `per` ("s", "min", "h")."""

    count: float
    per: str = "s"
    burst: int = 1
    scope: str = "global"  # one of SCOPES
    penalty: bool = False

    @property
    def period(self) -> float:
        return PERIODS[self.per]

    @property
    def rate(self) -> float:
        """Tokens per second."""
        return self.count / PERIODS[self.per]


class TokenBucket:
    """`burst` tokens at most, refilled continuously at `rate` tokens per second."""

    __slots__ = ("burst", "rate", "stamp", "tokens")

    def __init__(self, rate: float, burst: int, now: float) -> None:
        self.rate = rate
        self.burst = burst
        self.tokens = float(burst)
        self.stamp = now

    def refill(self, now: float) -> None:
        if now > self.stamp:
            self.tokens = min(self.burst, self.tokens + (now - self.stamp) * self.rate)
            self.stamp = now

    def try_take(self, now: float) -> bool:
        """Take a token if there is one."""
        self.refill(now)
        # The tolerance lets a client that waited exactly Retry-After in, float noise or not.
        if self.tokens >= 1.0 - 1e-9:
            self.tokens -= 1.0
            return True
        return False

    def penalise(self, max_debt: float) -> None:
        """Charge a refused request: the bucket goes (boundedly) into debt."""
        self.tokens = max(-max_debt, self.tokens - 1.0)

    def wait(self) -> float:
        """Seconds until the next token (0 if one is there), as of the last refill."""
        return max(0.0, (1.0 - self.tokens) / self.rate)

    def until_full(self) -> float:
        """Seconds until the bucket is full again, as of the last refill."""
        return max(0.0, (self.burst - self.tokens) / self.rate)


@dataclass(frozen=True, slots=True)
class Decision:
    """The outcome of one request against the limiter, with what the headers report."""

    allowed: bool
    remaining: int
    reset: int  # whole seconds until the bucket is full again
    retry_after: int  # whole seconds until a token is back; 0 when allowed


def _ceil_seconds(seconds: float) -> int:
    # A hair of tolerance so that 2.0000000001 (float noise) is not reported as 3.
    return math.ceil(seconds - 1e-9) if seconds > 0 else 0


def _policy_window(cfg: RateLimitConfig) -> tuple[int, int]:
    """The quota and window (whole numbers, as the draft requires) that say `cfg`'s rate."""
    for factor in (1, 2, 4, 5, 10, 100, 1000):
        quota, window = float(cfg.count * factor), float(cfg.period * factor)
        if quota.is_integer() and window.is_integer():
            return int(quota), int(window)
    return max(1, round(cfg.count)), int(cfg.period)


def scope_key(scope: str, authorization: str | None, client: str | None) -> str:
    """The bucket a request draws from under `scope`."""
    if scope == "token":
        # Requests without a token share one bucket, as an anonymous tier would.
        return authorization or "anonymous"
    if scope == "client":
        return client or "unknown"
    return "global"


class RateLimiter:
    """Buckets keyed by scope key, all with one config and one clock."""

    def __init__(self, config: RateLimitConfig, clock: Callable[[], float]) -> None:
        self.config = config
        self._clock = clock
        self._buckets: dict[str, TokenBucket] = {}
        self._max_debt = config.rate * PENALTY_MAX_SECONDS
        quota, window = _policy_window(config)
        self._limit = str(quota)
        self._policy = f"{_POLICY};q={quota};w={window}"

    def check(self, key: str) -> Decision:
        """Take a token from `key`'s bucket, or say how long to wait."""
        now = self._clock()
        bucket = self._buckets.get(key)
        if bucket is None:
            if len(self._buckets) >= MAX_BUCKETS:
                self._prune(now)
            bucket = self._buckets[key] = TokenBucket(self.config.rate, self.config.burst, now)
        allowed = bucket.try_take(now)
        retry_after = 0
        if not allowed:
            if self.config.penalty:
                bucket.penalise(self._max_debt)
            retry_after = max(1, _ceil_seconds(bucket.wait()))
        remaining = max(0, math.floor(bucket.tokens))
        return Decision(allowed, remaining, _ceil_seconds(bucket.until_full()), retry_after)

    def headers(self, decision: Decision) -> dict[str, str]:
        """Rate-limit header fields for an answer: the IETF draft's and the X-RateLimit-* ones.

        X-RateLimit-Reset is a delta in seconds (not an epoch), like the draft's `t`.
        """
        headers = {
            "RateLimit-Policy": self._policy,
            "RateLimit": f"{_POLICY};r={decision.remaining};t={decision.reset}",
            "X-RateLimit-Limit": self._limit,
            "X-RateLimit-Remaining": str(decision.remaining),
            "X-RateLimit-Reset": str(decision.reset),
        }
        if not decision.allowed:
            headers["Retry-After"] = str(decision.retry_after)
        return headers

    def _prune(self, now: float) -> None:
        for key, bucket in list(self._buckets.items()):
            bucket.refill(now)
            if bucket.tokens >= bucket.burst:
                del self._buckets[key]

    def reset(self) -> None:
        """Forget every bucket (all start full again)."""
        self._buckets.clear()

    def __len__(self) -> int:
        return len(self._buckets)
