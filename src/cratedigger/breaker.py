"""The circuit breaker: when the server is gone, probe it instead of hammering it. Pure.

One `Breaker` is shared by every request of a run, like the pacer. Consecutive transport
failures (refused, reset, timed out, or 502/503/504), across tracks, open the circuit.
While it is open no request goes out but one probe at a time, with growing gaps; the first
probe that gets an answer closes it and everyone goes on. If the server stays unreachable
for the outage budget (`--outage-timeout`), the run halts: requests waiting for the circuit
give up with a halted `Failure`, tracks not yet started are not started, and the caller
keeps what finished for `--resume`. `halt()` stops a run at once for other reasons (a bot
challenge on the website).

Failures while the circuit is open are the circuit's business: they do not use up the
retry budget of the request that met them, so an outage never turns tracks into errors.
"""

from __future__ import annotations

from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass

from cratedigger.models import Response
from cratedigger.retry import TransportError

Lock = AbstractContextManager[object]


@dataclass(frozen=True, slots=True)
class BreakerPolicy:
    """The breaker's constants, as data."""

    threshold: int = 3  # consecutive failures that open the circuit (< the retry budget)
    first_gap: float = 0.5  # seconds from opening to the first probe; doubles per probe
    max_gap: float = 5.0
    outage_budget: float = 30.0  # seconds of outage after which the run halts
    poll: float = 0.25  # how often a request waiting for the circuit looks again
    failing_statuses: frozenset[int] = frozenset({502, 503, 504})
    failing_kinds: frozenset[str] = frozenset({"connection", "timeout"})

    def failed(self, outcome: Response | TransportError) -> bool:
        """Whether an outcome says the server is unreachable (not merely unhappy)."""
        if isinstance(outcome, TransportError):
            return outcome.kind in self.failing_kinds
        return outcome.status in self.failing_statuses


@dataclass(frozen=True, slots=True)
class Halt:
    """Why a run stopped before its end; `since` is on the run's monotonic clock."""

    reason: str  # "outage" | "challenge" | "signin" | "token" (the first token refused)
    since: float
    detail: str = ""


@dataclass(frozen=True, slots=True)
class Go:
    probe: bool  # True: this request is the one probe of an open circuit


@dataclass(frozen=True, slots=True)
class Wait:
    seconds: float


Admission = Go | Wait | Halt


class Breaker:
    """Every method takes the caller's monotonic `now`; a threaded run passes a lock."""

    def __init__(self, policy: BreakerPolicy = BreakerPolicy(), lock: Lock | None = None) -> None:
        self.policy = policy
        self._lock: Lock = lock if lock is not None else nullcontext()
        self._failures = 0
        self._streak_start = 0.0
        self._down_since: float | None = None  # set while the circuit is open
        self._probing = False
        self._next_probe = 0.0
        self._gap = policy.first_gap
        self.halted: Halt | None = None
        self.openings = 0

    @property
    def open(self) -> bool:
        return self._down_since is not None

    def admit(self, now: float) -> Admission:
        """May a request go out now?"""
        with self._lock:
            if self.halted is not None:
                return self.halted
            if self._down_since is None:
                return Go(probe=False)
            if now - self._down_since >= self.policy.outage_budget:
                self.halted = Halt("outage", self._down_since)
                return self.halted
            if not self._probing and now >= self._next_probe:
                self._probing = True
                return Go(probe=True)
            return Wait(max(min(self._next_probe - now, self.policy.poll), 0.01))

    def record(self, now: float, failed: bool, probe: bool) -> bool:
        """Learn from one outcome; True if the request must wait for the circuit (not retry)."""
        with self._lock:
            if probe:
                self._probing = False
            if not failed:
                self._failures = 0
                self._down_since = None
                self._gap = self.policy.first_gap
                return False
            if self._failures == 0:
                self._streak_start = now
            self._failures += 1
            if self._down_since is None and self._failures >= self.policy.threshold:
                self._down_since = self._streak_start
                self._next_probe = now + self._gap
                self.openings += 1
            elif probe:
                self._gap = min(self._gap * 2, self.policy.max_gap)
                self._next_probe = now + self._gap
            return self._down_since is not None

    def halt(self, halt: Halt) -> None:
        """Stop the run now (the first reason given wins)."""
        with self._lock:
            if self.halted is None:
                self.halted = halt
