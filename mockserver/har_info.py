"""`python -m mockserver har-info FILE.har`: what a recording holds, before replaying it.

Entries by route (the mock's route classes: search, track, token...) and status, with the
recorded latency percentiles (total `time`, and `timings.wait` and `timings.receive`) and body
sizes, so a user can see what a capture covers and how slow the upstream was.
"""

from __future__ import annotations

import json
import math
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Final
from urllib.parse import urlsplit

from mockserver.errors import ReplayError
from mockserver.route_classes import route_of

__all__ = [
    "EntryInfo",
    "HarSummary",
    "RouteSummary",
    "format_summary",
    "har_files",
    "load_summary",
    "percentile",
    "read_entries",
    "summarize",
    "summary_json",
]

PERCENTILES: Final = (50.0, 90.0, 99.0)
ALL: Final = "all"


@dataclass(frozen=True, slots=True)
class EntryInfo:
    """The facts of one HAR entry that the summary counts."""

    route: str
    host: str
    status: int  # 0: no answer was received
    time_ms: float
    wait_ms: float | None
    receive_ms: float | None
    size: int  # response body bytes, -1 when unknown
    started: datetime | None


@dataclass(frozen=True, slots=True)
class RouteSummary:
    """Entries of one route (or of all routes): counts by status and latency percentiles."""

    route: str
    entries: int
    statuses: tuple[tuple[int, int], ...]  # (status, count), by status
    time_ms: tuple[float, ...]  # at PERCENTILES, then the maximum
    wait_ms: float | None  # median
    receive_ms: float | None  # median
    body_bytes: int


@dataclass(frozen=True, slots=True)
class HarSummary:
    """A whole recording (one or several files)."""

    files: tuple[str, ...]
    entries: int
    answered: int  # entries with a status: the ones replay can use
    hosts: tuple[str, ...]
    first: datetime | None
    last: datetime | None
    routes: tuple[RouteSummary, ...]  # by route name, then ALL


def percentile(values: Sequence[float], point: float) -> float:
    """The `point`-th percentile (0-100) of sorted `values`, linearly interpolated."""
    if not values:
        return math.nan
    rank = (len(values) - 1) * point / 100.0
    low = math.floor(rank)
    high = min(low + 1, len(values) - 1)
    return values[low] + (values[high] - values[low]) * (rank - low)


def _number(value: object) -> float | None:
    if isinstance(value, int | float) and not isinstance(value, bool) and value >= 0:
        return float(value)
    return None


def _started(value: object) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None


def _object(container: object, name: str) -> dict[str, Any]:
    value = container.get(name) if isinstance(container, dict) else None
    return value if isinstance(value, dict) else {}


def _entry(entry: object, path: Path, index: int) -> EntryInfo:
    if not isinstance(entry, dict):
        raise ReplayError(str(path), "the entry is not an object", index)
    request, response = _object(entry, "request"), _object(entry, "response")
    method, url, status = request.get("method"), request.get("url"), response.get("status")
    if not isinstance(method, str) or not isinstance(url, str):
        raise ReplayError(str(path), "request.method or request.url is missing", index)
    if not isinstance(status, int) or isinstance(status, bool):
        raise ReplayError(str(path), "response.status is missing or not a number", index)
    timings = _object(entry, "timings")
    size = _number(_object(response, "content").get("size"))
    parts = urlsplit(url)
    return EntryInfo(
        route=route_of(method, parts.path or "/"),
        host=parts.hostname or "",
        status=status,
        time_ms=_number(entry.get("time")) or 0.0,
        wait_ms=_number(timings.get("wait")),
        receive_ms=_number(timings.get("receive")),
        size=-1 if size is None else int(size),
        started=_started(entry.get("startedDateTime")),
    )


def read_entries(path: Path) -> list[EntryInfo]:
    """Every entry of one HAR file (raises ReplayError naming the file, and entry, if bad)."""
    try:
        data = json.loads(path.read_bytes())
    except OSError as error:
        raise ReplayError(str(path), f"cannot read: {error.strerror or error}") from None
    except (ValueError, UnicodeDecodeError) as error:
        raise ReplayError(str(path), f"not JSON: {error}") from None
    log = data.get("log") if isinstance(data, dict) else None
    entries = log.get("entries") if isinstance(log, dict) else None
    if not isinstance(entries, list):
        raise ReplayError(str(path), "not a HAR file (no log.entries list)")
    return [_entry(entry, path, index) for index, entry in enumerate(entries)]


def har_files(paths: Iterable[Path]) -> list[Path]:
    """The files themselves, and every *.har under directories, sorted."""
    files: list[Path] = []
    for path in paths:
        files.extend(
            sorted(p for p in path.rglob("*.har") if p.is_file()) if path.is_dir() else [path]
        )
    return files


def _median(values: list[float]) -> float | None:
    return percentile(sorted(values), 50.0) if values else None


def _route(route: str, entries: list[EntryInfo]) -> RouteSummary:
    times = sorted(e.time_ms for e in entries if e.status)
    points = (*(percentile(times, p) for p in PERCENTILES), times[-1] if times else math.nan)
    return RouteSummary(
        route=route,
        entries=len(entries),
        statuses=tuple(sorted(Counter(e.status for e in entries).items())),
        time_ms=points,
        wait_ms=_median([e.wait_ms for e in entries if e.wait_ms is not None and e.status]),
        receive_ms=_median(
            [e.receive_ms for e in entries if e.receive_ms is not None and e.status]
        ),
        body_bytes=sum(max(e.size, 0) for e in entries),
    )


def summarize(entries: Sequence[EntryInfo], files: Sequence[str] = ()) -> HarSummary:
    """Counts and latency percentiles by route; entries without an answer count, not time."""
    by_route: dict[str, list[EntryInfo]] = {}
    for entry in entries:
        by_route.setdefault(entry.route, []).append(entry)
    starts = [e.started for e in entries if e.started is not None]
    routes = [_route(name, by_route[name]) for name in sorted(by_route)]
    return HarSummary(
        files=tuple(files),
        entries=len(entries),
        answered=sum(1 for e in entries if e.status),
        hosts=tuple(sorted({e.host for e in entries if e.host})),
        first=min(starts, default=None),
        last=max(starts, default=None),
        routes=(*routes, _route(ALL, list(entries))) if entries else (),
    )


def load_summary(paths: Sequence[Path]) -> HarSummary:
    """Read and summarise HAR files and directories of them."""
    files = har_files(paths)
    entries = [info for file in files for info in read_entries(file)]
    return summarize(entries, [str(f) for f in files])


def _entries(count: int) -> str:
    return f"{count} entr{'y' if count == 1 else 'ies'}"


def _ms(value: float | None) -> str:
    return "-" if value is None or math.isnan(value) else f"{value:.1f}"


def format_summary(summary: HarSummary) -> str:
    """The summary as a short report with one table row per route."""
    unanswered = summary.entries - summary.answered
    lines = [
        f"{', '.join(summary.files) or '(no files)'}: {_entries(summary.entries)}"
        + (f" ({unanswered} without an answer, not replayed)" if unanswered else ""),
        f"hosts: {', '.join(summary.hosts) or '-'}",
    ]
    if summary.first is not None and summary.last is not None:
        span = (summary.last - summary.first).total_seconds()
        lines.append(
            f"recorded: {summary.first.isoformat(timespec='seconds')} .. "
            f"{summary.last.isoformat(timespec='seconds')} ({span:.1f} s)"
        )
    if not summary.routes:
        return "\n".join(lines)
    names = [f"p{p:g}" for p in PERCENTILES]
    header = [
        "route",
        "entries",
        *(f"{n} ms" for n in names),
        "max ms",
        "wait p50",
        "recv p50",
        "body KB",
        "statuses",
    ]
    rows = [header]
    for route in summary.routes:
        statuses = ", ".join(f"{status or 'no answer'}: {n}" for status, n in route.statuses)
        rows.append(
            [
                route.route,
                str(route.entries),
                *(_ms(t) for t in route.time_ms),
                _ms(route.wait_ms),
                _ms(route.receive_ms),
                f"{route.body_bytes / 1000:.1f}",
                statuses,
            ]
        )
    widths = [max(len(row[i]) for row in rows) for i in range(len(header) - 1)]
    lines.append("")
    for row in rows:
        cells = [row[0].ljust(widths[0])] + [
            c.rjust(w) for c, w in zip(row[1:-1], widths[1:], strict=True)
        ]
        lines.append("  ".join([*cells, row[-1]]).rstrip())
    return "\n".join(lines)


def summary_json(summary: HarSummary) -> dict[str, Any]:
    """The summary as JSON-ready data (times in ms; NaN as null)."""
    data = asdict(summary)
    data["first"] = None if summary.first is None else summary.first.isoformat()
    data["last"] = None if summary.last is None else summary.last.isoformat()
    for route in data["routes"]:
        route["statuses"] = {str(status): count for status, count in route["statuses"]}
        times = [None if math.isnan(t) else t for t in route.pop("time_ms")]
        route["time_ms"] = dict(zip([*(f"p{p:g}" for p in PERCENTILES), "max"], times, strict=True))
    return data
