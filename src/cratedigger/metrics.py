"""What a run measures: one record per request and per track, collected thread-safely.

The exchange (every request) and the runner (every track) feed a `Collector`; the export to
JSON and the analyzer read it afterwards. Times are on the monotonic clock of the run.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

from cratedigger.models import MatchResult


@dataclass(frozen=True, slots=True)
class RequestRecord:
    kind: str  # search | track | page | token | account
    query: str  # the text searched, or the request target for detail requests
    start: float
    end: float
    network_time: float  # send to last body byte, summed over attempts; 0 on a cache hit
    parse_time: float
    cache_hit: bool
    status: int  # last HTTP status seen (0: no answer at all)
    attempts: int
    bytes: int
    rate_limited: int  # 429 answers among the attempts
    track_index: int | None = None


@dataclass(frozen=True, slots=True)
class TrackRecord:
    index: int
    rekordbox_id: str
    start: float
    end: float
    queries: int
    requests: int
    candidates: int
    early_exit: bool
    status: str
    beatport_id: int | None
    score: float | None

    @classmethod
    def of(cls, index: int, result: MatchResult, start: float, end: float) -> TrackRecord:
        """The record of one finished track."""
        stats = result.stats
        return cls(
            index=index,
            rekordbox_id=result.rekordbox_id,
            start=start,
            end=end,
            queries=stats.queries,
            requests=stats.requests,
            candidates=stats.candidates,
            early_exit=stats.early_exit,
            status=result.status,
            beatport_id=result.beatport_id,
            score=result.score,
        )


class Collector(Protocol):
    def record_request(self, record: RequestRecord) -> None: ...
    def record_track(self, record: TrackRecord) -> None: ...


@dataclass
class MetricsCollector:
    """Collects the records of one run; safe to call from threads and from tasks."""

    # list.append is atomic under the GIL, which is all the threaded driver needs here.
    requests: list[RequestRecord] = field(default_factory=list)
    tracks: list[TrackRecord] = field(default_factory=list)

    def record_request(self, record: RequestRecord) -> None:
        self.requests.append(record)

    def record_track(self, record: TrackRecord) -> None:
        self.tracks.append(record)

    @property
    def cache_hits(self) -> int:
        return sum(1 for r in self.requests if r.cache_hit)

    @property
    def sent(self) -> int:
        """HTTP requests actually sent (attempts, including retries)."""
        return sum(r.attempts for r in self.requests)
