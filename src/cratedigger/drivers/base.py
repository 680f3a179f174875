"""What every driver shares: stepping a flow, and recording each finished track."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from cratedigger.exchange import Context, Reply
from cratedigger.flow import MatchFlow
from cratedigger.metrics import TrackRecord
from cratedigger.models import Failure, LocalTrack, MatchResult, Request

ResultCallback = Callable[[int, MatchResult], None]


def start(flow: MatchFlow) -> list[Request] | MatchResult:
    """The first batch of a flow, or its result if it needs no request at all."""
    try:
        return next(flow)
    except StopIteration as stop:
        return stop.value  # type: ignore[no-any-return]


def advance(flow: MatchFlow, replies: list[Reply]) -> list[Request] | MatchResult:
    """Send a batch's replies; the next batch, or the result."""
    try:
        return flow.send(replies)
    except StopIteration as stop:
        return stop.value  # type: ignore[no-any-return]


def finish(
    ctx: Context,
    index: int,
    track: LocalTrack,
    result: MatchResult,
    started: float,
    on_result: ResultCallback | None,
) -> None:
    """Record a finished track in the metrics and hand it to the caller."""
    if ctx.collector is not None:
        stats = result.stats
        ctx.collector.record_track(
            TrackRecord(
                index=index,
                rekordbox_id=track.track_id,
                start=started,
                end=ctx.clock(),
                queries=stats.queries,
                requests=stats.requests,
                candidates=stats.candidates,
                early_exit=stats.early_exit,
                status=result.status,
                beatport_id=result.beatport_id,
                score=result.score,
            )
        )
    if on_result is not None:
        on_result(index, result)


class Results:
    """The results a driver returns, in playlist order; none are held when `keep` is False.

    A caller that takes each result through `on_result` (the CLI streams them to disk) does
    not need a second copy of every result in memory for the whole run.
    """

    def __init__(self, keep: bool) -> None:
        self._keep = keep
        self._by_index: dict[int, MatchResult] = {}

    def add(self, index: int, result: MatchResult) -> None:
        if self._keep:
            self._by_index[index] = result  # one dict store: atomic under the GIL

    def ordered(self) -> list[MatchResult]:
        return [self._by_index[i] for i in sorted(self._by_index)]


def pending(tracks: Sequence[LocalTrack], done: Sequence[int] | frozenset[int]) -> list[int]:
    """Indices of the tracks still to match, in playlist order."""
    skip = frozenset(done)
    return [i for i in range(len(tracks)) if i not in skip]


def fail_track(
    ctx: Context,
    index: int,
    track: LocalTrack,
    failure: Failure,
    on_result: ResultCallback | None,
) -> MatchResult:
    """An error result for a track that could not even start (no API token)."""
    result = MatchResult(track.track_id, track.artist, track.name, "error", reason=failure.reason)
    finish(ctx, index, track, result, ctx.clock(), on_result)
    return result
