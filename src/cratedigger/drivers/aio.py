"""The asynchronous driver: one aiohttp session, many tracks in flight, batches sent together.

Requests in flight are bounded by one semaphore of `concurrency` permits (the connection pool
has the same size); tracks are taken by a bounded set of worker tasks in playlist order, so
memory stays flat however long the playlist is.
"""

from __future__ import annotations

import asyncio
from collections.abc import Generator, Sequence
from typing import Any, TypeVar, Unpack

import aiohttp

from cratedigger.drivers.aiohttp_transport import AiohttpTransport
from cratedigger.drivers.base import PlaylistRun, RunArgs
from cratedigger.drivers.job import Batch
from cratedigger.exchange import Send, Sleep
from cratedigger.metrics import Collector
from cratedigger.models import LocalTrack, MatchResult
from cratedigger.options import DEFAULT_OPTIONS, MatchOptions
from cratedigger.transport import USER_AGENT

T = TypeVar("T")
TRACKS_PER_SLOT = 8  # tracks in flight per request slot: keeps the pipe full between batches


class AsyncDriver:
    """Carries out actions on the event loop.

    Cache work (SQLite, zlib) runs on a worker thread: with half the answers cached it cut a
    run's wall time by a sixth for 5 % more CPU (measured: docs/ARCHITECTURE.md, "Cache")."""

    def __init__(self, run: PlaylistRun, transport: AiohttpTransport) -> None:
        self.run, self.send = run, transport.send

    async def drive(self, gen: Generator[Any, Any, T]) -> T:
        """Run a job, an exchange or the authentication to its end; its return value."""
        feedback: Any = None
        try:
            while True:
                action = gen.send(feedback)
                if isinstance(action, Send):
                    feedback = await self.send(action)
                elif isinstance(action, Sleep):
                    await asyncio.sleep(action.seconds)
                    feedback = None
                elif isinstance(action, Batch):
                    if len(action.exchanges) == 1:  # most batches: no gather task and future
                        feedback = [await self.drive(action.exchanges[0])]
                    else:
                        feedback = await asyncio.gather(*map(self.drive, action.exchanges))
                else:
                    feedback = await asyncio.to_thread(self.run.session.touch_cache, action)
        except StopIteration as stop:
            return stop.value  # type: ignore[no-any-return]
        finally:
            gen.close()


async def match_playlist_async(
    tracks: Sequence[LocalTrack], options: MatchOptions = DEFAULT_OPTIONS, **args: Unpack[RunArgs]
) -> list[MatchResult]:
    """Match tracks concurrently; results come back in playlist order."""
    with PlaylistRun(tracks, options, **args) as run:
        limit = options.concurrency
        connector = aiohttp.TCPConnector(limit=limit, limit_per_host=limit)
        headers = {"User-Agent": USER_AGENT}
        async with aiohttp.ClientSession(connector=connector, headers=headers) as session:
            driver = AsyncDriver(run, AiohttpTransport(run, session))
            if run.proceed(await driver.drive(run.authentication())):

                async def worker() -> None:
                    while (index := run.take()) is not None:  # each index is taken once
                        await driver.drive(run.job(index))

                async with asyncio.TaskGroup() as group:
                    for _ in range(min(len(run.pending), limit * TRACKS_PER_SLOT)):
                        group.create_task(worker())
        return run.ordered()


async def match_track_async(
    track: LocalTrack, options: MatchOptions = DEFAULT_OPTIONS, collector: Collector | None = None
) -> MatchResult:
    """Match a single track asynchronously."""
    return (await match_playlist_async([track], options, collector=collector))[0]
