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
import statistics
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
from cratedigger.harness.baseline import replay_last_run, summarize
from cratedigger.harness.bounds import bounds, efficiency
from cratedigger.harness.scenarios import Case, Scenario
from cratedigger.harness.stats import estimate, paired_ratio
from cratedigger.resources import busy_share, machine_times
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
    case: Case,
    mode: str,
    xml: Path,
    mock: MockProcess,
    work: Path,
    metrics_path: Path,
) -> tuple[dict[str, Any], bytes]:
    out = work / f"{case.name}-{mode}.json"
    mock.admin("POST", "reset")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CRATEDIGGER_", "BEATPORT_"))}
    command = match_command(case, mode, xml, mock.base_url, out, metrics_path)
    machine_before, mock_before = machine_times(), mock.cpu_seconds()
    done = subprocess.run(
        command, capture_output=True, text=True, cwd=work, env=env, check=False, timeout=3600
    )
    mock_cpu, machine_after = mock.cpu_seconds() - mock_before, machine_times()
    if done.returncode not in (0, 1):
        raise CratediggerError(
            f"{shlex.join(command[2:])} failed ({done.returncode}): {done.stderr.strip()[-500:]}"
        )
    server = mock.admin("GET", "stats")
    metrics = json.loads(metrics_path.read_text(encoding="utf-8"))
    row = _row(case, mode, metrics, server, metrics_path)
    row.update(_load(row, mock_cpu, busy_share(machine_before, machine_after) or 0.0))
    return row, out.read_bytes()


MOCK_BUSY = 0.85  # a mock above this share of a core may have been what was measured
MACHINE_BUSY = 0.90  # all cores above this share: the client was not alone


def _load(row: dict[str, Any], mock_cpu: float, machine_busy: float) -> dict[str, Any]:
    """Who was busy during a run: the mock (share of one core) and the machine (all cores)."""
    wall, served = float(row["wall_time"]), int(row["server_requests"])
    mock_share = mock_cpu / wall if wall > 0 else 0.0
    flags = []
    if mock_share > MOCK_BUSY:
        flags.append(f"mock at {mock_share:.0%} of a core")
    if machine_busy > MACHINE_BUSY:
        flags.append(f"machine at {machine_busy:.0%}")
    return {
        "mock_cpu": mock_cpu,
        "mock_cpu_per_request_ms": 1000.0 * mock_cpu / served if served else 0.0,
        "mock_core_share": mock_share,
        "machine_busy": machine_busy,
        "flags": flags,
    }


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
    ref, got = json.loads(reference)["results"], json.loads(other)["results"]
    if len(ref) != len(got):
        return max(len(ref), len(got))
    return sum(1 for a, b in zip(ref, got, strict=True) if b["status"] != "error" and a != b)


@contextmanager
def _embedded_mock(work: Path, journal_size: int) -> Iterator[MockProcess]:
    """The mock in a process of its own, so it never shares the client's CPU or RSS; its
    request journal holds `journal_size` requests (a baseline replays a whole run's)."""
    config = work / "mock.toml"
    config.write_text(f"journal_size = {journal_size}\n", encoding="utf-8")
    args = ("--config", str(config))
    mock = MockProcess.mock(seed=CATALOG_SEED, catalog_size=CATALOG_SIZE, args=args)
    try:
        mock.start()
    except ProcessStartError as error:
        raise CratediggerError(f"the embedded mock server did not start: {error}") from error
    try:
        yield mock
    finally:
        mock.stop()


def run_scenario(
    scenario: Scenario,
    results_root: Path,
    progress: Progress | None = None,
    command: str = "",
    repeat: int | None = None,
) -> dict[str, Any]:
    """Run every case and mode of `scenario` `repeat` times, the modes interleaved round by
    round; returns the summary (medians, intervals and every sample)."""
    rounds = repeat or scenario.repeat
    folder = results_root.resolve() / scenario.name  # the runs work in a temporary folder
    metrics_dir = folder / "metrics"
    metrics_dir.mkdir(parents=True, exist_ok=True)
    cases: list[dict[str, Any]] = []
    outputs: dict[tuple[str, str], bytes] = {}
    sync_walls: dict[tuple[int, str, str], list[float]] = {}  # for cases without sync
    # A track sends 1 to 8 requests (a known id, up to 4 searches, up to 3 details), more
    # when retried: 16 a track leaves room, and the baseline checks it got the whole run.
    journal = max(1000, 16 * scenario.max_tracks) if scenario.baseline else 1000
    with (
        tempfile.TemporaryDirectory(prefix="cratedigger-bench-") as tmp,
        _embedded_mock(Path(tmp), journal) as mock,
    ):
        work = Path(tmp)
        for case in scenario.cases:
            xml = _write_playlist(work, case.tracks)
            mock.configure(
                latency=case.latency_spec, rate_limit=case.rate_limit_spec, faults=case.faults
            )
            samples: dict[str, list[dict[str, Any]]] = {mode: [] for mode in case.modes}
            bare: list[dict[str, Any]] = []
            stable: dict[str, bool] = dict.fromkeys(case.modes, True)
            for round_ in range(rounds):
                # Each round starts with the next mode: none always runs first or last.
                shift = round_ % len(case.modes)
                for mode in case.modes[shift:] + case.modes[:shift]:
                    if progress is not None:
                        progress(f"{case.name} {mode} ({round_ + 1}/{rounds})")
                    suffix = f"-{round_ + 1}" if rounds > 1 else ""
                    metrics_path = metrics_dir / f"{case.name}-{mode}{suffix}.json"
                    row, result = _run_mode(case, mode, xml, mock, work, metrics_path)
                    samples[mode].append(row)
                    if scenario.baseline and mode == "async":
                        bare.append(replay_last_run(mock, work, case.concurrency))
                    first = outputs.setdefault((case.name, mode), result)
                    stable[mode] = stable[mode] and first == result
            runs = [_aggregate(mode, samples[mode], stable[mode]) for mode in case.modes]
            key = (case.tracks, case.source, case.latency_spec)
            if "sync" in samples:
                sync_walls[key] = [float(r["wall_time"]) for r in samples["sync"]]
            summary = _case_summary(scenario, case, runs, samples, outputs, sync_walls.get(key))
            if bare:
                summary["baseline"] = summarize(bare, samples["async"])
            cases.append(summary)
    return {
        "scenario": scenario.name,
        "description": scenario.description,
        "command": command or f"cratedigger bench --scenario {scenario.name}",
        "generated": datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z"),
        "machine": machine(),
        "repeat": rounds,
        "x": scenario.x,
        "plot": scenario.plot,
        "cases": cases,
    }


# Figures of a run that are reported as medians with intervals over the repeated runs.
ESTIMATED = ("wall_time", "cpu_per_request_ms", "throughput_rps", "mock_core_share")


def _aggregate(mode: str, samples: list[dict[str, Any]], stable: bool) -> dict[str, Any]:
    """One row per mode: the run nearest the median wall time, with medians and intervals."""
    walls = [float(r["wall_time"]) for r in samples]
    middle = statistics.median(walls)
    typical = min(samples, key=lambda r: abs(float(r["wall_time"]) - middle))
    row = dict(typical)
    for key in ESTIMATED:
        found = estimate([float(r[key]) for r in samples])
        row[key] = found.median
        row[f"{key}_ci"] = [found.low, found.high]
    row["wall_samples"] = walls
    row["efficiency"] = efficiency(float(row["ideal"]), middle)
    row["latency_efficiency"] = efficiency(float(row["latency_bound"]), middle)
    # Flagged when the typical (median) run was: one busy moment out of three is what the
    # median is there to absorb.
    busy = statistics.median(float(r["machine_busy"]) for r in samples)
    row.update(_load(row, float(row["mock_core_share"]) * middle, busy))
    row["repeats_identical"] = stable
    row["samples"] = [
        {k: r[k] for k in ("wall_time", "cpu_time", "requests", "mock_cpu", "machine_busy")}
        for r in samples
    ]
    assert row["mode"] == mode
    return row


def _case_summary(
    scenario: Scenario,
    case: Case,
    runs: list[dict[str, Any]],
    samples: dict[str, list[dict[str, Any]]],
    outputs: dict[tuple[str, str], bytes],
    reference: list[float] | None,
) -> dict[str, Any]:
    mine = [outputs[(case.name, r["mode"])] for r in runs]
    for row in runs:
        walls = [float(r["wall_time"]) for r in samples[row["mode"]]]
        if reference and len(reference) == len(walls) and "sync" in samples:
            ratio = paired_ratio(reference, walls)  # the same rounds: paired
        elif reference:
            middle = statistics.median(reference)
            ratio = estimate([middle / w for w in walls if w > 0])
        else:
            row["speedup"], row["speedup_ci"] = None, None
            continue
        row["speedup"], row["speedup_ci"] = ratio.median, [ratio.low, ratio.high]
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
        "identical": all(out == mine[0] for out in mine)
        and all(r["repeats_identical"] for r in runs),
        "compared_with": earlier.name if compared else None,
        "differences": _differences(baseline, mine[0]) if compared and baseline else 0,
        "runs": runs,
    }
