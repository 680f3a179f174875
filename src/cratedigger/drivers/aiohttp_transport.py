"""The aiohttp transport: sends one `Send` on the run's session, within the global limit.

Requests in flight are bounded by one semaphore of `concurrency` permits (the connection
pool has the same size).
"""

from __future__ import annotations

import asyncio

import aiohttp
from yarl import URL

from cratedigger.drivers.base import PlaylistRun
from cratedigger.exchange import Send, SendResult
from cratedigger.models import Response
from cratedigger.retry import TransportError
from cratedigger.transport import lower_headers


class AiohttpTransport:
    """Maps aiohttp's exceptions onto `TransportError`; each send holds a slot meanwhile."""

    def __init__(self, run: PlaylistRun, session: aiohttp.ClientSession) -> None:
        self.run, self.session, self.clock = run, session, run.ctx.clock
        self.slots = asyncio.Semaphore(run.options.concurrency)
        self.timeout = aiohttp.ClientTimeout(total=run.options.timeout)

    async def send(self, action: Send) -> SendResult:
        request = action.request
        url = URL(request.url(self.run.ctx.base_url), encoded=True)
        async with self.slots:
            started = self.clock()
            if self.run.ctx.breaker.halted is not None:  # it halted while this one waited
                return SendResult(TransportError("cancelled", "halted"), started, started)
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
