"""The demo playlist: Rekordbox XML structure, truth file, noise, determinism."""

from __future__ import annotations

import collections
import json
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from mockserver.catalog import Catalog, build_catalog
from mockserver.errors import SpecError
from mockserver.playlist import (
    NOISE_KINDS,
    TRACK_ATTRIBUTES,
    DemoPlaylist,
    generate_playlist,
    write_demo_playlist,
    write_rekordbox_xml,
    write_truth,
)
from mockserver.search import fold

# Noise that leaves the words of Name and Artist as they are (up to case and accents).
WORD_KEEPING = {"bpm_decimals", "tonality_alt", "tonality_empty", "case", "lost_diacritics"}


@pytest.fixture(scope="module")
def playlist(catalog_5k: Catalog) -> DemoPlaylist:
    return generate_playlist(catalog_5k, 500, 3)


@pytest.fixture(scope="module")
def written(playlist: DemoPlaylist, tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("demo")
    write_rekordbox_xml(playlist, folder / "demo.xml")
    write_truth(playlist, folder / "truth.json")
    return folder


def node(parent: ET.Element, name: str) -> ET.Element:
    found = [n for n in parent.findall("NODE") if n.get("Name") == name]
    assert len(found) == 1, name
    return found[0]


def test_xml_has_rekordbox_structure(written: Path, playlist: DemoPlaylist) -> None:
    text = (written / "demo.xml").read_bytes()
    assert text.startswith(b'<?xml version="1.0" encoding="UTF-8"?>\n')
    root = ET.fromstring(text)
    assert root.tag == "DJ_PLAYLISTS" and root.get("Version") == "1.0.0"
    product = root.find("PRODUCT")
    assert product is not None and product.attrib == {
        "Name": "rekordbox",
        "Version": "6.8.5",
        "Company": "AlphaTheta",
    }
    collection = root.find("COLLECTION")
    assert collection is not None
    tracks = collection.findall("TRACK")
    assert collection.get("Entries") == str(len(tracks)) == str(len(playlist.collection))
    expected = [name for name, _ in TRACK_ATTRIBUTES]
    assert all(list(t.attrib) == expected for t in tracks)
    assert len({t.get("TrackID") for t in tracks}) == len(tracks)
    assert len({t.get("Location") for t in tracks}) == len(tracks)
    assert all(t.get("Location", "").startswith("file://localhost/Users/dj/Music/") for t in tracks)
    tempos = [tempo for t in tracks for tempo in t.findall("TEMPO")]
    assert tempos and all(tempo.get("Metro") == "4/4" for tempo in tempos)


def test_playlist_tree_and_entries(written: Path, playlist: DemoPlaylist) -> None:
    root = ET.parse(written / "demo.xml").getroot()
    by_id = {t.get("TrackID"): t for t in root.iter("TRACK") if t.get("TrackID")}
    locations = {t.get("Location") for t in by_id.values()}
    playlists = root.find("PLAYLISTS")
    assert playlists is not None
    (top,) = playlists.findall("NODE")
    assert (top.get("Type"), top.get("Name")) == ("0", "ROOT")
    for folder in [top, *top.iter("NODE")]:
        if folder.get("Type") == "0":
            assert folder.get("Count") == str(len(folder.findall("NODE")))
    sets = node(top, "Sets")
    demo = node(sets, "Demo")
    assert (demo.get("Type"), demo.get("KeyType")) == ("1", "0")
    keys = [t.get("Key") for t in demo.findall("TRACK")]
    assert demo.get("Entries") == str(len(keys)) == "500"
    assert keys == [str(e.track_id) for e in playlist.entries]
    assert all(k in by_id for k in keys)
    warmup = node(node(sets, "Archive"), "Warm-up 2019")
    assert all(t.get("Key") in by_id for t in warmup.findall("TRACK"))
    imported = node(top, "Imported")
    assert imported.get("KeyType") == "1"
    by_location = [t.get("Key") for t in imported.findall("TRACK")]
    assert by_location and all(k in locations for k in by_location)
    assert playlist.path == "Sets/Demo"


def test_text_is_escaped_and_utf8(written: Path, playlist: DemoPlaylist) -> None:
    raw = (written / "demo.xml").read_bytes()
    assert b"&#" not in raw
    root = ET.fromstring(raw)
    parsed = {t.get("TrackID"): t for t in root.iter("TRACK") if t.get("TrackID")}
    for entry in playlist.collection:
        track = parsed[str(entry.track_id)]
        assert (track.get("Name"), track.get("Artist")) == (entry.name, entry.artist)
        assert (track.get("Mix"), track.get("Remixer")) == (entry.mix, entry.remixer)
    assert any("&" in e.artist + e.name + e.remixer for e in playlist.collection)
    assert any(not (e.artist + e.name).isascii() for e in playlist.collection)


def test_truth_file(written: Path, playlist: DemoPlaylist, catalog_5k: Catalog) -> None:
    truth = json.loads((written / "truth.json").read_text(encoding="utf-8"))
    assert list(truth) == ["seed", "catalog_size", "playlist", "tracks"]
    assert (truth["seed"], truth["catalog_size"], truth["playlist"]) == (3, 5_000, "Sets/Demo")
    assert list(truth["tracks"]) == [str(e.track_id) for e in playlist.entries]
    ids = list(truth["tracks"].values())
    assert ids.count(None) == 50
    assert all(catalog_5k.track(i) is not None for i in ids if i is not None)
    assert len({i for i in ids if i is not None}) == ids.count(None) * 9


def test_missing_tracks_are_really_missing(playlist: DemoPlaylist, catalog_5k: Catalog) -> None:
    clean = [
        e
        for e in playlist.entries
        if e.truth is None and set(e.noise) <= WORD_KEEPING and e.mix and e.remixer == ""
    ]
    assert len(clean) > 10
    for entry in clean:
        artists = {fold(a) for a in entry.artist.split(", ")}
        same = catalog_5k.find_tracks(name=entry.name)
        assert not any(artists & {fold(a) for a in t.artist_names} for t in same)


def test_every_noise_kind_occurs(playlist: DemoPlaylist) -> None:
    counts = collections.Counter(kind for e in playlist.entries for kind in e.noise)
    print({kind: counts[kind] for kind in NOISE_KINDS})
    assert set(NOISE_KINDS) <= set(counts)
    assert sum(1 for e in playlist.entries if not e.noise) > 50  # some tracks are clean


def test_noise_never_hides_the_version(playlist: DemoPlaylist, catalog_5k: Catalog) -> None:
    for entry in playlist.entries:
        track = catalog_5k.track(entry.truth) if entry.truth else None
        if track is None:
            continue
        name_and_mix = fold(f"{entry.name} {entry.mix}")
        if track.mix_name != "Original Mix":
            assert fold(track.mix_name) in name_and_mix
        if "original_dropped" in entry.noise:
            assert "original" not in name_and_mix
        if "remixer_only_in_title" in entry.noise:
            assert entry.remixer == "" and fold(track.mix_name) in fold(entry.name)
        if "typo" not in entry.noise:
            assert fold(track.name) in fold(entry.name)
        if not {"feat_in_title", "artist_order"} & set(entry.noise):
            assert fold(entry.artist).startswith(fold(track.artist_names[0]))
        assert abs(float(entry.bpm) - track.bpm) < 0.1


def test_same_seed_gives_identical_files(tmp_path: Path) -> None:
    for name in ("a", "b", "c"):
        seed = 11 if name != "c" else 12
        write_demo_playlist(
            seed=seed,
            catalog_size=2_000,
            tracks=120,
            out=tmp_path / name / "demo.xml",
            truth=tmp_path / name / "truth.json",
        )
    for file in ("demo.xml", "truth.json"):
        assert (tmp_path / "a" / file).read_bytes() == (tmp_path / "b" / file).read_bytes()
        assert (tmp_path / "a" / file).read_bytes() != (tmp_path / "c" / file).read_bytes()
    assert sorted(p.name for p in (tmp_path / "a").iterdir()) == ["demo.xml", "truth.json"]


def test_demo_playlist_matches_the_served_catalog(tmp_path: Path) -> None:
    write_demo_playlist(
        seed=4, catalog_size=1_000, tracks=40, out=tmp_path / "d.xml", truth=tmp_path / "t.json"
    )
    truth = json.loads((tmp_path / "t.json").read_text(encoding="utf-8"))
    catalog = build_catalog(truth["seed"], truth["catalog_size"])
    ids = [i for i in truth["tracks"].values() if i is not None]
    assert len(ids) == 36
    assert all(catalog.track(i) is not None for i in ids)


def test_impossible_sizes_are_refused(catalog_5k: Catalog) -> None:
    with pytest.raises(SpecError):
        generate_playlist(catalog_5k, 0, 1)
    with pytest.raises(SpecError):
        generate_playlist(build_catalog(1, 20), 100, 1)
