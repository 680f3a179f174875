"""The shape every driver shares, written once: authenticate, run each track's job, finish.

A track's job (the match flow with its requests' exchanges) yields `Batch`es of exchanges,
which yield `Sleep`, `Send` and cache actions. A driver supplies only how to carry out an
action and how many jobs run at once; authentication, a refused token, `keep`, each track's
metrics and the clean-up live here.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Generator, Sequence
from types import TracebackType
from typing import TypedDict, Unpack

from cratedigger.breaker import Halt
from cratedigger.drivers.job import Job, track_job
from cratedigger.drivers.session import Session, open_session
from cratedigger.exchange import Action, Feedback, obtain_token
from cratedigger.metrics import Collector, TrackRecord
from cratedigger.models import Failure, LocalTrack, MatchResult
from cratedigger.options import MatchOptions

ResultCallback = Callable[[int, MatchResult], None]


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
        self._queue = iter(self.pending)
        self._taking = threading.Lock()

    def take(self) -> int | None:
        """The next track to start, in playlist order; None when all are taken or the run
        was halted (the rest are left for --resume). Safe from any thread."""
        with self._taking:
            if self.ctx.breaker.halted is not None:
                return None
            return next(self._queue, None)

    def __enter__(self) -> PlaylistRun:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self._owns_session:
            self.session.close()

    def authentication(self) -> Authentication:
        """Get the API token once before the tracks, unless the source needs none or has one
        that is not due for renewal (a stored sign-in's may be)."""
        tokens = self.ctx.tokens
        if not self.options.needs_token or (tokens.token and not tokens.due(self.ctx.clock())):
            return None
        return (yield from obtain_token(self.ctx))

    def proceed(self, refused: Failure | None) -> bool:
        """After authentication: True to go on; else the run stops, its tracks left undone."""
        if refused is None:
            return True
        if not refused.halted:
            # No token, so no track can be matched: one line says why (the reason names the
            # server's answer), rather than the same error on a row for every track.
            self.ctx.breaker.halt(Halt("token", self.ctx.clock(), refused.reason))
        return False  # nothing to write: --resume (or a new run) starts over

    def job(self, index: int) -> Job:
        """Match one track, then record it (unless the run halted under it)."""
        started = self.ctx.clock()
        result = yield from track_job(self.ctx, self.tracks[index], index, self.options.rules)
        if result.status == "error" and self.ctx.breaker.halted is not None:
            return result  # failed because the run halted: not written, --resume retries it
        self.finish(index, result, started)
        return result

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
