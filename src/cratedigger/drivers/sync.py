"""The synchronous driver: one requests.Session, one request at a time. The default mode."""

from __future__ import annotations

import time
from collections.abc import Generator, Sequence
from typing import Any, TypeVar, Unpack

from cratedigger.drivers.base import PlaylistRun, RunArgs
from cratedigger.drivers.job import Batch
from cratedigger.drivers.requests_transport import RequestsTransport
from cratedigger.drivers.session import Session
from cratedigger.exchange import Send, Sleep
from cratedigger.metrics import Collector
from cratedigger.models import LocalTrack, MatchResult
from cratedigger.options import DEFAULT_OPTIONS, MatchOptions

T = TypeVar("T")


class SyncDriver:
    """Carries out a job's actions one after another: time.sleep, requests, the cache."""

    def __init__(self, session: Session, transport: RequestsTransport) -> None:
        self.session = session
        self.transport = transport

    def drive(self, gen: Generator[Any, Any, T]) -> T:
        """Run a job, an exchange or the authentication to its end; its return value."""
        feedback: Any = None
        try:
            while True:
                action = gen.send(feedback)
                if isinstance(action, Send):
                    feedback = self.transport.send(action)
                elif isinstance(action, Sleep):
                    time.sleep(action.seconds)
                    feedback = None
                elif isinstance(action, Batch):
                    feedback = [self.drive(e) for e in action.exchanges]
                else:
                    feedback = self.session.touch_cache(action)
        except StopIteration as stop:
            return stop.value  # type: ignore[no-any-return]
        finally:
            gen.close()


def match_playlist(
    tracks: Sequence[LocalTrack], options: MatchOptions = DEFAULT_OPTIONS, **args: Unpack[RunArgs]
) -> list[MatchResult]:
    """Match tracks one after another; skips the indices in `done` (resume)."""
    with PlaylistRun(tracks, options, **args) as run:
        transport = RequestsTransport(run.ctx.base_url, options.timeout, run.ctx.clock)
        try:
            driver = SyncDriver(run.session, transport)
            if run.proceed(driver.drive(run.authentication())):
                while (index := run.take()) is not None:
                    driver.drive(run.job(index))
        finally:
            transport.close()
        return run.ordered()


def match_track(
    track: LocalTrack, options: MatchOptions = DEFAULT_OPTIONS, collector: Collector | None = None
) -> MatchResult:
    """Match a single track synchronously."""
    return match_playlist([track], options, collector=collector)[0]
