"""Client-side pacing: when may the next request go? Pure state, clock passed in by callers.

One `Pacer` is shared by every request of a run (all threads or all tasks), so a 429 pauses
the whole client until the server's Retry-After has passed, not just the request that got it.
Three modes:

* ``off``: no client limit; 429 pauses still apply.
* ``fixed``: at most `rate` requests per second.
* ``auto``: learn the server's limit. A rate announced by the server (`RateLimit-Policy`,
  `X-RateLimit-Limit` with a window) is adopted directly; otherwise the rate is unlimited
  until a 429, then multiplicative decrease on each 429 and a slow additive probe upward.
  Until the first answer arrives only a small window of requests may leave, so that a
  server with a small burst is not flooded before it could announce its policy.
"""

from __future__ import annotations

import math
from collections import deque
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from typing import Literal

from cratedigger.headers import Headers, announced_rate

PaceMode = Literal["off", "fixed", "auto"]


@dataclass(frozen=True, slots=True)
class RateLimit:
    """The `--rate-limit` setting: off, auto, or a fixed number of requests per second."""

    mode: PaceMode = "off"
    rate: float | None = None

    @classmethod
    def parse(cls, text: str) -> RateLimit:
        """'off', 'auto', '20', '20/s' or '1200/min'; raises ValueError with the reason."""
        value = text.strip().lower()
        if value in ("off", "none", "0"):
            return cls("off")
        if value == "auto":
            return cls("auto")
        number, _, unit = value.partition("/")
        per = {"": 1.0, "s": 1.0, "sec": 1.0, "m": 60.0, "min": 60.0}.get(unit.strip())
        try:
            rate = float(number)
        except ValueError:
            rate = math.nan
        if per is None or not math.isfinite(rate) or rate <= 0:
            raise ValueError(f"expected 'auto', 'off' or a rate like '20/s', got {text!r}")
        return cls("fixed", rate / per)

    def __str__(self) -> str:
        return f"{self.rate:g}/s" if self.mode == "fixed" and self.rate else self.mode


@dataclass(frozen=True, slots=True)
class AutoTuning:
    """Constants of the adaptive mode, as data."""

    initial_window: int = 4  # requests allowed before any answer has been seen
    headroom: float = 0.97  # share of an announced rate we use (latency jitter bunches arrivals)
    decrease: float = 0.85  # multiplicative decrease on a 429
    probe: float = 0.02  # additive increase per second, as a share of the current rate
    min_rate: float = 0.5
    measure_window: float = 2.0  # seconds of history used to estimate the achieved rate


Lock = AbstractContextManager[object]


class Pacer:
    """Every method takes the caller's monotonic `now`.

    State shared by every request of a run. A threaded run passes a real lock; single-threaded
    drivers (sync, asyncio) need none, and the core itself never creates one.
    """

    def __init__(
        self,
        limit: RateLimit = RateLimit(),
        tuning: AutoTuning = AutoTuning(),
        lock: Lock | None = None,
    ) -> None:
        self._limit = limit
        self._tuning = tuning
        self._lock: Lock = lock if lock is not None else nullcontext()
        self._rate = limit.rate if limit.mode == "fixed" and limit.rate else math.inf
        self._next_slot = -math.inf
        self._pause_until = -math.inf
        self._answered = limit.mode != "auto"
        self._sent_before_answer = 0
        self._announced = False
        self._last_probe: float | None = None
        self._sent: deque[float] = deque()
        self.pauses = 0
        self.pause_time = 0.0  # seconds during which the whole client was held by Retry-After
        self.rate_limited = 0

    @property
    def rate(self) -> float:
        return self._rate

    def book(self, now: float) -> tuple[float, bool]:
        """A send slot for one request: `(wait, booked)`.

        Booked: the slot `now + wait` is the caller's; it sends after waiting (0: at once),
        unless a 429 paused the client meanwhile (`paused_for`). Not booked: the whole client
        is paused, or holds its first requests until an answer shows the server's policy;
        the caller waits and asks again. Each request books once, so the callers waiting
        for slots sleep once each instead of all waking to poll at every slot.
        """
        with self._lock:
            paused = self._pause_until - now
            if paused > 0:
                return paused, False
            if not self._answered and self._sent_before_answer >= self._tuning.initial_window:
                return 0.005, False  # poll until the first answer tells us the policy
            slot = max(now, self._next_slot)
            self._next_slot = slot + (1.0 / self._rate if math.isfinite(self._rate) else 0.0)
            if not self._answered:
                self._sent_before_answer += 1
            if self._limit.mode == "auto":
                self._sent.append(slot)
            return slot - now, True

    def paused_for(self, now: float) -> float:
        """How long the client stays paused by a 429 (0: not paused)."""
        with self._lock:
            return max(self._pause_until - now, 0.0)

    def on_response(
        self, now: float, status: int, headers: Headers, retry_after: float | None = None
    ) -> None:
        """Learn from one answer: 429 pauses everyone (for `retry_after`, the server's hint,
        or a second); auto mode adapts its rate. Header names are lower case."""
        with self._lock:
            self._answered = True
            if status == 429:
                self._on_429(now, headers, retry_after)
            elif self._limit.mode == "auto":
                self._on_success(now, headers)

    def on_transport_error(self, now: float) -> None:
        with self._lock:
            self._answered = True

    def _on_429(self, now: float, headers: Headers, retry_after: float | None) -> None:
        self.rate_limited += 1
        wait = retry_after or 1.0
        until = now + wait
        if until > self._pause_until:
            # Count only the extension, so overlapping 429s are not double counted.
            self.pause_time += until - max(now, self._pause_until)
            if self._pause_until <= now:
                self.pauses += 1
            self._pause_until = until
        if self._limit.mode != "auto":
            return
        announced = announced_rate(headers)
        if announced is not None:
            self._adopt(announced)
            return
        if self._last_probe is not None and now - self._last_probe < wait:
            return  # the answers to requests sent before the last decrease: already handled
        achieved = self._achieved_rate(now)
        base = min(self._rate, achieved) if math.isfinite(self._rate) else achieved
        self._rate = max(self._tuning.min_rate, base * self._tuning.decrease)
        self._last_probe = now

    def _on_success(self, now: float, headers: Headers) -> None:
        announced = announced_rate(headers)
        if announced is not None:
            self._adopt(announced)
            return
        if self._announced or not math.isfinite(self._rate):
            return
        last = self._last_probe if self._last_probe is not None else now
        elapsed = now - last
        if elapsed > 0:
            self._rate += self._rate * self._tuning.probe * elapsed
            self._last_probe = now

    def _adopt(self, announced: float) -> None:
        self._announced = True
        self._rate = max(self._tuning.min_rate, announced * self._tuning.headroom)

    def _achieved_rate(self, now: float) -> float:
        horizon = now - self._tuning.measure_window
        while self._sent and self._sent[0] < horizon:
            self._sent.popleft()
        if len(self._sent) < 2:
            return max(self._tuning.min_rate, float(len(self._sent)))
        span = max(now - self._sent[0], 1e-3)
        return len(self._sent) / span
