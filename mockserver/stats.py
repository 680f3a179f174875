"""What the mock server did: counters, latency percentiles, requests in flight, and the journal.

Recording is on every request's path, so it is a few dict increments and one histogram bucket;
the work of turning that into numbers happens when `/__admin/stats` is read.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Callable
from dataclasses import asdict, astuple, dataclass
from itertools import islice

__all__ = ["NO_ANSWER", "Journal", "JournalEntry", "LogHistogram", "Stats"]

NO_ANSWER = 0  # the status recorded when a request got no HTTP answer (reset, client gone)
PERCENTILES = (50, 90, 99)


class LogHistogram:
    """Counts of durations (seconds) in buckets 1 % wide on a log scale.

    Memory stays bounded however long the server runs, and a percentile is off by at most
    half a bucket (0.5 %); min, max and mean are exact. Recording is on every request's
    path, so it only appends: durations are put into their buckets a batch at a time.
    """

    GROWTH = 1.01  # each bucket is 1 % wider than the one before
    FLOOR = 1e-6  # everything up to 1 us shares bucket 0
    BATCH = 1024  # durations waiting for their buckets, at most

    _SCALE = 1.0 / math.log(GROWTH)

    def __init__(self) -> None:
        self._buckets: dict[int, int] = {}
        self._pending: list[float] = []
        self._count = 0
        self._total = 0.0
        self._min = math.inf
        self._max = 0.0

    def record(self, seconds: float) -> None:
        pending = self._pending
        pending.append(seconds)
        if len(pending) >= self.BATCH:
            self._fold()

    def _fold(self) -> None:
        pending, self._pending = self._pending, []
        if not pending:
            return
        buckets, floor, scale, log = self._buckets, self.FLOOR, self._SCALE, math.log
        for seconds in pending:
            index = 0 if seconds <= floor else 1 + int(log(seconds / floor) * scale)
            buckets[index] = buckets.get(index, 0) + 1
        self._count += len(pending)
        self._total += math.fsum(pending)
        self._min = min(self._min, min(pending))
        self._max = max(self._max, max(pending))

    @property
    def count(self) -> int:
        return self._count + len(self._pending)

    @property
    def total(self) -> float:
        self._fold()
        return self._total

    @property
    def min(self) -> float:
        self._fold()
        return self._min

    @property
    def max(self) -> float:
        self._fold()
        return self._max

    def percentile(self, q: float) -> float | None:
        """The nearest-rank q-th percentile (0 < q <= 100), or None when empty."""
        self._fold()
        if not self._count:
            return None
        rank = max(1, math.ceil(q / 100 * self._count))
        seen = 0
        for index in sorted(self._buckets):
            seen += self._buckets[index]
            if seen >= rank:
                # The bucket's geometric middle; bucket i covers FLOOR*G^(i-1) .. FLOOR*G^i.
                value = 0.0 if index == 0 else self.FLOOR * self.GROWTH ** (index - 0.5)
                return min(self._max, max(self._min, value))
        return self._max

    def summary_ms(self) -> dict[str, float | int | None]:
        """count, mean, min, max and the PERCENTILES, in milliseconds."""

        def ms(value: float | None) -> float | None:
            return None if value is None else round(value * 1000, 3)

        out: dict[str, float | int | None] = {"count": self.count}
        out["mean"] = ms(self.total / self.count) if self.count else None
        out["min"] = ms(self.min) if self.count else None
        out["max"] = ms(self.max) if self.count else None
        for q in PERCENTILES:
            out[f"p{q}"] = ms(self.percentile(q))
        return out


@dataclass(frozen=True, slots=True)
class JournalEntry:
    """One request as the journal keeps it."""

    time: float  # seconds since the server started (its clock)
    method: str
    target: str  # path and query, as received
    route: str
    status: int  # NO_ANSWER when the connection was dropped
    latency: float | None  # the injected delay, seconds
    duration: float  # arrival to answer, seconds
    bytes: int | None  # body bytes sent, when known
    client: str | None
    fault: str | None

    def to_json(self) -> dict[str, object]:
        """The entry as JSON-ready data, times rounded to microseconds."""
        data = asdict(self)
        for name in ("time", "latency", "duration"):
            if data[name] is not None:
                data[name] = round(data[name], 6)
        return data


_Row = tuple[
    float, str, str, str, int, "float | None", float, "int | None", "str | None", "str | None"
]


class Journal:
    """The last `size` requests, oldest first.

    Rows are kept as plain tuples and become JournalEntry objects only when read: recording
    is on every request's path, reading is rare.
    """

    def __init__(self, size: int) -> None:
        self._rows: deque[_Row] = deque(maxlen=size)

    def record(
        self,
        time: float,
        method: str,
        target: str,
        route: str,
        status: int,
        latency: float | None,
        duration: float,
        size: int | None,
        client: str | None,
        fault: str | None,
    ) -> None:
        """Add one request (the fields of JournalEntry, in order)."""
        row = (time, method, target, route, status, latency, duration, size, client, fault)
        self._rows.append(row)

    def add(self, entry: JournalEntry) -> None:
        self._rows.append(astuple(entry))

    def recent(self, limit: int | None = None) -> list[JournalEntry]:
        """The newest `limit` entries (all if None), newest last."""
        skip = 0 if limit is None else max(0, len(self._rows) - max(0, limit))
        return [JournalEntry(*row) for row in islice(self._rows, skip, None)]

    def clear(self) -> None:
        self._rows.clear()

    def __len__(self) -> int:
        return len(self._rows)


class Stats:
    """Counters since the last reset; in-flight counts and uptime survive resets."""

    def __init__(self, clock: Callable[[], float]) -> None:
        self._clock = clock
        self.born = clock()
        self.in_flight = 0
        self.reset()

    def reset(self) -> None:
        self.since = self._clock()
        self.requests: dict[str, int] = {}
        self.responses: dict[tuple[str, int], int] = {}
        self.faults: dict[str, int] = {}
        self.rate_limited = 0
        self.replayed = 0
        self.delay = LogHistogram()
        self.handling = LogHistogram()
        self.peak_in_flight = self.in_flight

    def begin(self, route: str) -> None:
        """A request of `route` arrived."""
        self.requests[route] = self.requests.get(route, 0) + 1
        self.in_flight += 1
        if self.in_flight > self.peak_in_flight:
            self.peak_in_flight = self.in_flight

    def end(
        self, route: str, status: int, delay: float | None, duration: float, fault: str | None
    ) -> None:
        """The request's answer went out (or the connection was dropped: NO_ANSWER)."""
        self.in_flight -= 1
        key = (route, status)
        self.responses[key] = self.responses.get(key, 0) + 1
        if status == 429:
            self.rate_limited += 1
        if fault is not None:
            self.faults[fault] = self.faults.get(fault, 0) + 1
        if delay is not None:
            self.delay.record(delay)
        self.handling.record(duration)

    def snapshot(self) -> dict[str, object]:
        """Everything, as JSON-ready data (durations in milliseconds)."""
        by_status: dict[str, int] = {}
        by_route: dict[str, dict[str, int]] = {}
        for (route, status), count in sorted(self.responses.items()):
            by_status[str(status)] = by_status.get(str(status), 0) + count
            by_route.setdefault(route, {})[str(status)] = count
        now = self._clock()
        return {
            "uptime_s": round(now - self.born, 3),
            "since_reset_s": round(now - self.since, 3),
            "requests": {"total": sum(self.requests.values()), "by_route": dict(self.requests)},
            "responses": {"by_status": by_status, "by_route": by_route},
            "rate_limited": self.rate_limited,
            "faults": dict(self.faults),
            "replayed": self.replayed,
            "latency_ms": {
                "configured": self.delay.summary_ms(),
                "total": self.handling.summary_ms(),
            },
            "in_flight": {"current": self.in_flight, "peak": self.peak_in_flight},
        }
