"""The shape every driver shares, written once: authenticate, run each track's job, finish.

A track's job (the match flow with its requests' exchanges) yields `Batch`es of exchanges,
which yield `Sleep`, `Send` and cache actions. A driver supplies only how to carry out an
action and how many jobs run at once; authentication, a refused token, `keep`, each track's
metrics and the clean-up live here.
"""

from __future__ import annotations

from collections.abc import Callable, Generator, Sequence
from dataclasses import dataclass
from types import TracebackType
from typing import TypedDict, Unpack

from cratedigger.drivers.session import Session, open_session
from cratedigger.exchange import Action, Exchange, Feedback, exchange, obtain_token
from cratedigger.flow import MatchFlow, match_flow
from cratedigger.metrics import Collector, TrackRecord
from cratedigger.models import Failure, LocalTrack, MatchResult, Reply, Request
from cratedigger.options import MatchOptions

ResultCallback = Callable[[int, MatchResult], None]


@dataclass(frozen=True, slots=True)
class Batch:
    """Run these exchanges (at once, if the driver can) and send back their replies in order."""

    exchanges: tuple[Exchange, ...]


Job = Generator[Batch, list[Reply], MatchResult]
Authentication = Generator[Action, Feedback, Failure | None]


class RunArgs(TypedDict, total=False):
    """The keyword arguments every driver's `match_playlist` takes."""

    on_result: ResultCallback | None  # each result as it is finished, from any thread
    collector: Collector | None  # metrics of every request and track
    done: Sequence[int] | frozenset[int]  # indices already finished (resume)
    session: Session | None  # shared state made by the caller, who then closes it
    keep: bool  # False: return no results (the caller takes them through on_result)


class PlaylistRun:
    """One call of a driver: the shared session, the pending tracks and the results."""

    def __init__(
        self, tracks: Sequence[LocalTrack], options: MatchOptions, **args: Unpack[RunArgs]
    ) -> None:
        self.tracks, self.options = tracks, options
        given = args.get("session")
        self.session = given or open_session(options, args.get("collector"))
        self._owns_session = given is None
        self.ctx = self.session.ctx
        self._on_result, self._keep = args.get("on_result"), args.get("keep", True)
        self._results: dict[int, MatchResult] = {}
        skip = frozenset(args.get("done", ()))
        self.pending = [i for i in range(len(tracks)) if i not in skip]

    def __enter__(self) -> PlaylistRun:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self._owns_session:
            self.session.close()

    def authentication(self) -> Authentication:
        """Get the API token once before the tracks, unless the source needs none or has one."""
        if not self.options.needs_token or self.ctx.tokens.token:
            return None
        return (yield from obtain_token(self.ctx))

    def proceed(self, refused: Failure | None) -> bool:
        """After authentication: True to go on; else every pending track ends in the refusal."""
        if refused is None:
            return True
        for i in self.pending:
            track, now = self.tracks[i], self.ctx.clock()
            self.finish(i, MatchResult.failed(track, refused.reason), now)
        return False

    def job(self, index: int) -> Job:
        """Match one track: its flow's batches of requests, each request's exchange."""
        started = self.ctx.clock()
        flow = match_flow(self.tracks[index], self.ctx.source, self.options.rules)
        step = _step(flow, None)
        while isinstance(step, list):
            replies = yield Batch(tuple(exchange(r, self.ctx, index) for r in step))
            step = _step(flow, replies)
        self.finish(index, step, started)
        return step

    def finish(self, index: int, result: MatchResult, started: float) -> None:
        """Record a finished track in the metrics, hand it to the caller, keep it if asked."""
        if self.ctx.collector is not None:
            self.ctx.collector.record_track(
                TrackRecord.of(index, result, started, self.ctx.clock())
            )
        if self._on_result is not None:
            self._on_result(index, result)
        if self._keep:
            self._results[index] = result  # one dict store: atomic under the GIL

    def ordered(self) -> list[MatchResult]:
        """The kept results in playlist order."""
        return [self._results[i] for i in sorted(self._results)]


def _step(flow: MatchFlow, replies: list[Reply] | None) -> list[Request] | MatchResult:
    """Start or advance a flow: its next batch of requests, or its result."""
    try:
        return flow.send(replies)  # type: ignore[arg-type]  # None starts a generator
    except StopIteration as stop:
        return stop.value  # type: ignore[no-any-return]
