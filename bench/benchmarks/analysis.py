"""Ratios within one run of the suite: speedup, efficiency, 429 share, network share.

`setup_cache` starts the mock in a subprocess, runs every mode twice against it (with
latency, then also behind a server rate limit), stops it, and keeps the figures; asv
records each `track_` value. Ratios inside one run hold on a noisy machine where absolute
times do not.
"""

from __future__ import annotations

from typing import Final

from cratedigger.analyzer import analyze_network_time_percentage
from cratedigger.harness.bounds import bounds, efficiency
from cratedigger.settings import Mode

from . import support

TRACKS: Final = 60
LATENCY_MS: Final = 20
SERVER_RATE: Final = 50  # requests/s: sync stays under it, threads and async do not
SERVER_BURST: Final = 10
SERVER_LIMIT: Final = f"{SERVER_RATE}/s,burst={SERVER_BURST}"

Figures = dict[str, dict[str, float]]  # mode -> figure name -> value


@support.asv_attrs(timeout=300.0)
def setup_cache() -> Figures:
    """Run every mode with latency, then behind a rate limit; the figures of each run."""
    entries = support.playlists([TRACKS])[TRACKS]
    figures: Figures = {}
    mock = support.MockServer()
    try:
        mock.start(latency_ms=LATENCY_MS)
        out = mock.scratch / "o.json"
        for mode in support.ALL_MODES:
            document = support.run_once(entries, mode, mock.base_url, out)
            percentage, _verdict = analyze_network_time_percentage(document)
            ideal = bounds(document).ideal
            figures[mode] = {
                "wall_time": support.wall_time(document),
                "efficiency": 100.0 * efficiency(ideal, support.wall_time(document)),
                "network_share": percentage,
                "in_flight_share": document["network_analysis"]["in_flight_wall_percentage"],
            }
        mock.configure(latency_ms=LATENCY_MS, rate_limit=SERVER_LIMIT)
        for mode in support.ALL_MODES:
            session = support.run_once(entries, mode, mock.base_url, out)["session_info"]
            figures[mode]["rate_limited_share"] = support.share(
                session["rate_limited"], session["requests_sent"]
            )
    finally:
        mock.stop()
    return figures


class Speedup:
    """How many times faster than sync, same playlist, same server (20 ms per request)."""

    params = (["threads", "async"],)
    param_names = ("mode",)

    @support.asv_attrs(unit="x")
    def track_speedup(self, figures: Figures, mode: Mode) -> float:
        """sync wall time / this mode's wall time."""
        return figures["sync"]["wall_time"] / figures[mode]["wall_time"]


class Shares:
    """Per mode: how close to its lower bound, how many 429s, how much waiting on the network."""

    params = (list(support.ALL_MODES),)
    param_names = ("mode",)

    @support.asv_attrs(unit="%")
    def track_efficiency(self, figures: Figures, mode: Mode) -> float:
        """Lower bound of the wall time (harness.bounds) / measured wall time, in percent."""
        return figures[mode]["efficiency"]

    @support.asv_attrs(unit="%")
    def track_rate_limited_share(self, figures: Figures, mode: Mode) -> float:
        """Requests answered 429 / requests sent, behind a 50/s (burst 10) server, percent."""
        return figures[mode]["rate_limited_share"]

    @support.asv_attrs(unit="%")
    def track_network_share(self, figures: Figures, mode: Mode) -> float:
        """The analyzer's network_time_percentage (network / execution time of the queries)."""
        return figures[mode]["network_share"]

    @support.asv_attrs(unit="%")
    def track_in_flight_share(self, figures: Figures, mode: Mode) -> float:
        """Share of the wall time with at least one request in flight, in percent."""
        return figures[mode]["in_flight_share"]
