"""The load generator: raw asyncio protocols on keep-alive connections, cheaper per request
than any HTTP client library, so that the client is not what limits the numbers."""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final, Protocol

CONNECT_BATCH: Final = 100  # connections opened at once (the listen backlog is 128)
DRAIN_TIMEOUT: Final = 10.0  # how long requests in flight at the end may take to finish
MAX_RATE: Final = 50_000  # requests/s: bounds a run's request count, whatever its duration


class CpuMeter(Protocol):
    """Anything that tells how much CPU time a server has used so far."""

    def cpu_seconds(self) -> float: ...


@dataclass(frozen=True)
class LoadResult:
    """One run's window: answers, errors, client-side latencies (s) and CPU (s) used."""

    completed: int
    errors: int
    sent: int
    seconds: float
    latencies: tuple[float, ...]
    body_bytes: int
    server_cpu: float | None
    client_cpu: float
    sizes: tuple[int, ...] = ()

    @property
    def rps(self) -> float:
        return self.completed / self.seconds if self.seconds > 0 else 0.0


class _Shared:
    """State all connections of a run share: what to send next and what came back."""

    def __init__(
        self, requests: Sequence[bytes], limit: int, think: float, keep_sizes: bool
    ) -> None:
        self.requests, self.count, self.limit = requests, len(requests), limit
        self.think = think
        self.rng = random.Random(think)
        self.loop = asyncio.get_running_loop()
        self.sent = self.completed = self.errors = self.body_bytes = 0
        self.stopping = self.measuring = False
        self.window_start = 0.0
        self.latencies: list[float] = []
        self.sizes: list[int] | None = [] if keep_sizes else None
        self.busy = 0
        self.all_idle: asyncio.Future[None] = self.loop.create_future()

    def finished(self, sent_at: float, ok: bool, size: int) -> None:
        if not ok:
            self.errors += 1
        if self.sizes is not None:
            self.sizes.append(size)
        if self.measuring:
            if ok:
                self.completed += 1
                self.body_bytes += size
            if sent_at >= self.window_start:
                self.latencies.append(time.perf_counter() - sent_at)

    def went_idle(self) -> None:
        self.busy -= 1
        if self.busy == 0 and not self.all_idle.done():
            self.all_idle.set_result(None)


class _Connection(asyncio.Protocol):
    """One keep-alive connection sending the next request as soon as an answer is complete."""

    def __init__(self, shared: _Shared) -> None:
        self._shared = shared
        self._transport: asyncio.Transport | None = None
        self._head = b""
        self._left = -1  # body bytes still to come; -1 while reading the head
        self._status = b""
        self._size = 0
        self._sent_at = 0.0
        self._active = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self._transport = transport

    def start(self) -> None:
        self._active = True
        shared = self._shared
        shared.busy += 1
        if shared.think > 0:  # spread the first requests over one think time
            shared.loop.call_later(shared.rng.uniform(0, shared.think), self._send)
        else:
            self._send()

    def close(self) -> None:
        if self._transport is not None:
            self._transport.close()

    def _send(self) -> None:
        shared = self._shared
        if shared.stopping or shared.sent >= shared.limit or self._transport is None:
            self._stop()
            return
        request = shared.requests[shared.sent % shared.count]
        shared.sent += 1
        self._head, self._left = b"", -1
        self._sent_at = time.perf_counter()
        self._transport.write(request)

    def _stop(self) -> None:
        if self._active:
            self._active = False
            self._shared.went_idle()

    def data_received(self, data: bytes) -> None:
        if self._left >= 0:
            self._left -= len(data)
        else:
            head = self._head + data if self._head else data
            end = head.find(b"\r\n\r\n")
            if end < 0:
                self._head = head
                return
            self._status = head[9:12]
            self._size = content_length(head[:end])
            self._left = self._size - (len(head) - end - 4)
        if self._left == 0:
            shared = self._shared
            shared.finished(self._sent_at, self._status == b"200", self._size)
            if shared.think > 0:
                # Jittered, or the connections would stay in step and arrive in bursts.
                shared.loop.call_later(shared.think * shared.rng.uniform(0.5, 1.5), self._send)
            else:
                self._send()
        elif self._left < 0 or self._size < 0:  # more than announced, or no length at all
            self._shared.finished(self._sent_at, False, 0)
            self.close()

    def connection_lost(self, exc: Exception | None) -> None:
        self._transport = None
        if self._active:
            self._shared.errors += 1
            self._stop()


def content_length(head: bytes) -> int:
    """The Content-Length of a response head (without its blank line), -1 if it has none."""
    start = head.lower().find(b"\r\ncontent-length:")
    if start < 0:
        return -1
    end = head.find(b"\r\n", start + 2)
    return int(head[start + 17 : end if end >= 0 else None])


async def drive(
    port: int,
    requests: Sequence[bytes],
    *,
    connections: int,
    duration: float,
    warmup: float = 0.0,
    server: CpuMeter | None = None,
    limit: int | None = None,
    think: float = 0.0,
    keep_sizes: bool = False,
) -> LoadResult:
    """Load 127.0.0.1:`port` with `requests` (cycled) on `connections` keep-alive connections.

    Only the `duration` seconds after `warmup` count. A connection waits `think` seconds
    between an answer and its next request. At most `limit` requests are sent (by default
    MAX_RATE per second of the run); the run ends early if they run out.
    """
    loop = asyncio.get_running_loop()
    limit = limit if limit is not None else int(MAX_RATE * (warmup + duration)) + connections
    shared = _Shared(requests, limit, think, keep_sizes)
    conns: list[_Connection] = []
    try:
        for first in range(0, connections, CONNECT_BATCH):
            batch = min(CONNECT_BATCH, connections - first)
            made = await asyncio.gather(
                *(
                    loop.create_connection(lambda: _Connection(shared), "127.0.0.1", port)
                    for _ in range(batch)
                )
            )
            conns.extend(protocol for _, protocol in made)
        for conn in conns:
            conn.start()
        if warmup > 0:
            await asyncio.wait([shared.all_idle], timeout=warmup)
        cpu0 = server.cpu_seconds() if server is not None else None
        client0 = time.process_time()
        shared.window_start = time.perf_counter()
        shared.measuring = True
        await asyncio.wait([shared.all_idle], timeout=duration)
        shared.measuring = False
        seconds = time.perf_counter() - shared.window_start
        client_cpu = time.process_time() - client0
        server_cpu = None if server is None or cpu0 is None else server.cpu_seconds() - cpu0
        shared.stopping = True
        await asyncio.wait([shared.all_idle], timeout=DRAIN_TIMEOUT)
    finally:
        for conn in conns:
            conn.close()
    return LoadResult(
        completed=shared.completed,
        errors=shared.errors,
        sent=shared.sent,
        seconds=seconds,
        latencies=tuple(shared.latencies),
        body_bytes=shared.body_bytes,
        server_cpu=server_cpu,
        client_cpu=client_cpu,
        sizes=tuple(shared.sizes or ()),
    )
