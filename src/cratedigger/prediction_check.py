"""Every prediction of a benchmark scenario against what was measured: the harness's check.

`prediction_errors(summary, metrics_dir)` takes a scenario summary as `cratedigger bench`
writes it (`results/<scenario>/summary.json`) and the folder of its per-run metrics, predicts
every non-sync run from a sync run (`cratedigger.predict`), and returns one row per run with
the predicted and measured wall time and the relative error. Reads files; the model is pure.
"""

from __future__ import annotations

import json
import statistics
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from cratedigger.predict import CALIBRATION, Calibration, simulate, workload_from_metrics

__all__ = ["SyncRun", "error_summary", "find_sync_run", "prediction_errors"]

SyncRun = tuple[Mapping[str, Any], Mapping[str, Any], Path]  # (case, run row, metrics dir)


def _key(case: Mapping[str, Any]) -> tuple[Any, ...]:
    p = case["params"]
    return (p.get("tracks"), p.get("source"))


def _latency(case: Mapping[str, Any]) -> tuple[Any, ...]:
    p = case["params"]
    return (p.get("latency_ms"), p.get("latency"))


def _sync_row(case: Mapping[str, Any]) -> Mapping[str, Any] | None:
    return next((r for r in case["runs"] if r["mode"] == "sync"), None)


def find_sync_run(
    case: Mapping[str, Any],
    summary: Mapping[str, Any],
    metrics_dir: Path,
    companions: Sequence[tuple[Mapping[str, Any], Path]] = (),
) -> SyncRun | None:
    """The sync run to predict `case`'s runs from, or None.

    In order: the case's own sync run; a companion summary's case of the same name (a sync
    run made for this case, e.g. bench/predictions.toml); a sync run of the same scenario
    over the same playlist and source, at the same latency if there is one.
    """
    own = _sync_row(case)
    if own is not None:
        return case, own, metrics_dir
    for other, folder in companions:
        for candidate in other["cases"]:
            row = _sync_row(candidate)
            same_case = candidate["name"] == case["name"] and _key(candidate) == _key(case)
            if same_case and row is not None:
                return candidate, row, folder
    same = [c for c in summary["cases"] if _key(c) == _key(case) and _sync_row(c) is not None]
    same.sort(key=lambda c: _latency(c) != _latency(case))  # the same latency first
    if same:
        row = _sync_row(same[0])
        assert row is not None
        return same[0], row, metrics_dir
    return None


def prediction_errors(
    summary: Mapping[str, Any],
    metrics_dir: Path | str,
    companions: Sequence[tuple[Mapping[str, Any], Path]] = (),
    calibration: Calibration = CALIBRATION,
) -> list[dict[str, Any]]:
    """One row per non-sync run of the scenario: predicted vs measured wall time.

    The rate limit given to the predictor is the case's server limit (`server_rate`), as a
    user would pass `--rate-limit`; the concurrency is the run's. A run with no sync run to
    predict it from gets a row with `predicted` None and the reason.

    With repeated runs (a run row with `samples`, metrics files `<case>-<mode>-<k>.json`),
    each repeat of the sync run is a prediction and the row compares their median with the
    run's `wall_time` (the harness's median); otherwise the one sync run's prediction with the
    one measured time. The run's `flags` (a busy mock or machine) are carried over.
    """
    folder = Path(metrics_dir)
    cache: dict[Path, Mapping[str, Any]] = {}

    def load(path: Path) -> Mapping[str, Any]:
        if path not in cache:
            cache[path] = json.loads(path.read_text(encoding="utf-8"))
        return cache[path]

    rows: list[dict[str, Any]] = []
    for case in summary["cases"]:
        params = case["params"]
        rate = float(params.get("server_rate") or 0.0) or None
        for run in case["runs"]:
            if run["mode"] == "sync":
                continue
            row: dict[str, Any] = {
                "scenario": summary.get("scenario", ""),
                "case": case["name"],
                "mode": run["mode"],
                "concurrency": int(run["concurrency"]),
                "tracks": params.get("tracks"),
                "rate_limit": rate,
                "measured": float(run["wall_time"]),
                "measured_cpu": float(run["cpu_time"]),
                "measured_bound": run.get("limiting"),
            }
            found = find_sync_run(case, summary, folder, companions)
            if found is None:
                rows.append(row | {"predicted": None, "error": None, "why": "no sync run"})
                continue
            sync_case, sync_row, sync_folder = found
            workloads = [
                workload_from_metrics(load(path))
                for path in _sync_files(sync_case, sync_row, sync_folder)
            ]
            predictions = [
                simulate(
                    w,
                    run["mode"],
                    int(run["concurrency"]),
                    rate_limit=rate,
                    calibration=calibration,
                )
                for w in workloads
            ]
            p = sorted(predictions, key=lambda x: x.wall_time)[(len(predictions) - 1) // 2]
            predicted = statistics.median(x.wall_time for x in predictions)
            measured = row["measured"]
            rows.append(
                row
                | {
                    "from": f"{sync_folder.parent.name}/{sync_case['name']} sync",
                    "sync_wall": statistics.median(x.sync_wall for x in predictions),
                    "predicted": predicted,
                    "predictions": [x.wall_time for x in predictions],
                    "error": (predicted - measured) / measured if measured > 0 else None,
                    "binding": p.binding,
                    "bounds": p.bounds.as_dict(),
                    "flags": list(run.get("flags", [])),
                    # what the calibration is measured from (bench/predictions.py)
                    "measured_requests": int(run.get("requests") or 0),
                    "sync_cpu_per_request": statistics.median(
                        w.sync_cpu / max(1, w.attempts) for w in workloads
                    ),
                    "sync_wait": statistics.median(w.typical_wait for w in workloads),
                    "cpu_share": statistics.median(x.cpu_share for x in predictions),
                }
            )
    return rows


def _sync_files(case: Mapping[str, Any], row: Mapping[str, Any], folder: Path) -> list[Path]:
    """The metrics of every repeat of a sync run, or of the one run."""
    repeats = len(row.get("samples") or ())
    if repeats > 1:
        paths = [folder / f"{case['name']}-sync-{k}.json" for k in range(1, repeats + 1)]
        if all(p.is_file() for p in paths):
            return paths
    return [folder / str(row["metrics_file"])]


def error_summary(rows: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """Median and largest absolute relative error of the rows that have a prediction."""
    errors = [abs(float(r["error"])) for r in rows if r.get("error") is not None]
    worst = max(
        (r for r in rows if r.get("error") is not None),
        key=lambda r: abs(float(r["error"])),
        default=None,
    )
    return {
        "runs": len(errors),
        "unpredicted": sum(1 for r in rows if r.get("error") is None),
        "median_abs_error": statistics.median(errors) if errors else None,
        "max_abs_error": max(errors) if errors else None,
        "worst": None if worst is None else f"{worst['scenario']}/{worst['case']} {worst['mode']}",
        "within_15": sum(1 for e in errors if e <= 0.15),
        "flagged": sum(1 for r in rows if r.get("flags")),
        "above_35": sum(1 for e in errors if e > 0.35),
    }
