"""Run a scenario: every case against the embedded mock, every mode as a user runs it.

Each mode runs in its own `cratedigger match` process (clean CPU time and peak RSS, the
exact code path of the CLI) against one mock process reconfigured per case through its
admin API. Results of the modes are compared byte for byte; metrics go to results/.
"""

from __future__ import annotations

import json
import os
import platform
import shlex
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psutil

from cratedigger.errors import CratediggerError
from cratedigger.harness.bounds import bounds, efficiency
from cratedigger.harness.scenarios import Case, Scenario
from mockserver.process import MockProcess, ProcessStartError

PLAYLIST_SEED = 2026
CATALOG_SEED = 1
CATALOG_SIZE = 20000
Progress = Callable[[str], None]


def machine() -> dict[str, Any]:
    return {
        "platform": platform.platform(),
        "python": platform.python_version(),
        "cpus": psutil.cpu_count(logical=True),
        "memory_gb": round(psutil.virtual_memory().total / 2**30, 1),
        "processor": platform.processor() or platform.machine(),
    }


def _write_playlist(folder: Path, tracks: int) -> Path:
    from mockserver.catalog import build_catalog  # the harness's only link to the mock's code
    from mockserver.playlist import generate_playlist, write_rekordbox_xml

    xml = folder / f"demo-{tracks}.xml"
    if not xml.exists():
        catalog = build_catalog(CATALOG_SEED, CATALOG_SIZE)
        write_rekordbox_xml(generate_playlist(catalog, tracks, PLAYLIST_SEED), xml)
    return xml


def match_command(
    case: Case, mode: str, xml: Path, base_url: str, out: Path, metrics: Path
) -> list[str]:
    command = [
        sys.executable,
        "-m",
        "cratedigger",
        "match",
        str(xml),
        "--playlist",
        "Sets/Demo",
        "--base-url",
        base_url,
        "--source",
        case.source,
        "--mode",
        mode,
        "--concurrency",
        str(case.concurrency),
        "--timeout",
        f"{case.timeout:g}",
        "--no-cache",
        "--no-progress",
        "--out",
        str(out),
        "--metrics",
        str(metrics),
    ]
    if case.client_rate:
        command += ["--rate-limit", case.client_rate]
    return command


def _run_mode(
    case: Case, mode: str, xml: Path, mock: MockProcess, work: Path, metrics_dir: Path
) -> tuple[dict[str, Any], bytes]:
    out = work / f"{case.name}-{mode}.json"
    metrics_path = metrics_dir / f"{case.name}-{mode}.json"
    mock.admin("POST", "reset")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CRATEDIGGER_", "BEATPORT_"))}
    command = match_command(case, mode, xml, mock.base_url, out, metrics_path)
    done = subprocess.run(
        command, capture_output=True, text=True, cwd=work, env=env, check=False, timeout=3600
    )
    if done.returncode not in (0, 1):
        raise CratediggerError(
            f"{shlex.join(command[2:])} failed ({done.returncode}): {done.stderr.strip()[-500:]}"
        )
    server = mock.admin("GET", "stats")
    metrics = json.loads(metrics_path.read_text(encoding="utf-8"))
    return _row(case, mode, metrics, server, metrics_path), out.read_bytes()


def _row(
    case: Case, mode: str, metrics: dict[str, Any], server: dict[str, Any], metrics_path: Path
) -> dict[str, Any]:
    from cratedigger.analyzer import analyze_network_time_percentage

    session, aggregate = metrics["session_info"], metrics["aggregate_stats"]
    b = bounds(metrics, server_rate=case.server_rate, server_burst=case.server_burst)
    wall = float(session["wall_time"])
    sent = int(session["requests_sent"])
    percentage, verdict = analyze_network_time_percentage(metrics)
    return {
        "mode": mode,
        "concurrency": session["concurrency"],
        "wall_time": wall,
        "cpu_time": session["cpu_time"],
        "requests": sent,
        "cpu_per_request_ms": 1000.0 * session["cpu_time"] / sent if sent else 0.0,
        "cpu_per_track_ms": 1000.0 * session["cpu_time"] / max(1, session["tracks_done"]),
        "parse_share": aggregate["total_parse_time"] / session["cpu_time"]
        if session["cpu_time"]
        else 0.0,
        "throughput_rps": sent / wall if wall else 0.0,
        "peak_rss_mb": session["peak_rss"] / 2**20,
        "rate_limited": session["rate_limited"],
        "rate_limited_share": session["rate_limited"] / sent if sent else 0.0,
        "server_requests": server["requests"]["total"],
        "server_429s": server["rate_limited"],
        "bounds": asdict(b),
        "ideal": b.ideal,
        "limiting": b.limiting,
        "efficiency": efficiency(b.ideal, wall),
        "latency_bound": b.latency_bound,
        "latency_efficiency": efficiency(b.latency_bound, wall),
        "network_percentage": percentage,
        "in_flight_percentage": metrics["network_analysis"]["in_flight_wall_percentage"],
        "verdict": str(verdict),
        "matched": aggregate["matched"],
        "errors": aggregate["errors"],
        "metrics_file": metrics_path.name,
    }


def _differences(reference: bytes, other: bytes) -> int:
    """Entries that differ, ignoring entries that ended in error in `other`."""
    ref, got = json.loads(reference), json.loads(other)
    if len(ref) != len(got):
        return max(len(ref), len(got))
    return sum(1 for a, b in zip(ref, got, strict=True) if b["status"] != "error" and a != b)


@contextmanager
def _embedded_mock() -> Iterator[MockProcess]:
    """The mock in a process of its own, so it never shares the client's CPU or RSS."""
    mock = MockProcess.mock(seed=CATALOG_SEED, catalog_size=CATALOG_SIZE)
    try:
        mock.start()
    except ProcessStartError as error:
        raise CratediggerError(f"the embedded mock server did not start: {error}") from error
    try:
        yield mock
    finally:
        mock.stop()


def run_scenario(
    scenario: Scenario, results_root: Path, progress: Progress | None = None, command: str = ""
) -> dict[str, Any]:
    """Run every case and mode of `scenario`; returns the summary (also written by report)."""
    folder = results_root.resolve() / scenario.name  # the runs work in a temporary folder
    metrics_dir = folder / "metrics"
    metrics_dir.mkdir(parents=True, exist_ok=True)
    cases: list[dict[str, Any]] = []
    outputs: dict[tuple[str, str], bytes] = {}
    sync_walls: dict[tuple[int, str, str], float] = {}  # speedups of cases without sync
    with (
        tempfile.TemporaryDirectory(prefix="cratedigger-bench-") as tmp,
        _embedded_mock() as mock,
    ):
        work = Path(tmp)
        for case in scenario.cases:
            xml = _write_playlist(work, case.tracks)
            mock.configure(
                latency=case.latency_spec, rate_limit=case.rate_limit_spec, faults=case.faults
            )
            runs = []
            for mode in case.modes:
                if progress is not None:
                    progress(f"{case.name} {mode}")
                row, result = _run_mode(case, mode, xml, mock, work, metrics_dir)
                outputs[(case.name, mode)] = result
                runs.append(row)
            key = (case.tracks, case.source, case.latency_spec)
            for row in runs:
                if row["mode"] == "sync":
                    sync_walls[key] = float(row["wall_time"])
            cases.append(_case_summary(scenario, case, runs, outputs, sync_walls.get(key)))
    return {
        "scenario": scenario.name,
        "description": scenario.description,
        "command": command or f"cratedigger bench --scenario {scenario.name}",
        "generated": datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z"),
        "machine": machine(),
        "x": scenario.x,
        "plot": scenario.plot,
        "cases": cases,
    }


def _case_summary(
    scenario: Scenario,
    case: Case,
    runs: list[dict[str, Any]],
    outputs: dict[tuple[str, str], bytes],
    reference: float | None,
) -> dict[str, Any]:
    mine = [outputs[(case.name, r["mode"])] for r in runs]
    for row in runs:
        row["speedup"] = reference / row["wall_time"] if reference and row["wall_time"] else None
    # Results depend on the playlist and the source alone: a case over the same ones as an
    # earlier case (another latency, rate limit, concurrency or faults) must give its results.
    earlier = next(
        (c for c in scenario.cases if (c.tracks, c.source) == (case.tracks, case.source)), case
    )
    baseline = next((out for (name, _), out in outputs.items() if name == earlier.name), None)
    compared = earlier != case and baseline is not None
    return {
        "name": case.name,
        "params": {k: v for k, v in asdict(case).items() if k != "name"},
        "x": case.value(scenario.x) if scenario.x else None,
        "identical": all(out == mine[0] for out in mine),
        "compared_with": earlier.name if compared else None,
        "differences": _differences(baseline, mine[0]) if compared and baseline else 0,
        "runs": runs,
    }
