"""The analyzer on real runs: `cratedigger match --metrics` against the mock, then `analyze`.

Every verdict here is checked against the rule applied to the figures in the file, and the
figures against the raw per-query records and the mock's own counters: nothing in the
analyzer knows it is talking to a mock, what latency it had, or which mode ran.
"""

from __future__ import annotations

import json
import os
import signal
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from cratedigger.analyzer import decide, load_metrics_from_json
from cratedigger.cli import main
from mockserver.playlist import DemoPlaylist, generate_playlist, write_rekordbox_xml
from tests.integration.conftest import ServerFactory, shared_catalog

CATALOG_SEED, CATALOG_SIZE = 1, 2000
TRACKS = 20
TIMEOUT = 10


@pytest.fixture(autouse=True)
def restore_sigterm() -> Iterator[None]:
    """`cratedigger.cli.main` makes SIGTERM interrupt like Ctrl-C; undo that after the test."""
    previous = signal.getsignal(signal.SIGTERM)
    yield
    signal.signal(signal.SIGTERM, previous)


@pytest.fixture
def playlist(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, DemoPlaylist]:
    """A small demo library in tmp_path, which is also the working directory."""
    # No settings from the environment or a config file in the current directory.
    for name in [n for n in os.environ if n.startswith("CRATEDIGGER_")]:
        monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)
    demo = generate_playlist(shared_catalog(CATALOG_SEED, CATALOG_SIZE), TRACKS, seed=7)
    library = tmp_path / "library.xml"
    write_rekordbox_xml(demo, library)
    return library, demo


def match(
    library: Path, demo: DemoPlaylist, base_url: str, metrics: Path, *extra: str
) -> dict[str, Any]:
    """Run `cratedigger match --metrics` and return the loaded (schema-checked) export."""
    argv = [
        "match",
        str(library),
        "--playlist",
        demo.path,
        "--base-url",
        base_url,
        "--out",
        str(metrics.with_suffix(".results.json")),
        "--metrics",
        str(metrics),
        "--no-progress",
        *extra,
    ]
    assert main(argv) == 0
    return load_metrics_from_json(metrics)


def analyze_json(path: Path, capsys: pytest.CaptureFixture[str]) -> dict[str, Any]:
    capsys.readouterr()
    assert main(["analyze", str(path), "--json"]) == 0
    verdict: dict[str, Any] = json.loads(capsys.readouterr().out)
    return verdict


def assert_follows_from_the_figures(document: dict[str, Any], verdict: dict[str, Any]) -> None:
    """The verdict is the rule applied to the file's figures, which agree with its records."""
    queries = document["query_metrics"]
    network = sum(q["network_time"] for q in queries)
    execution = sum(q["execution_time"] for q in queries)
    reported = document["network_analysis"]["network_time_percentage"]
    assert reported == pytest.approx(network / execution * 100, abs=0.01)
    hits = sum(1 for q in queries if q["cache_hit"])
    assert document["cache_stats"]["hits"] == hits
    cache_rate = document["cache_stats"]["hit_rate_percentage"]
    assert verdict["percentage"] == reported
    assert verdict["cache_hit_rate"] == cache_rate
    assert verdict["recommendation"] == decide(reported, cache_rate).recommendation


@pytest.mark.parametrize(("mode", "concurrency"), [("sync", "1"), ("async", "8")])
def test_cold_cache_says_implement_and_warm_cache_says_skip(
    mock_server_factory: ServerFactory,
    playlist: tuple[Path, DemoPlaylist],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    mode: str,
    concurrency: str,
) -> None:
    library, demo = playlist
    server = mock_server_factory(
        seed=CATALOG_SEED, catalog_size=CATALOG_SIZE, latency="fixed:100ms"
    )
    options = ("--mode", mode, "--concurrency", concurrency, "--cache-dir", str(tmp_path / "c"))

    cold_path = tmp_path / "cold.json"
    cold = match(library, demo, server.base_url, cold_path, *options)
    cold_verdict = analyze_json(cold_path, capsys)
    assert cold_verdict["recommendation"] == "IMPLEMENT"
    assert cold["cache_stats"]["hits"] == 0 and cold["cache_stats"]["misses"] > 0
    assert_follows_from_the_figures(cold, cold_verdict)

    warm_path = tmp_path / "warm.json"
    warm = match(library, demo, server.base_url, warm_path, *options)
    warm_verdict = analyze_json(warm_path, capsys)
    assert warm_verdict["recommendation"] == "SKIP"
    assert warm["cache_stats"]["misses"] == 0
    assert warm["cache_stats"]["hits"] == cold["cache_stats"]["misses"]
    assert warm["session_info"]["requests_sent"] < cold["session_info"]["requests_sent"]
    assert_follows_from_the_figures(warm, warm_verdict)

    # The comparison reads the same two files.
    capsys.readouterr()
    assert main(["analyze", str(cold_path), str(warm_path)]) == 0
    report = capsys.readouterr().out
    assert "Comparison" in report and "verdicts         IMPLEMENT -> SKIP" in report


def test_exported_counts_agree_with_the_mock_server(
    mock_server_factory: ServerFactory,
    playlist: tuple[Path, DemoPlaylist],
    tmp_path: Path,
) -> None:
    library, demo = playlist
    # A server that answers 429 to a client that does not pace itself, and fails now and then:
    # the run needs about 30 requests, more than the burst of 16 plus 20/s over its length.
    # (Each 429 pauses the client for Retry-After, a whole second, so the burst is large.)
    server = mock_server_factory(
        seed=CATALOG_SEED,
        catalog_size=CATALOG_SIZE,
        latency="fixed:5ms",
        rate_limit="20/s,burst=16",
        faults="503=0.05",
    )
    options = ("--mode", "async", "--concurrency", "8", "--rate-limit", "off", "--no-cache")
    document = match(library, demo, server.base_url, tmp_path / "m.json", *options)
    stats = requests.get(f"{server.base_url}/__admin/stats", timeout=TIMEOUT).json()

    sent = document["session_info"]["requests_sent"]
    rate_limited = document["session_info"]["rate_limited"]
    assert rate_limited > 0, "the run was meant to meet the server's rate limit"
    assert sent == stats["requests"]["total"]
    assert rate_limited == stats["rate_limited"] == stats["responses"]["by_status"]["429"]
    # The per-query records add up to the same totals.
    queries = document["query_metrics"]
    assert (
        sum(q["attempts"] for q in queries) == sent == document["aggregate_stats"]["requests_sent"]
    )
    assert sum(q["rate_limited"] for q in queries) == rate_limited
