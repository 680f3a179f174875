"""`cratedigger analyze FILE.json [FILE2.json] [--json]`: the async I/O verdict of a run.

With one file: the run's report and recommendation. With two (e.g. a sync run, then an
async run of the same playlist): both reports and the comparison. `--json` prints the same
as machine-readable JSON. Bad files raise InputError, which the CLI prints as one line.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from cratedigger.analyzer import FALLBACK, RULES, analyze, load_metrics_from_json

__all__ = ["add_analyze_command", "cmd_analyze"]

ANALYZE_EPILOG = """\
examples:
  cratedigger match demo.xml --playlist Demo --metrics sync.json
  cratedigger match demo.xml --playlist Demo --mode async --metrics async.json
  cratedigger analyze sync.json
  cratedigger analyze sync.json async.json
  cratedigger analyze sync.json --json

The rule, from the figures in the file:
{rules}
Exit codes: 0 analysed, 2 a file is missing, not JSON, or not a version-1 metrics export.
"""


def add_analyze_command(subparsers: Any) -> argparse.ArgumentParser:
    """Register `analyze` on the CLI's subparsers (the object `add_subparsers` returned)."""
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "analyze",
        help="decide from exported metrics whether async I/O pays off",
        description="Read metrics exported by `cratedigger match --metrics` and recommend "
        "IMPLEMENT, SKIP or EVALUATE for async I/O; with two files, compare the runs.",
        epilog=ANALYZE_EPILOG.format(rules=_rules_text()),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "metrics", type=Path, metavar="FILE.json", help="metrics JSON of a run (the baseline)"
    )
    parser.add_argument(
        "other",
        type=Path,
        nargs="?",
        metavar="FILE2.json",
        help="metrics JSON of a second run of the same playlist, to compare with the first",
    )
    parser.add_argument(
        "--json", action="store_true", help="print the verdict as JSON instead of the report"
    )
    parser.set_defaults(handler=cmd_analyze)
    return parser


def cmd_analyze(args: argparse.Namespace) -> int:
    """Print the report (or the JSON verdict) for one or two metrics files; exit code 0."""
    from cratedigger.report import generate_async_io_analysis_report, generate_comparison_report

    first = load_metrics_from_json(args.metrics)
    second = load_metrics_from_json(args.other) if args.other is not None else None
    if args.json:
        print(json.dumps(_as_json(args, first, second), indent=2))
    elif second is None:
        sys.stdout.write(generate_async_io_analysis_report(first, str(args.metrics)))
    else:
        names = (str(args.metrics), str(args.other))
        sys.stdout.write(generate_comparison_report(first, second, names))
    return 0


def _rules_text() -> str:
    lines = [f"  {rule.recommendation:<10} if {rule.describe()}" for rule in RULES]
    return "\n".join([*lines, f"  {FALLBACK:<10} otherwise"])


def _as_json(
    args: argparse.Namespace, first: dict[str, Any], second: dict[str, Any] | None
) -> dict[str, Any]:
    from cratedigger.report import compare_runs

    verdict = {"file": str(args.metrics)} | analyze(first).to_json()
    if second is None:
        return verdict
    return verdict | {
        "other": {"file": str(args.other)} | analyze(second).to_json(),
        "comparison": compare_runs(first, second).to_json(),
    }
