"""Reading a Rekordbox collection as the CLI does: the matcher issue's "10,000 tracks in
under a second" is measured here (and in the pytest-benchmark suite), not by a timed test.
"""

from __future__ import annotations

from pathlib import Path

from cratedigger.rekordbox import read_library

from . import support


@support.asv_attrs(timeout=300)
def setup_cache() -> tuple[str, str]:
    """A 10,000-track collection written once, in asv's cache folder for this module."""
    xml, playlist = support.write_library(Path.cwd())
    return str(xml.resolve()), playlist


def _read(cached: tuple[str, str]) -> None:
    xml, playlist = cached
    entries = read_library(Path(xml)).playlist(playlist).entries
    if len(entries) != support.LIBRARY_TRACKS:
        raise support.BenchmarkRunError(f"read {len(entries)} entries from {xml}")


class ReadLibrary:
    """Parse the XML, index the collection, resolve the playlist's 10,000 entries."""

    timeout = 120

    def time_read_10000_tracks(self, cached: tuple[str, str]) -> None:
        _read(cached)

    def peakmem_read_10000_tracks(self, cached: tuple[str, str]) -> None:
        _read(cached)
