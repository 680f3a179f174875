"""Reading Rekordbox XML libraries: tracks, the playlist tree, and every error's file:line."""

from __future__ import annotations

import dataclasses
import os
import time
import unicodedata
from pathlib import Path
from typing import Any
from urllib.parse import quote
from xml.etree import ElementTree

import pytest

from cratedigger.errors import InputError
from cratedigger.models import MatchResult
from cratedigger.rekordbox import PlaylistInfo, location_key, read_library
from cratedigger.rekordbox_write import rekordbox_tonality, write_back

CAFE_NFD = unicodedata.normalize("NFD", "Café")
CAFE_URL = "file://localhost/Users/dj/Music/" + quote(f"{CAFE_NFD} Song.mp3")

LIBRARY = f"""<?xml version="1.0" encoding="UTF-8"?>
<DJ_PLAYLISTS Version="1.0.0">
  <PRODUCT Name="rekordbox" Version="6.8.5" Company="AlphaTheta"/>
  <COLLECTION Entries="3">
    <TRACK TrackID="1" Name="Strobe" Artist="deadmau5" Composer="" Album="For Lack" Grouping=""
           Genre="Progressive House" Kind="MP3 File" Size="1" TotalTime="637" DiscNumber="0"
           TrackNumber="1" Year="2009" AverageBpm="128.00" DateAdded="2024-01-31" BitRate="320"
           SampleRate="44100" Comments="" PlayCount="0" Rating="0"
           Location="file://localhost/Users/dj/Music/Strobe%20(Club%20Edit).mp3"
           Remixer="" Tonality="Abm" Label="mau5trap" Mix="Club Edit">
      <TEMPO Inizio="0.025" Bpm="128.00" Metro="4/4" Battito="1"/>
      <POSITION_MARK Name="" Type="0" Start="0.025" Num="-1"/>
    </TRACK>
    <TRACK TrackID="2" Name="Café Song" Artist="Ünïcode &amp; Friends" AverageBpm="" Year="0"
           TotalTime="" Location="{CAFE_URL}"/>
    <TRACK TrackID="3" Name="Third" Artist="X" AverageBpm="0.00" Year="" TotalTime="0"/>
  </COLLECTION>
  <PLAYLISTS>
    <NODE Type="0" Name="ROOT" Count="3">
      <NODE Type="0" Name="Sets" Count="2">
        <NODE Type="0" Name="2024" Count="1">
          <NODE Type="1" Name="Warmup" KeyType="0" Entries="3">
            <TRACK Key="2"/>
            <TRACK Key="1"/>
            <TRACK Key="2"/>
          </NODE>
        </NODE>
        <NODE Type="0" Name="2023" Count="1">
          <NODE Type="1" Name="Warmup" KeyType="0" Entries="1">
            <TRACK Key="3"/>
          </NODE>
        </NODE>
      </NODE>
      <NODE Type="1" Name="By Location" KeyType="1" Entries="2">
        <TRACK Key="file://localhost/Users/dj/Music/Strobe%20%28Club%20Edit%29.mp3"/>
        <TRACK Key="file://localhost/Users/dj/Music/Caf%C3%A9%20Song.mp3"/>
      </NODE>
      <NODE Type="1" Name="Peak Time" KeyType="0" Entries="0"/>
    </NODE>
  </PLAYLISTS>
</DJ_PLAYLISTS>
"""


def write(tmp_path: Path, text: str, name: str = "lib.xml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def line_of(text: str, needle: str) -> int:
    return text[: text.index(needle)].count("\n") + 1


@pytest.fixture
def library_path(tmp_path: Path) -> Path:
    return write(tmp_path, LIBRARY)


def test_tracks_are_read_with_every_field(library_path: Path) -> None:
    tracks = read_library(library_path).tracks
    assert sorted(tracks) == ["1", "2", "3"]
    strobe = tracks["1"]
    assert (strobe.name, strobe.artist, strobe.album) == ("Strobe", "deadmau5", "For Lack")
    assert (strobe.genre, strobe.label, strobe.mix) == (
        "Progressive House",
        "mau5trap",
        "Club Edit",
    )
    assert (strobe.bpm, strobe.tonality, strobe.year, strobe.total_time) == (
        128.0,
        "Abm",
        2009,
        637,
    )
    assert strobe.location.endswith("Strobe%20(Club%20Edit).mp3")
    assert tracks["2"].artist == "Ünïcode & Friends"


def test_empty_and_zero_numbers_mean_unknown(library_path: Path) -> None:
    tracks = read_library(library_path).tracks
    for track_id in ("2", "3"):
        track = tracks[track_id]
        assert (track.bpm, track.year, track.total_time) == (None, None, None)


def test_playlists_list_folder_paths_without_root(library_path: Path) -> None:
    assert read_library(library_path).playlists() == [
        PlaylistInfo("Sets/2024/Warmup", "Warmup", 3),
        PlaylistInfo("Sets/2023/Warmup", "Warmup", 1),
        PlaylistInfo("By Location", "By Location", 2),
        PlaylistInfo("Peak Time", "Peak Time", 0),
    ]


def test_playlist_by_path_keeps_order_and_duplicates(library_path: Path) -> None:
    playlist = read_library(library_path).playlist("Sets/2024/Warmup")
    assert playlist.path == "Sets/2024/Warmup"
    assert [track.track_id for track in playlist.entries] == ["2", "1", "2"]


def test_playlist_by_unique_name(library_path: Path) -> None:
    library = read_library(library_path)
    assert library.playlist("Peak Time").entries == []
    assert library.playlist("Sets/2023/Warmup").entries == [library.tracks["3"]]


def test_location_entries_match_decoded_normalised_paths(library_path: Path) -> None:
    playlist = read_library(library_path).playlist("By Location")
    # The entries spell the paths differently (%28 vs "(", NFC vs NFD) from the collection.
    assert [track.track_id for track in playlist.entries] == ["1", "2"]


def test_location_key_decodes_and_normalises() -> None:
    assert location_key(CAFE_URL) == "/Users/dj/Music/Café Song.mp3"
    assert location_key("file://localhost/C:/a%20b.mp3") == "/C:/a b.mp3"


def test_ambiguous_name_lists_the_candidate_paths(library_path: Path) -> None:
    with pytest.raises(InputError, match="ambiguous") as caught:
        read_library(library_path).playlist("Warmup")
    assert "Sets/2024/Warmup" in str(caught.value)
    assert "Sets/2023/Warmup" in str(caught.value)


def test_unknown_playlist_suggests_three_closest_names(library_path: Path) -> None:
    with pytest.raises(InputError) as caught:
        read_library(library_path).playlist("Peek Tme")
    message = str(caught.value)
    assert message.startswith(f"{library_path}: unknown playlist 'Peek Tme'; closest: Peak Time")
    assert len(message.split("closest: ")[1].split(", ")) == 3


def test_a_folder_is_not_a_playlist(library_path: Path) -> None:
    with pytest.raises(InputError, match="'Sets/2024' is a folder"):
        read_library(library_path).playlist("Sets/2024")


@pytest.mark.parametrize(
    ("broken", "needle", "expected"),
    [
        (
            '<TRACK Key="2"/>',
            '<TRACK Key="99"/>',
            "points to no track in the collection: TrackID '99'",
        ),
        (
            'Key="file://localhost/Users/dj/Music/Caf%C3%A9%20Song.mp3"',
            'Key="file://localhost/elsewhere.mp3"',
            "points to no track in the collection: Location 'file://localhost/elsewhere.mp3'",
        ),
    ],
)
def test_dangling_entry_is_kept_as_stale_with_a_warning_naming_its_line(
    tmp_path: Path, broken: str, needle: str, expected: str
) -> None:
    # A stale entry does not block the playlist: it stays in its place, out of the
    # collection, and a warning names the file and the entry's line.
    text = LIBRARY.replace(broken, needle, 1)
    library = read_library(write(tmp_path, text))
    name = "Sets/2024/Warmup" if "99" in needle else "By Location"
    playlist = library.playlist(name)
    (warning,) = playlist.warnings
    assert warning.startswith(f"{tmp_path / 'lib.xml'}:{line_of(text, needle)}: entry ")
    assert warning.endswith(expected)
    stale = [t for t in playlist.entries if not t.in_collection]
    assert len(stale) == 1 and len(playlist.entries) == (3 if "99" in needle else 2)
    key = needle.split('"')[1]
    assert stale[0].track_id == key and stale[0].name == stale[0].artist == ""
    assert all(t.in_collection for t in playlist.entries if t is not stale[0])


@pytest.mark.parametrize(
    ("old", "new", "marker", "message"),
    [
        ('TrackID="3" ', "", 'Name="Third"', "TRACK without a TrackID"),
        ('TrackID="3"', 'TrackID="1"', 'Name="Third"', "duplicate TrackID '1'"),
        ('AverageBpm="0.00"', 'AverageBpm="abc"', 'Name="Third"', "AverageBpm: expected a number"),
        ('Year=""', 'Year="MMIX"', 'Name="Third"', "TRACK 3: Year: expected a whole number"),
        ('TotalTime="0"', 'TotalTime="nan"', 'Name="Third"', "TotalTime"),
        ('<TRACK Key="3"/>', '<TRACK Key=""/>', '<TRACK Key=""/>', "without a Key"),
        ('KeyType="0" Entries="1"', 'KeyType="7" Entries="1"', 'KeyType="7"', "KeyType must be"),
    ],
)
def test_bad_elements_name_file_and_line(
    tmp_path: Path, old: str, new: str, marker: str, message: str
) -> None:
    text = LIBRARY.replace(old, new, 1)
    path = write(tmp_path, text)
    with pytest.raises(InputError, match=message) as caught:
        read_library(path)
    # A multi-line start tag is reported at the line where it starts.
    tag_start = text.rfind("<", 0, text.index(marker) + 1)
    assert caught.value.line == text[:tag_start].count("\n") + 1
    assert str(caught.value).startswith(f"{path}:{caught.value.line}: ")


def test_malformed_xml_reports_parser_position(tmp_path: Path) -> None:
    text = LIBRARY.replace('<TRACK Key="1"/>', '<TRACK Key="1">', 1)
    path = write(tmp_path, text)
    with pytest.raises(InputError, match=r"malformed XML at column \d+: mismatched tag") as caught:
        read_library(path)
    assert caught.value.line == line_of(text, '<TRACK Key="1">') + 2  # the </NODE> after it


def test_wrong_root_element(tmp_path: Path) -> None:
    path = write(tmp_path, '<?xml version="1.0"?>\n<playlist><COLLECTION/></playlist>\n')
    with pytest.raises(InputError, match="root element is <playlist>") as caught:
        read_library(path)
    assert caught.value.line == 2


def test_missing_collection(tmp_path: Path) -> None:
    path = write(
        tmp_path, '<?xml version="1.0"?>\n\n<DJ_PLAYLISTS Version="1.0.0">\n</DJ_PLAYLISTS>'
    )
    with pytest.raises(InputError, match="no <COLLECTION>") as caught:
        read_library(path)
    assert caught.value.line == 3


def test_doctype_is_refused_before_any_entity_expands(tmp_path: Path) -> None:
    laughs = "".join(f'<!ENTITY l{i} "{f"&l{i - 1};" * 10}">' for i in range(1, 10))
    text = (
        f'<?xml version="1.0"?>\n<!DOCTYPE DJ_PLAYLISTS [<!ENTITY l0 "lol">{laughs}]>\n'
        '<DJ_PLAYLISTS><COLLECTION><TRACK TrackID="1" Name="&l9;"/></COLLECTION></DJ_PLAYLISTS>'
    )
    with pytest.raises(InputError, match="DOCTYPE declarations are not allowed") as caught:
        read_library(write(tmp_path, text))
    assert caught.value.line == 2


def test_missing_file_is_an_input_error(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="cannot read the library"):
        read_library(tmp_path / "absent.xml")


@pytest.mark.parametrize("content", [b"", b"  \r\n\n", b" " * 70_000])
def test_an_empty_file_is_said_to_be_empty(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "empty.xml"
    path.write_bytes(content)
    with pytest.raises(InputError) as caught:
        read_library(path)
    assert str(caught.value) == (
        f"{path}: the file is empty: export the collection from Rekordbox again"
    )


def test_leading_whitespace_is_not_emptiness(tmp_path: Path) -> None:
    path = tmp_path / "spaced.xml"
    path.write_bytes(b" " * 70_000 + b"<DJ_PLAYLISTS><PLAYLISTS/></DJ_PLAYLISTS>")
    with pytest.raises(InputError, match="no <COLLECTION>"):  # read past the blanks
        read_library(path)


def big_library(count: int) -> str:
    tracks = "\n".join(
        f'    <TRACK TrackID="{i}" Name="Track {i}" Artist="Artist {i % 97}" Composer="" '
        f'Album="Album {i % 31}" Grouping="" Genre="Techno" Kind="MP3 File" Size="9000000" '
        f'TotalTime="{200 + i % 300}" DiscNumber="0" TrackNumber="{i % 12}" Year="2024" '
        f'AverageBpm="{120 + i % 20}.00" DateAdded="2024-01-31" BitRate="320" SampleRate="44100" '
        f'Comments="" PlayCount="0" Rating="0" '
        f'Location="file://localhost/Users/dj/Music/Track%20{i}.mp3" Remixer="" Tonality="Am" '
        f'Label="Label {i % 13}" Mix="Original Mix">\n'
        f'      <TEMPO Inizio="0.025" Bpm="128.00" Metro="4/4" Battito="1"/>\n'
        f'      <POSITION_MARK Name="" Type="0" Start="0.025" Num="-1"/>\n'
        "    </TRACK>"
        for i in range(1, count + 1)
    )
    entries = "\n".join(f'        <TRACK Key="{i}"/>' for i in range(1, count + 1))
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n<DJ_PLAYLISTS Version="1.0.0">\n'
        f'  <COLLECTION Entries="{count}">\n{tracks}\n  </COLLECTION>\n  <PLAYLISTS>\n'
        '    <NODE Type="0" Name="ROOT" Count="1">\n'
        f'      <NODE Type="1" Name="All" KeyType="0" Entries="{count}">\n{entries}\n'
        "      </NODE>\n    </NODE>\n  </PLAYLISTS>\n</DJ_PLAYLISTS>\n"
    )


def test_ten_thousand_tracks_read_well_under_two_seconds(tmp_path: Path) -> None:
    path = write(tmp_path, big_library(10_000))
    started = time.perf_counter()
    library = read_library(path)
    entries = library.playlist("All").entries
    elapsed = time.perf_counter() - started
    assert len(library.tracks) == 10_000
    assert entries[-1].track_id == "10000"
    assert elapsed < 2.0  # a generous sanity bound on a shared machine (typically ~0.1 s)


# --- write_back ---------------------------------------------------------------------------


def matched(track_id: str, **changes: Any) -> MatchResult:
    result = MatchResult(
        rekordbox_id=track_id,
        artist="a",
        title="t",
        status="matched",
        beatport_id=19431036,
        bpm=126,
        key="Ab Minor",
        camelot="1A",
        genre="Melodic House & Techno",
        label="mau5trap <Records>",
        release_date="2024-09-13",
        isrc="GBTDG1302861",
    )
    return dataclasses.replace(result, **changes)


def attributes(path: Path, track_id: str) -> dict[str, str]:
    root = ElementTree.parse(path).getroot()
    for track in root.iter("TRACK"):
        if track.get("TrackID") == track_id:
            return dict(track.attrib)
    raise AssertionError(f"no TRACK {track_id}")


def test_write_back_updates_matched_tracks_and_keeps_the_rest(
    library_path: Path, tmp_path: Path
) -> None:
    dest = tmp_path / "out.xml"
    unmatched = MatchResult("3", "X", "Third", "unmatched", reason="no candidates")
    write_back(library_path, [matched("1"), unmatched], dest)

    before, after = attributes(library_path, "1"), attributes(dest, "1")
    assert after["AverageBpm"] == "126.00"
    assert after["Tonality"] == "Abm"
    assert after["Genre"] == "Melodic House & Techno"
    assert after["Label"] == "mau5trap <Records>"
    assert after["Year"] == "2024"
    assert after["Comments"] == "beatport:19431036 ISRC:GBTDG1302861"
    changed = {"AverageBpm", "Tonality", "Genre", "Label", "Year", "Comments"}
    assert {k: v for k, v in after.items() if k not in changed} == {
        k: v for k, v in before.items() if k not in changed
    }
    assert attributes(dest, "3") == attributes(library_path, "3")

    # Only the rewritten start tag differs: cue points, grids and playlists are the same bytes.
    source_text, dest_text = library_path.read_text(), dest.read_text()
    tag = source_text.index('<TRACK TrackID="1"')
    assert dest_text[:tag] == source_text[:tag]
    tail = source_text.index("<TEMPO")
    assert dest_text.endswith(source_text[tail:])


def test_write_back_round_trip_keeps_playlists(library_path: Path, tmp_path: Path) -> None:
    dest = tmp_path / "out.xml"
    write_back(library_path, [matched("1"), matched("2", bpm=None, key=None, camelot="8A")], dest)
    before, after = read_library(library_path), read_library(dest)
    assert after.playlists() == before.playlists()
    for info in before.playlists():
        ids = [track.track_id for track in after.playlist(info.path).entries]
        assert ids == [track.track_id for track in before.playlist(info.path).entries]
    second = after.tracks["2"]
    assert (second.bpm, second.tonality, second.label) == (None, "Am", "mau5trap <Records>")
    assert second.name == "Café Song"
    assert after.tracks["1"].bpm == 126.0


def test_write_back_keeps_the_djs_comment_and_replaces_an_old_tag(
    library_path: Path, tmp_path: Path
) -> None:
    noted = tmp_path / "noted.xml"
    noted.write_text(library_path.read_text().replace('Comments=""', 'Comments="big tune"', 1))
    first, second = tmp_path / "first.xml", tmp_path / "second.xml"
    write_back(noted, [matched("1", isrc=None)], first)
    assert attributes(first, "1")["Comments"] == "big tune beatport:19431036"
    write_back(first, [matched("1", beatport_id=7)], second)
    assert attributes(second, "1")["Comments"] == "big tune beatport:7 ISRC:GBTDG1302861"


def test_write_back_refuses_results_of_another_library(library_path: Path, tmp_path: Path) -> None:
    with pytest.raises(InputError, match="TrackID '42'"):
        write_back(library_path, [matched("42")], tmp_path / "out.xml")
    assert not (tmp_path / "out.xml").exists()


def test_write_back_skips_a_stale_entrys_error_row(library_path: Path, tmp_path: Path) -> None:
    stale = MatchResult("file:///gone.mp3", "", "", "error", reason="not in the collection")
    write_back(library_path, [matched("1"), stale], tmp_path / "out.xml")
    assert (tmp_path / "out.xml").exists()


def test_write_back_is_atomic(
    library_path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    dest = tmp_path / "out.xml"
    dest.write_text("previous")

    def crash(_src: object, _dst: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", crash)
    with pytest.raises(InputError, match="No space left"):
        write_back(library_path, [matched("1")], dest)
    assert dest.read_text() == "previous"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["lib.xml", "out.xml"]


@pytest.mark.parametrize(
    ("key", "camelot", "expected"),
    [
        ("Ab Minor", None, "Abm"),
        ("F# Major", None, "F#"),
        ("A♭ Minor", None, "Abm"),
        ("C major", "8B", "C"),
        (None, "11A", "F#m"),
        ("weird", "12b", "E"),
        (None, None, None),
        ("H Minor", None, None),
    ],
)
def test_rekordbox_tonality(key: str | None, camelot: str | None, expected: str | None) -> None:
    assert rekordbox_tonality(key, camelot) == expected


def test_write_back_handles_quotes_and_raw_brackets_in_attributes(tmp_path: Path) -> None:
    source = write(
        tmp_path,
        LIBRARY.replace('Name="Strobe"', "Name='Strobe \"> Club'", 1).replace(
            'Genre="Progressive House"', 'Genre="House"', 1
        ),
    )
    dest = tmp_path / "out.xml"
    write_back(source, [matched("1", genre='Deep "Tech" & <House>')], dest)
    after = attributes(dest, "1")
    assert after["Name"] == 'Strobe "> Club'
    assert after["Genre"] == 'Deep "Tech" & <House>'
    assert "Name='Strobe \"> Club'" in dest.read_text()  # untouched attributes keep their bytes


def test_a_track_without_tags_is_named_after_its_file(tmp_path: Path) -> None:
    library = tmp_path / "untagged.xml"
    library.write_text(
        '<?xml version="1.0" encoding="UTF-8"?><DJ_PLAYLISTS Version="1.0.0"><COLLECTION>'
        '<TRACK TrackID="1" Name="" Artist="" Location="file://localhost/D:/DJ/'
        'Velvet%20Engines%20-%20Energy%20(Original%20Mix).wav"/></COLLECTION><PLAYLISTS>'
        '<NODE Type="0" Name="ROOT"><NODE Type="1" Name="P" KeyType="0">'
        '<TRACK Key="1"/></NODE></NODE></PLAYLISTS></DJ_PLAYLISTS>',
        encoding="utf-8",
    )
    (track,) = read_library(library).playlist("P").entries
    assert (track.name, track.artist) == ("Velvet Engines - Energy (Original Mix)", "")
