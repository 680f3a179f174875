"""The async I/O analysis as text: one run's report, and two runs side by side.

Reads metrics documents as `load_metrics_from_json` returns them; every number shown comes
from the document, and the verdict from `cratedigger.analyzer.analyze`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any, Final

from cratedigger.analyzer import FALLBACK, RULES, Verdict, analyze, number_at, value_at

__all__ = [
    "Comparison",
    "compare_runs",
    "generate_async_io_analysis_report",
    "generate_comparison_report",
]

MIB: Final = 1024 * 1024
RULE_WIDTH: Final = 72


def generate_async_io_analysis_report(metrics: Mapping[str, Any], name: str = "") -> str:
    """The report for one run: session, network by query type, cache, recommendation."""
    verdict = analyze(metrics)
    title = f"Async I/O analysis: {name}" if name else "Async I/O analysis"
    lines = [title, "=" * min(len(title), RULE_WIDTH)]
    lines += _session(metrics)
    lines += _network(metrics)
    lines += _cache(metrics)
    lines += _recommendation(verdict)
    return "\n".join(lines) + "\n"


def _session(m: Mapping[str, Any]) -> list[str]:
    info: Mapping[str, Any] = value_at(m, "session_info")
    sent = int(number_at(m, "session_info.requests_sent"))
    wall = number_at(m, "session_info.wall_time")
    rate = f"{sent / wall:.1f}/s" if wall > 0 else "n/a"
    tracks = (
        f"{info['tracks_done']}/{info['tracks']} tracks"
        f" ({info.get('tracks_resumed', 0)} resumed)"
        + (", interrupted" if info.get("interrupted") else "")
    )
    lines = [
        "",
        "Session",
        f"  mode {info['mode']}, concurrency {info['concurrency']}, source {info['source']}, "
        + tracks,
        f"  wall {wall:.2f} s, CPU {number_at(m, 'session_info.cpu_time'):.2f} s, "
        f"peak RSS {_mib(number_at(m, 'session_info.peak_rss'))}",
        f"  {sent} requests sent ({rate}), {info['rate_limited']} answered 429"
        + (
            f" ({info['rate_limit_wait']:.2f} s paused on Retry-After)"
            if "rate_limit_wait" in info
            else ""
        ),
    ]
    extras = [
        f"{label} {info[key]}"
        for key, label in (
            ("base_url", "server"),
            ("rate_limit", "client rate limit"),
            ("cratedigger_version", "cratedigger"),
            ("python", "Python"),
        )
        if key in info
    ]
    if extras:
        lines.append("  " + ", ".join(extras))
    lines.append(f"  generated {m['generated']}")
    return lines


def _network(m: Mapping[str, Any]) -> list[str]:
    analysis: Mapping[str, Any] = value_at(m, "network_analysis")
    total_network = number_at(m, "network_analysis.total_network_time")
    wall = number_at(m, "session_info.wall_time")
    network = number_at(m, "network_analysis.network_time_percentage")
    in_flight = number_at(m, "network_analysis.in_flight_wall_percentage")
    lines = [
        "",
        "Network",
        f"  network time share   {network:7.2f} %"
        f"  ({analysis.get('basis', 'network time / execution time, summed over queries')})",
        f"  in-flight wall share {in_flight:7.2f} %"
        f"  ({analysis.get('in_flight_basis', 'wall time with a request in flight / wall time')})",
    ]
    if total_network > wall > 0:
        # Concurrent requests overlap: their summed time is not time the run spent waiting.
        lines += [
            f"  requests overlapped: {total_network:.2f} s of summed network time in "
            f"{wall:.2f} s of wall time ({total_network / wall:.1f}x);",
            "  for the share of the run's wall clock spent waiting, read the in-flight share",
        ]
    by_type: Mapping[str, Mapping[str, Any]] = analysis["network_time_by_query_type"]
    lines.append(
        f"  {'query type':<12}{'count':>7}{'network s':>12}{'execution s':>13}{'net %':>9}"
    )
    for kind, row in sorted(by_type.items()):
        lines.append(
            f"  {kind:<12}{row['count']:>7}{row['network_time']:>12.3f}"
            f"{row['execution_time']:>13.3f}{row['percentage']:>9.2f}"
        )
    if not by_type:
        lines.append("  (no queries)")
    return lines


def _cache(m: Mapping[str, Any]) -> list[str]:
    stats: Mapping[str, Any] = value_at(m, "cache_stats")
    state = "enabled" if stats["enabled"] else "disabled (no lookups: the rule reads 0 %)"
    return [
        "",
        "Cache",
        f"  {state}",
        f"  {stats['hits']} hits, {stats['misses']} misses, "
        f"hit rate {number_at(m, 'cache_stats.hit_rate_percentage'):.2f} %",
    ]


def _recommendation(verdict: Verdict) -> list[str]:
    lines = ["", f"Recommendation: {verdict.recommendation}", f"  because {verdict.reason}"]
    lines += [f"  rule: {r.recommendation} if {r.describe()}" for r in RULES]
    lines.append(f"  rule: {FALLBACK} otherwise")
    return lines


@dataclass(frozen=True, slots=True)
class Comparison:
    """Two runs of the same playlist, baseline first (e.g. sync, then async)."""

    baseline_mode: str
    candidate_mode: str
    baseline_wall: float
    candidate_wall: float
    speedup: float | None  # baseline wall / candidate wall; None if the candidate took 0 s
    network_share_change: float  # percentage points, candidate - baseline
    in_flight_share_change: float
    baseline_429: int
    candidate_429: int
    baseline_requests: int
    candidate_requests: int
    baseline_peak_rss: int
    candidate_peak_rss: int
    baseline_verdict: str
    candidate_verdict: str
    warnings: tuple[str, ...]  # why the two runs may not be comparable

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["warnings"] = list(self.warnings)
        return data


# Session figures that must match for a comparison to be fair: (key, what differs).
_SAME: Final = (
    ("tracks", "track counts"),
    ("source", "sources"),
    ("base_url", "servers"),
    ("cache_enabled", "cache settings"),
)


def compare_runs(baseline: Mapping[str, Any], candidate: Mapping[str, Any]) -> Comparison:
    """Speedup, change in network share, 429s and memory of `candidate` against `baseline`."""
    base_wall = number_at(baseline, "session_info.wall_time")
    cand_wall = number_at(candidate, "session_info.wall_time")
    base_info: Mapping[str, Any] = value_at(baseline, "session_info")
    cand_info: Mapping[str, Any] = value_at(candidate, "session_info")
    warnings = [
        f"different {what}: {base_info.get(key)} vs {cand_info.get(key)}"
        for key, what in _SAME
        if base_info.get(key) != cand_info.get(key)
    ]
    for label, info in (("baseline", base_info), ("candidate", cand_info)):
        if info.get("interrupted"):
            warnings.append(f"the {label} run was interrupted")
    return Comparison(
        baseline_mode=str(base_info["mode"]),
        candidate_mode=str(cand_info["mode"]),
        baseline_wall=base_wall,
        candidate_wall=cand_wall,
        speedup=base_wall / cand_wall if cand_wall > 0 else None,
        network_share_change=_change(
            baseline, candidate, "network_analysis.network_time_percentage"
        ),
        in_flight_share_change=_change(
            baseline, candidate, "network_analysis.in_flight_wall_percentage"
        ),
        baseline_429=int(number_at(baseline, "session_info.rate_limited")),
        candidate_429=int(number_at(candidate, "session_info.rate_limited")),
        baseline_requests=int(number_at(baseline, "session_info.requests_sent")),
        candidate_requests=int(number_at(candidate, "session_info.requests_sent")),
        baseline_peak_rss=int(number_at(baseline, "session_info.peak_rss")),
        candidate_peak_rss=int(number_at(candidate, "session_info.peak_rss")),
        baseline_verdict=analyze(baseline).recommendation,
        candidate_verdict=analyze(candidate).recommendation,
        warnings=tuple(warnings),
    )


def generate_comparison_report(
    baseline: Mapping[str, Any],
    candidate: Mapping[str, Any],
    names: tuple[str, str] = ("baseline", "candidate"),
) -> str:
    """Both runs' reports, then how the second compares with the first."""
    c = compare_runs(baseline, candidate)
    base, cand = f"{names[0]} ({c.baseline_mode})", f"{names[1]} ({c.candidate_mode})"
    speedup = (
        f"{c.speedup:.2f}x ({cand} vs {base})"
        if c.speedup is not None
        else "n/a (the second run took no time)"
    )
    lines = [
        "Comparison",
        "=" * len("Comparison"),
        f"  wall time        {c.baseline_wall:.2f} s -> {c.candidate_wall:.2f} s, "
        f"speedup {speedup}",
        f"  network share    {_pp(c.network_share_change)} (summed per-query basis)",
        f"  in-flight share  {_pp(c.in_flight_share_change)} (wall-clock basis)",
        f"  429 answers      {c.baseline_429} -> {c.candidate_429}",
        f"  requests sent    {c.baseline_requests} -> {c.candidate_requests}",
        f"  peak RSS         {_mib(c.baseline_peak_rss)} -> {_mib(c.candidate_peak_rss)} "
        f"({_signed_mib(c.candidate_peak_rss - c.baseline_peak_rss)})",
        f"  verdicts         {c.baseline_verdict} -> {c.candidate_verdict}",
    ]
    lines += [f"  warning: {w}" for w in c.warnings]
    return "\n".join(
        [
            generate_async_io_analysis_report(baseline, names[0]),
            generate_async_io_analysis_report(candidate, names[1]),
            "\n".join(lines) + "\n",
        ]
    )


def _change(before: Mapping[str, Any], after: Mapping[str, Any], dotted: str) -> float:
    return round(number_at(after, dotted) - number_at(before, dotted), 4)


def _pp(change: float) -> str:
    return f"{change:+.2f} percentage points"


def _mib(size: float) -> str:
    return f"{size / MIB:.1f} MiB"


def _signed_mib(delta: int) -> str:
    return f"{delta / MIB:+.1f} MiB"
