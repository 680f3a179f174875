"""Demo playlists for integration tests, drawn from the catalog the mock serves."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from cratedigger.models import LocalTrack
from cratedigger.rekordbox import read_library
from mockserver.catalog import Catalog
from mockserver.playlist import generate_playlist, truth_document, write_rekordbox_xml


@dataclass(frozen=True)
class Demo:
    xml: Path
    playlist: str  # the playlist's path in the Rekordbox tree
    entries: list[LocalTrack]
    truth: dict[str, int | None]


def make_demo(catalog: Catalog, folder: Path, tracks: int, seed: int) -> Demo:
    """Write a demo library of `tracks` entries into `folder` and read it back as the CLI would."""
    playlist = generate_playlist(catalog, tracks, seed)
    xml = folder / f"demo-{tracks}-{seed}.xml"
    write_rekordbox_xml(playlist, xml)
    entries = read_library(xml).playlist(playlist.path).entries
    truth_tracks = truth_document(playlist)["tracks"]
    assert isinstance(truth_tracks, dict)
    return Demo(xml, playlist.path, entries, dict(truth_tracks))
