"""What a bench run leaves behind: the printed table, summary.json, README.md, index.html."""

from __future__ import annotations

import html
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any, TypeGuard

from cratedigger.output import write_bytes_atomic

COLUMNS = (
    ("case", "case"),
    ("tracks", "tracks"),
    ("mode", "mode"),
    ("conc", "concurrency"),
    ("wall s", "wall_time"),
    ("x sync", "speedup"),
    ("vs sync", "ratio"),
    ("efficiency", "efficiency"),
    ("latency eff.", "latency_efficiency"),
    ("bound", "limiting"),
    ("CPU ms/req", "cpu_per_request_ms"),
    ("CPU ms/track", "cpu_per_track_ms"),
    ("parse %", "parse_share"),
    ("peak RSS MB", "peak_rss_mb"),
    ("req/s", "throughput_rps"),
    ("429s", "rate_limited"),
    ("network %", "network_percentage"),
    ("verdict", "verdict"),
    ("mock CPU", "mock_core_share"),
    ("bottleneck check", "flags"),
)

BOTTLENECKS = {
    "latency": "network latency",
    "chain": "each track's chain of requests",
    "rate": "the server's rate limit",
    "cpu": "client CPU",
}


def bottleneck(run: dict[str, Any]) -> str:
    """What bound a run, in words; a flagged run says it measured something else."""
    flags = run.get("flags") or []
    if flags:
        return "not the client (" + "; ".join(flags) + ")"
    return BOTTLENECKS.get(str(run.get("limiting")), str(run.get("limiting")))


def _interval(row: dict[str, Any], key: str, fmt: str) -> str:
    bounds = row.get(f"{key}_ci")
    if not _spread(bounds):
        return ""
    return f" [{format(bounds[0], fmt)}-{format(bounds[1], fmt)}]"


def _cell(key: str, row: dict[str, Any]) -> str:
    value = row.get(key)
    if key == "ratio":
        speedup = row.get("speedup")
        return f"{1 / speedup:.3f}x" if speedup else "-"
    if key == "flags":
        return "; ".join(value) if value else "ok"
    if value is None:
        return "-"
    if key == "speedup":
        return f"{value:.1f}x" + _interval(row, key, ".1f")
    if key == "wall_time":
        fmt = ".3f" if value < 10 else ".1f"
        return format(value, fmt) + _interval(row, key, fmt)
    if key in ("efficiency", "latency_efficiency", "parse_share", "mock_core_share"):
        return f"{value:.0%}"
    if key == "rate_limited":
        return f"{value} ({row['rate_limited_share']:.1%})"
    if isinstance(value, float):
        return f"{value:.3f}" if value < 10 else f"{value:.1f}"
    return str(value)


def rows(summary: dict[str, Any]) -> list[list[str]]:
    table = []
    for case in summary["cases"]:
        for run in case["runs"]:
            row = {**run, "case": case["name"], "tracks": case["params"]["tracks"]}
            table.append([_cell(key, row) for _, key in COLUMNS])
    return table


def text_table(summary: dict[str, Any]) -> str:
    header = [title for title, _ in COLUMNS]
    body = rows(summary)
    widths = [max(len(r[i]) for r in [header, *body]) for i in range(len(header))]
    lines = ["  ".join(c.rjust(w) for c, w in zip(r, widths, strict=True)) for r in [header, *body]]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def markdown_table(summary: dict[str, Any]) -> str:
    header = [title for title, _ in COLUMNS]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(r) + " |" for r in rows(summary)]
    return "\n".join(lines)


def verdict_lines(summary: dict[str, Any]) -> list[str]:
    out = []
    for case in summary["cases"]:
        for run in case["runs"]:
            if run.get("flags"):
                out.append(
                    f"{case['name']} {run['mode']}: not a measurement of the client "
                    f"({'; '.join(run['flags'])})"
                )
        name, modes = case["name"], [r["mode"] for r in case["runs"]]
        if len(modes) > 1:
            same = "identical" if case["identical"] else "DIFFERENT"
            out.append(f"{name}: results of {', '.join(modes)} are {same}")
        compared = case.get("compared_with")
        differ = case.get("differences", 0)
        if compared:
            outcome = f"DIFFER in {differ} entries from" if differ else "equal"
            out.append(
                f"{name}: {modes[0]} results {outcome} those of {compared} "
                "(entries that ended in error excluded)"
            )
        elif len(modes) == 1:
            out.append(f"{name}: {modes[0]} alone, no other results to compare with")
        for run in case["runs"]:
            note = _verdict_note(run)
            if note and run["mode"] != "sync":
                out.append(f"{name} {run['mode']}: analyzer {run['verdict']}{note}")
        if case.get("baseline"):
            out.append(baseline_line(case))
    return out


def baseline_line(case: dict[str, Any]) -> str:
    """Matching's client CPU per request against the bare transport's, in the same rounds."""
    floor, runs = case["baseline"], {r["mode"]: r for r in case["runs"]}
    samples = floor["samples"]
    decodes = "decoding JSON answers with orjson" if samples[0]["decoded"] else "reading pages"
    several = len(samples) > 1

    def spread(interval: list[float], digits: int) -> str:
        low, high = interval
        return f" [{low:.{digits}f}-{high:.{digits}f}]" if several else ""

    return (
        f"{case['name']}: a bare aiohttp client replaying the async run's requests "
        f"({decodes}, no matching) spent {floor['cpu_per_request_ms']:.3f} ms CPU/req"
        f"{spread(floor['cpu_per_request_ms_ci'], 3)}; async matching "
        f"{runs['async']['cpu_per_request_ms']:.3f} ms, {floor['ratio']:.2f}x"
        f"{spread(floor['ratio_ci'], 2)} the bare client's"
        + (" (median of the rounds' ratios)" if several else "")
    )


def definitions() -> str:
    return (
        "wall s: wall time of the matching run (process start-up excluded). x sync: sync wall "
        "time / this wall time; vs sync: the inverse. efficiency: the ideal bound / wall time, "
        "where the ideal is the largest of total request latency / concurrency, the longest "
        "track's chain of requests (both after the token fetched before the first track), "
        "requests beyond the burst / server rate limit, and the client CPU time over the cores "
        "the mode can keep busy (one for sync and async, up to the machine's for threads; "
        "`bound` says which). latency eff.: the same with the latency bounds "
        "alone. CPU ms/req and ms/track: client CPU time (all threads) per HTTP request sent "
        "and per track; parse %: the share of that CPU time spent parsing answers. "
        "network %: summed network "
        "time / summed query time (the analyzer's input); verdict: the analyzer's "
        "IMPLEMENT / SKIP / EVALUATE for that run alone. Each mode ran `repeat` times, the "
        "modes interleaved round by round: wall s is the median with its 95 % bootstrap "
        "interval [low-high], x sync the median ratio of paired runs with its interval, the "
        "other figures those of the run nearest the median. mock CPU: the mock server's CPU "
        "time as a share of one core during the run; bottleneck check: a run where the mock "
        "used more than 85 % of a core, or the machine more than 90 % of all cores, is "
        "flagged as not a measurement of the client."
    )


def headline(summary: dict[str, Any]) -> str:
    """The scenario's answer in one sentence (the landing page leads with it): the async run
    with the largest speedup over sync, or, without sync, the last case's async run."""
    cases = summary["cases"]
    timed = [
        (run["speedup"], case, run)
        for case in cases
        for run in case["runs"]
        if run["mode"] == "async" and run.get("speedup")
    ]
    if timed:
        speedup, case, fast = max(timed, key=lambda t: t[0])
        interval = fast.get("speedup_ci")
        where = f" ({case['name']})" if len(cases) > 1 else ""
        ci = f", 95 % CI {interval[0]:.1f}-{interval[1]:.1f}x" if _spread(interval) else ""
        return (
            f"{summary['scenario']}: async matched {case['params']['tracks']} tracks "
            f"{speedup:.1f}x faster than sync{where}{ci}; analyzer: {fast['verdict']}"
            f"{_verdict_note(fast)}; bottleneck: {bottleneck(fast)}."
        )
    case = cases[-1]
    run = next((r for r in case["runs"] if r["mode"] == "async"), case["runs"][-1])
    interval = run.get("wall_time_ci")
    ci = f", 95 % CI {interval[0]:.2f}-{interval[1]:.2f} s" if _spread(interval) else ""
    return (
        f"{summary['scenario']}: {run['mode']} matched {case['params']['tracks']} tracks in "
        f"{run['wall_time']:.2f} s ({case['name']}){ci}, {run['throughput_rps']:.1f} "
        f"requests/s; analyzer: {run['verdict']}{_verdict_note(run)}; "
        f"bottleneck: {bottleneck(run)}."
    )


def _code_spans(escaped: str) -> str:
    """Markdown's `code` as <code> in HTML already escaped (the notes are shared with README)."""
    parts = escaped.split("`")
    return "".join(f"<code>{p}</code>" if i % 2 else p for i, p in enumerate(parts))


def _spread(interval: Sequence[float] | None) -> TypeGuard[Sequence[float]]:
    """Whether an interval says anything: not absent, not one value (a single run)."""
    return interval is not None and len(interval) == 2 and interval[0] != interval[1]


# Below this speedup over sync, an IMPLEMENT verdict needs its reason said next to it.
SMALL_GAIN = 1.5


def _verdict_note(run: dict[str, Any]) -> str:
    """Why the analyzer's verdict, from one run's network share, can sit beside a small or
    no measured gain: the bound that held every mode back. Empty when they agree."""
    if run.get("verdict") != "IMPLEMENT":
        return ""
    speedup = run.get("speedup")
    limiting = run.get("limiting")
    if limiting == "rate" and (speedup is None or speedup < SMALL_GAIN):
        return (
            " (this run waited on the network, but the server's rate limit holds every mode "
            "to the same pace, so more requests in flight gain nothing here)"
        )
    if limiting == "cpu" and speedup is not None and speedup < SMALL_GAIN:
        return (
            f" (from this run's network share; measured {speedup:.1f}x sync: at this latency "
            "the client's CPU binds, which more requests in flight cannot lift)"
        )
    return ""


def write_results(summary: dict[str, Any], folder: Path, plots: Sequence[Path]) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    write_bytes_atomic(
        folder / "summary.json", json.dumps(summary, indent=2).encode("utf-8") + b"\n"
    )
    write_bytes_atomic(folder / "README.md", _readme(summary, plots).encode("utf-8"))
    write_bytes_atomic(folder / "index.html", _html(summary, plots).encode("utf-8"))


def _readme(summary: dict[str, Any], plots: Sequence[Path]) -> str:
    m = summary["machine"]
    parts = [
        f"# Scenario `{summary['scenario']}`",
        "",
        summary["description"],
        "",
        f"Measured {summary['generated']} on {m['cpus']} CPUs, {m['memory_gb']} GiB, "
        f"{m['platform']}, Python {m['python']}, with:",
        "",
        f"    {summary['command']}",
        "",
        markdown_table(summary),
        "",
        *[f"- {line}" for line in verdict_lines(summary)],
        "",
        definitions(),
        "",
        "### Predicted from the sync runs (`cratedigger analyze sync.json --predict`)",
        "",
        prediction_line(summary),
        "",
        prediction_table(summary),
        "",
        *[f"![{p.stem}]({p.name})" for p in plots],
        "",
    ]
    return "\n".join(parts)


def _html(summary: dict[str, Any], plots: Sequence[Path]) -> str:
    header = "".join(f"<th>{html.escape(t)}</th>" for t, _ in COLUMNS)
    body = "".join(
        "<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in r) + "</tr>" for r in rows(summary)
    )
    images = "".join(f'<figure><img src="{p.name}" alt="{p.stem}"></figure>' for p in plots)
    notes = "".join(f"<li>{html.escape(line)}</li>" for line in verdict_lines(summary))
    m = summary["machine"]
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><link rel="icon" href="data:,">
<title>cratedigger bench: {html.escape(summary["scenario"])}</title>
<style>body{{font-family:sans-serif;margin:2em;max-width:80em}}
table{{border-collapse:collapse}}td,th{{border:1px solid #ccc;padding:.3em .6em;text-align:right}}
img{{max-width:48em}}code{{background:#eee;padding:.1em .3em}}</style></head><body>
<h1>Scenario {html.escape(summary["scenario"])}</h1>
<p>{html.escape(summary["description"])}</p>
<p>Measured {html.escape(summary["generated"])} on {m["cpus"]} CPUs, {m["memory_gb"]} GiB,
{html.escape(m["platform"])}, with <code>{html.escape(summary["command"])}</code>.</p>
<div style="overflow-x:auto"><table><tr>{header}</tr>{body}</table></div>
<ul>{notes}<li>{html.escape(prediction_line(summary))}</li></ul>
<p>{_code_spans(html.escape(definitions()))}</p>
{images}
<p><a href="../html/index.html">asv dashboard</a> (after <code>make asv</code>) &middot;
<a href="summary.json">summary.json</a> &middot; per-run metrics JSON: <code>metrics/</code>
(written by each run, not committed)</p>
</body></html>
"""


INDEX_ORDER = ("quick", "cpu", "concurrency", "latency", "ratelimit", "faults", "scale")


def _summaries(results_root: Path) -> list[dict[str, Any]]:
    summaries = []
    for path in sorted(results_root.glob("*/summary.json")):
        try:
            summary = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        if "scenario" in summary and "cases" in summary and summary["cases"]:
            summaries.append(summary)
    rank = {name: i for i, name in enumerate(INDEX_ORDER)}
    summaries.sort(key=lambda s: (rank.get(s["scenario"], len(rank)), s["scenario"]))
    return summaries


def write_index(results_root: Path) -> Path:
    """results/README.md and results/index.html: every scenario measured so far."""
    summaries = _summaries(results_root)
    write_landing(results_root, summaries)
    parts = [
        "# Measured results",
        "",
        "Each section below was written by the command shown in it, on the machine it names;",
        "`make bench` reruns the quick scenario and rewrites its section. Column definitions:",
        "",
        definitions(),
        "",
    ]
    for summary in summaries:
        m = summary["machine"]
        parts += [
            f"## `{summary['scenario']}` ([details]({summary['scenario']}/README.md))",
            "",
            f"**{_guarded(headline, summary)}**",
            "",
            summary["description"],
            "",
            f"    {summary['command']}",
            "",
            f"Measured {summary['generated']} on {m['cpus']} CPUs, {m['memory_gb']} GiB, "
            f"{m['platform']}, Python {m['python']}.",
            "",
            markdown_table(summary),
            "",
            *[f"- {line}" for line in verdict_lines(summary)],
            "",
        ]
    path = results_root / "README.md"
    extra = results_root / "README.extra.md"
    if extra.exists():
        parts += [extra.read_text(encoding="utf-8")]
    write_bytes_atomic(path, "\n".join(parts).encode("utf-8"))
    return path


def _guarded(render: Any, summary: dict[str, Any]) -> str:
    """A summary written by an older harness may lack a figure: say so instead of failing."""
    try:
        return str(render(summary))
    except (KeyError, TypeError, IndexError, ZeroDivisionError):
        return f"{summary['scenario']}: measured by an older harness (rerun it for the answer)"


def write_landing(results_root: Path, summaries: Sequence[dict[str, Any]]) -> Path:
    """results/index.html: the answer of every scenario in one sentence, then its plots."""
    answers = "".join(
        f'<li><a href="{html.escape(s["scenario"])}/index.html">'
        f"{html.escape(_guarded(headline, s))}</a></li>"
        for s in summaries
    )
    sections = []
    for summary in summaries:
        name = summary["scenario"]
        images = "".join(
            f'<figure><img src="{html.escape(name)}/{html.escape(p.name)}" '
            f'alt="{html.escape(name)}: {html.escape(p.stem)}"></figure>'
            for p in sorted((results_root / name).glob("*.png"))
        )
        sections.append(
            f'<section id="{html.escape(name)}"><h2>{html.escape(name)}</h2>'
            f"<p>{html.escape(summary['description'])}</p>{images}"
            f'<p><a href="{html.escape(name)}/index.html">the {html.escape(name)} page</a>'
            f' &middot; <a href="{html.escape(name)}/README.md">README</a>'
            f' &middot; <a href="{html.escape(name)}/summary.json">summary.json</a></p>'
            "</section>"
        )
    page = f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><link rel="icon" href="data:,">
<title>cratedigger: is async I/O worth it?</title>
<style>body{{font-family:sans-serif;margin:2em;max-width:80em}}
img{{max-width:46em}}figure{{display:inline-block;margin:.5em}}
li{{margin:.3em 0}}</style></head><body>
<h1>cratedigger: is async I/O worth it?</h1>
<p>Each line is a scenario's answer, measured by <code>cratedigger bench</code> against the
embedded mock Beatport on the machine each page names (medians of interleaved runs, 95 %
bootstrap intervals).</p>
<ul>{answers}</ul>
{"".join(sections)}
<p><a href="README.md">all tables (README.md)</a> &middot;
<a href="html/index.html">asv benchmark history</a> (<code>make asv-history</code>)</p>
</body></html>
"""
    path = results_root / "index.html"
    write_bytes_atomic(path, page.encode("utf-8"))
    return path


def prediction_line(summary: dict[str, Any]) -> str:
    """How well `cratedigger analyze --predict` foresaw this scenario's runs, in one line."""
    found = (summary.get("predictions") or {}).get("summary")
    if not found or not found.get("runs"):
        return "predictions: no run had a sync run to be predicted from"
    return (
        f"predictions from each case's sync run: {found['runs']} runs, median absolute error "
        f"{found['median_abs_error']:.1%}, largest {found['max_abs_error']:.1%} "
        f"({found['worst']}); {found['within_15']} within 15 %"
    )


def prediction_table(summary: dict[str, Any]) -> str:
    """Markdown: each predicted run against the measured one."""
    rows = [r for r in (summary.get("predictions") or {}).get("runs", []) if r.get("predicted")]
    if not rows:
        return ""
    lines = [
        "| case | mode | conc | predicted s | measured s | error | binds (predicted) |",
        "|---|---|---:|---:|---:|---:|---|",
    ]
    for r in rows:
        lines.append(
            f"| {r['case']} | {r['mode']} | {r['concurrency']} | {r['predicted']:.3f} "
            f"| {r['measured']:.3f} | {r['error']:+.1%} | {r['binding']} |"
        )
    return "\n".join(lines)
