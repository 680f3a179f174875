"""The retry policy every driver shares: what to do after each attempt. Pure.

Drivers only sleep and send; whether to try again, and after how long, is decided here, so
sync, threaded and async runs react to the same failure in the same way.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Final, Literal

from cratedigger.models import Failure, Response

# "cancelled": the driver did not send it, because the run halted while it waited for a slot.
TransportKind = Literal["timeout", "connection", "payload", "cancelled"]


@dataclass(frozen=True, slots=True)
class TransportError:
    """A request that produced no usable HTTP answer (the driver maps its library's errors here)."""

    kind: TransportKind
    detail: str


Outcome = Response | TransportError


@dataclass(frozen=True, slots=True)
class Retry:
    delay: float
    reason: str


@dataclass(frozen=True, slots=True)
class GiveUp:
    reason: str
    status: int | None = None


# How the reason of a request stopped by a bot challenge starts (see `Blocked`).
BOT_CHALLENGE: Final = "blocked by a bot challenge"


@dataclass(frozen=True, slots=True)
class Blocked(GiveUp):
    """The server answered with a bot challenge (`is_bot_challenge`): give up at once.

    No retry gets past a challenge, and every further request only earns another; a run
    that sees one should stop using the source (the reason starts with BOT_CHALLENGE).
    """


@dataclass(frozen=True, slots=True)
class Reauthenticate:
    """The token was refused (401): get a new one, then send again."""


@dataclass(frozen=True, slots=True)
class Accept:
    """A 2xx answer: hand it to the parser."""


Decision = Retry | GiveUp | Reauthenticate | Accept


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """Exponential backoff with full jitter; 429s wait at least the server's Retry-After.

    `retries` bounds the attempts after the first for timeouts, connection errors, unreadable
    bodies and 5xx; 429s have their own, larger budget because they are the server pacing us,
    not a failure.
    """

    retries: int = 4
    base_delay: float = 0.2
    max_delay: float = 8.0
    rate_limit_retries: int = 12
    max_retry_after: float = 120.0
    retry_statuses: frozenset[int] = frozenset({500, 502, 503, 504})

    def backoff(self, failures: int, jitter: float) -> float:
        """Full jitter: uniform over [0, min(cap, base * 2**(failures-1))); jitter in [0, 1)."""
        ceiling = min(self.max_delay, self.base_delay * 2.0 ** max(failures - 1, 0))
        return jitter * ceiling

    def decide(
        self,
        outcome: Outcome,
        *,
        failures: int,
        rate_limited: int,
        reauthenticated: bool,
        jitter: float,
        retry_after: float | None = None,
    ) -> Decision:
        """What to do after one attempt.

        `failures` counts transient failures so far including this one, `rate_limited` the
        429s so far including this one; `jitter` is a uniform draw in [0, 1); `retry_after`
        is the server's hint for a 429 (`headers.retry_after_seconds`), read once by the caller.
        """
        if isinstance(outcome, TransportError):
            return self._transient(f"{outcome.kind}: {outcome.detail}", failures, jitter, None)
        status = outcome.status
        if 200 <= status < 300:
            return Accept()
        if status == 429:
            if rate_limited > self.rate_limit_retries:
                return GiveUp(f"HTTP 429 after {rate_limited} rate-limited attempts", status)
            floor = min(retry_after, self.max_retry_after) if retry_after is not None else 0.0
            return Retry(max(floor, self.backoff(rate_limited, jitter)), "HTTP 429")
        if is_bot_challenge(status, outcome.headers):
            return Blocked(
                f"{BOT_CHALLENGE} (HTTP 403, cf-mitigated: challenge): the website refuses "
                "automated clients; try --source api",
                status,
            )
        if status == 401 and not reauthenticated:
            return Reauthenticate()
        if status in self.retry_statuses:
            return self._transient(f"HTTP {status}", failures, jitter, status)
        return GiveUp(f"HTTP {status}", status)

    def _transient(self, reason: str, failures: int, jitter: float, status: int | None) -> Decision:
        if failures > self.retries:
            return GiveUp(f"{reason} (gave up after {failures} attempts)", status)
        return Retry(self.backoff(failures, jitter), reason)


def is_bot_challenge(status: int, headers: Mapping[str, str]) -> bool:
    """Whether an answer is a bot challenge, as Cloudflare sends automated clients: a 403
    with `cf-mitigated: challenge` (header names in any case)."""
    if status != 403:
        return False
    for name, value in headers.items():
        if name.lower() == "cf-mitigated":
            return value.strip().lower() == "challenge"
    return False


def blocked_by_challenge(failure: Failure) -> bool:
    """Whether a request failed for good because of a bot challenge (a `Blocked` decision)."""
    return failure.status == 403 and failure.reason.startswith(BOT_CHALLENGE)
