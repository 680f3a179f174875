"""`cratedigger bench` end to end on a tiny scenario: mock process, modes, results/ files."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from tests.integration.test_cli_match import cratedigger


def test_bench_runs_a_scenario_and_writes_results(tmp_path: Path) -> None:
    scenario = tmp_path / "tiny.toml"
    scenario.write_text(
        '[tiny]\ndescription = "a smoke run"\nx = "latency_ms"\nplot = "speedup"\nbaseline = true\n'
        'defaults = { tracks = 12, concurrency = 4, modes = ["sync", "threads", "async"] }\n'
        "cases = [{ latency_ms = 0 }, { latency_ms = 10 }]\n",
        encoding="utf-8",
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("CRATEDIGGER_")}
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "cratedigger",
            "bench",
            "--scenario",
            str(scenario),
            "--out",
            str(tmp_path / "results"),
            "--no-progress",
        ],
        capture_output=True,
        text=True,
        timeout=300,
        env=env,
        cwd=tmp_path,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "results of sync, threads, async are identical" in done.stdout
    assert "IMPLEMENT" in done.stdout or "SKIP" in done.stdout or "EVALUATE" in done.stdout

    folder = tmp_path / "results" / "tiny"
    summary = json.loads((folder / "summary.json").read_text())
    assert [c["name"] for c in summary["cases"]] == ["latency_ms-0", "latency_ms-10"]
    for case in summary["cases"]:
        assert case["identical"]
        modes = {run["mode"]: run for run in case["runs"]}
        assert set(modes) == {"sync", "threads", "async"}
        assert modes["sync"]["speedup"] == 1.0
        for run in modes.values():
            assert run["requests"] >= 12 and run["errors"] == 0
            assert run["efficiency"] > 0 and run["verdict"] in ("IMPLEMENT", "SKIP", "EVALUATE")
            assert (folder / "metrics" / run["metrics_file"]).is_file()
        # The async run's requests, replayed by the bare aiohttp client (the token aside).
        floor = case["baseline"]
        for sample in floor["samples"]:
            assert sample["requests"] == sample["decoded"] == modes["async"]["requests"] - 1
        assert floor["cpu_per_request_ms"] > 0 and floor["ratio"] > 0
    assert "a bare aiohttp client replaying the async run" in done.stdout
    for name in ("README.md", "index.html", "speedup-vs-latency_ms.png"):
        assert (folder / name).is_file()
    index = (tmp_path / "results" / "README.md").read_text()
    assert "## `tiny`" in index and "cratedigger bench --scenario" in index


def test_an_out_that_cannot_hold_results_is_one_line_before_any_run(tmp_path: Path) -> None:
    blocker = tmp_path / "afile"
    blocker.write_text("not a folder\n")
    done = cratedigger("bench", "--out", blocker, "--no-progress", cwd=tmp_path)
    assert done.returncode == 2, done.stderr
    assert done.stderr == (
        f"cratedigger: error: --out: cannot write the results folder {blocker}/quick/metrics: "
        "Not a directory\n"
    )
    assert blocker.read_text() == "not a folder\n"
