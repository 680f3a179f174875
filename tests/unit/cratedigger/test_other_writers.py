"""Libraries written by other tools: pyrekordbox's writer, hand edits, Windows paths."""

from __future__ import annotations

import unicodedata
from pathlib import Path

import pytest
from pyrekordbox import RekordboxXml

from cratedigger.rekordbox import location_key, read_library

CAFE = "Café Song (Original Mix).mp3"
POSIX = f"/Users/dj/Music/Beatport/{CAFE}"
WINDOWS = rf"C:\Users\DJ\Music\Sets 2024\{CAFE}"

SAME_POSIX = [
    "file://localhost/Users/dj/Music/Beatport/Caf%C3%A9%20Song%20(Original%20Mix).mp3",
    "file://localhost//Users/dj/Music/Beatport/Caf%C3%A9%20Song%20%28Original%20Mix%29.mp3",
    "file:///Users/dj/Music/Beatport/Café Song (Original Mix).mp3",
    "file://localhost/Users/dj/Music/Beatport/"
    + unicodedata.normalize("NFD", "Café Song (Original Mix).mp3"),
    POSIX,
    unicodedata.normalize("NFD", POSIX),
]
SAME_WINDOWS = [
    "file://localhost/C:/Users/DJ/Music/Sets%202024/Caf%C3%A9%20Song%20(Original%20Mix).mp3",
    "file://localhost/c:/Users/DJ/Music/Sets 2024/Café Song (Original Mix).mp3",
    "file:///C:/Users/DJ/Music/Sets%202024/Café%20Song%20(Original%20Mix).mp3",
    WINDOWS,
    WINDOWS.replace("C:", "c:"),
    WINDOWS.replace("\\", "/"),
]


@pytest.mark.parametrize("spelling", SAME_POSIX)
def test_posix_locations_compare_equal_however_written(spelling: str) -> None:
    assert location_key(spelling) == POSIX


@pytest.mark.parametrize("spelling", SAME_WINDOWS)
def test_windows_locations_compare_equal_however_written(spelling: str) -> None:
    assert location_key(spelling) == "/C:/Users/DJ/Music/Sets 2024/" + CAFE


def test_other_files_stay_apart() -> None:
    assert location_key(POSIX) != location_key(POSIX.replace("Café", "Cafe"))
    assert location_key(WINDOWS) != location_key(WINDOWS.replace("C:", "D:"))


def _pyrekordbox_library(path: Path) -> None:
    """What a script using pyrekordbox's writer produces: nested folders, a playlist by
    TrackID, one by Location (pyrekordbox keys those by plain file paths), Windows paths."""
    xml = RekordboxXml(name="rekordbox", version="6.8.5", company="AlphaTheta")
    xml.add_track(POSIX, TrackID=1, Name="Café Song (Original Mix)", Artist="Ünïcode & Friends")
    xml.add_track(WINDOWS.replace(CAFE, "Night.mp3"), TrackID=2, Name="Night", Artist="B")
    xml.add_track("/Volumes/USB/Ångström.aiff", TrackID=3, Name="Ångström", Artist="C")
    sets = xml.add_playlist_folder("Sets")
    year = sets.add_playlist_folder("2024")
    warmup = year.add_playlist("Warmup")
    for track_id in (3, 1, 2):
        warmup.add_track(track_id)
    by_location = sets.add_playlist("By Location", keytype="Location")
    for key in (WINDOWS.replace(CAFE, "Night.mp3"), POSIX, "/Volumes/USB/Ångström.aiff"):
        by_location.add_track(key)
    xml.save(str(path))


def test_a_pyrekordbox_library_lists_and_selects(tmp_path: Path) -> None:
    path = tmp_path / "pyrekordbox.xml"
    _pyrekordbox_library(path)
    # pyrekordbox's Locations read "file://localhost//Users/..." (two slashes).
    assert "file://localhost//Users/dj/" in path.read_text(encoding="utf-8")
    library = read_library(path)
    assert [(p.path, p.entries) for p in library.playlists()] == [
        ("Sets/2024/Warmup", 3),
        ("Sets/By Location", 3),
    ]
    warmup = library.playlist("Warmup")
    assert [t.track_id for t in warmup.entries] == ["3", "1", "2"]
    by_location = library.playlist("Sets/By Location")
    assert [t.track_id for t in by_location.entries] == ["2", "1", "3"]
    assert not by_location.warnings and all(t.in_collection for t in by_location.entries)
    assert by_location.entries[1].artist == "Ünïcode & Friends"


def test_hand_edited_keys_find_their_tracks(tmp_path: Path) -> None:
    # Keys typed or pasted by hand: a plain path, a percent-encoded plain path, a decomposed
    # name, a lower-case drive letter, backslashes; and one that points nowhere.
    nfd = unicodedata.normalize("NFD", "Café")
    text = f"""<?xml version="1.0" encoding="UTF-8"?>
<DJ_PLAYLISTS Version="1.0.0">
  <COLLECTION Entries="2">
    <TRACK TrackID="1" Name="Café Song" Artist="A"
           Location="file://localhost/Users/dj/Music/Caf%C3%A9%20Song.mp3"/>
    <TRACK TrackID="2" Name="Night" Artist="B" Location="file://localhost/D:/Music/Night.mp3"/>
  </COLLECTION>
  <PLAYLISTS>
    <NODE Type="0" Name="ROOT" Count="1">
      <NODE Type="1" Name="Edited" KeyType="1" Entries="6">
        <TRACK Key="/Users/dj/Music/Café Song.mp3"/>
        <TRACK Key="/Users/dj/Music/Caf%C3%A9%20Song.mp3"/>
        <TRACK Key="file://localhost/Users/dj/Music/{nfd} Song.mp3"/>
        <TRACK Key="d:\\Music\\Night.mp3"/>
        <TRACK Key="file://localhost/d:/Music/Night.mp3"/>
        <TRACK Key="/Users/dj/Music/Gone.mp3"/>
      </NODE>
    </NODE>
  </PLAYLISTS>
</DJ_PLAYLISTS>
"""
    path = tmp_path / "edited.xml"
    path.write_text(text, encoding="utf-8")
    playlist = read_library(path).playlist("Edited")
    assert [t.track_id for t in playlist.entries][:5] == ["1", "1", "1", "2", "2"]
    stale = playlist.entries[5]
    assert not stale.in_collection and stale.track_id == "/Users/dj/Music/Gone.mp3"
    (warning,) = playlist.warnings
    assert f"{path}:" in warning and "Location '/Users/dj/Music/Gone.mp3'" in warning
