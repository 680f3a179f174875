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
import json
import os
import statistics
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

import orjson

from bench.throughput.load import MAX_RATE, LoadResult, drive
from bench.throughput.report import (
    LATENCY_TOLERANCE,
    machine_info,
    summarise,
    write_report,
)
from bench.throughput.workload import HOT_TRACKS, MIX_NAMES, MIXES, Mix, mix_paths, raw_requests
from mockserver.catalog import build_catalog
from mockserver.process import MockProcess

__all__ = ["Options", "main", "run_latency", "run_throughput"]

LATENCY_SPEC: Final = "fixed:50ms"
LATENCY_TARGET: Final = 0.050
LATENCY_MIX: Final = "api_track"
# --tuned, for both servers alike: glibc gives freed memory back to the system after a big
# body and faults it in again for the next (~50 page faults for a 160 KB page) unless these
# let it keep it. glibc reads them when the process starts.
REPOSITORY: Final = str(Path(__file__).resolve().parents[1])
TUNED_ENV: Final = {
    "MALLOC_TRIM_THRESHOLD_": str(128 << 20),
    "MALLOC_MMAP_THRESHOLD_": str(16 << 20),
}

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


@contextmanager
def mock_server(options: Options, *args: str) -> Iterator[tuple[MockProcess, str]]:
    """The mock as `python -m mockserver serve` runs it (with `args`), and an API token."""
    env = TUNED_ENV if options.tuned else None
    with MockProcess.mock(
        seed=options.seed, catalog_size=options.catalog_size, args=args, env=env
    ) as mock:
        yield mock, mock.api_token()


def bare_server(
    bodies: dict[str, tuple[int, str]],
    *,
    delay: float = 0.0,
    lowlevel: bool = False,
    tuned: bool = False,
) -> MockProcess:
    """The bare baseline (`bench.throughput.bare`) answering `bodies`, not yet started."""
    args = ["--bodies", json.dumps(bodies)]
    if delay:
        args += ["--delay", repr(delay)]
    if lowlevel:
        args.append("--lowlevel")
    # `bench` is not installed: the child finds it where this process did.
    path = os.pathsep.join(p for p in (REPOSITORY, os.environ.get("PYTHONPATH")) if p)
    env = {**(TUNED_ENV if tuned else {}), "PYTHONPATH": path}
    return MockProcess(*args, module="bench.throughput.bare", env=env)


def _row(mix: str, number: int, kind: str, result: LoadResult) -> dict[str, Any]:
    cpu = result.server_cpu or 0.0
    return {
        "mix": mix,
        "round": number,
        "server": kind,
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
    mock: MockProcess, token: str, cursor: _Cursor, mixes: Sequence[Mix], count: int = 40
) -> dict[str, int]:
    sizes: dict[str, int] = {}
    for mix in mixes:
        requests = raw_requests(cursor.window(mix.name, count), mock.host, token)
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
    rows: list[dict[str, Any]] = []
    with mock_server(options) as (mock, token):
        rss_started = mock.rss()
        sizes = _sample_sizes(mock, token, cursor, mixes)
        by_route: dict[str, list[int]] = {}
        for mix in mixes:
            by_route.setdefault(mix.route, []).append(sizes[mix.name])
        types = {m.route: m.content_type for m in mixes}
        bodies = {r: (int(statistics.median(s)), types[r]) for r, s in by_route.items()}
        bare = bare_server(bodies, lowlevel=options.lowlevel_bare, tuned=options.tuned)
        with bare:
            servers = {"mock": mock, "bare": bare}
            for mix in mixes:
                limit = int(MAX_RATE * (options.warmup + options.duration))
                for number in range(options.rounds):
                    for kind in ("mock", "bare") if number % 2 == 0 else ("bare", "mock"):
                        server = servers[kind]
                        paths = cursor.window(mix.name, limit)
                        result = asyncio.run(
                            drive(
                                server.port,
                                # The mock's token goes to both: the same request bytes.
                                raw_requests(paths, server.host, token),
                                connections=options.connections,
                                duration=options.duration,
                                warmup=options.warmup,
                                server=server,
                            )
                        )
                        if server is mock:
                            cursor.advance(mix.name, result.sent)
                        rows.append(_row(mix.name, number, kind, result))
                        log(f"{mix.name:22} round {number} {kind:4} {result.rps:9.1f} req/s")
        rss = {"started": round(rss_started / 2**20, 1), "end": round(mock.rss() / 2**20, 1)}
    return {"rows": rows, "mock_body_bytes": sizes, "bare_bodies": bodies, "mock_rss_mb": rss}


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
    connections, runs = options.latency_connections, {}
    with mock_server(options, "--latency", LATENCY_SPEC) as (mock, token):
        requests = raw_requests(cursor.window(mix.name, HOT_TRACKS), mock.host, token)
        size = _sample_sizes(mock, token, cursor, [mix])[mix.name]
        bodies = {mix.route: (size, mix.content_type)}
        with bare_server(bodies, delay=LATENCY_TARGET, tuned=options.tuned) as bare:
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
