"""The predictor against the benchmarks: every non-sync run predicted from a sync run.

    python -m bench.predictions --results DIR [DIR ...] [--out results/predictions]

Each DIR is a results folder `cratedigger bench --scenario S --out DIR` wrote (one folder
per scenario, with its summary.json and metrics/); several DIRs are repeats of the same
scenarios, and the figures compared are medians over them. Every threads and async run of
every case is predicted (`cratedigger.predict`) from the case's sync run; a case without one
from the sync run of its companion scenario `<S>-sync` (bench/predictions.toml: a sync run
made for that case), else from the sync run over the same playlist and source in the
scenario. The predictor is given the run's concurrency and the case's server rate limit,
as a user would pass `--concurrency` and `--rate-limit`; nothing else of the measured run.

Writes README.md (predicted against measured wall time per run, the error, the median and
largest absolute error, the constants the model uses against what these runs measure, and
the command) and summary.json into --out.
"""

from __future__ import annotations

import argparse
import json
import math
import shlex
import statistics
import sys
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Final

from cratedigger.predict import CALIBRATION, Calibration
from cratedigger.prediction_check import error_summary, prediction_errors

GOAL_MEDIAN: Final = 0.15
GOAL_MAX: Final = 0.35


def scenario_folders(root: Path) -> dict[str, Path]:
    """{scenario: folder} of one results DIR (folders with a summary.json and metrics/)."""
    return {
        p.parent.name: p.parent
        for p in sorted(root.glob("*/summary.json"))
        if (p.parent / "metrics").is_dir()
    }


def rows_of(root: Path, calibration: Calibration = CALIBRATION) -> list[dict[str, Any]]:
    """Every prediction of one results DIR."""
    folders = scenario_folders(root)
    summaries = {
        name: json.loads((f / "summary.json").read_text("utf-8")) for name, f in folders.items()
    }
    rows: list[dict[str, Any]] = []
    for name, folder in folders.items():
        if name.endswith("-sync") and name.removesuffix("-sync") in folders:
            continue  # a companion: read through its scenario
        companion = folders.get(f"{name}-sync")
        companions = (
            [(summaries[f"{name}-sync"], companion / "metrics")] if companion is not None else []
        )
        rows += prediction_errors(summaries[name], folder / "metrics", companions, calibration)
    return rows


def combine(repeats: Sequence[Sequence[Mapping[str, Any]]]) -> list[dict[str, Any]]:
    """One row per (scenario, case, mode): medians over the repeats that predicted it."""
    groups: dict[tuple[str, str, str], list[Mapping[str, Any]]] = defaultdict(list)
    order: list[tuple[str, str, str]] = []
    for rows in repeats:
        for row in rows:
            key = (str(row["scenario"]), str(row["case"]), str(row["mode"]))
            if key not in groups:
                order.append(key)
            groups[key].append(row)
    out = []
    for key in order:
        rows = [r for r in groups[key] if r.get("predicted") is not None]
        first = groups[key][0]
        if not rows:
            out.append(dict(first))
            continue
        predicted = statistics.median(float(r["predicted"]) for r in rows)
        measured = statistics.median(float(r["measured"]) for r in rows)
        walls = [float(r["measured"]) for r in rows]
        bindings = [str(r["binding"]) for r in rows]
        measured_bounds = [str(r.get("measured_bound")) for r in rows]
        out.append(
            {
                "scenario": key[0],
                "case": key[1],
                "mode": key[2],
                "concurrency": first["concurrency"],
                "tracks": first["tracks"],
                "rate_limit": first["rate_limit"],
                "from": first.get("from"),
                "repeats": len(rows),
                "sync_wall": statistics.median(float(r["sync_wall"]) for r in rows),
                "predicted": predicted,
                "measured": measured,
                "error": (predicted - measured) / measured if measured > 0 else None,
                # how far apart the repeats of this very run were: the noise under the error
                "measured_spread": (max(walls) - min(walls)) / measured if measured > 0 else 0.0,
                "binding": max(set(bindings), key=bindings.count),
                "measured_bound": max(set(measured_bounds), key=measured_bounds.count),
                "samples": [
                    {"predicted": r["predicted"], "measured": r["measured"], "error": r["error"]}
                    for r in rows
                ],
            }
        )
    return out


def calibration_figures(roots: Sequence[Path], exclude: str | None = None) -> dict[str, Any]:
    """What these runs measure of the model's constants (to set predict.CALIBRATION from),
    leaving out scenario `exclude` if given. Each run is paired with the sync run it is
    predicted from (`prediction_check.find_sync_run`).

    cpu_factor: per mode, the median of the run's CPU time per request sent over its sync
    run's, where the sync run's typical wait was under a fifth of `cold_wait` (warm), each
    taken back to a wait of zero along `Calibration.cpu_factor_of`'s curve.
    cold_cpu_factor: the same ratio where the wait was over twice `cold_wait` and the model
    calls the run CPU-bound (the factor matters where the CPU binds; an idle concurrent
    client is as cold as the sync one).
    contention: per mode, the median of CPU time / wall time over the runs both the model
    and the harness call CPU-bound, over the share of a core the model gave them
    (`Workload.core_share`). (Over every run the model calls CPU-bound, as the old constant
    `cpu_share` was measured, it counted runs the chain or the latency held at a lower
    CPU time / wall time.)
    """
    cold_wait = CALIBRATION.cold_wait
    warm: dict[str, list[float]] = defaultdict(list)
    cold: dict[str, list[float]] = defaultdict(list)
    shares: dict[str, list[float]] = defaultdict(list)
    for root in roots:
        for row in rows_of(root):
            if row["scenario"] == exclude or row.get("predicted") is None:
                continue
            mode, cpu = str(row["mode"]), float(row["measured_cpu"])
            sent, sync = int(row.get("measured_requests") or 0), float(row["sync_cpu_per_request"])
            cpu_bound = row.get("binding") == "cpu"
            if sent and sync > 0:
                factor, wait = cpu / sent / sync, float(row["sync_wait"])
                if wait < cold_wait / 5:
                    floor = CALIBRATION.cold_cpu_factor.get(mode, factor)
                    warm[mode].append(floor + (factor - floor) * math.exp(wait / cold_wait))
                elif wait > 2 * cold_wait and cpu_bound:
                    cold[mode].append(factor)
            measured_cpu_bound = cpu_bound and row.get("measured_bound") == "cpu"
            if measured_cpu_bound and row["measured"] > 0 and row.get("cpu_share"):
                shares[mode].append(cpu / float(row["measured"]) / float(row["cpu_share"]))

    def medians(groups: Mapping[str, list[float]]) -> dict[str, float | None]:
        return {m: _median(v) for m, v in sorted(groups.items())}

    def counts(groups: Mapping[str, list[float]]) -> dict[str, int]:
        return {m: len(v) for m, v in sorted(groups.items())}

    return {
        "cpu_factor": medians(warm),
        "cpu_factor_runs": counts(warm),
        "cold_cpu_factor": medians(cold),
        "cold_cpu_factor_runs": counts(cold),
        "contention": medians(shares),
        "contention_runs": counts(shares),
    }


def calibrated(figures: Mapping[str, Any]) -> Calibration:
    """The model's calibration with the constants `calibration_figures` measured (the
    shipped ones where these runs measure none)."""

    def merged(shipped: Mapping[str, float], name: str) -> dict[str, float]:
        return dict(shipped) | {m: v for m, v in figures[name].items() if v is not None}

    return replace(
        CALIBRATION,
        cpu_factor=merged(CALIBRATION.cpu_factor, "cpu_factor"),
        cold_cpu_factor=merged(CALIBRATION.cold_cpu_factor, "cold_cpu_factor"),
        contention=merged(CALIBRATION.contention, "contention"),
    )


def held_out(roots: Sequence[Path]) -> dict[str, Any]:
    """Each scenario predicted with constants measured on the other scenarios alone: how much
    the figures above owe to having been calibrated on the runs they are checked against."""
    names = sorted({n for r in roots for n in scenario_folders(r) if not n.endswith("-sync")})
    scenarios, everything = [], []
    for name in names:
        figures = calibration_figures(roots, exclude=name)
        calibration = calibrated(figures)
        rows = combine([rows_of(root, calibration) for root in roots])
        mine = [r for r in rows if r["scenario"] == name]
        everything += mine
        scenarios.append({"scenario": name, "constants": figures, "summary": error_summary(mine)})
    return {"scenarios": scenarios, "summary": error_summary(everything)}


def _median(values: Sequence[float]) -> float | None:
    return round(statistics.median(values), 4) if values else None


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{100 * value:+.1f} %"


def readme(
    rows: Sequence[Mapping[str, Any]],
    summary: Mapping[str, Any],
    calibration: Mapping[str, Any],
    command: str,
    roots: Sequence[Path],
    held: Mapping[str, Any] | None = None,
) -> str:
    s = summary
    met = (
        s["median_abs_error"] is not None
        and s["median_abs_error"] <= GOAL_MEDIAN
        and s["max_abs_error"] <= GOAL_MAX
    )
    lines = [
        "# Predicted against measured wall time",
        "",
        "`cratedigger analyze sync.json --predict` predicts the threads and async wall time of a "
        "playlist from one sync run's metrics (`src/cratedigger/predict.py`; docs/ARCHITECTURE.md, "
        '"The predictor"). Here every threads and async run of the benchmark scenarios is '
        "predicted from its case's sync run and compared with what was measured.",
        "",
        f"    {command}",
        "",
        f"Generated {datetime.now(UTC).isoformat(timespec='seconds').replace('+00:00', 'Z')} from "
        f"{len(roots)} repeat(s) of the scenarios ({', '.join(str(r) for r in roots)}); each "
        "figure is the median over the repeats, the error is (predicted - measured) / measured "
        "of those medians; spread is how far apart the repeats of the measured run were "
        "((max - min) / median), the noise under the error.",
        "",
        f"**{s['runs']} runs: median absolute error {_pct(s['median_abs_error']).lstrip('+')}, "
        f"largest {_pct(s['max_abs_error']).lstrip('+')} ({s['worst']}); {s['within_15']} within "
        f"15 %, {s['above_35']} above 35 %.** Goal: median at most 15 %, none above 35 %: "
        + ("met." if met else "not met (see below)."),
        "",
        "By the bound the model predicts binds:",
        "",
        "| binds | runs | median abs error | largest | median spread of the measured repeats |",
        "|---|---:|---:|---:|---:|",
    ]
    for binding in ("latency", "chain", "rate", "cpu"):
        group = [r for r in rows if r.get("binding") == binding and r.get("error") is not None]
        if not group:
            continue
        errors = [abs(float(r["error"])) for r in group]
        spreads = [float(r.get("measured_spread", 0.0)) for r in group]
        lines.append(
            f"| {binding} | {len(group)} | {100 * statistics.median(errors):.1f} % | "
            f"{100 * max(errors):.1f} % | {100 * statistics.median(spreads):.1f} % |"
        )
    lines += [
        "",
        "| scenario | case | mode | conc | rate limit | predicted from | sync s | predicted s "
        "| measured s | error | spread | binds (predicted) | bound (measured) | error per repeat |",
        "|---|---|---|---:|---:|---|---:|---:|---:|---:|---:|---|---|---|",
    ]
    for r in rows:
        if r.get("predicted") is None:
            lines.append(
                f"| {r['scenario']} | {r['case']} | {r['mode']} | {r['concurrency']} | "
                f"| (no sync run) | | | {r['measured']:.3f} | | | | | |"
            )
            continue
        samples = ", ".join(_pct(x["error"]) for x in r["samples"])
        rate = f"{r['rate_limit']:g}/s" if r["rate_limit"] else "-"
        lines.append(
            f"| {r['scenario']} | {r['case']} | {r['mode']} | {r['concurrency']} | {rate} | "
            f"{r['from']} | {r['sync_wall']:.3f} | {r['predicted']:.3f} | {r['measured']:.3f} | "
            f"{_pct(r['error'])} | {100 * float(r.get('measured_spread', 0.0)):.0f} % | "
            f"{r['binding']} | {r['measured_bound']} | {samples} |"
        )
    misses = [r for r in rows if r.get("error") is not None and abs(float(r["error"])) > GOAL_MAX]
    if misses:
        lines += ["", f"Runs off by more than {100 * GOAL_MAX:.0f} %:", ""]
        for r in misses:
            lines.append(
                f"* {r['scenario']}/{r['case']} {r['mode']} at {r['concurrency']}: predicted "
                f"{r['predicted']:.3f} s ({r['binding']}-bound), measured {r['measured']:.3f} s "
                f"({_pct(r['error'])}); its repeats spread "
                f"{100 * float(r.get('measured_spread', 0.0)):.0f} % and erred "
                f"{', '.join(_pct(x['error']) for x in r['samples'])}."
            )
    used = CALIBRATION
    lines += [
        "",
        "## The constants, and what these runs measure of them",
        "",
        "| constant | in predict.py | measured here | how it is measured |",
        "|---|---|---|---|",
    ]
    described = {
        "cpu_factor": "median CPU time per request over the sync run's, where the sync run's "
        f"typical wait was under {1000 * used.cold_wait / 5:g} ms (warm; taken back to a "
        "zero wait)",
        "cold_cpu_factor": "the same where it was over "
        f"{1000 * used.cold_wait * 2:g} ms and the run is predicted CPU-bound",
        "contention": "median (CPU time / wall time) / the share of a core the model gave "
        "them, of the runs predicted and measured CPU-bound",
    }
    for name, text in described.items():
        shipped: Mapping[str, float] = getattr(used, name)
        for mode in ("async", "threads"):
            lines.append(
                f"| {name}[{mode}] | {shipped[mode]} | {calibration[name].get(mode)} "
                f"({calibration[name + '_runs'].get(mode, 0)} runs) | {text} |"
            )
    lines.append(
        f"| cold_wait | {used.cold_wait} | - | the sync run's typical wait (s) over which a "
        "factor moves from warm to cold: exp(-wait / cold_wait) |"
    )
    lines.append(
        f"| headroom | {used.headroom} | - | pacing.AutoTuning.headroom: --rate-limit auto paces "
        "at this share of an announced limit |"
    )
    lines.append(
        f"| send_share | {used.send_share} | - | not in an export; the median error moves by "
        "about a point between 0.2 and 0.8 |"
    )
    if held is not None:
        h = held["summary"]
        lines += [
            "",
            "## Each scenario held out",
            "",
            "The constants above were measured on the runs they are checked against. Here each "
            "scenario is predicted with constants measured on the other scenarios alone: "
            f"**median absolute error {_pct(h['median_abs_error']).lstrip('+')}, largest "
            f"{_pct(h['max_abs_error']).lstrip('+')} ({h['worst']}).**",
            "",
            "| held out | cpu_factor async / threads | cold_cpu_factor async / threads | "
            "contention async / threads | median abs error | largest |",
            "|---|---|---|---|---:|---:|",
        ]
        for entry in held["scenarios"]:
            f, e = entry["constants"], entry["summary"]
            pairs = " | ".join(
                f"{f[name].get('async')} / {f[name].get('threads')}"
                for name in ("cpu_factor", "cold_cpu_factor", "contention")
            )
            lines.append(
                f"| {entry['scenario']} | {pairs} | "
                f"{_pct(e['median_abs_error']).lstrip('+')} | "
                f"{_pct(e['max_abs_error']).lstrip('+')} |"
            )
    return "\n".join(lines) + "\n"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.predictions",
        description="Predict every threads and async run of benchmark results from a sync run "
        "and report the error.",
    )
    parser.add_argument(
        "--results",
        type=Path,
        nargs="+",
        required=True,
        metavar="DIR",
        help="results folders of `cratedigger bench --out DIR` (several: repeats)",
    )
    parser.add_argument(
        "--out", type=Path, default=Path("results/predictions"), help="where to write"
    )
    parser.add_argument(
        "--no-held-out",
        action="store_true",
        help="skip predicting each scenario with constants measured on the others (slow)",
    )
    args = parser.parse_args(argv)
    missing = [str(r) for r in args.results if not scenario_folders(r)]
    if missing:
        parser.error(f"no scenario results (DIR/<scenario>/summary.json) in {', '.join(missing)}")
    repeats = [rows_of(root) for root in args.results]
    rows = combine(repeats)
    summary = error_summary(rows)
    calibration = calibration_figures(args.results)
    held = None if args.no_held_out else held_out(args.results)
    command = "python -m bench.predictions " + shlex.join(sys.argv[1:] if argv is None else argv)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "README.md").write_text(
        readme(rows, summary, calibration, command, args.results, held), encoding="utf-8"
    )
    document = {
        "command": command,
        "goal": {"median_abs_error": GOAL_MEDIAN, "max_abs_error": GOAL_MAX},
        "summary": summary,
        "calibration_measured": calibration,
        "held_out": held,
        "rows": rows,
        "repeats": [list(r) for r in repeats],
    }
    (args.out / "summary.json").write_text(json.dumps(document, indent=2) + "\n", "utf-8")
    print(
        f"{summary['runs']} runs: median absolute error "
        f"{_pct(summary['median_abs_error']).lstrip('+')}, largest "
        f"{_pct(summary['max_abs_error']).lstrip('+')} ({summary['worst']}); "
        f"written to {args.out}/README.md and summary.json"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
