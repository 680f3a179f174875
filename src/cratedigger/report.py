"""The async I/O analysis as text: one run's report, and two runs side by side.

Reads metrics documents as `load_metrics_from_json` returns them; every number shown comes
from the document, and the verdict from `cratedigger.analyzer.analyze`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any, Final

from cratedigger.analyzer import FALLBACK, RULES, Verdict, analyze, number_at, value_at

if TYPE_CHECKING:
    from cratedigger.predict import Prediction

__all__ = [
    "Comparison",
    "RunProfile",
    "compare_runs",
    "explain_disagreement",
    "generate_async_io_analysis_report",
    "generate_comparison_report",
    "generate_prediction_report",
    "profile_run",
]

MIB: Final = 1024 * 1024
RULE_WIDTH: Final = 72
# A speedup below this after IMPLEMENT, or at least this after SKIP, contradicts the verdict.
WORTH_IT: Final = 1.5
# What saturated means for one run's resources, as shares of its wall time (profile_run).
SATURATED: Final = 0.75  # CPU busy, one track's chain, or the request slots busy
HELD_BACK: Final = 0.5  # slots and CPU both below this: something paced the requests
NEAR_LIMIT: Final = 0.85  # a request rate at least this share of a known limit is bound by it


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
    baseline_bound: str = ""  # what held each run back (RunProfile.bound)
    candidate_bound: str = ""
    explanation: str | None = None  # why the speedup contradicts a verdict, if it does

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["warnings"] = list(self.warnings)
        return data


# Session figures that must match for a comparison to be fair: (key, what differs).
_SAME: Final = (
    ("tracks", "track counts"),
    ("source", "sources"),
    ("base_url", "servers"),
)
CACHE_GAP: Final = 0.10  # hit rates further apart than this: the cache, not the mode, differs


def compare_runs(
    baseline: Mapping[str, Any], candidate: Mapping[str, Any], rate_limit: float | None = None
) -> Comparison:
    """Speedup, change in network share, 429s and memory of `candidate` against `baseline`,
    what held each run back, and why the speedup contradicts a verdict if it does
    (`rate_limit`: the server's limit in requests/s, if known)."""
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
    hits = (_hit_rate(baseline), _hit_rate(candidate))
    if abs(hits[0] - hits[1]) > CACHE_GAP:
        warnings.append(
            f"the cache answered {hits[0]:.0%} of the baseline's queries and {hits[1]:.0%} of "
            "the candidate's: the speedup is mostly the cache's, not the mode's (compare runs "
            "made with --no-cache)"
        )
    base_profile = profile_run(baseline, rate_limit)
    cand_profile = profile_run(candidate, rate_limit)
    speedup = base_wall / cand_wall if cand_wall > 0 else None
    verdicts = (analyze(baseline), analyze(candidate))
    return Comparison(
        baseline_mode=str(base_info["mode"]),
        candidate_mode=str(cand_info["mode"]),
        baseline_wall=base_wall,
        candidate_wall=cand_wall,
        speedup=speedup,
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
        baseline_verdict=verdicts[0].recommendation,
        candidate_verdict=verdicts[1].recommendation,
        warnings=tuple(warnings),
        baseline_bound=base_profile.bound,
        candidate_bound=cand_profile.bound,
        explanation=explain_disagreement(base_profile, cand_profile, speedup, verdicts),
    )


def generate_comparison_report(
    baseline: Mapping[str, Any],
    candidate: Mapping[str, Any],
    names: tuple[str, str] = ("baseline", "candidate"),
    rate_limit: float | None = None,
) -> str:
    """Both runs' reports, then how the second compares with the first."""
    c = compare_runs(baseline, candidate, rate_limit)
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
        f"  held back by     {c.baseline_bound} -> {c.candidate_bound}",
    ]
    if c.explanation:
        lines += ["", *_wrap(c.explanation, "  ")]
    lines += [f"  warning: {w}" for w in c.warnings]
    return "\n".join(
        [
            generate_async_io_analysis_report(baseline, names[0]),
            generate_async_io_analysis_report(candidate, names[1]),
            "\n".join(lines) + "\n",
        ]
    )


def _hit_rate(metrics: Mapping[str, Any]) -> float:
    """The share of a run's queries the response cache answered (0 without a cache)."""
    queries = metrics.get("query_metrics") or []
    if not queries:
        return 0.0
    return sum(1 for q in queries if q.get("cache_hit")) / len(queries)


def _change(before: Mapping[str, Any], after: Mapping[str, Any], dotted: str) -> float:
    return round(number_at(after, dotted) - number_at(before, dotted), 4)


def _pp(change: float) -> str:
    return f"{change:+.2f} percentage points"


def _mib(size: float) -> str:
    return f"{size / MIB:.1f} MiB"


def _signed_mib(delta: int) -> str:
    return f"{delta / MIB:+.1f} MiB"


# --- what held a run back, and why a speedup contradicts a verdict -------------------------


@dataclass(frozen=True, slots=True)
class RunProfile:
    """Where one run's wall time went, from its own metrics (any mode)."""

    mode: str
    concurrency: int
    wall: float
    requests: int  # HTTP requests sent
    queries: int  # requests the flow asked for, cache hits included
    rate: float  # requests sent per second of wall time
    cpu_time: float
    cpu_share: float  # client CPU time / wall time (one interpreter: at most about 1)
    slot_share: float  # summed network time / (wall time x concurrency): request slots busy
    chain: float  # the longest track's requests, their spans joined, seconds
    chain_track: int | None
    rate_limited: int  # 429 answers
    paused: float  # seconds the client was paused by Retry-After
    client_rate: str  # the run's --rate-limit setting
    rate_limit: float | None  # the server's limit, if known (--rate-limit of analyze)
    cache_hit_rate: float
    bound: str  # rate | cpu | chain | latency | paced | unclear

    @property
    def chain_share(self) -> float:
        return self.chain / self.wall if self.wall > 0 else 0.0

    @property
    def cpu_per_query(self) -> float:
        """Client CPU per request the flow asked for (sent or answered by the cache)."""
        return self.cpu_time / self.queries if self.queries else 0.0


def profile_run(metrics: Mapping[str, Any], rate_limit: float | None = None) -> RunProfile:
    """What held the run back, read from its figures.

    In order: `rate` if it ran at NEAR_LIMIT of a known limit, or met 429s; `cpu` if the
    client's CPU was busy SATURATED of the wall time; `chain` if one track's requests took
    that share; `latency` if its request slots were that busy; `paced` if slots and CPU were
    both under HELD_BACK (requests waited for something: a client rate limit, most often);
    else `unclear` (the server or the machine).
    """
    info: Mapping[str, Any] = value_at(metrics, "session_info")
    wall = number_at(metrics, "session_info.wall_time")
    cpu = number_at(metrics, "session_info.cpu_time")
    sent = int(number_at(metrics, "session_info.requests_sent"))
    concurrency = max(1, int(number_at(metrics, "session_info.concurrency")))
    queries: list[Mapping[str, Any]] = list(value_at(metrics, "query_metrics"))
    network = sum(float(q["network_time"]) for q in queries)
    spans: dict[int, list[tuple[float, float]]] = {}
    for q in queries:
        if q.get("track_index") is not None and q["attempts"]:
            span = (float(q["start"]), float(q["start"]) + float(q["network_time"]))
            spans.setdefault(int(q["track_index"]), []).append(span)
    chains = {track: _union(s) for track, s in spans.items()}
    longest = max(chains, key=lambda t: chains[t], default=None)
    rate = sent / wall if wall > 0 else 0.0
    cpu_share = cpu / wall if wall > 0 else 0.0
    slot_share = network / (wall * concurrency) if wall > 0 else 0.0
    chain = chains[longest] if longest is not None else 0.0
    limited = int(info.get("rate_limited", 0))
    paused = float(info.get("rate_limit_wait", 0.0))
    if (rate_limit and rate >= NEAR_LIMIT * rate_limit) or limited:
        bound = "rate"
    elif cpu_share >= SATURATED:
        bound = "cpu"
    elif wall > 0 and chain / wall >= SATURATED:
        bound = "chain"
    elif slot_share >= SATURATED:
        bound = "latency"
    elif slot_share < HELD_BACK and cpu_share < HELD_BACK:
        bound = "paced"
    else:
        bound = "unclear"
    return RunProfile(
        mode=str(info["mode"]),
        concurrency=concurrency,
        wall=wall,
        requests=sent,
        queries=len(queries),
        rate=rate,
        cpu_time=cpu,
        cpu_share=cpu_share,
        slot_share=slot_share,
        chain=chain,
        chain_track=longest,
        rate_limited=limited,
        paused=paused,
        client_rate=str(info.get("rate_limit", "")),
        rate_limit=rate_limit,
        cache_hit_rate=number_at(metrics, "cache_stats.hit_rate_percentage"),
        bound=bound,
    )


def _union(spans: list[tuple[float, float]]) -> float:
    total, end = 0.0, float("-inf")
    for a, b in sorted(spans):
        if a > end:
            total += b - a
            end = b
        elif b > end:
            total += b - end
            end = b
    return total


def describe_bound(p: RunProfile) -> str:
    """What held a run back, in words, with its figures."""
    slots = f"{p.concurrency} request slot{'s' if p.concurrency > 1 else ''}"
    if p.bound == "rate":
        limit = f" of {p.rate_limit:g}/s" if p.rate_limit else ""
        told = (
            f"; the server answered 429 {p.rate_limited} times"
            + (f" and paused it {p.paused:.2f} s" if p.paused else "")
            if p.rate_limited
            else ""
        )
        return f"the server's rate limit ({p.rate:.1f} req/s{limit}{told})"
    if p.bound == "cpu":
        return (
            f"the client's CPU ({p.cpu_time:.2f} s of CPU in {p.wall:.2f} s, "
            f"{_share(p.cpu_share)}; {1000 * p.cpu_per_query:.1f} ms per query)"
        )
    if p.bound == "chain":
        return (
            f"one track's chain of requests (track {p.chain_track}: {p.chain:.2f} s of "
            f"{p.wall:.2f} s, one batch after another)"
        )
    if p.bound == "latency":
        return f"network latency ({slots} busy {_share(p.slot_share)} of the time)"
    if p.bound == "paced":
        setting = (
            "client rate limit auto, which paces at a limit the server announces"
            if p.client_rate == "auto"
            else f"client rate limit {p.client_rate}"
        )
        return (
            f"a pace ({p.rate:.1f} req/s with its {slots} busy {_share(p.slot_share)} and its "
            f"CPU {_share(p.cpu_share)} of the time: requests waited for their turn, not for the "
            f"network or the CPU; {setting})"
        )
    return (
        f"nothing in the client ({slots} busy {_share(p.slot_share)}, CPU {_share(p.cpu_share)}, "
        f"the longest track {_share(p.chain_share)} of the wall time): the server or the "
        "machine's other work set the pace"
    )


def explain_disagreement(
    base: RunProfile,
    cand: RunProfile,
    speedup: float | None,
    verdicts: tuple[Verdict, Verdict],
) -> str | None:
    """Plain words for a measured speedup that contradicts a verdict, else None.

    IMPLEMENT (of either run) with a speedup under WORTH_IT, or SKIP with one at least
    WORTH_IT, is a contradiction; the explanation says what held each run back.
    """
    if speedup is None:
        return None
    said = {v.recommendation for v in verdicts}
    faster = f"{cand.mode} was {speedup:.2f}x as fast as {base.mode}"
    if "IMPLEMENT" in said and speedup < WORTH_IT:
        head = f"{faster}, though the analyzer says IMPLEMENT: "
        if cand.bound in ("rate", "paced"):
            both = base.bound in ("rate", "paced") or (
                cand.rate_limit is not None and base.rate >= NEAR_LIMIT * cand.rate_limit
            )
            who = "both runs were" if both else f"the {cand.mode} run was"
            floor = cand.requests / cand.rate if cand.rate > 0 else 0.0
            own = cand.bound == "paced" and cand.client_rate not in ("auto", "off", "")
            passing = (
                f"its own --rate-limit {cand.client_rate}: raise it if the server allows more"
                if own
                else "which no client can pass"
            )
            return (
                f"{head}{who} bound by {describe_bound(cand)}, {passing}. At "
                f"{cand.rate:.1f} req/s, {cand.requests} requests take {floor:.1f} s whatever "
                f"the mode. The verdict reads the network share of each query's time "
                f"({verdicts[0].percentage:.1f} %), which a rate limit leaves high."
            )
        if cand.bound == "cpu":
            return (
                f"{head}the {cand.mode} run was bound by {describe_bound(cand)}: overlapping "
                "waits cannot make a run faster than its CPU work; fewer requests (the cache) "
                "or cheaper parsing can."
            )
        if cand.bound == "chain":
            return (
                f"{head}the {cand.mode} run was bound by {describe_bound(cand)}: concurrency "
                "does not shorten a chain."
            )
        if cand.bound == "latency" and base.concurrency > 1:
            return (
                f"{head}both runs overlapped their requests ({base.mode} at concurrency "
                f"{base.concurrency}, {cand.mode} at {cand.concurrency}) and {cand.mode} was "
                f"bound by {describe_bound(cand)}; the verdict is about leaving "
                f"one-request-at-a-time, which {base.mode} had already left."
            )
        if cand.bound == "latency":
            return (
                f"{head}the {cand.mode} run was bound by {describe_bound(cand)}: with "
                f"{cand.concurrency} requests in flight it cannot be much more than "
                f"{cand.concurrency}x as fast; raise --concurrency."
            )
        return f"{head}the {cand.mode} run was bound by {describe_bound(cand)}."
    if "SKIP" in said and speedup >= WORTH_IT:
        skip = next(v for v in verdicts if v.recommendation == "SKIP")
        gain = ""
        if base.bound == cand.bound == "cpu" and cand.cpu_per_query > 0:
            gain = (
                f" The gain is cheaper client CPU per query "
                f"({1000 * base.cpu_per_query:.1f} -> {1000 * cand.cpu_per_query:.1f} ms),"
                " not overlapped waiting."
            )
        return (
            f"{faster}, though the analyzer says SKIP ({skip.reason}): the verdict reads the "
            f"share of each query's time spent on the network and the cache hit rate, not "
            f"what held the run back. {base.mode} was bound by {describe_bound(base)}; "
            f"{cand.mode} by {describe_bound(cand)}.{gain}"
        )
    return None


def _wrap(text: str, indent: str, width: int = RULE_WIDTH + 8) -> list[str]:
    lines: list[str] = []
    current = indent
    for word in text.split():
        if len(current) + len(word) + 1 > width and current.strip():
            lines.append(current.rstrip())
            current = indent
        current += word + " "
    if current.strip():
        lines.append(current.rstrip())
    return lines


# --- the prediction ------------------------------------------------------------------------


def generate_prediction_report(
    predictions: list[Prediction], measured: Mapping[str, Any] | None = None
) -> str:
    """The predicted wall times of a sync run in other modes, their bounds, and what binds.

    With `measured` (a run of one of the predicted modes), its wall time and the error."""
    if not predictions:
        return ""
    first = predictions[0]
    title = "Prediction (from this sync run)"
    lines = [title, "=" * len(title)]
    lines += _wrap(
        f"{first.tracks} tracks, {first.requests} requests ({first.attempts} sent) in "
        f"{first.sync_wall:.2f} s; their recorded waits ({first.waits:.2f} s summed) and "
        "batches replayed under each driver, the client CPU on one interpreter"
        + (
            f", paced at {first.pace:.1f} req/s"
            + (
                f" ({_share(first.pace / first.rate_limit)} of the server's {first.rate_limit:g}/s,"
                " as --rate-limit auto paces)"
                if first.rate_limit
                else ""
            )
            if first.pace
            else "; no rate limit (the export does not record one a server announced: "
            "give it with --rate-limit R/s)"
        )
        + ".",
        "  ",
    )
    lines.append(
        f"  {'mode':<8}{'conc':>5}{'wall s':>9}{'speedup':>9}  {'binds':<8}"
        f"{'latency':>9}{'chain':>8}{'rate':>8}{'cpu':>8}"
    )
    for p in predictions:
        b = p.bounds
        rate = f"{b.rate:8.2f}" if p.pace else f"{'-':>8}"
        speed = f"{p.speedup:.1f}x" if p.speedup is not None else "-"
        lines.append(
            f"  {p.mode:<8}{p.concurrency:>5}{p.wall_time:>9.2f}{speed:>9}  {p.binding:<8}"
            f"{b.latency:>9.2f}{b.chain:>8.2f}{rate}{b.cpu:>8.2f}"
        )
    lines.append(
        "  bounds (s): latency = summed waits / concurrency; chain = the longest track, batch "
    )
    lines.append(
        "  after batch; rate = requests / the paced rate; cpu = the client's CPU work, predicted"
    )
    for p in predictions:
        lines += _wrap(f"{p.mode}: {_binding_words(p)}", "  ")
    if measured is not None:
        wall = number_at(measured, "session_info.wall_time")
        mode = str(value_at(measured, "session_info.mode"))
        match = next((p for p in predictions if p.mode == mode), None)
        if match is not None and wall > 0:
            error = (match.wall_time - wall) / wall
            lines.append(
                f"  measured: {mode} {wall:.2f} s against {match.wall_time:.2f} s predicted "
                f"({error:+.0%})"
            )
    return "\n".join(lines) + "\n"


def _binding_words(p: Prediction) -> str:
    b = p.bounds
    if p.binding == "rate":
        return (
            f"bound by the rate limit: {p.attempts} requests at {p.pace:.1f} req/s take "
            f"{b.rate:.2f} s whatever the concurrency."
        )
    if p.binding == "cpu":
        return (
            f"bound by the client's CPU: {p.requests} requests x "
            f"{1000 * p.cpu_per_request:.2f} ms on one interpreter; more concurrency will "
            "not help, fewer requests (the cache) would."
        )
    if p.binding == "chain":
        batches = f"{p.chain_batches} batch{'es' if p.chain_batches != 1 else ''}"
        requests = f"{p.chain_requests} request{'s' if p.chain_requests != 1 else ''}"
        retries = (
            f", {p.chain_attempts} attempts with the waits between them"
            if p.chain_attempts > p.chain_requests
            else ""
        )
        return (
            f"bound by one track's chain: track {p.chain_track} takes {b.chain:.2f} s "
            f"({batches} one after another, {requests}{retries}); more concurrency will not "
            "help."
        )
    return (
        f"bound by latency: {p.waits:.2f} s of waits over {p.concurrency} request slots; "
        f"more concurrency helps until the CPU ({b.cpu:.2f} s) or the longest chain "
        f"({b.chain:.2f} s) binds."
    )


def _share(fraction: float) -> str:
    return f"{100 * fraction:.0f} %"
