"""The normalisation rules for real collections' tag noise (see mockserver/corpus.py)."""

from __future__ import annotations

import pytest

from cratedigger.models import Candidate, LocalTrack
from cratedigger.normalize import normalize_local
from cratedigger.scoring import RULES, prepare, score


def _local(name: str, artist: str = "Ana", mix: str = "") -> LocalTrack:
    return LocalTrack("1", name, artist, mix=mix)


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("07. Deep (Original Mix)", "deep"),
        ("07 - Deep", "deep"),
        ("A1 Deep", "deep"),
        ("B2. Deep", "deep"),
        ("8A - Deep", "deep"),
        ("8A - 6 - Deep", "deep"),
        ("12B - 128 - Deep", "deep"),
        ("Deep (Original Mix) - 8A", "deep"),
        ("1234567_Deep_Original_Mix", "deep"),
    ],
)
def test_decorations_come_off_the_title(name: str, expected: str) -> None:
    normalized = normalize_local(_local(name))
    assert normalized.name == expected and normalized.mix == "original mix"
    assert normalized.alt_names  # the title as written stays a reading


def test_a_number_alone_is_a_title() -> None:
    assert normalize_local(_local("1998")).name == "1998"


def test_a_bracketed_label_gives_shorter_readings_that_cost_a_point() -> None:
    normalized = normalize_local(_local("Night (Original Mix) [Lighthouse Audio]"))
    assert normalized.name == "night lighthouse audio" and normalized.alt_names == ("night",)
    night = Candidate(1, "Night", "Original Mix", ("Ana",))
    assert score(prepare(_local("Night (Original Mix) [Lighthouse Audio]")), night).total == 99.55
    # A real "Love (Heart)" beats a "Love" of the same artist: every word read wins.
    local = prepare(_local("Love (Heart) (Original Mix)"))
    heart = score(local, Candidate(2, "Love (Heart)", "Original Mix", ("Ana",))).total
    love = score(local, Candidate(3, "Love", "Original Mix", ("Ana",))).total
    assert heart == 100.0 > love


def test_an_id3v1_cut_matches_the_version_it_begins() -> None:
    local = prepare(_local("Sun Heart (Ivan Greco Extended", "Daniel Jensen"))
    remix = Candidate(
        1, "Sun Heart", "Ivan Greco Extended Remix", ("Daniel Jensen",), remixers=("Ivan Greco",)
    )
    original = Candidate(2, "Sun Heart", "Original Mix", ("Daniel Jensen",))
    assert score(local, remix).total == 100.0
    assert score(local, original).total < RULES.accept


@pytest.mark.parametrize("artist", ["Various Artists", "VA", "Unknown Artist", ""])
def test_placeholder_artists_read_the_artist_from_the_title(artist: str) -> None:
    normalized = normalize_local(_local("Ana & Bo - Deep (Extended Mix)", artist))
    assert (normalized.name, normalized.artists, normalized.mix) == (
        "deep",
        ("ana", "bo"),
        "extended mix",
    )


def test_the_remixer_in_the_artist_tag_is_not_asked_of_the_original() -> None:
    normalized = normalize_local(
        _local("Sun Heart (Ivan Greco Remix)", "Daniel Jensen, Ivan Greco")
    )
    assert normalized.artists == ("daniel jensen",) and normalized.remixers == ("ivan greco",)


@pytest.mark.parametrize("artist", ["Chemical Brothers, The", "The Chemical Brothers"])
def test_the_sort_suffix_and_prefix(artist: str) -> None:
    assert normalize_local(_local("Galvanize", artist)).artists == ("chemical brothers",)


def test_file_name_underscores_and_tight_dashes() -> None:
    normalized = normalize_local(_local("Ana_-_Deep_(Original_Mix)", ""))
    assert (normalized.name, normalized.artists) == ("deep", ("ana",))
    assert normalize_local(_local("Ana Bo-Deep Night", "")).artists == ("ana bo",)
