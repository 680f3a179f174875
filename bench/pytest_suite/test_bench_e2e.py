"""pytest-benchmark: a 30-track playlist matched end to end, per mode and server latency.

The mock (a subprocess) is switched to each latency before the rounds; a group per
latency lets pytest-benchmark compare the modes side by side.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from pytest_benchmark.fixture import BenchmarkFixture

from bench.benchmarks import support
from cratedigger.models import LocalTrack
from cratedigger.settings import Mode

LATENCIES_MS = (0, 20)
ROUNDS = 3


@pytest.mark.parametrize("latency_ms", LATENCIES_MS)
@pytest.mark.parametrize("mode", support.ALL_MODES)
def test_match_playlist(
    benchmark: BenchmarkFixture,
    mock: support.MockServer,
    entries: list[LocalTrack],
    tmp_path: Path,
    mode: Mode,
    latency_ms: int,
) -> None:
    mock.configure(latency_ms=latency_ms)
    benchmark.group = f"match {len(entries)} tracks, {latency_ms} ms latency"

    def run() -> dict[str, Any]:
        return support.run_once(entries, mode, mock.base_url, tmp_path / "results.json")

    # pytest-benchmark leaves pedantic() unannotated.
    document = benchmark.pedantic(run, rounds=ROUNDS, iterations=1, warmup_rounds=0)  # type: ignore[no-untyped-call]
    session = document["session_info"]
    benchmark.extra_info["requests_per_run"] = session["requests_sent"]
    assert session["mode"] == mode
    assert session["tracks_done"] == len(entries)
    assert document["aggregate_stats"]["matched"] > len(entries) // 2
    assert session["requests_sent"] >= len(entries)
