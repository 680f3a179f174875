"""Performance metrics of a run, exported as JSON (schema version 1, see metrics.schema.json).

Two network shares are reported, because they answer different questions:

* `network_time_percentage`: summed per-query network time over summed per-query execution
  time (the seed project's formula). Under concurrency the sums exceed the wall time; the
  ratio still says how much of each query's life was spent waiting on the network.
* `in_flight_wall_percentage`: the share of the run's wall time during which at least one
  request was on the wire (the union of the request intervals over the wall time).
"""

from __future__ import annotations

import platform
import statistics
import sys
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

import orjson

from cratedigger.metrics import MetricsCollector, RequestRecord
from cratedigger.options import MatchOptions
from cratedigger.output import write_bytes_atomic
from cratedigger.resources import Usage
from cratedigger.run import RunSummary

SCHEMA_VERSION = 1
NETWORK_BASIS = "sum of per-query network time / sum of per-query execution time"
IN_FLIGHT_BASIS = "wall time with at least one request in flight / run wall time"


@dataclass(frozen=True)
class RunMetrics:
    """Everything measured in one run: what the export and the analyzer read."""

    summary: RunSummary
    collector: MetricsCollector
    options: MatchOptions


def union_length(intervals: Iterable[tuple[float, float]]) -> float:
    """Total length covered by the intervals (overlaps counted once)."""
    total = 0.0
    current_start = current_end = None
    for start, end in sorted(intervals):
        if current_end is None or start > current_end:
            if current_end is not None and current_start is not None:
                total += current_end - current_start
            current_start, current_end = start, end
        elif end > current_end:
            current_end = end
    if current_end is not None and current_start is not None:
        total += current_end - current_start
    return total


def _percentile(values: Sequence[float], q: float) -> float:
    if not values:
        return 0.0
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[int(q) - 1]


def _share(part: float, whole: float) -> float:
    return round(part / whole * 100.0, 4) if whole > 0 else 0.0


def _by_type(requests: Sequence[RequestRecord]) -> dict[str, dict[str, float]]:
    groups: dict[str, list[RequestRecord]] = defaultdict(list)
    for record in requests:
        groups[record.kind].append(record)
    out = {}
    for kind, records in sorted(groups.items()):
        network = sum(r.network_time for r in records)
        execution = sum(r.end - r.start for r in records)
        out[kind] = {
            "count": len(records),
            "network_time": round(network, 6),
            "execution_time": round(execution, 6),
            "percentage": _share(network, execution),
        }
    return out


def build_metrics(metrics: RunMetrics) -> dict[str, Any]:
    """The schema-1 document for one run."""
    summary, collector, options = metrics.summary, metrics.collector, metrics.options
    requests = sorted(collector.requests, key=lambda r: (r.start, r.end))
    tracks = sorted(collector.tracks, key=lambda t: t.index)
    origin = min((r.start for r in requests), default=0.0)
    if tracks:
        origin = min(origin, min(t.start for t in tracks)) if requests else tracks[0].start
    execution = [r.end - r.start for r in requests]
    total_execution = sum(execution)
    total_network = sum(r.network_time for r in requests)
    wall = summary.usage.wall_time
    in_flight = union_length((r.start, r.start + r.network_time) for r in requests if r.attempts)
    lookups = summary.cache_hits + summary.cache_misses
    sent = sum(r.attempts for r in requests)
    statuses = Counter(str(r.status) for r in requests)
    return {
        "version": SCHEMA_VERSION,
        "generated": datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z"),
        "session_info": {
            "mode": summary.mode,
            "source": summary.source,
            "concurrency": summary.concurrency,
            "rate_limit": str(options.rate_limit),
            "timeout": options.timeout,
            "retries": options.retries,
            "base_url": options.url,
            "cache_enabled": options.cache_dir is not None,
            "tracks": summary.total,
            "tracks_done": summary.done,
            "tracks_resumed": summary.resumed,
            "interrupted": summary.interrupted,
            "wall_time": round(wall, 6),
            "cpu_time": round(summary.usage.cpu_time, 6),
            "peak_rss": summary.usage.peak_rss,
            "start_rss": summary.usage.start_rss,
            "requests_sent": sent,
            "rate_limited": summary.rate_limited,
            "rate_limit_wait": round(summary.rate_limit_wait, 6),
            **_machine(summary.usage),
            "cratedigger_version": _version(),
            "python": sys.version.split()[0],
            "platform": platform.platform(),
        },
        "cache_stats": {
            "enabled": options.cache_dir is not None,
            "hits": summary.cache_hits,
            "misses": summary.cache_misses,
            "hit_rate": round(summary.cache_hits / lookups, 6) if lookups else 0.0,
            "hit_rate_percentage": _share(summary.cache_hits, lookups),
        },
        "query_metrics": [
            {
                "query": r.query,
                "query_type": r.kind,
                "track_index": r.track_index,
                "start": round(r.start - origin, 6),
                "end": round(r.end - origin, 6),
                "execution_time": round(r.end - r.start, 6),
                "network_time": round(r.network_time, 6),
                "parse_time": round(r.parse_time, 6),
                "cache_hit": r.cache_hit,
                "status": r.status,
                "attempts": r.attempts,
                "bytes": r.bytes,
                "rate_limited": r.rate_limited,
            }
            for r in requests
        ],
        "track_metrics": [
            {
                "index": t.index,
                "rekordbox_id": t.rekordbox_id,
                "total_time": round(t.end - t.start, 6),
                "queries": t.queries,
                "requests": t.requests,
                "candidates": t.candidates,
                "early_exit": t.early_exit,
                "status": t.status,
                "beatport_id": t.beatport_id,
                "score": t.score,
            }
            for t in tracks
        ],
        "aggregate_stats": {
            "queries": len(requests),
            "requests_sent": sent,
            "total_execution_time": round(total_execution, 6),
            "total_network_time": round(total_network, 6),
            "total_parse_time": round(sum(r.parse_time for r in requests), 6),
            "mean_query_time": round(statistics.fmean(execution), 6) if execution else 0.0,
            "median_query_time": round(_percentile(execution, 50), 6),
            "p90_query_time": round(_percentile(execution, 90), 6),
            "p99_query_time": round(_percentile(execution, 99), 6),
            "requests_per_second": round(sent / wall, 4) if wall > 0 else 0.0,
            "tracks_per_second": round(summary.done / wall, 4) if wall > 0 else 0.0,
            "cpu_time_per_request": round(summary.usage.cpu_time / sent, 6) if sent else 0.0,
            "statuses": dict(sorted(statuses.items())),
            "matched": summary.matched,
            "unmatched": summary.unmatched,
            "errors": summary.errors,
        },
        "network_analysis": {
            "network_time_percentage": _share(total_network, total_execution),
            "basis": NETWORK_BASIS,
            "total_network_time": round(total_network, 6),
            "total_execution_time": round(total_execution, 6),
            "network_time_by_query_type": _by_type(requests),
            "in_flight_wall_percentage": _share(in_flight, wall),
            "in_flight_basis": IN_FLIGHT_BASIS,
            "in_flight_time": round(in_flight, 6),
            "wall_time": round(wall, 6),
        },
    }


def export_performance_metrics_json(
    stats: RunMetrics, base_filename: str = "performance_metrics", output_dir: Path | str = "."
) -> Path:
    """Write the run's metrics to `output_dir/base_filename[.json]`, atomically; the path."""
    name = base_filename if base_filename.endswith(".json") else f"{base_filename}.json"
    path = Path(output_dir) / name
    path.parent.mkdir(parents=True, exist_ok=True)
    document = build_metrics(stats)
    write_bytes_atomic(path, orjson.dumps(document, option=orjson.OPT_INDENT_2) + b"\n")
    return path


def export_run_metrics(
    summary: RunSummary, collector: MetricsCollector, options: MatchOptions, path: Path
) -> Path:
    """`cratedigger match --metrics FILE`: written to exactly that path (the CLI checked it
    before the run, so no other name may be written instead)."""
    document = build_metrics(RunMetrics(summary, collector, options))
    write_bytes_atomic(path, orjson.dumps(document, option=orjson.OPT_INDENT_2) + b"\n")
    return path


def _machine(usage: Usage) -> dict[str, Any]:
    """How busy the machine's cores were during the run (the predictor's share of a core)."""
    if usage.machine_busy is None or not usage.cpu_count:
        return {}
    return {"machine_busy": round(usage.machine_busy, 4), "cpu_count": usage.cpu_count}


def _version() -> str:
    try:
        return version("cratedigger")
    except PackageNotFoundError:
        return "unknown"
