"""The pieces of `python -m bench.mock_throughput`: request mixes, response parsing, the load
generator against both servers (short runs, no speed assertion) and the summary's arithmetic."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from bench import mock_throughput as bench
from bench.throughput import load, report, workload
from mockserver.catalog import Catalog, build_catalog
from mockserver.process import MockProcess
from mockserver.search import tokenize

SMALL = 300  # tracks: the mock child process starts in well under a second


@pytest.fixture(scope="module")
def small_catalog() -> Catalog:
    return build_catalog(1, SMALL)


def test_distinct_queries_never_repeat_once_normalised(small_catalog: Catalog) -> None:
    queries = workload.distinct_queries(small_catalog)
    keys = [" ".join(tokenize(q)) for q in queries]
    assert len(keys) == len(set(keys)) > SMALL
    assert queries == workload.distinct_queries(small_catalog)  # seeded order


def test_every_mix_has_paths_on_its_route(small_catalog: Catalog) -> None:
    paths = workload.mix_paths(small_catalog)
    assert set(paths) == set(workload.MIX_NAMES)
    assert len(paths["api_search_repeated"]) == workload.REPEATED_QUERIES
    assert len(paths["api_track"]) == min(workload.HOT_TRACKS, SMALL)
    # API and website distinct mixes share no query: they share the search cache.
    api = {p.partition("?q=")[2].partition("&")[0] for p in paths["api_search_distinct"]}
    web = {p.partition("?q=")[2] for p in paths["web_search_distinct"]}
    assert api and web and not api & web
    assert all(p.startswith("/track/") for p in paths["web_track"])


def test_raw_requests_are_keep_alive_gets_with_the_token() -> None:
    (request,) = workload.raw_requests(["/v4/catalog/tracks/1/"], "127.0.0.1:9", "tok")
    assert request == (
        b"GET /v4/catalog/tracks/1/ HTTP/1.1\r\nHost: 127.0.0.1:9\r\n"
        b"Authorization: Bearer tok\r\nAccept: */*\r\n\r\n"
    )
    assert b"Authorization" not in workload.raw_requests(["/"], "h", "")[0]


@pytest.mark.parametrize(
    ("head", "length"),
    [
        (b"HTTP/1.1 200 OK\r\nContent-Length: 12\r\nServer: x", 12),
        (b"HTTP/1.1 200 OK\r\ncontent-length:7", 7),
        (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked", -1),
    ],
)
def test_content_length(head: bytes, length: int) -> None:
    assert load.content_length(head) == length


@pytest.fixture(scope="module")
def servers() -> Iterator[tuple[MockProcess, MockProcess]]:
    mock = MockProcess.mock(seed=1, catalog_size=SMALL)
    bare = bench.bare_server({r"/v4/catalog/tracks/{id:\d+}/": (3000, "x/y")})
    with mock, bare:
        yield mock, bare


@pytest.fixture(scope="module")
def token(servers: tuple[MockProcess, MockProcess]) -> str:
    return servers[0].api_token()


def _run(server: MockProcess, paths: list[str], token: str, **kw: Any) -> load.LoadResult:
    requests = workload.raw_requests(paths, server.host, token)
    run = load.drive(server.port, requests, connections=4, duration=0.5, server=server, **kw)
    return asyncio.run(run)


def test_load_generator_against_both_servers(
    servers: tuple[MockProcess, MockProcess], token: str, small_catalog: Catalog
) -> None:
    mock, bare = servers
    paths = workload.mix_paths(small_catalog)["api_track"]
    for server in (mock, bare):
        result = _run(server, paths, token, warmup=0.1)
        assert result.errors == 0
        assert result.completed > 0 and result.rps > 0
        assert result.server_cpu is not None and result.server_cpu > 0
        assert len(result.latencies) > 0 and min(result.latencies) > 0
        assert result.body_bytes >= 1000 * result.completed  # whole bodies were read


def test_load_generator_counts_refusals_and_obeys_the_limit(
    servers: tuple[MockProcess, MockProcess], token: str, small_catalog: Catalog
) -> None:
    mock, _ = servers
    paths = workload.mix_paths(small_catalog)["api_track"]
    refused = _run(mock, paths, "not-a-token")  # 401s: answered, but not successes
    assert refused.completed == 0 and refused.errors > 0
    limited = _run(mock, paths, token, limit=10, keep_sizes=True)
    assert limited.sent == 10 and len(limited.sizes) == 10 and limited.errors == 0


def test_think_time_spaces_a_connections_requests(
    servers: tuple[MockProcess, MockProcess], token: str, small_catalog: Catalog
) -> None:
    mock, _ = servers
    paths = workload.mix_paths(small_catalog)["api_track"]
    paced = _run(mock, paths, token, think=0.1)
    # 4 connections, one request each per 50-150 ms: far fewer than a closed loop sends.
    assert 0 < paced.sent <= 4 * (0.5 / 0.05 + 1)


def _rows(
    mix: str, mock_rps: list[float], bare_rps: list[float], cpu: tuple[float, float]
) -> list[dict[str, Any]]:
    rows = []
    for server, series, cpu_us in (("mock", mock_rps, cpu[0]), ("bare", bare_rps, cpu[1])):
        for number, rps in enumerate(series):
            rows.append(
                {
                    "mix": mix,
                    "round": number,
                    "server": server,
                    "rps": rps,
                    "errors": 0,
                    "server_cpu_share": 1.0,
                    "server_cpu_us_per_request": cpu_us,
                    "client_cpu_share": 0.5,
                }
            )
    return rows


def test_summary_takes_medians_and_judges_each_mix(tmp_path: Path) -> None:
    options = bench.Options(mixes=("api_track", "web_track"))
    rows = _rows("api_track", [700, 800, 900], [1000, 1000, 2000], (150.0, 120.0))
    rows += _rows("web_track", [100, 100, 100], [1000, 1000, 1000], (900.0, 150.0))
    throughput = {
        "rows": rows,
        "mock_body_bytes": {"api_track": 3000, "web_track": 130000},
        "bare_bodies": {m.route: (1, m.content_type) for m in workload.MIXES},
    }
    summary = report.summarise(options, "cmd", {"platform": "p"}, throughput, None)
    api, web = summary["throughput"]["api_track"], summary["throughput"]["web_track"]
    # The ratio pairs each round's runs: the median of 0.7, 0.8 and 0.45.
    assert (api["mock_rps"], api["bare_rps"], api["ratio_of_medians"]) == (800, 1000, 0.8)
    assert api["round_ratios"] == [0.7, 0.8, 0.45] and api["ratio"] == 0.7 and api["passed"]
    assert api["checks"] == {"cpu_us": True, "rps_ratio": True} and api["cpu_over_bare"] == 1.25
    assert web["ratio"] == 0.1 and not web["passed"] and not summary["passed"]
    assert web["checks"] == {"cpu_us": False, "rps_ratio": False}
    machine = {
        "platform": "p",
        "processor": "x86_64",
        "python": "3.11",
        "aiohttp": "3",
        "cpu_logical": 2,
        "cpu_physical": 2,
        "load_average_at_start": [0.0],
    }
    report.write_report(tmp_path, {**summary, "machine": machine}, baseline=summary)
    readme = (tmp_path / "README.md").read_text(encoding="utf-8")
    assert (
        "| api_track | 800 | 1000 | **70%** | 45%-80% | >= 70% | 70% | **150** | <= 200 |" in readme
    )
    assert "| 120 | **1.25x** |  | 1.25x | 3000 | yes |" in readme
    assert "FAIL" in readme
    assert (tmp_path / "summary.json").is_file()
