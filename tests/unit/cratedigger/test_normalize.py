"""Text folding, artist credits and title splitting, on the noise real libraries carry."""

from __future__ import annotations

import unicodedata

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cratedigger.models import Candidate, LocalTrack
from cratedigger.normalize import (
    ORIGINAL_MIX,
    Normalized,
    fold,
    lead_act,
    normalize_candidate,
    normalize_local,
    remixers_from_mix,
    split_artists,
    split_title,
)


@pytest.mark.parametrize(
    ("raw", "folded"),
    [
        ("DEADMAU5", "deadmau5"),
        ("Beyoncé", "beyonce"),
        ("Ólafur Arnalds", "olafur arnalds"),
        ("Røyksopp", "royksopp"),
        ("Straße", "strasse"),
        ("Æther", "aether"),
        ("Đorđe Balašević", "dorde balasevic"),
        ("Łukasz", "lukasz"),
        ("Ｆｕｌｌｗｉｄｔｈ！", "fullwidth"),
        ("Noisia’s “Outer Edges”", "noisias outer edges"),
        ("Rock – n – Roll", "rock n roll"),
        ("  lots   of\tspace\n", "lots of space"),
        ("A.D.H.S.", "a d h s"),
        ("Don't Stop", "dont stop"),
        ("Кино", "кино"),
        ("ЙОГА", "йога"),
        ("ガガガSP", "ガガガsp"),
        ("坂本龍一・細野晴臣", "坂本龍一 細野晴臣"),
    ],
)
def test_fold(raw: str, folded: str) -> None:
    assert fold(raw) == folded


def test_fold_keeps_marks_that_spell_non_latin_letters() -> None:
    # NFKD splits "й" and "ガ" into a base and a mark; dropping the mark would change the letter.
    assert fold("й") == "й"
    assert fold("ガ") == "ガ"
    assert fold("Ἀθῆναι") == "ἀθῆναι"


@pytest.mark.parametrize(
    ("credit", "main", "featured"),
    [
        ("A feat. B", ("a",), ("b",)),
        ("A ft. B", ("a",), ("b",)),
        ("A Feat B", ("a",), ("b",)),
        ("A featuring B", ("a",), ("b",)),
        ("A (feat. B & C)", ("a",), ("b", "c")),
        ("A & B", ("a", "b"), ()),
        ("A, B", ("a", "b"), ()),
        ("A and B", ("a", "b"), ()),
        ("A x B", ("a", "b"), ()),
        ("A vs. B", ("a", "b"), ()),
        ("A vs B", ("a", "b"), ()),
        ("X-Press 2", ("x press 2",), ()),
        ("Daft Punk", ("daft punk",), ()),
        ("The Chemical Brothers", ("chemical brothers",), ()),
        ("Sandy Rivera & Sandy Rivera", ("sandy rivera",), ()),
        ("", (), ()),
    ],
)
def test_split_artists(credit: str, main: tuple[str, ...], featured: tuple[str, ...]) -> None:
    assert split_artists(credit) == (main, featured)


def test_an_ampersand_act_splits_the_same_on_both_sides() -> None:
    # "Above & Beyond" is split like a collaboration, but identically everywhere.
    assert split_artists("Above & Beyond")[0] == split_artists("Above and Beyond")[0]


def test_lead_act_keeps_ampersand_acts_whole() -> None:
    assert lead_act("Above & Beyond, Richard Bedford") == "above beyond"
    assert lead_act("Chase & Status feat. Plan B") == "chase status"
    assert lead_act("deadmau5 x Kaskade") == "deadmau5"
    assert lead_act("") == ""


@pytest.mark.parametrize(
    ("title", "name", "versions", "featured"),
    [
        ("Strobe (Original Mix)", "strobe", ("Original Mix",), ()),
        ("Strobe [Extended Mix]", "strobe", ("Extended Mix",), ()),
        ("Strobe - Extended Mix", "strobe", ("Extended Mix",), ()),
        ("Strobe – Radio Edit", "strobe", ("Radio Edit",), ()),
        ("Name (feat. X)", "name", (), ("x",)),
        ("Name feat. X & Y", "name", (), ("x", "y")),
        ("Name (X Remix)", "name", ("X Remix",), ()),
        ("Name (feat. X) [Y Remix]", "name", ("Y Remix",), ("x",)),
        ("Song (Part 2)", "song part 2", (), ()),
        ("Song - Part 2", "song part 2", (), ()),
        ("Love & Hate", "love and hate", (), ()),
        ("Let's Go (feat. Noisia)", "lets go", (), ("noisia",)),
        (
            "Diplodocus (Noisia's 'Outer Edges' Remix) (Live)",
            "diplodocus",
            ("Noisia's 'Outer Edges' Remix", "Live"),
            (),
        ),
    ],
)
def test_split_title(
    title: str, name: str, versions: tuple[str, ...], featured: tuple[str, ...]
) -> None:
    parts = split_title(title)
    assert (parts.name, parts.versions, parts.featured) == (name, versions, featured)


@pytest.mark.parametrize(
    ("mix", "remixers"),
    [
        ("X Remix", ("x",)),
        ("Layton Giordani Extended Remix", ("layton giordani",)),
        ("Noisia's 'Outer Edges' Remix", ("noisia",)),
        ("A & B Remix", ("a", "b")),
        ("Purple Disco Machine Edit", ("purple disco machine",)),
        ("Original Mix", ()),
        ("Extended Mix", ()),
        ("Radio Edit", ()),
        ("Club Mix", ()),
        ("Dub", ()),
        ("Live", ()),
        ("2024 Remaster", ()),
    ],
)
def test_remixers_from_mix(mix: str, remixers: tuple[str, ...]) -> None:
    assert remixers_from_mix(mix) == remixers


def _local(name: str, artist: str = "Artist", mix: str = "", remixer: str = "") -> Normalized:
    return normalize_local(LocalTrack("1", name, artist, mix=mix, remixer=remixer))


def test_an_empty_mix_means_original_mix() -> None:
    assert _local("Strobe").mix == ORIGINAL_MIX
    assert _local("Strobe", mix="Original").mix == ORIGINAL_MIX
    assert _local("Strobe (Original Mix)").mix == ORIGINAL_MIX
    assert _local("Strobe", mix="Extended").mix == "extended mix"


def test_local_mix_from_attribute_or_title_is_the_same() -> None:
    from_attribute = _local("Strobe", "deadmau5", mix="Victor Ruiz Remix")
    from_title = _local("Strobe (Victor Ruiz Remix)", "deadmau5")
    expected = Normalized(
        "strobe", "victor ruiz remix", ("deadmau5",), ("victor ruiz",), lead="deadmau5"
    )
    assert from_attribute == from_title == expected


def test_a_repeated_mix_is_not_doubled() -> None:
    assert _local("Strobe (Extended Mix)", mix="Extended Mix").mix == "extended mix"


def test_the_mix_attribute_wins_over_an_original_mix_in_the_title() -> None:
    assert _local("Strobe (Original Mix)", mix="Extended Mix").mix == "extended mix"


def test_remixer_attribute_alone_makes_a_remix() -> None:
    normalized = _local("Strobe", "deadmau5", remixer="Victor Ruiz")
    assert (normalized.mix, normalized.remixers) == ("victor ruiz remix", ("victor ruiz",))


def test_featured_artists_from_credit_and_title_are_collected() -> None:
    normalized = _local("Sun & Moon (feat. Richard Bedford)", "Above & Beyond ft. Zoë Johnston")
    assert normalized.artists == ("above", "beyond")
    assert normalized.featured == ("zoe johnston", "richard bedford")
    assert normalized.name == "sun and moon"
    assert normalized.lead == "above beyond"


def test_artist_and_title_in_the_name_when_the_artist_is_empty() -> None:
    normalized = _local("deadmau5 - Strobe (Extended Mix)", "")
    assert (normalized.artists, normalized.name, normalized.mix) == (
        ("deadmau5",),
        "strobe",
        "extended mix",
    )
    # A dash that only introduces a version is not an "Artist - Title" name.
    assert _local("Strobe - Extended Mix", "").artists == ()


def test_candidate_version_in_the_name_stands_in_for_original_mix() -> None:
    # Beatport's website lists some remixes as "Name (X Remix)" with mix "Original Mix".
    candidate = Candidate(
        9393355, "Diplodocus (Noisia's 'Outer Edges' Remix)", "Original Mix", ("Noisia",)
    )
    normalized = normalize_candidate(candidate)
    assert normalized == Normalized(
        "diplodocus", "noisias outer edges remix", ("noisia",), ("noisia",), (), "noisia"
    )


def test_candidate_credits_and_featured_artists() -> None:
    candidate = Candidate(
        1820366, "Contact feat. Noisia", "Noisia Remix", ("Foreign Beggars",), ("Noisia",)
    )
    normalized = normalize_candidate(candidate)
    assert normalized.name == "contact"
    assert normalized.artists == ("foreign beggars",)
    assert normalized.featured == ("noisia",)
    assert normalized.remixers == ("noisia",)
    assert normalized.mix == "noisia remix"


def test_candidate_remixers_list_wins_over_the_mix_text() -> None:
    candidate = Candidate(1, "Strobe", "Extended Remix", ("deadmau5",), ("Layton Giordani",))
    assert normalize_candidate(candidate).remixers == ("layton giordani",)


@given(st.text(max_size=40))
def test_fold_is_idempotent_composed_and_without_punctuation(text: str) -> None:
    folded = fold(text)
    assert fold(folded) == folded
    assert unicodedata.is_normalized("NFC", folded)
    assert folded == folded.strip() and "  " not in folded
    assert not any(char in folded for char in "()[]{}.,;:!?&'\"-_/")


@given(st.text(max_size=40), st.text(max_size=40), st.text(max_size=20))
def test_normalizing_any_tags_never_fails(name: str, artist: str, mix: str) -> None:
    normalized = normalize_local(LocalTrack("1", name, artist, mix=mix))
    assert normalized.mix
    assert all(normalized.artists)
