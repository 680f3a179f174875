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
from yarl import URL

from cratedigger.drivers.base import Batch, PlaylistRun, RunArgs
from cratedigger.exchange import Send, SendResult, Sleep
from cratedigger.metrics import Collector
from cratedigger.models import LocalTrack, MatchResult, Response
from cratedigger.options import DEFAULT_OPTIONS, MatchOptions
from cratedigger.retry import TransportError
from cratedigger.transport import USER_AGENT, lower_headers

T = TypeVar("T")
TRACKS_PER_SLOT = 8  # tracks in flight per request slot: keeps the pipe full between batches


class AsyncDriver:
    """Carries out actions on the event loop; each send holds a slot of the global limit."""

    def __init__(self, run: PlaylistRun, session: aiohttp.ClientSession) -> None:
        self.run, self.session, self.clock = run, session, run.ctx.clock
        self.slots = asyncio.Semaphore(run.options.concurrency)
        self.timeout = aiohttp.ClientTimeout(total=run.options.timeout)

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
                    feedback = self.run.session.touch_cache(action)
        except StopIteration as stop:
            return stop.value  # type: ignore[no-any-return]
        finally:
            gen.close()

    async def send(self, action: Send) -> SendResult:
        request = action.request
        url = URL(request.url(self.run.ctx.base_url), encoded=True)
        async with self.slots:
            started = self.clock()
            try:
                async with self.session.request(
                    request.method,
                    url,
                    data=dict(request.form) if request.form is not None else None,
                    headers=dict(action.headers),
                    timeout=self.timeout,
                ) as response:
                    body = await response.read()
                    headers = lower_headers(response.headers.items())
                    answer = Response(response.status, body, headers)
            except TimeoutError:
                return SendResult(TransportError("timeout", "TimeoutError"), started, self.clock())
            except aiohttp.ClientPayloadError as err:
                failed = TransportError("payload", type(err).__name__)
                return SendResult(failed, started, self.clock())
            except (aiohttp.ClientError, OSError) as err:
                failed = TransportError("connection", type(err).__name__)
                return SendResult(failed, started, self.clock())
            finished = self.clock()
        # The slot is free again. Let the request waiting for it go out before this task
        # spends a millisecond or two parsing and scoring its answer: otherwise every slot
        # would idle for that long after each answer.
        await asyncio.sleep(0)
        return SendResult(answer, started, finished)


async def match_playlist_async(
    tracks: Sequence[LocalTrack], options: MatchOptions = DEFAULT_OPTIONS, **args: Unpack[RunArgs]
) -> list[MatchResult]:
    """Match tracks concurrently; results come back in playlist order."""
    with PlaylistRun(tracks, options, **args) as run:
        limit = options.concurrency
        connector = aiohttp.TCPConnector(limit=limit, limit_per_host=limit)
        headers = {"User-Agent": USER_AGENT}
        async with aiohttp.ClientSession(connector=connector, headers=headers) as session:
            driver = AsyncDriver(run, session)
            if run.proceed(await driver.drive(run.authentication())):
                queue = iter(run.pending)

                async def worker() -> None:
                    for index in queue:  # a shared iterator: each index is taken once
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
