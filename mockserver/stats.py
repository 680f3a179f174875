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
    path, so it only appends: the recording thread files durations into their buckets a
    batch at a time. Reading changes nothing (another thread may be recording).
    """

    GROWTH = 1.01  # each bucket is 1 % wider than the one before
    FLOOR = 1e-6  # everything up to 1 us shares bucket 0
    BATCH = 1024  # durations waiting for their buckets, at most

    _SCALE = 1.0 / math.log(GROWTH)

    def __init__(self) -> None:
        self._buckets: dict[int, int] = {}
        self._pending: list[float] = []
        self._total = 0.0
        self._min = math.inf
        self._max = 0.0

    def record(self, seconds: float) -> None:
        pending = self._pending
        pending.append(seconds)
        if len(pending) >= self.BATCH:
            self._pending = []
            self._file(pending, self._buckets)
            self._total += math.fsum(pending)
            self._min = min(self._min, min(pending))
            self._max = max(self._max, max(pending))

    def _file(self, durations: list[float], buckets: dict[int, int]) -> None:
        floor, scale, log = self.FLOOR, self._SCALE, math.log
        for seconds in durations:
            index = 0 if seconds <= floor else 1 + int(log(seconds / floor) * scale)
            buckets[index] = buckets.get(index, 0) + 1

    def _snapshot(self) -> tuple[dict[int, int], float, float, float]:
        """Buckets, total, min and max, the pending durations included, in copies."""
        pending = list(self._pending)
        buckets = dict(self._buckets)
        self._file(pending, buckets)
        low = min(self._min, min(pending, default=math.inf))
        high = max(self._max, max(pending, default=0.0))
        return buckets, self._total + math.fsum(pending), low, high

    @property
    def count(self) -> int:
        return sum(self._snapshot()[0].values())

    @property
    def total(self) -> float:
        return self._snapshot()[1]

    @property
    def min(self) -> float:
        return self._snapshot()[2]

    @property
    def max(self) -> float:
        return self._snapshot()[3]

    def percentile(self, q: float) -> float | None:
        """The nearest-rank q-th percentile (0 < q <= 100), or None when empty."""
        return self._percentile(q, *self._snapshot())

    def _percentile(
        self, q: float, buckets: dict[int, int], total: float, low: float, high: float
    ) -> float | None:
        count = sum(buckets.values())
        if not count:
            return None
        rank = max(1, math.ceil(q / 100 * count))
        seen = 0
        for index in sorted(buckets):
            seen += buckets[index]
            if seen >= rank:
                # The bucket's geometric middle; bucket i covers FLOOR*G^(i-1) .. FLOOR*G^i.
                value = 0.0 if index == 0 else self.FLOOR * self.GROWTH ** (index - 0.5)
                return min(high, max(low, value))
        return high

    def summary_ms(self) -> dict[str, float | int | None]:
        """count, mean, min, max and the PERCENTILES, in milliseconds (one snapshot)."""

        def ms(value: float | None) -> float | None:
            return None if value is None else round(value * 1000, 3)

        snapshot = self._snapshot()
        buckets, total, low, high = snapshot
        count = sum(buckets.values())
        out: dict[str, float | int | None] = {"count": count}
        out["mean"] = ms(total / count) if count else None
        out["min"] = ms(low) if count else None
        out["max"] = ms(high) if count else None
        for q in PERCENTILES:
            out[f"p{q}"] = ms(self._percentile(q, *snapshot))
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
