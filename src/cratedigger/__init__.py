"""cratedigger: match Rekordbox playlists to Beatport, sync or async, and measure it.

The public names below are loaded on first use, so that importing a pure-core module
(`cratedigger.scoring`, `cratedigger.flow`, ...) never drags in requests or aiohttp.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

# public name -> module that defines it
_EXPORTS = {
    "LocalTrack": "cratedigger.models",
    "Candidate": "cratedigger.models",
    "MatchResult": "cratedigger.models",
    "CratediggerError": "cratedigger.errors",
    "InputError": "cratedigger.errors",
    "ParseError": "cratedigger.errors",
    "MatchOptions": "cratedigger.options",
    "RateLimit": "cratedigger.pacing",
    "Credentials": "cratedigger.credentials",
    "match_flow": "cratedigger.flow",
    "match_track": "cratedigger.drivers.sync",
    "match_playlist": "cratedigger.drivers.sync",
    "match_playlist_threaded": "cratedigger.drivers.threads",
    "match_track_async": "cratedigger.drivers.aio",
    "match_playlist_async": "cratedigger.drivers.aio",
    "run_playlist": "cratedigger.run",
    "read_library": "cratedigger.rekordbox",
    "MetricsCollector": "cratedigger.metrics",
    "export_performance_metrics_json": "cratedigger.export",
    "load_metrics_from_json": "cratedigger.analyzer",
    "analyze_network_time_percentage": "cratedigger.analyzer",
    "generate_async_io_analysis_report": "cratedigger.report",
}

__all__ = [
    "Candidate",
    "CratediggerError",
    "Credentials",
    "InputError",
    "LocalTrack",
    "MatchOptions",
    "MatchResult",
    "MetricsCollector",
    "ParseError",
    "RateLimit",
    "analyze_network_time_percentage",
    "export_performance_metrics_json",
    "generate_async_io_analysis_report",
    "load_metrics_from_json",
    "match_flow",
    "match_playlist",
    "match_playlist_async",
    "match_playlist_threaded",
    "match_track",
    "match_track_async",
    "read_library",
    "run_playlist",
]

if TYPE_CHECKING:
    from cratedigger.analyzer import analyze_network_time_percentage, load_metrics_from_json
    from cratedigger.credentials import Credentials
    from cratedigger.drivers.aio import match_playlist_async, match_track_async
    from cratedigger.drivers.sync import match_playlist, match_track
    from cratedigger.drivers.threads import match_playlist_threaded
    from cratedigger.errors import CratediggerError, InputError, ParseError
    from cratedigger.export import export_performance_metrics_json
    from cratedigger.flow import match_flow
    from cratedigger.metrics import MetricsCollector
    from cratedigger.models import Candidate, LocalTrack, MatchResult
    from cratedigger.options import MatchOptions
    from cratedigger.pacing import RateLimit
    from cratedigger.rekordbox import read_library
    from cratedigger.report import generate_async_io_analysis_report
    from cratedigger.run import run_playlist


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'cratedigger' has no attribute {name!r}")
    return getattr(import_module(module), name)
