"""The synthetic catalog: determinism, Beatport-like values, lookups and the track filters."""

from __future__ import annotations

import collections
import hashlib
import json
import os
import re
import subprocess
import sys
from datetime import date

import pytest

from mockserver import vocab
from mockserver.catalog import MAX_SIZE, MIN_SIZE, Catalog, build_catalog, slugify
from mockserver.errors import SpecError
from mockserver.search import fold
from tests.support import REPO, recording

SLUG = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*$")
CATALOG_NUMBER = re.compile(r"^[A-Z]{3}\d*\d{3}[A-Z]*$")
ISRC = re.compile(r"^[A-Z]{2}[A-Z0-9]{3}\d{7}$")
FIXED_MIXES = {t for t, *_ in vocab.MIX_KINDS.values() if "{r}" not in t}

DIGEST_SCRIPT = """
import hashlib, sys
from mockserver.catalog import build_catalog
c = build_catalog(int(sys.argv[1]), int(sys.argv[2]))
h = hashlib.sha256()
for t in c.tracks:
    h.update(repr((t.id, t.name, t.mix_name, t.artist_names, t.isrc, t.bpm, t.key.id,
                   t.length_ms, t.image_uuid, t.release.id, t.release.upc)).encode())
print(h.hexdigest())
"""


def digest(catalog: Catalog) -> str:
    h = hashlib.sha256()
    for t in catalog.tracks:
        fields = (t.id, t.name, t.mix_name, t.artist_names, t.isrc, t.bpm, t.key.id)
        more = (t.length_ms, t.image_uuid, t.release.id, t.release.upc)
        h.update(repr(fields + more).encode())
    return h.hexdigest()


def test_same_seed_and_size_give_the_same_catalog() -> None:
    first, second = build_catalog(5, 2_000), build_catalog(5, 2_000)
    assert first.tracks == second.tracks
    assert first.releases == second.releases
    assert digest(build_catalog(6, 2_000)) != digest(first)


def test_catalog_does_not_depend_on_string_hash_seeds() -> None:
    expected = digest(build_catalog(9, 500))
    for hash_seed in ("1", "4242"):
        env = {**os.environ, "PYTHONHASHSEED": hash_seed, "PYTHONPATH": str(REPO)}
        out = subprocess.run(
            [sys.executable, "-c", DIGEST_SCRIPT, "9", "500"],
            env=env,
            capture_output=True,
            text=True,
            check=True,
            cwd=REPO,
        )
        assert out.stdout.strip() == expected


@pytest.mark.parametrize("size", [MIN_SIZE, 11, 137, 3_001])
def test_catalog_has_exactly_the_requested_size(size: int) -> None:
    catalog = build_catalog(2, size)
    assert catalog.size == len(catalog.tracks) == size
    assert sum(len(r.track_ids) for r in catalog.releases) == size


@pytest.mark.parametrize("size", [0, MIN_SIZE - 1, MAX_SIZE + 1])
def test_sizes_out_of_range_are_refused(size: int) -> None:
    with pytest.raises(SpecError, match="catalog size"):
        build_catalog(1, size)


def test_ids_are_beatport_like_unique_and_ordered(catalog_20k: Catalog) -> None:
    track_ids = [t.id for t in catalog_20k.tracks]
    release_ids = [r.id for r in catalog_20k.releases]
    assert track_ids == sorted(set(track_ids))
    assert release_ids == sorted(set(release_ids))
    assert all(1_000_000 <= i < 100_000_000 for i in track_ids)
    assert all(100_000 <= i < 10_000_000 for i in release_ids)
    assert len({a.id for a in catalog_20k.artists}) == len(catalog_20k.artists)
    assert len({lab.id for lab in catalog_20k.labels}) == len(catalog_20k.labels)


def test_lookups_by_id(catalog_20k: Catalog) -> None:
    track = catalog_20k.tracks[1234]
    assert catalog_20k.track(track.id) is track
    assert catalog_20k.release(track.release.id) is track.release
    assert catalog_20k.track(track.id + 10**9) is None
    assert catalog_20k.track(0) is None
    assert catalog_20k.release(1) is None


def test_releases_hold_their_tracks_in_order(catalog_20k: Catalog) -> None:
    first, last = date(2005, 1, 1).isoformat(), date(2026, 12, 31).isoformat()
    for release in catalog_20k.releases:
        tracks = [catalog_20k.track(i) for i in release.track_ids]
        assert 1 <= len(tracks) <= 6
        assert [t.number for t in tracks if t] == list(range(1, len(tracks) + 1))
        assert all(t is not None and t.release is release for t in tracks)
        assert all(t is not None and t.publish_date == release.date for t in tracks)
        assert first <= release.date <= last
        assert CATALOG_NUMBER.match(release.catalog_number), release.catalog_number
        assert SLUG.match(release.slug)
        assert release.label in catalog_20k.labels


def test_upcs_are_unique_with_valid_check_digits(catalog_20k: Catalog) -> None:
    upcs = [r.upc for r in catalog_20k.releases]
    assert len(set(upcs)) == len(upcs)
    for upc in upcs:
        digits = [int(d) for d in upc]
        assert len(digits) == 12
        assert (3 * sum(digits[0:11:2]) + sum(digits[1:11:2]) + digits[11]) % 10 == 0


def test_track_values_are_plausible(catalog_20k: Catalog) -> None:
    isrcs = [t.isrc for t in catalog_20k.tracks]
    assert len(set(isrcs)) == len(isrcs)
    for track in catalog_20k.tracks:
        assert ISRC.match(track.isrc), track.isrc
        assert track.genre.bpm_min <= track.bpm <= track.genre.bpm_max
        assert track.key in vocab.KEYS
        assert track.genre in vocab.GENRES
        assert track.sub_genre is None or track.sub_genre.genre_id == track.genre.id
        assert 120_000 <= track.length_ms <= 600_000
        assert SLUG.match(track.slug) and track.slug == slugify(track.name)
        assert all(SLUG.match(a.slug) for a in track.artists + track.remixers)


def test_mix_names_and_remixers_agree(catalog_20k: Catalog) -> None:
    mixes: collections.Counter[str] = collections.Counter()
    for track in catalog_20k.tracks:
        if track.remixers:
            (remixer,) = track.remixers
            assert track.mix_name in (f"{remixer.name} Remix", f"{remixer.name} Extended Remix")
            assert remixer not in track.artists
            mixes["remix"] += 1
        else:
            assert track.mix_name in FIXED_MIXES
            mixes[track.mix_name] += 1
    assert mixes.most_common(1)[0][0] == "Original Mix"
    assert set(mixes) == FIXED_MIXES | {"remix"}


def test_artists_name_and_mix_identify_one_track(catalog_20k: Catalog) -> None:
    keys = [
        (tuple(a.id for a in t.artists), fold(t.name), fold(t.mix_name)) for t in catalog_20k.tracks
    ]
    assert len(set(keys)) == len(keys)


def test_titles_come_in_several_versions_on_one_release(catalog_20k: Catalog) -> None:
    per_release = collections.Counter((t.release.id, t.name) for t in catalog_20k.tracks)
    assert sum(1 for n in per_release.values() if n >= 3) > 100
    # Remix packages reissue an earlier title later, by the same artists.
    by_title = collections.defaultdict(set)
    for t in catalog_20k.tracks:
        by_title[(t.artists, t.name)].add(t.release.id)
    assert sum(1 for releases in by_title.values() if len(releases) > 1) > 100


def test_names_are_varied_like_a_store(catalog_20k: Catalog) -> None:
    names = [a.name for a in catalog_20k.artists]
    assert len({fold(n) for n in names}) == len(names)
    assert sum(not n.isascii() for n in names) > 100
    assert any(re.search("[\u0400-\u04ff]", n) for n in names)  # Cyrillic
    assert any(re.search("[\u3040-\u30ff\u4e00-\u9fff]", n) for n in names)  # Japanese
    assert any(n.startswith("DJ ") for n in names)
    assert any(" & " in n for n in names)
    featured = sum(len(t.artists) > 1 for t in catalog_20k.tracks)
    assert 0.1 < featured / catalog_20k.size < 0.5
    words = collections.Counter(w for t in catalog_20k.tracks for w in fold(t.name).split())
    assert words.most_common(1)[0][1] > catalog_20k.size / 50


def test_slugs_follow_beatport() -> None:
    assert slugify("Strobe") == "strobe"
    assert slugify("Layton Giordani") == "layton-giordani"
    assert slugify("Drum & Bass") == "drum-bass"
    assert slugify("Melodic House & Techno") == "melodic-house-techno"
    assert slugify("Tommy's Theme") == "tommys-theme"
    assert slugify("Øresund Ångström") == "oresund-angstrom"
    assert slugify("Strobe (Layton Giordani Extended Remix)") == (
        "strobe-layton-giordani-extended-remix"
    )


def test_keys_follow_beatport_and_camelot() -> None:
    by_name = {k.name: k for k in vocab.KEYS}
    assert len(vocab.KEYS) == 24
    assert len({k.camelot for k in vocab.KEYS}) == 24
    assert by_name["A Minor"].camelot == "8A"
    assert by_name["C Major"].camelot == "8B"
    assert by_name["F Minor"].camelot == "4A"
    assert by_name["F Major"].camelot == "7B"
    assert vocab.KEYS[0].name == "Ab Minor" and vocab.KEYS[0].camelot == "1A"
    assert set(vocab.REKORDBOX_TONALITY) == {k.id for k in vocab.KEYS}


def _objects_with(value: object, key: str) -> list[dict[str, object]]:
    found = []
    if isinstance(value, dict):
        if isinstance(value.get(key), dict):
            found.append(value[key])
        for child in value.values():
            found += _objects_with(child, key)
    elif isinstance(value, list):
        for child in value:
            found += _objects_with(child, key)
    return found


@pytest.mark.parametrize(
    "name",
    [
        "api-v4-track-19431036.json",
        "api-v4-search-tracks-strobe.json",
        "web-next-data-route-194481.json",
        "web-track-page-next-data-6389004.json",
    ],
)
def test_keys_and_genres_match_the_recordings(name: str) -> None:
    data = json.loads(recording(name).read_text(encoding="utf-8"))
    keys = {k.id: k for k in vocab.KEYS}
    genres = {g.id: g for g in vocab.GENRES}
    seen_key = seen_genre = False
    for obj in _objects_with(data, "key"):
        if "camelot_number" in obj and int(str(obj["id"])) in keys:
            key = keys[int(str(obj["id"]))]
            assert (obj["name"], obj["letter"]) == (key.name, key.letter)
            assert (obj["camelot_number"], obj["camelot_letter"]) == (
                key.camelot_number,
                key.camelot_letter,
            )
            assert (obj["is_sharp"], obj["is_flat"]) == (key.is_sharp, key.is_flat)
            seen_key = True
    for obj in _objects_with(data, "genre"):
        genre = genres.get(int(str(obj["id"])))
        if genre is not None:
            assert (obj["name"], obj["slug"]) == (genre.name, genre.slug)
            seen_genre = True
    assert seen_key and seen_genre


def test_find_tracks_filters_like_the_api(catalog_20k: Catalog) -> None:
    track = next(t for t in catalog_20k.tracks if not t.name.isascii())
    same_name = catalog_20k.find_tracks(name=fold(track.name).upper())
    assert track in same_name
    assert all(fold(t.name) == fold(track.name) for t in same_name)
    assert [t.id for t in same_name] == sorted(t.id for t in same_name)
    by_artist = catalog_20k.find_tracks(artist_name=track.artists[-1].name.lower())
    assert track in by_artist
    assert all(track.artists[-1] in t.artists for t in by_artist)
    exact = catalog_20k.find_tracks(
        name=track.name, artist_name=track.artists[0].name, mix_name=track.mix_name.upper()
    )
    assert exact == [track]
    assert catalog_20k.find_tracks(isrc=track.isrc.lower()) == [track]
    assert catalog_20k.find_tracks(name="no such track anywhere") == []
    assert len(catalog_20k.find_tracks()) == catalog_20k.size
