"""Matching a playlist per mode: wall time and peak memory of the client alone.

The mock runs in its own process (started in `setup`, stopped in `teardown`), so neither
its CPU time nor its memory lands in the figures. asv re-runs setup before every timed
call, hence one call per sample and a bounded number of samples.
"""

from __future__ import annotations

from typing import Final

from cratedigger.models import LocalTrack
from cratedigger.settings import Mode

from . import support

TRACKS: Final = (20, 60)
LATENCIES_MS: Final = (0, 20)
MEMORY_TRACKS: Final = 60

Playlists = dict[int, list[LocalTrack]]


def setup_cache() -> Playlists:
    """The demo playlists, built once and shared by every benchmark of this module."""
    return support.playlists(sorted({*TRACKS, MEMORY_TRACKS}))


class MatchTime:
    """Wall time of `run_playlist` per mode, playlist length and server latency."""

    params = (list(support.ALL_MODES), list(TRACKS), list(LATENCIES_MS))
    param_names = ("mode", "tracks", "latency_ms")
    number = 1
    repeat = (1, 3, 30.0)
    min_run_count = 1
    warmup_time = 0.0
    rounds = 1
    timeout = 180.0

    def setup(self, playlists: Playlists, mode: Mode, tracks: int, latency_ms: int) -> None:
        self.mock = support.MockServer()
        self.mock.start(latency_ms=latency_ms)

    def teardown(self, playlists: Playlists, mode: Mode, tracks: int, latency_ms: int) -> None:
        self.mock.stop()

    def time_match(self, playlists: Playlists, mode: Mode, tracks: int, latency_ms: int) -> None:
        """Match the playlist: every request, parse, score and result write."""
        support.run_once(playlists[tracks], mode, self.mock.base_url, self.mock.scratch / "o.json")


class MatchMemory:
    """Peak RSS of a process that matched a 60-track playlist, per mode."""

    params = (list(support.ALL_MODES),)
    param_names = ("mode",)
    timeout = 180.0

    def setup(self, playlists: Playlists, mode: Mode) -> None:
        self.mock = support.MockServer()
        self.mock.start()

    def teardown(self, playlists: Playlists, mode: Mode) -> None:
        self.mock.stop()

    def peakmem_match(self, playlists: Playlists, mode: Mode) -> None:
        """Match the playlist once (asv reads the process's maximum RSS afterwards)."""
        out = self.mock.scratch / "o.json"
        support.run_once(playlists[MEMORY_TRACKS], mode, self.mock.base_url, out)
