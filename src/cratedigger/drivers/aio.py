"""The asynchronous driver: one aiohttp session, many tracks in flight, batches sent together.

Requests in flight are bounded by one semaphore of `concurrency` permits (the connection pool
has the same size); tracks are taken by a bounded set of worker tasks in playlist order, so
memory stays flat however long the playlist is.
"""

from __future__ import annotations

import asyncio
from collections.abc import Generator, Iterator, Sequence
from typing import TypeVar

import aiohttp
from yarl import URL

from cratedigger.drivers.base import (
    ResultCallback,
    Results,
    advance,
    fail_track,
    finish,
    pending,
    start,
)
from cratedigger.drivers.sync import USER_AGENT
from cratedigger.exchange import (
    Action,
    Context,
    Reply,
    Send,
    Sent,
    Sleep,
    exchange,
    obtain_token,
)
from cratedigger.flow import match_flow
from cratedigger.metrics import Collector
from cratedigger.models import Failure, LocalTrack, MatchResult, Response
from cratedigger.options import DEFAULT_OPTIONS, MatchOptions, build_context
from cratedigger.retry import TransportError

T = TypeVar("T")

TRACKS_PER_SLOT = 8  # tracks in flight per request slot: keeps the pipe full between batches


class AiohttpTransport:
    """Sends one `Send` on the shared session, holding a slot of the global limit meanwhile."""

    def __init__(
        self, session: aiohttp.ClientSession, base_url: str, concurrency: int, timeout: float
    ) -> None:
        self.session = session
        self.base_url = base_url
        self.slots = asyncio.Semaphore(concurrency)
        self.timeout = aiohttp.ClientTimeout(total=timeout)

    async def send(self, action: Send, ctx: Context) -> Sent:
        request = action.request
        url = URL(request.url(self.base_url), encoded=True)
        async with self.slots:
            started = ctx.clock()
            try:
                async with self.session.request(
                    request.method,
                    url,
                    data=dict(request.form) if request.form is not None else None,
                    headers=dict(action.headers),
                    timeout=self.timeout,
                ) as response:
                    body = await response.read()
                    answer = Response(response.status, body, dict(response.headers))
            except TimeoutError:
                return Sent(TransportError("timeout", "TimeoutError"), started, ctx.clock())
            except aiohttp.ClientPayloadError as err:
                return Sent(TransportError("payload", type(err).__name__), started, ctx.clock())
            except (aiohttp.ClientError, OSError) as err:
                return Sent(TransportError("connection", type(err).__name__), started, ctx.clock())
            finished = ctx.clock()
        # The slot is free again. Let the request waiting for it go out before this task
        # spends a millisecond or two parsing and scoring its answer: otherwise every slot
        # would idle for that long after each answer.
        await asyncio.sleep(0)
        return Sent(answer, started, finished)


async def run_exchange(
    gen: Generator[Action, Sent | None, T], transport: AiohttpTransport, ctx: Context
) -> T:
    """Drive one exchange to its reply: sleep when told, send when told."""
    try:
        action = next(gen)
        while True:
            if isinstance(action, Sleep):
                await asyncio.sleep(action.seconds)
                action = gen.send(None)
            else:
                action = gen.send(await transport.send(action, ctx))
    except StopIteration as stop:
        return stop.value  # type: ignore[no-any-return]
    finally:
        gen.close()


async def run_track(
    index: int,
    track: LocalTrack,
    ctx: Context,
    transport: AiohttpTransport,
    options: MatchOptions,
    on_result: ResultCallback | None = None,
) -> MatchResult:
    """Match one track; the requests of each batch go out concurrently."""
    started = ctx.clock()
    flow = match_flow(track, ctx.source, options.rules)
    step = start(flow)
    while isinstance(step, list):
        replies: list[Reply]
        if len(step) == 1:  # most batches: no need for gather's task and future
            replies = [await run_exchange(exchange(step[0], ctx, index), transport, ctx)]
        else:
            replies = await asyncio.gather(
                *(run_exchange(exchange(r, ctx, index), transport, ctx) for r in step)
            )
        step = advance(flow, replies)
    finish(ctx, index, track, step, started, on_result)
    return step


async def match_playlist_async(
    tracks: Sequence[LocalTrack],
    options: MatchOptions = DEFAULT_OPTIONS,
    *,
    on_result: ResultCallback | None = None,
    collector: Collector | None = None,
    done: Sequence[int] | frozenset[int] = (),
    context: Context | None = None,
    keep: bool = True,
) -> list[MatchResult]:
    """Match tracks concurrently; results come back in playlist order."""
    ctx = context or build_context(options, collector)
    connector = aiohttp.TCPConnector(limit=options.concurrency, limit_per_host=options.concurrency)
    results = Results(keep)
    try:
        async with aiohttp.ClientSession(
            connector=connector, headers={"User-Agent": USER_AGENT}
        ) as session:
            transport = AiohttpTransport(
                session, ctx.base_url, options.concurrency, options.timeout
            )
            indices = pending(tracks, done)
            refused = await _authenticate(ctx, transport, options)
            if refused is not None:
                return [fail_track(ctx, i, tracks[i], refused, on_result) for i in indices]
            queue: Iterator[int] = iter(indices)

            async def worker() -> None:
                for index in queue:  # a shared iterator: each index is taken once
                    results.add(
                        index,
                        await run_track(index, tracks[index], ctx, transport, options, on_result),
                    )

            workers = min(len(indices), options.concurrency * TRACKS_PER_SLOT)
            async with asyncio.TaskGroup() as group:
                for _ in range(workers):
                    group.create_task(worker())
    finally:
        if context is None and ctx.cache is not None:
            ctx.cache.close()
    return results.ordered()


async def match_track_async(
    track: LocalTrack, options: MatchOptions = DEFAULT_OPTIONS, collector: Collector | None = None
) -> MatchResult:
    """Match a single track asynchronously."""
    return (await match_playlist_async([track], options, collector=collector))[0]


async def _authenticate(
    ctx: Context, transport: AiohttpTransport, options: MatchOptions
) -> Failure | None:
    if not options.needs_token or ctx.tokens.token:
        return None
    return await run_exchange(obtain_token(ctx), transport, ctx)
