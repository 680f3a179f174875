"""`cratedigger bench`: run a scenario, print the comparison and the verdict, write results/."""

from __future__ import annotations

import argparse
import shlex
import sys
from pathlib import Path
from typing import Any

from cratedigger.errors import InputError

EPILOG = """\
examples:
  cratedigger bench                       # the quick scenario (about a minute)
  cratedigger bench --scenario concurrency
  cratedigger bench --scenario my-scenarios.toml:wan --out /tmp/results
  cratedigger bench --list
"""


def add_bench_command(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    bench = sub.add_parser(
        "bench",
        help="benchmark sync, threads and async against the embedded mock server",
        description="Start the embedded mock Beatport, generate the demo playlist, run each "
        "mode on it under a scenario, check their results are identical, and write metrics, "
        "a summary, plots and a dashboard into results/<scenario>/.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    bench.add_argument(
        "--scenario",
        default="quick",
        help="a built-in scenario or a TOML file (FILE or FILE:name); default: quick",
    )
    bench.add_argument(
        "--out", type=Path, default=Path("results"), help="results folder (default: results)"
    )
    bench.add_argument(
        "--repeat",
        type=int,
        metavar="N",
        help="runs of each mode per case, interleaved round by round (default: the "
        "scenario's, 3 for quick)",
    )
    bench.add_argument("--list", action="store_true", help="list the built-in scenarios")
    bench.add_argument("--no-progress", action="store_true", help="no progress bar")
    bench.set_defaults(handler=cmd_bench)


def _check_results_folder(folder: Path) -> None:
    """Make the scenario's results folder now, before the mock starts: a --out that cannot
    hold it (a file, a read-only place) is one line, not a traceback after the runs."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
        probe = folder / ".cratedigger-write-check"
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as err:
        where = f" ({err.filename})" if err.filename and str(err.filename) != str(folder) else ""
        raise InputError(
            f"--out: cannot write the results folder {folder}{where}: {err.strerror or err}"
        ) from None


def cmd_bench(args: argparse.Namespace) -> int:
    # Imported here, not at the top: `cratedigger --help` must not load the whole harness.
    from tqdm import tqdm

    from cratedigger.harness.bench import run_scenario
    from cratedigger.harness.dashboard import (
        prediction_line,
        text_table,
        verdict_lines,
        write_index,
        write_results,
    )
    from cratedigger.harness.plots import write_plots
    from cratedigger.harness.scenarios import builtin_scenarios, load_scenario

    if args.list:
        for name, scenario in builtin_scenarios().items():
            print(f"{name:12s} {scenario.description}")
        return 0
    scenario = load_scenario(args.scenario)
    if args.repeat is not None and args.repeat < 1:
        raise InputError(f"--repeat: expected a positive integer, got {args.repeat}")
    repeat = args.repeat or scenario.repeat
    _check_results_folder(args.out / scenario.name / "metrics")
    total = repeat * sum(len(case.modes) for case in scenario.cases)
    command = "cratedigger " + shlex.join(sys.argv[1:]) if sys.argv[1:] else "cratedigger bench"
    with tqdm(total=total, unit="run", disable=args.no_progress, dynamic_ncols=True) as bar:
        started = 0

        def progress(label: str) -> None:
            nonlocal started
            if started:
                bar.update(1)  # the previous run is done
            started += 1
            bar.set_description(f"{scenario.name}: {label}")

        summary = run_scenario(scenario, args.out, progress, command=command, repeat=repeat)
        bar.update(total - bar.n)
    folder = args.out / scenario.name
    summary["predictions"] = _predictions(summary, folder / "metrics")
    plots = write_plots(summary, folder)
    write_results(summary, folder, plots)
    write_index(args.out)
    print(text_table(summary))
    for line in verdict_lines(summary):
        print(line)
    print(prediction_line(summary))
    print(
        f"results: {folder}/ (summary.json, README.md, index.html; per-run metrics/, not committed)"
    )
    agree = all(case["identical"] and not case.get("differences") for case in summary["cases"])
    return 0 if agree else 1


def _predictions(summary: dict[str, Any], metrics: Path) -> dict[str, Any]:
    """Every threads and async run predicted from its case's sync run, with the error."""
    from cratedigger.prediction_check import error_summary, prediction_errors

    rows = prediction_errors(summary, metrics)
    return {"summary": error_summary(rows), "runs": rows}
