"""Query variants: fixed order, no duplicates, plain folded text, and good first queries."""

from __future__ import annotations

import math
import re
from collections import Counter

import pytest

from cratedigger.models import LocalTrack
from cratedigger.normalize import fold, normalize_local
from cratedigger.queries import QUERY_TEMPLATES, QueryTemplate, build_queries, render


def test_the_order_is_fixed_and_most_specific_first() -> None:
    track = LocalTrack("1", "Strobe (Victor Ruiz Remix)", "deadmau5 feat. Kaskade")
    assert build_queries(track) == (
        "deadmau5 strobe victor ruiz remix",
        "deadmau5 strobe",
        "strobe victor ruiz",
        "deadmau5 kaskade victor ruiz",
        "strobe",
    )


def test_the_mix_is_omitted_when_original() -> None:
    for name, mix in (("Strobe", ""), ("Strobe (Original Mix)", ""), ("Strobe", "Original Mix")):
        queries = build_queries(LocalTrack("1", name, "deadmau5", mix=mix))
        assert queries == ("deadmau5 strobe", "strobe", "deadmau5")


def test_a_non_original_mix_is_kept() -> None:
    queries = build_queries(LocalTrack("1", "Strobe", "deadmau5", mix="Extended Mix"))
    assert queries[0] == "deadmau5 strobe extended mix"
    assert "strobe extended mix" in queries


def test_an_ampersand_act_leads_whole() -> None:
    track = LocalTrack("1", "Sun & Moon", "Above & Beyond, Richard Bedford")
    assert build_queries(track)[:2] == (
        "above beyond richard bedford sun and moon",
        "above beyond sun and moon",
    )


@pytest.mark.parametrize(
    "track",
    [
        LocalTrack("1", "Hélène (Ólafur Arnalds Remix)", "Röyksopp & Robyn"),
        LocalTrack("2", "“Quoted” — Title [Extended Mix]", "A.D.H.S., Zoë"),
        LocalTrack("3", "Кино (Remix)", "Группа Крови"),
        LocalTrack("4", "Strobe", ""),
    ],
)
def test_queries_are_plain_folded_text_without_duplicates(track: LocalTrack) -> None:
    queries = build_queries(track)
    assert queries
    assert len(set(queries)) == len(queries)
    for query in queries:
        assert query == fold(query)
        assert re.fullmatch(r"[^\W_]+( [^\W_]+)*", query), query


def test_templates_are_data() -> None:
    normalized = normalize_local(LocalTrack("1", "Strobe (Extended Mix)", "deadmau5"))
    templates = (
        QueryTemplate("a", "{name} {first_artist}"),
        QueryTemplate("b", "{name}   {first_artist}"),
        QueryTemplate("c", "{featured}"),
        QueryTemplate("d", "{version}"),
    )
    assert render(templates, normalized) == ("strobe deadmau5", "extended mix")
    assert len(QUERY_TEMPLATES) == len({t.label for t in QUERY_TEMPLATES})


# A small store: OR semantics, words weighted by rarity, titles and credits indexed.
CATALOG = (
    ("deadmau5", "Strobe", "Original Mix"),
    ("deadmau5", "Strobe", "Layton Giordani Extended Remix"),
    ("deadmau5", "Strobe", "Victor Ruiz Remix"),
    ("deadmau5", "Ghosts 'n' Stuff", "Original Mix"),
    ("deadmau5, Kaskade", "I Remember", "Original Mix"),
    ("ANOTR", "Strobe", "Original Mix"),
    ("Strobe Lights", "Love", "Original Mix"),
    ("Above & Beyond, Richard Bedford", "Sun & Moon", "Original Mix"),
    ("Above & Beyond", "Sun in Your Eyes", "Original Mix"),
    ("Röyksopp, Robyn", "Monument", "Original Mix"),
    ("Röyksopp", "Hélène", "Ólafur Arnalds Remix"),
    ("Martin Garrix", "Animals", "Original Mix"),
    ("Martin Solveig", "Intoxicated", "Original Mix"),
    ("Noisia", "Diplodocus", "Original Mix"),
    ("Noisia", "Voodoo", "Original Mix"),
    ("Phace, Noisia", "Crevice", "Original Mix"),
    ("Various", "Love Me Tender", "Original Mix"),
    ("Sasha", "Xpander", "Original Mix"),
)


def _search(query: str, limit: int = 3) -> list[int]:
    docs = [Counter(fold(" ".join(row)).split()) for row in CATALOG]
    df = Counter(word for doc in docs for word in doc)
    weights = {word: math.log(1 + len(docs) / n) for word, n in df.items()}
    scores = [
        sum(weights.get(word, 0.0) for word in set(query.split()) if word in doc) for doc in docs
    ]
    return sorted(range(len(docs)), key=lambda i: (-scores[i], i))[:limit]


@pytest.mark.parametrize(
    ("local", "wanted"),
    [
        (LocalTrack("1", "Strobe", "Deadmau5"), 0),
        (LocalTrack("1", "Strobe (Original Mix)", "DEADMAU5"), 0),
        (LocalTrack("1", "Strobe (Victor Ruiz Remix)", "deadmau5"), 2),
        (LocalTrack("1", "Strobe", "deadmau5", remixer="Layton Giordani"), 1),
        (LocalTrack("1", "I Remember", "Kaskade & deadmau5"), 4),
        (LocalTrack("1", "Sun and Moon", "Richard Bedford, Above and Beyond"), 7),
        (LocalTrack("1", "Helene (Olafur Arnalds Remix)", "Royksopp"), 10),
        (LocalTrack("1", "Monument", "Royksopp feat. Robyn"), 9),
        (LocalTrack("1", "Crevice", "Phace ft. Noisia"), 15),
        (LocalTrack("1", "Xpandr", "Sasha"), 17),
        (LocalTrack("1", "Strobe", "ANOTR"), 5),
    ],
)
def test_the_first_query_finds_the_track_on_the_first_page(local: LocalTrack, wanted: int) -> None:
    assert wanted in _search(build_queries(local)[0])
