"""`cratedigger analyze FILE.json [FILE2.json] [--json] [--predict ...]`: the async I/O verdict.

With one file: the run's report and recommendation. With two (e.g. a sync run, then an
async run of the same playlist): both reports and the comparison, which explains a verdict
its measured speedup contradicts. `--predict` (a sync run's file) adds the predicted threads
and async wall times and the bound that will bind (`cratedigger.predict`); with a second
file, the prediction for that run's mode and concurrency beside its measured time. `--json`
prints the same as machine-readable JSON. Bad files and options raise InputError, which the
CLI prints as one line naming the file or option.
"""

from __future__ import annotations

import argparse
import json
import sys
import textwrap
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cratedigger.analyzer import FALLBACK, RULES, analyze, load_metrics_from_json
from cratedigger.errors import InputError
from cratedigger.pacing import RateLimit

if TYPE_CHECKING:  # the model loads the matching rules: imported when --predict asks for it
    from cratedigger.predict import Prediction

__all__ = ["add_analyze_command", "cmd_analyze", "speedup_note"]

ANALYZE_EPILOG = """\
examples:
  cratedigger match demo.xml --playlist Demo --no-cache --metrics sync.json
  cratedigger match demo.xml --playlist Demo --no-cache --mode async --metrics async.json
  cratedigger analyze sync.json
  cratedigger analyze sync.json async.json
  cratedigger analyze sync.json --json
  cratedigger analyze sync.json --predict                  # threads and async at 16
  cratedigger analyze sync.json --predict --concurrency 64 --rate-limit 20/s
  cratedigger analyze sync.json async.json --predict       # predicted vs measured

The rule, from the figures in the file:
{rules}
--predict replays the sync run's requests (their waits, each track's batches, the client
CPU per request) under the threads and async drivers; --rate-limit is the server's limit
(the export does not record a limit the server announced). The speedup compares with sync
under the same limit: the recorded run, or sync predicted under a limit it did not have.

Exit codes: 0 analysed, 2 a file is missing, not JSON, or not a version-1 metrics export,
or an option is wrong (--predict on a run that is not sync, a bad --rate-limit).
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
    parser.add_argument(
        "--predict",
        action="store_true",
        help="from a sync run: predict the threads and async wall time and which bound binds",
    )
    parser.add_argument(
        "--concurrency",
        metavar="N",
        help="with --predict: requests in flight (default: the second file's, else 16)",
    )
    parser.add_argument(
        "--rate-limit",
        metavar="R/s",
        help="with --predict: the server's rate limit, e.g. 20/s or 1200/min "
        "(also explains a comparison); default: none",
    )
    parser.set_defaults(handler=cmd_analyze)
    return parser


def cmd_analyze(args: argparse.Namespace) -> int:
    """Print the report (or the JSON verdict) for one or two metrics files; exit code 0."""
    from cratedigger.report import (
        generate_async_io_analysis_report,
        generate_comparison_report,
        generate_prediction_report,
    )

    rate_limit = parse_rate_limit(args.rate_limit)
    concurrency = parse_concurrency(args.concurrency)
    if not args.predict and args.concurrency is not None:
        raise InputError("--concurrency: only with --predict (the requests in flight to predict)")
    first = load_metrics_from_json(args.metrics)
    second = load_metrics_from_json(args.other) if args.other is not None else None
    predictions = _predictions(args, first, second, concurrency, rate_limit) if args.predict else []
    if args.json:
        print(json.dumps(_as_json(args, first, second, predictions, rate_limit), indent=2))
        return 0
    if second is None:
        sys.stdout.write(generate_async_io_analysis_report(first, str(args.metrics)))
    else:
        names = (str(args.metrics), str(args.other))
        sys.stdout.write(generate_comparison_report(first, second, names, rate_limit))
    if predictions:
        sys.stdout.write("\n" + generate_prediction_report(predictions, second))
        sys.stdout.write(speedup_note(predictions[0]) + "\n")
    return 0


def speedup_note(prediction: Prediction) -> str:
    """Which sync wall time the predictions' speedup compares with (one for all of them:
    they share the export and the rate limit)."""
    p = prediction
    if p.speedup_against == "recorded":
        text = f"speedup: against the recorded sync run, {p.sync_wall:.2f} s."
    else:
        text = (
            f"speedup: against sync predicted under the same limit ({p.rate_limit:g}/s, paced "
            f"at {p.pace:.1f} req/s), {p.sync_baseline:.2f} s; the recorded sync run, without "
            f"it, took {p.sync_wall:.2f} s."
        )
    return "\n".join(textwrap.wrap(text, 80, initial_indent="  ", subsequent_indent="  "))


def parse_rate_limit(text: str | None) -> float | None:
    """`--rate-limit`: requests per second ('20/s', '1200/min', '20'), or None."""
    if text is None:
        return None
    try:
        limit = RateLimit.parse(text)
    except ValueError:
        limit = RateLimit("auto")  # reported below, with the same message
    if limit.mode == "off":
        return None
    if limit.mode != "fixed" or limit.rate is None:
        raise InputError(
            f"--rate-limit: expected the server's limit as a rate like 20/s or 1200/min, "
            f"got {text!r}"
        )
    return limit.rate


def parse_concurrency(text: str | None) -> int | None:
    """`--concurrency`: a whole number >= 1, or None."""
    if text is None:
        return None
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise InputError(f"--concurrency: expected a whole number >= 1, got {text!r}")
    return value


def _predictions(
    args: argparse.Namespace,
    first: dict[str, Any],
    second: dict[str, Any] | None,
    concurrency: int | None,
    rate_limit: float | None,
) -> list[Prediction]:
    """Threads and async (or the second run's mode) predicted from the first, a sync run."""
    from cratedigger.options import DEFAULT_OPTIONS  # match's default concurrency
    from cratedigger.predict import MODES, simulate, workload_from_metrics

    if first["session_info"]["mode"] != "sync":
        info = first["session_info"]
        article = "an" if str(info["mode"])[:1] in "aeiou" else "a"
        raise InputError(
            f"--predict needs a sync run's metrics, and this is {article} {info['mode']} run at "
            f"concurrency {info['concurrency']}: its requests overlapped, so their waits and "
            "chains cannot be read one by one. Run the playlist once with --mode sync "
            "--metrics FILE.json and predict from that file",
            path=str(args.metrics),
        )
    workload = workload_from_metrics(first)
    if second is not None and second["session_info"]["mode"] in MODES:
        mode = str(second["session_info"]["mode"])
        n = concurrency or int(second["session_info"]["concurrency"])
        return [simulate(workload, mode, n, rate_limit=rate_limit)]
    return [
        simulate(workload, mode, concurrency or DEFAULT_OPTIONS.concurrency, rate_limit=rate_limit)
        for mode in ("threads", "async")
    ]


def _rules_text() -> str:
    lines = [f"  {rule.recommendation:<10} if {rule.describe()}" for rule in RULES]
    return "\n".join([*lines, f"  {FALLBACK:<10} otherwise"])


def _as_json(
    args: argparse.Namespace,
    first: dict[str, Any],
    second: dict[str, Any] | None,
    predictions: list[Prediction],
    rate_limit: float | None,
) -> dict[str, Any]:
    from cratedigger.report import compare_runs

    verdict = {"file": str(args.metrics)} | analyze(first).to_json()
    if predictions:
        verdict["prediction"] = [p.to_json() for p in predictions]
    if second is None:
        return verdict
    return verdict | {
        "other": {"file": str(args.other)} | analyze(second).to_json(),
        "comparison": compare_runs(first, second, rate_limit).to_json(),
    }
