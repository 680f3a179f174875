"""The throughput benchmark's statistics and report: medians, ratios, README and JSON."""

from __future__ import annotations

import dataclasses
import os
import platform
import statistics
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

import orjson
import psutil

from bench.throughput.workload import MIXES

if TYPE_CHECKING:
    from bench.mock_throughput import Options

LATENCY_TOLERANCE: Final = 0.10


@dataclass(frozen=True)
class Target:
    """Issue 17's targets for one mix: the mock's req/s over the bare handler's, at least
    (None: judged by CPU alone); its CPU per answer, at most; and that CPU over the bare
    handler's, sending a body of the same size, at most (None: no such bound)."""

    rps_ratio: float | None
    cpu_us: float
    cpu_over_bare: float | None


TARGETS: Final = {
    "api_search_distinct": Target(None, 500.0, 2.2),
    "api_search_repeated": Target(0.70, 250.0, 1.2),
    "api_track": Target(0.70, 200.0, None),
    "web_search_distinct": Target(None, 800.0, 2.2),  # a first-time search, and a page
    "web_search_repeated": Target(0.65, 800.0, 1.2),
    "web_track": Target(0.65, 800.0, None),
}


def machine_info() -> dict[str, Any]:
    """What ran the benchmark: platform, CPUs and load, Python and aiohttp versions."""
    import aiohttp

    return {
        "platform": platform.platform(),
        "processor": platform.processor() or platform.machine(),
        "python": platform.python_version(),
        "aiohttp": aiohttp.__version__,
        "cpu_logical": psutil.cpu_count(logical=True),
        "cpu_physical": psutil.cpu_count(logical=False),
        "load_average_at_start": [round(x, 2) for x in os.getloadavg()],
    }


def _median(rows: Sequence[dict[str, Any]], key: str) -> float:
    return round(statistics.median(r[key] for r in rows), 3) if rows else 0.0


def summarise(
    options: Options,
    command: str,
    machine: dict[str, Any],
    throughput: dict[str, Any],
    latency: dict[str, Any] | None,
) -> dict[str, Any]:
    """Medians per mix, the mock/bare ratios and the pass/fail of both checks."""
    mixes: dict[str, Any] = {}
    for mix in (m for m in MIXES if m.name in options.mixes):
        rows = [r for r in throughput["rows"] if r["mix"] == mix.name]
        mock = sorted((r for r in rows if r["server"] == "mock"), key=lambda r: r["round"])
        bare = sorted((r for r in rows if r["server"] == "bare"), key=lambda r: r["round"])
        mock_rps, bare_rps = _median(mock, "rps"), _median(bare, "rps")
        # Each round's pair ran back to back, so its ratio sees the same machine load.
        pairs = [m["rps"] / b["rps"] for m, b in zip(mock, bare, strict=True) if b["rps"]]
        ratio = statistics.median(pairs) if pairs else 0.0
        mock_cpu = _median(mock, "server_cpu_us_per_request")
        bare_cpu = _median(bare, "server_cpu_us_per_request")
        over_bare = round(mock_cpu / bare_cpu, 3) if bare_cpu else 0.0
        target = TARGETS[mix.name]
        checks = {"cpu_us": mock_cpu <= target.cpu_us}
        if target.rps_ratio is not None:
            checks["rps_ratio"] = ratio >= target.rps_ratio
        if target.cpu_over_bare is not None:
            checks["cpu_over_bare"] = over_bare <= target.cpu_over_bare
        mixes[mix.name] = {
            "mock_rps": mock_rps,
            "bare_rps": bare_rps,
            "ratio": round(ratio, 3),
            "round_ratios": [round(r, 3) for r in pairs],
            "ratio_of_medians": round(mock_rps / bare_rps, 3) if bare_rps else 0.0,
            "mock_cpu_us_per_request": mock_cpu,
            "bare_cpu_us_per_request": bare_cpu,
            "cpu_ratio": round(bare_cpu / mock_cpu, 3) if mock_cpu else 0.0,
            "cpu_over_bare": over_bare,
            "mock_server_cpu_share": _median(mock, "server_cpu_share"),
            "bare_server_cpu_share": _median(bare, "server_cpu_share"),
            "client_cpu_share": _median(rows, "client_cpu_share"),
            "mock_body_bytes": throughput["mock_body_bytes"][mix.name],
            "bare_body_bytes": throughput["bare_bodies"][mix.route][0],
            "errors": sum(r["errors"] for r in rows),
            "target": dataclasses.asdict(target),
            "checks": checks,
            "passed": all(checks.values()),
        }
    passed = all(m["passed"] and not m["errors"] for m in mixes.values())
    if latency is not None:
        passed = passed and latency["passed"]
    return {
        "version": 1,
        "generated": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "command": command,
        "machine": machine,
        "options": {**dataclasses.asdict(options), "mixes": list(options.mixes)},
        "targets": {"latency_tolerance": LATENCY_TOLERANCE},
        "throughput": mixes,
        "mock_rss_mb": throughput.get("mock_rss_mb"),
        "latency": latency,
        "passed": passed,
        "rows": throughput["rows"],
    }


def _readme(summary: dict[str, Any], baseline: dict[str, Any] | None) -> str:
    before = (baseline or {}).get("throughput", {})
    lines = [
        "# Mock server throughput against a bare aiohttp handler",
        "",
        f"Generated {summary['generated']} by `{summary['command']}` (figures: summary.json).",
        "",
        "| mix | mock req/s | bare req/s | mock/bare | rounds | target | before "
        "| CPU µs/answer mock | target | bare | mock/bare CPU | target | before | body bytes "
        "| met |",
        "|---|---:|---:|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    for name, m in summary["throughput"].items():
        old = before.get(name, {})
        rounds = m["round_ratios"]
        spread = f"{min(rounds):.0%}-{max(rounds):.0%}" if rounds else ""
        target = m.get("target") or {}
        old_over = old.get("cpu_over_bare") or (
            1 / old["cpu_ratio"] if old.get("cpu_ratio") else None
        )
        lines.append(
            f"| {name} | {m['mock_rps']:.0f} | {m['bare_rps']:.0f} | **{m['ratio']:.0%}** | "
            f"{spread} | {_at_least(target.get('rps_ratio'))} | {_percent(old.get('ratio'))} | "
            f"**{m['mock_cpu_us_per_request']:.0f}** | {_at_most(target.get('cpu_us'), '.0f')} | "
            f"{m['bare_cpu_us_per_request']:.0f} | **{m['cpu_over_bare']:.2f}x** | "
            f"{_at_most(target.get('cpu_over_bare'), '.1f', 'x')} | {_times(old_over)} | "
            f"{m['mock_body_bytes']} | {'yes' if m['passed'] else 'no'} |"
        )
    rss = summary.get("mock_rss_mb")
    lines += [
        "",
        "mock/bare: the median over rounds of the mock's req/s over the bare handler's in the "
        "same round; CPU µs/answer: the server process's CPU time (user + system) over its "
        "answers, median over rounds; mock/bare CPU: the mock's CPU an answer over the bare "
        "handler's, sending a body of the same size. Targets: issue 17 (a blank: not judged "
        "on that figure). Before: --baseline's figures.",
    ]
    if rss:
        lines += [
            "",
            f"The mock's resident memory (RSS): {rss['started']:.0f} MB once started, "
            f"{rss['end']:.0f} MB after the last round.",
        ]
    latency = summary["latency"]
    if latency is not None:
        old_runs = ((baseline or {}).get("latency") or {}).get("runs", {})
        lines += [
            "",
            f"## Latency under `{latency['latency_spec']}` ({latency['mix']})",
            "",
            "| run | connections | think ms | offered req/s | req/s | median ms | p90 ms | "
            "p99 ms | server CPU | within 10 % | before: median ms |",
            "|---|---:|---:|---:|---:|---:|---:|---:|---:|---|---:|",
        ]
        for name, r in latency["runs"].items():
            old = old_runs.get(name, {}).get("median_ms", "")
            ok = "yes" if r["within_tolerance"] else "no"
            lines.append(
                f"| {name} | {r['connections']} | {r['think_ms']:.0f} | {r['offered_rps']:.0f} | "
                f"{r['rps']:.0f} | {r['median_ms']} | {r['p90_ms']} | {r['p99_ms']} | "
                f"{r['server_cpu_share']:.0%} | {ok} | {old} |"
            )
    m = summary["machine"]
    lines += [
        "",
        "## Machine",
        "",
        f"{m['platform']}, {m['processor']}, {m['cpu_logical']} logical CPUs "
        f"({m['cpu_physical']} physical), load average at start {m['load_average_at_start']}; "
        f"Python {m['python']}, aiohttp {m['aiohttp']}.",
        "",
        "## Method",
        "",
        "Mock and bare server run in separate processes, neither with an access log: the mock "
        "as `python -m mockserver` serves it (its own dispatcher on aiohttp's low-level "
        "server), the bare handler "
        + (
            "on aiohttp's low-level server too (--bare lowlevel); "
            if summary["options"].get("lowlevel_bare")
            else "as a route of an aiohttp Application (AppRunner); "
        )
        + "this process generates the load with raw asyncio protocols on keep-alive connections "
        f"({summary['options']['connections']} per run). Each mix runs "
        f"{summary['options']['rounds']} rounds of {summary['options']['duration']} s "
        "(after a short warm-up), alternating which server goes first. "
        "The bare app answers each route with a fixed body of the median size the mock "
        "answered. CPU µs/req is the server process's CPU time (psutil) over its answers."
        + (
            " Both servers ran with --tuned: glibc told to keep freed memory "
            "(MALLOC_TRIM_THRESHOLD_, MALLOC_MMAP_THRESHOLD_)."
            if summary["options"].get("tuned")
            else ""
        ),
        "",
        f"Overall: {'PASS' if summary['passed'] else 'FAIL'}.",
        "",
    ]
    return "\n".join(lines)


def _percent(value: float | None) -> str:
    return "" if value is None else f"{value:.0%}"


def _at_least(value: float | None) -> str:
    return "" if value is None else f">= {value:.0%}"


def _at_most(value: float | None, spec: str, unit: str = "") -> str:
    return "" if value is None else f"<= {value:{spec}}{unit}"


def _times(value: float | None) -> str:
    return "" if value is None else f"{value:.2f}x"


def write_report(out: Path, summary: dict[str, Any], baseline: dict[str, Any] | None) -> None:
    """summary.json and README.md into `out`."""
    out.mkdir(parents=True, exist_ok=True)
    (out / "summary.json").write_bytes(orjson.dumps(summary, option=orjson.OPT_INDENT_2) + b"\n")
    readme = _readme(summary, baseline)
    if (out / "NOTES.md").is_file():
        readme += "\nAnalysis, and what was changed to get these figures: NOTES.md.\n"
    (out / "README.md").write_text(readme, encoding="utf-8")
