"""Is the mock server ever the bottleneck? Its throughput beside a bare aiohttp handler.

    python -m bench.mock_throughput [--duration S] [--connections N] [--out results/mock/]

The mock and a bare aiohttp app (one route per request kind, each answering a fixed body of
the size the mock answers) run in two processes of their own; this process is the load
generator: raw asyncio protocols on keep-alive connections, cheaper per request than any
HTTP client library, so the client is not what limits the numbers. Both servers share a
small, noisy machine with the client, so runs come in short rounds of one mock run and one
bare run back to back (alternating which goes first), and the ratio reported is the median
of the rounds' ratios. Last, 500 connections load the mock under `fixed:50ms` latency in a
closed loop, then paced, and a bare handler sleeping 50 ms in a closed loop: is the median
within 10 % of 50 ms? Figures go to summary.json and README.md in --out.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import multiprocessing
import os
import platform
import random
import signal
import statistics
import sys
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any, Final, Protocol
from urllib.parse import quote_plus

import orjson
import psutil
from aiohttp import web

from mockserver.catalog import Catalog, build_catalog
from mockserver.routing import Params, Router
from mockserver.runner import make_runner
from mockserver.search import tokenize

JSON: Final = "application/json"
HTML: Final = "text/html"
REPEATED_QUERIES: Final = 64  # the "repeated" mixes cycle over this many queries
HOT_TRACKS: Final = 1000  # the track mixes cycle over this many track ids
CONNECT_BATCH: Final = 100  # connections opened at once (the listen backlog is 128)
DRAIN_TIMEOUT: Final = 10.0  # how long requests in flight at the end may take to finish
MAX_RATE: Final = 50_000  # requests/s: bounds a run's request count, whatever its duration
SERVER_START_TIMEOUT: Final = 120.0
LATENCY_SPEC: Final = "fixed:50ms"
LATENCY_TARGET: Final = 0.050
LATENCY_TOLERANCE: Final = 0.10
THROUGHPUT_TARGET: Final = 0.70


@dataclass(frozen=True)
class Mix:
    """One kind of request: the route both servers serve it on and how its paths are made."""

    name: str
    route: str  # an aiohttp route pattern, registered on the bare app as on the mock
    content_type: str
    source: str  # "distinct", "repeated" (queries) or "tracks"
    path: str  # a format string over {q} (quoted query) or {id} and {slug}


MIXES: Final = (
    Mix("api_search_distinct", "/v4/catalog/search/", JSON, "distinct",
        "/v4/catalog/search/?q={q}&type=tracks"),
    Mix("api_search_repeated", "/v4/catalog/search/", JSON, "repeated",
        "/v4/catalog/search/?q={q}&type=tracks"),
    Mix("api_track", r"/v4/catalog/tracks/{track_id:\d+}/", JSON, "tracks",
        "/v4/catalog/tracks/{id}/"),
    Mix("web_search_distinct", "/search/tracks", HTML, "distinct", "/search/tracks?q={q}"),
    Mix("web_search_repeated", "/search/tracks", HTML, "repeated", "/search/tracks?q={q}"),
    Mix("web_track", r"/track/{slug}/{track_id:\d+}", HTML, "tracks", "/track/{slug}/{id}"),
)  # fmt: skip
MIX_NAMES: Final = tuple(m.name for m in MIXES)
LATENCY_MIX: Final = "api_track"


# -- request paths -------------------------------------------------------------------------


def distinct_queries(catalog: Catalog, seed: int = 7) -> list[str]:
    """Queries a matcher would send, no two alike once normalised, in a seeded random order."""
    seen: set[str] = set()
    queries: list[str] = []
    for track in catalog.tracks:
        artists = " ".join(a.name for a in track.artists)
        for query in (
            f"{artists} {track.name}",
            f"{artists} {track.name} {track.mix_name}",
            f"{track.name} {track.mix_name}",
        ):
            key = " ".join(tokenize(query))
            if key not in seen:
                seen.add(key)
                queries.append(query)
    random.Random(seed).shuffle(queries)
    return queries


def mix_paths(catalog: Catalog) -> dict[str, list[str]]:
    """Each mix's request paths, cycled through in order.

    The API and the website mixes draw from disjoint halves of the queries (they share one
    search cache); the repeated mixes use the end of their half, which a distinct mix only
    reaches after tens of thousands of requests.
    """
    queries = distinct_queries(catalog)
    halves = {"api": queries[0::2], "web": queries[1::2]}
    hot = random.Random(11).sample(list(catalog.tracks), min(HOT_TRACKS, catalog.size))
    paths: dict[str, list[str]] = {}
    for mix in MIXES:
        if mix.source == "tracks":
            paths[mix.name] = [mix.path.format(id=t.id, slug=t.slug) for t in hot]
            continue
        half = halves[mix.name.partition("_")[0]]
        chosen = half[-REPEATED_QUERIES:] if mix.source == "repeated" else half
        paths[mix.name] = [mix.path.format(q=quote_plus(q)) for q in chosen]
    return paths


def raw_requests(paths: Sequence[str], host: str, token: str) -> list[bytes]:
    """HTTP/1.1 keep-alive GETs, the same bytes for both servers but the Host port."""
    auth = f"Authorization: Bearer {token}\r\n" if token else ""
    return [
        f"GET {p} HTTP/1.1\r\nHost: {host}\r\n{auth}Accept: */*\r\n\r\n".encode() for p in paths
    ]


# -- the servers, each in a process of its own ---------------------------------------------


def bare_app(bodies: dict[str, tuple[int, str]], delay: float = 0.0) -> web.Application:
    """One route per pattern answering a fixed body of the given size and content type,
    after `delay` seconds if that is not 0."""
    app = web.Application()
    for route, (size, content_type) in bodies.items():
        body = (b"0123456789abcdef" * (size // 16 + 1))[:size]
        charset = "utf-8" if content_type == HTML else None

        async def handler(
            request: web.Request, body: bytes = body, ct: str = content_type, cs: Any = charset
        ) -> web.StreamResponse:
            if delay:
                await asyncio.sleep(delay)
            return web.Response(body=body, content_type=ct, charset=cs)

        app.router.add_get(route, handler)
    return app


def bare_lowlevel(
    bodies: dict[str, tuple[int, str]],
) -> Callable[[web.BaseRequest], Awaitable[web.StreamResponse]]:
    """`bare_app`'s answers from one handler on aiohttp's low-level server (no Application),
    the path matched by the mock's router: the cheapest aiohttp answer, for --bare lowlevel."""
    router = Router()
    for route, (size, content_type) in bodies.items():
        body = (b"0123456789abcdef" * (size // 16 + 1))[:size]
        charset = "utf-8" if content_type == HTML else None

        async def answer(
            request: web.BaseRequest,
            params: Params,
            body: bytes = body,
            ct: str = content_type,
            cs: Any = charset,
        ) -> web.StreamResponse:
            return web.Response(body=body, content_type=ct, charset=cs)

        router.add("GET", route, answer)

    async def handle(request: web.BaseRequest) -> web.StreamResponse:
        found = router.match(request.rel_url.path_safe)
        if found is None or request.method not in found[0]:
            raise web.HTTPNotFound()
        return await found[0][request.method](request, found[1])

    return handle


def _mock_app(overrides: dict[str, Any]) -> tuple[web.Application, str]:
    from mockserver.app import create_app
    from mockserver.auth import TOKEN_STORE
    from mockserver.settings import settings_from

    app = create_app(settings_from({}, {"port": 0, **overrides}))
    return app, app[TOKEN_STORE].issue("bench").access_token


async def _serve(runner: web.BaseRunner, token: str, conn: Connection) -> None:
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    conn.send(("ready", runner.addresses[0][1], token))
    await stop.wait()
    await runner.cleanup()


# --tuned, for both servers alike: glibc gives freed memory back to the system after a big
# body and faults it in again for the next (~50 page faults for a 160 KB page) unless these
# let it keep it. glibc reads them when the process starts.
TUNED_ENV: Final = {
    "MALLOC_TRIM_THRESHOLD_": str(128 << 20),
    "MALLOC_MMAP_THRESHOLD_": str(16 << 20),
}


async def _serve_kind(kind: str, config: dict[str, Any], conn: Connection) -> None:
    # The mock with the runner `python -m mockserver` uses (its dispatcher on aiohttp's
    # low-level server); the bare app with an AppRunner, or the low-level bare handler; no
    # access log for any.
    token = ""
    if kind == "mock":
        app, token = _mock_app({k: v for k, v in config.items() if k != "tuned"})
        runner = make_runner(app)
    elif config.get("lowlevel"):
        server = web.Server(bare_lowlevel(config["bodies"]), access_log=None)
        runner = web.ServerRunner(server, handle_signals=False)
    else:
        runner = make_runner(bare_app(config["bodies"], config.get("delay", 0.0)))
    await _serve(runner, token, conn)


def _server_main(kind: str, config: dict[str, Any], conn: Connection) -> None:
    try:
        asyncio.run(_serve_kind(kind, config, conn))
    except BaseException as error:  # told to the parent, which raises it
        conn.send(("error", repr(error), ""))
        raise


class ServerProcess:
    """The mock or the bare app serving on a free loopback port in a child process."""

    def __init__(self, kind: str, config: dict[str, Any]) -> None:
        context = multiprocessing.get_context("spawn")
        self._conn, child = context.Pipe()
        self._process = context.Process(
            target=_server_main, args=(kind, config, child), name=f"bench-{kind}", daemon=True
        )
        self.kind, self.port, self.token = kind, 0, ""
        self._tuned = bool(config.get("tuned"))
        self._psutil: psutil.Process | None = None

    def __enter__(self) -> ServerProcess:
        saved = dict(os.environ)
        if self._tuned:
            os.environ.update(TUNED_ENV)
        try:
            self._process.start()
        finally:
            os.environ.clear()
            os.environ.update(saved)
        if not self._conn.poll(SERVER_START_TIMEOUT):
            self.stop()
            raise RuntimeError(f"{self.kind} server did not start in {SERVER_START_TIMEOUT} s")
        state, port, token = self._conn.recv()
        if state != "ready":
            self.stop()
            raise RuntimeError(f"{self.kind} server failed to start: {port}")
        self.port, self.token = int(port), str(token)
        self._psutil = psutil.Process(self._process.pid)
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def host(self) -> str:
        return f"127.0.0.1:{self.port}"

    def cpu_seconds(self) -> float:
        """User plus system CPU time the server process has used so far."""
        assert self._psutil is not None, "not started"
        times = self._psutil.cpu_times()
        return float(times.user + times.system)

    def stop(self) -> None:
        """SIGTERM (a clean aiohttp shutdown), then SIGKILL if it lingers; idempotent."""
        pid = self._process.pid
        if pid is not None and self._process.is_alive():
            os.kill(pid, signal.SIGTERM)
            self._process.join(10)
            if self._process.is_alive():
                self._process.kill()
                self._process.join()


# -- the load generator --------------------------------------------------------------------


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


# -- the benchmark -------------------------------------------------------------------------


@dataclass(frozen=True)
class Options:
    """What one benchmark run does (the CLI's options)."""

    duration: float = 1.5
    connections: int = 64
    rounds: int = 7
    warmup: float = 0.3
    mixes: tuple[str, ...] = MIX_NAMES
    latency_connections: int = 500
    latency_duration: float = 5.0
    latency_think: float = 0.2
    tuned: bool = False
    lowlevel_bare: bool = False
    catalog_size: int = 20_000
    seed: int = 1


class _Cursor:
    """Where the next run of a mix starts in its paths, so distinct queries stay unseen."""

    def __init__(self, paths: dict[str, list[str]]) -> None:
        self._paths = paths
        self._offsets = dict.fromkeys(paths, 0)

    def window(self, mix: str, count: int) -> list[str]:
        paths, start = self._paths[mix], self._offsets[mix]
        return [paths[(start + i) % len(paths)] for i in range(min(count, len(paths)))]

    def advance(self, mix: str, sent: int) -> None:
        self._offsets[mix] = (self._offsets[mix] + sent) % len(self._paths[mix])


def _row(mix: str, number: int, server: ServerProcess, result: LoadResult) -> dict[str, Any]:
    cpu = result.server_cpu or 0.0
    return {
        "mix": mix,
        "round": number,
        "server": server.kind,
        "rps": round(result.rps, 1),
        "requests": result.completed,
        "errors": result.errors,
        "seconds": round(result.seconds, 3),
        "server_cpu_share": round(cpu / result.seconds, 3),
        "server_cpu_us_per_request": round(cpu / max(result.completed, 1) * 1e6, 1),
        "client_cpu_share": round(result.client_cpu / result.seconds, 3),
        "mean_body_bytes": round(result.body_bytes / max(result.completed, 1)),
    }


def _sample_sizes(
    mock: ServerProcess, cursor: _Cursor, mixes: Sequence[Mix], count: int = 40
) -> dict[str, int]:
    sizes: dict[str, int] = {}
    for mix in mixes:
        requests = raw_requests(cursor.window(mix.name, count), mock.host, mock.token)
        result = asyncio.run(
            drive(mock.port, requests, connections=4, duration=60, limit=count, keep_sizes=True)
        )
        if result.errors or not result.sizes:
            raise RuntimeError(f"the mock answered {mix.name} with errors: {result}")
        cursor.advance(mix.name, result.sent)
        sizes[mix.name] = int(statistics.median(result.sizes))
    return sizes


def run_throughput(options: Options, log: Callable[[str], None] = print) -> dict[str, Any]:
    """Alternating mock/bare rounds of every mix; the raw rows and the body sizes used."""
    mixes = [m for m in MIXES if m.name in options.mixes]
    cursor = _Cursor(mix_paths(build_catalog(options.seed, options.catalog_size)))
    mock_config = {
        "seed": options.seed,
        "catalog_size": options.catalog_size,
        "tuned": options.tuned,
    }
    rows: list[dict[str, Any]] = []
    with ServerProcess("mock", mock_config) as mock:
        sizes = _sample_sizes(mock, cursor, mixes)
        by_route: dict[str, list[int]] = {}
        for mix in mixes:
            by_route.setdefault(mix.route, []).append(sizes[mix.name])
        types = {m.route: m.content_type for m in mixes}
        bodies = {r: (int(statistics.median(s)), types[r]) for r, s in by_route.items()}
        bare_config = {"bodies": bodies, "tuned": options.tuned, "lowlevel": options.lowlevel_bare}
        with ServerProcess("bare", bare_config) as bare:
            for mix in mixes:
                limit = int(MAX_RATE * (options.warmup + options.duration))
                for number in range(options.rounds):
                    pair = (mock, bare) if number % 2 == 0 else (bare, mock)
                    for server in pair:
                        paths = cursor.window(mix.name, limit)
                        result = asyncio.run(
                            drive(
                                server.port,
                                # The mock's token goes to both: the same request bytes.
                                raw_requests(paths, server.host, mock.token),
                                connections=options.connections,
                                duration=options.duration,
                                warmup=options.warmup,
                                server=server,
                            )
                        )
                        if server is mock:
                            cursor.advance(mix.name, result.sent)
                        rows.append(_row(mix.name, number, server, result))
                        log(f"{mix.name:22} round {number} {server.kind:4} {result.rps:9.1f} req/s")
    return {"rows": rows, "mock_body_bytes": sizes, "bare_bodies": bodies}


def _latency_figures(result: LoadResult, connections: int, think: float) -> dict[str, Any]:
    ordered = sorted(result.latencies)
    if not ordered:
        raise RuntimeError(f"no request completed in a latency run: {result}")

    def ms(q: float) -> float:
        return round(ordered[min(len(ordered) - 1, int(q / 100 * len(ordered)))] * 1000, 2)

    median = statistics.median(ordered)
    return {
        "connections": connections,
        "think_ms": round(think * 1000, 1),
        "offered_rps": round(connections / (LATENCY_TARGET + think), 1),
        "rps": round(result.rps, 1),
        "requests": result.completed,
        "errors": result.errors,
        "seconds": round(result.seconds, 3),
        "median_ms": round(median * 1000, 2),
        "p90_ms": ms(90),
        "p99_ms": ms(99),
        "max_ms": round(ordered[-1] * 1000, 2),
        "server_cpu_share": round((result.server_cpu or 0.0) / result.seconds, 3),
        "client_cpu_share": round(result.client_cpu / result.seconds, 3),
        "within_tolerance": abs(median - LATENCY_TARGET) <= LATENCY_TOLERANCE * LATENCY_TARGET,
    }


def run_latency(options: Options, log: Callable[[str], None] = print) -> dict[str, Any]:
    """500 connections on the mock under LATENCY_SPEC: in a closed loop (each sends its next
    request as soon as an answer is in: 10,000 req/s offered), and paced (each waits
    `latency_think` first); and the closed loop on a bare handler sleeping 50 ms."""
    mix = next(m for m in MIXES if m.name == LATENCY_MIX)
    cursor = _Cursor(
        {mix.name: mix_paths(build_catalog(options.seed, options.catalog_size))[mix.name]}
    )
    config = {
        "seed": options.seed,
        "catalog_size": options.catalog_size,
        "latency": LATENCY_SPEC,
        "tuned": options.tuned,
    }
    connections, runs = options.latency_connections, {}
    with ServerProcess("mock", config) as mock:
        requests = raw_requests(cursor.window(mix.name, HOT_TRACKS), mock.host, mock.token)
        size = _sample_sizes(mock, cursor, [mix])[mix.name]
        bare_config = {
            "bodies": {mix.route: (size, mix.content_type)},
            "delay": LATENCY_TARGET,
            "tuned": options.tuned,
        }
        with ServerProcess("bare", bare_config) as bare:
            plan = (
                ("mock_closed_loop", mock, 0.0),
                ("bare_sleep_closed_loop", bare, 0.0),
                ("mock_paced", mock, options.latency_think),
            )
            for name, server, think in plan:
                load = drive(
                    server.port,
                    [r.replace(mock.host.encode(), server.host.encode(), 1) for r in requests],
                    connections=connections,
                    duration=options.latency_duration,
                    warmup=1.0,
                    server=server,
                    think=think,
                )
                runs[name] = _latency_figures(asyncio.run(load), connections, think)
                log(f"latency {name:24} median {runs[name]['median_ms']:8.2f} ms")
    return {
        "mix": mix.name,
        "latency_spec": LATENCY_SPEC,
        "runs": runs,
        "passed": runs["mock_paced"]["within_tolerance"],
    }


# -- the report ----------------------------------------------------------------------------


def machine_info() -> dict[str, Any]:
    """What ran the benchmark: platform, CPUs and load, Python and aiohttp versions."""
    import aiohttp

    return {
        "platform": platform.platform(),
        "processor": platform.processor() or platform.machine(),
        "python": platform.python_version(),
        "aiohttp": aiohttp.__version__,
        "cpu_logical": psutil.cpu_count(logical=True),
        "cpu_physical": psutil.cpu_count(logical=False),
        "load_average_at_start": [round(x, 2) for x in os.getloadavg()],
    }


def _median(rows: Sequence[dict[str, Any]], key: str) -> float:
    return round(statistics.median(r[key] for r in rows), 3) if rows else 0.0


def summarise(
    options: Options,
    command: str,
    machine: dict[str, Any],
    throughput: dict[str, Any],
    latency: dict[str, Any] | None,
) -> dict[str, Any]:
    """Medians per mix, the mock/bare ratios and the pass/fail of both checks."""
    mixes: dict[str, Any] = {}
    for mix in (m for m in MIXES if m.name in options.mixes):
        rows = [r for r in throughput["rows"] if r["mix"] == mix.name]
        mock = sorted((r for r in rows if r["server"] == "mock"), key=lambda r: r["round"])
        bare = sorted((r for r in rows if r["server"] == "bare"), key=lambda r: r["round"])
        mock_rps, bare_rps = _median(mock, "rps"), _median(bare, "rps")
        # Each round's pair ran back to back, so its ratio sees the same machine load.
        pairs = [m["rps"] / b["rps"] for m, b in zip(mock, bare, strict=True) if b["rps"]]
        ratio = statistics.median(pairs) if pairs else 0.0
        mock_cpu = _median(mock, "server_cpu_us_per_request")
        bare_cpu = _median(bare, "server_cpu_us_per_request")
        mixes[mix.name] = {
            "mock_rps": mock_rps,
            "bare_rps": bare_rps,
            "ratio": round(ratio, 3),
            "round_ratios": [round(r, 3) for r in pairs],
            "ratio_of_medians": round(mock_rps / bare_rps, 3) if bare_rps else 0.0,
            "mock_cpu_us_per_request": mock_cpu,
            "bare_cpu_us_per_request": bare_cpu,
            "cpu_ratio": round(bare_cpu / mock_cpu, 3) if mock_cpu else 0.0,
            "mock_server_cpu_share": _median(mock, "server_cpu_share"),
            "bare_server_cpu_share": _median(bare, "server_cpu_share"),
            "client_cpu_share": _median(rows, "client_cpu_share"),
            "mock_body_bytes": throughput["mock_body_bytes"][mix.name],
            "bare_body_bytes": throughput["bare_bodies"][mix.route][0],
            "errors": sum(r["errors"] for r in rows),
            "passed": ratio >= THROUGHPUT_TARGET,
        }
    passed = all(m["passed"] and not m["errors"] for m in mixes.values())
    if latency is not None:
        passed = passed and latency["passed"]
    return {
        "version": 1,
        "generated": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "command": command,
        "machine": machine,
        "options": {**dataclasses.asdict(options), "mixes": list(options.mixes)},
        "targets": {"throughput_ratio": THROUGHPUT_TARGET, "latency_tolerance": LATENCY_TOLERANCE},
        "throughput": mixes,
        "latency": latency,
        "passed": passed,
        "rows": throughput["rows"],
    }


def _readme(summary: dict[str, Any], baseline: dict[str, Any] | None) -> str:
    before = (baseline or {}).get("throughput", {})
    lines = [
        "# Mock server throughput against a bare aiohttp handler",
        "",
        f"Generated {summary['generated']} by `{summary['command']}` (figures: summary.json).",
        "",
        "| mix | mock req/s | bare req/s | mock/bare | rounds | before | CPU µs/req mock "
        "| bare | bare/mock CPU | before | body bytes |",
        "|---|---:|---:|---:|---|---:|---:|---:|---:|---:|---:|",
    ]
    for name, m in summary["throughput"].items():
        old = before.get(name, {})
        rounds = m["round_ratios"]
        spread = f"{min(rounds):.0%}-{max(rounds):.0%}" if rounds else ""
        lines.append(
            f"| {name} | {m['mock_rps']:.0f} | {m['bare_rps']:.0f} | **{m['ratio']:.0%}** | "
            f"{spread} | {_percent(old.get('ratio'))} | {m['mock_cpu_us_per_request']:.0f} | "
            f"{m['bare_cpu_us_per_request']:.0f} | {_percent(m.get('cpu_ratio'))} | "
            f"{_percent(old.get('cpu_ratio'))} | {m['mock_body_bytes']} |"
        )
    target = summary["targets"]
    lines += [
        "",
        f"mock/bare: the median over rounds of the mock's req/s over the bare handler's in the "
        f"same round (target >= {target['throughput_ratio']:.0%} for every mix); bare/mock CPU:"
        " the bare server's CPU time per answer over the mock's. Before: --baseline's figures.",
    ]
    latency = summary["latency"]
    if latency is not None:
        old_runs = ((baseline or {}).get("latency") or {}).get("runs", {})
        lines += [
            "",
            f"## Latency under `{latency['latency_spec']}` ({latency['mix']})",
            "",
            "| run | connections | think ms | offered req/s | req/s | median ms | p90 ms | "
            "p99 ms | server CPU | within 10 % | before: median ms |",
            "|---|---:|---:|---:|---:|---:|---:|---:|---:|---|---:|",
        ]
        for name, r in latency["runs"].items():
            old = old_runs.get(name, {}).get("median_ms", "")
            ok = "yes" if r["within_tolerance"] else "no"
            lines.append(
                f"| {name} | {r['connections']} | {r['think_ms']:.0f} | {r['offered_rps']:.0f} | "
                f"{r['rps']:.0f} | {r['median_ms']} | {r['p90_ms']} | {r['p99_ms']} | "
                f"{r['server_cpu_share']:.0%} | {ok} | {old} |"
            )
    m = summary["machine"]
    lines += [
        "",
        "## Machine",
        "",
        f"{m['platform']}, {m['processor']}, {m['cpu_logical']} logical CPUs "
        f"({m['cpu_physical']} physical), load average at start {m['load_average_at_start']}; "
        f"Python {m['python']}, aiohttp {m['aiohttp']}.",
        "",
        "## Method",
        "",
        "Mock and bare server run in separate processes, neither with an access log: the mock "
        "as `python -m mockserver` serves it (its own dispatcher on aiohttp's low-level "
        "server), the bare handler "
        + (
            "on aiohttp's low-level server too (--bare lowlevel); "
            if summary["options"].get("lowlevel_bare")
            else "as a route of an aiohttp Application (AppRunner); "
        )
        + "this process generates the load with raw asyncio protocols on keep-alive connections "
        f"({summary['options']['connections']} per run). Each mix runs "
        f"{summary['options']['rounds']} rounds of {summary['options']['duration']} s "
        "(after a short warm-up), alternating which server goes first. "
        "The bare app answers each route with a fixed body of the median size the mock "
        "answered. CPU µs/req is the server process's CPU time (psutil) over its answers."
        + (
            " Both servers ran with --tuned: glibc told to keep freed memory "
            "(MALLOC_TRIM_THRESHOLD_, MALLOC_MMAP_THRESHOLD_)."
            if summary["options"].get("tuned")
            else ""
        ),
        "",
        f"Overall: {'PASS' if summary['passed'] else 'FAIL'}.",
        "",
    ]
    return "\n".join(lines)


def _percent(value: float | None) -> str:
    return "" if value is None else f"{value:.0%}"


def write_report(out: Path, summary: dict[str, Any], baseline: dict[str, Any] | None) -> None:
    """summary.json and README.md into `out`."""
    out.mkdir(parents=True, exist_ok=True)
    (out / "summary.json").write_bytes(orjson.dumps(summary, option=orjson.OPT_INDENT_2) + b"\n")
    readme = _readme(summary, baseline)
    if (out / "NOTES.md").is_file():
        readme += "\nAnalysis, and what was changed to get these figures: NOTES.md.\n"
    (out / "README.md").write_text(readme, encoding="utf-8")


def main(argv: Sequence[str] | None = None) -> int:
    """The CLI: measure, then write summary.json and README.md into --out."""
    parser = argparse.ArgumentParser(prog="python -m bench.mock_throughput", description=__doc__)
    defaults = Options()
    parser.add_argument(
        "--duration",
        type=float,
        default=defaults.duration,
        help="measured seconds of each run (default %(default)s)",
    )
    parser.add_argument(
        "--connections",
        type=int,
        default=defaults.connections,
        help="keep-alive connections of the throughput runs (%(default)s)",
    )
    parser.add_argument(
        "--rounds",
        type=int,
        default=defaults.rounds,
        help="mock/bare pairs per mix; medians are reported (%(default)s)",
    )
    parser.add_argument(
        "--mix", action="append", choices=MIX_NAMES, help="only this mix (repeatable; default: all)"
    )
    parser.add_argument("--latency-connections", type=int, default=defaults.latency_connections)
    parser.add_argument("--latency-duration", type=float, default=defaults.latency_duration)
    parser.add_argument(
        "--latency-think",
        type=float,
        default=defaults.latency_think,
        help="seconds a paced connection waits between requests (%(default)s)",
    )
    parser.add_argument("--skip-latency", action="store_true", help="no 50 ms latency check")
    parser.add_argument(
        "--tuned",
        action="store_true",
        help="both servers with glibc keeping freed memory (see TUNED_ENV)",
    )
    parser.add_argument(
        "--bare",
        choices=("app", "lowlevel"),
        default="app",
        help="the baseline: a route of an aiohttp Application (default), or one handler on "
        "aiohttp's low-level server, as the mock itself is served",
    )
    parser.add_argument("--out", type=Path, default=Path("results/mock"))
    parser.add_argument(
        "--baseline", type=Path, help="an earlier summary.json to show as the 'before' figures"
    )
    args = parser.parse_args(argv)
    options = dataclasses.replace(
        defaults,
        duration=args.duration,
        connections=args.connections,
        rounds=args.rounds,
        mixes=tuple(args.mix or MIX_NAMES),
        latency_connections=args.latency_connections,
        latency_duration=args.latency_duration,
        latency_think=args.latency_think,
        tuned=args.tuned,
        lowlevel_bare=args.bare == "lowlevel",
    )
    command = "python -m bench.mock_throughput " + " ".join(sys.argv[1:] if argv is None else argv)
    machine = machine_info()
    throughput = run_throughput(options)
    latency = None if args.skip_latency else run_latency(options)
    summary = summarise(options, command.strip(), machine, throughput, latency)
    baseline = orjson.loads(args.baseline.read_bytes()) if args.baseline else None
    write_report(args.out, summary, baseline)
    print(f"wrote {args.out / 'summary.json'} and {args.out / 'README.md'}")
    return 0 if summary["passed"] else 1


if __name__ == "__main__":
    raise SystemExit(main())
