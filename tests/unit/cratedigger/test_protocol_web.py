"""The website source: requests, and reading real search and track pages' __NEXT_DATA__."""

from __future__ import annotations

from typing import Any

import orjson
import pytest

from cratedigger.errors import ParseError
from cratedigger.models import Candidate, LocalTrack, Request, Response
from cratedigger.protocol.base import Source
from cratedigger.protocol.nextdata import extract_next_data
from cratedigger.protocol.web import WebSource, camelot
from cratedigger.scoring import prepare, rank
from tests.support import recording

SOURCE = WebSource()
SEARCH = SOURCE.search_request("noisia")
PAGE = Request("GET", "/track/purpose/6389004", kind="page")

# Every row of web-search-noisia.html, read off the recording: id, name, mix, artists,
# remixers, bpm, key, camelot (from the key), genre, label, release, date, isrc, length.
DNB = "Drum & Bass"
VISION = "Vision Recordings"
OUTER = "Outer Edges (Noisia Remixes)"
OUTER_LIVE = "Outer Edges x Live"
EDGES = "(Noisia's 'Outer Edges' Remix)"
N = ("Noisia",)
NOISIA_ROWS = [
    (14388878, f"Diplodocus {EDGES} (Live)", "Original Mix", N, N, 89, "A# Minor", "3A",
     DNB, VISION, OUTER_LIVE, "2020-10-21", "UKACT2032018", 182989),
    (14388908, f"Voodoo {EDGES} (Live)", "Original Mix", N, N, 89, "A# Minor", "3A",
     DNB, VISION, OUTER_LIVE, "2020-10-21", "UKACT2032033", 102792),
    (14388884, f"Tommy's Theme {EDGES} (Live)", "Original Mix", N, N, 150, "E Major", "12B",
     DNB, VISION, OUTER_LIVE, "2020-10-21", "UKACT2032021", 168109),
    (9393355, f"Diplodocus {EDGES}", "Original Mix", N, (), 86, "A Minor", "8A",
     DNB, VISION, OUTER, "2017-06-09", "UKACT1713683", 186976),
    (9393352, f"Voodoo {EDGES}", "Original Mix", N, (), 86, "F Major", "7B",
     DNB, VISION, OUTER, "2017-06-09", "UKACT1713680", 273488),
    (1679775, "Crystalline feat. Noisia", "Original Mix", ("Hybris", "Noisia"), (), 86,
     "E Minor", "9A", DNB, "Invisible", "Invisible 003 EP", "2011-02-14", "NLCK41006262",
     312588),
    (12964650, "Crevice feat. Noisia", "Original Mix", ("Phace", "Noisia"), (), 86, "B Minor",
     "10A", DNB, "Subtitles Music", "Psycho", "2007-05-07", "NOESZ0700025", 425293),
    (9393356, f"Surfaceless {EDGES}", "Original Mix", N, (), 80, "Bb Major", "6B",
     "Breaks / Breakbeat / UK Bass", VISION, OUTER, "2017-06-09", "UKACT1713684", 160541),
    (9393353, f"Tommy's Theme {EDGES}", "Original Mix", N, (), 75, "E Major", "12B",
     "Dubstep", VISION, OUTER, "2017-06-09", "UKACT1713681", 266511),
    (1820366, "Contact feat. Noisia", "Noisia Remix", ("Foreign Beggars",), N, 86, "C Minor",
     "5A", "Trap / Wave", "Dented Records", "Contact", "2011-01-01", "GBQXM0900069", 347193),
    (3151019, "Let's Go (feat. Noisia)", "Original Mix", ("Korn", "Noisia"), (), 125,
     "F Major", "7B", "Dance / Electro Pop", "Roadrunner Records", "The Path of Totality",
     "2011-11-30", "NLA321191837", 160520),
    (12964644, "The Feed feat. Noisia", "Original Mix", ("Phace", "Noisia"), (), 86,
     "A Minor", "8A", DNB, "Subtitles Music", "Psycho", "2007-05-07", "NOESZ0700019", 382880),
    (10789227, "Asteroids", "Noisia Remix", ("Prolix", "Noisia"), N, 86, "E Major", "12B",
     DNB, VISION, "Asteroids (Noisia Remix)", "2018-07-11", "UKACT1830059", 252558),
    (14388882, "Voodoo (Live)", "Original Mix", N, N, 140, "F Minor", "4A",
     DNB, VISION, OUTER_LIVE, "2020-10-21", "UKACT2032020", 68582),
    (14388916, f"Dead Limit {EDGES} x Dead Limit (Live)", "Original Mix", N, (), 89,
     "F# Minor", "11A", DNB, VISION, OUTER_LIVE, "2020-10-21", "NLCK41075889", 280243),
]  # fmt: skip

PURPOSE = Candidate(
    beatport_id=6389004,
    name="Purpose",
    mix_name="Original Mix",
    artists=("Noisia",),
    remixers=(),
    slug="purpose",
    bpm=86,
    key="F Major",
    camelot="7B",
    genre="Drum & Bass",
    sub_genre=None,
    label="Vision Recordings",
    release="Purpose",
    release_date="2014-06-30",
    isrc="USQY51531019",
    length_ms=290319,
    complete=True,
)


def _search_page() -> bytes:
    return recording("web-search-noisia.html").read_bytes()


def _next_data() -> dict[str, Any]:
    data: dict[str, Any] = orjson.loads(
        recording("web-track-page-next-data-6389004.json").read_bytes()
    )
    return data


def _html(next_data: object) -> bytes:
    """A track page as the website serves it: markup, other scripts, then __NEXT_DATA__."""
    head = b'<!DOCTYPE html><html><head><script src="/_next/static/main.js"></script></head>'
    body = b'<body><div id="__next"><h1>Purpose</h1></div><script id="__NEXT_DATA__" '
    script = b'type="application/json">' + orjson.dumps(next_data) + b"</script>"
    return head + body + script + b"<script>window.x = 1</script></body></html>"


def test_it_is_a_source() -> None:
    source: Source = SOURCE
    assert source.name == "web"


def test_requests() -> None:
    assert SOURCE.search_request("noisia purpose") == Request(
        "GET", "/search/tracks", params=(("q", "noisia purpose"),), query="noisia purpose"
    )
    assert SOURCE.detail_request(PURPOSE) == PAGE
    bare = Candidate(6389004, "Purpose", "Original Mix", ("Noisia",), complete=False)
    assert SOURCE.detail_request(bare).path == "/track/track/6389004"


def test_search_page_gives_every_row() -> None:
    candidates = SOURCE.parse(SEARCH, Response(200, _search_page()))
    expected = [
        Candidate(i, n, m, a, r, "", bpm, key, cam, genre, None, label, rel, date, isrc, ms, False)
        for i, n, m, a, r, bpm, key, cam, genre, label, rel, date, isrc, ms in NOISIA_ROWS
    ]
    assert candidates == expected


def test_search_rows_feed_scoring() -> None:
    # The version sits in the website's track name; scoring must still tell them apart.
    candidates = SOURCE.parse(SEARCH, Response(200, _search_page()))
    local = LocalTrack("1", "Diplodocus (Noisia's Outer Edges Remix)", "Noisia")
    (best, score), (_, runner_up) = rank(prepare(local), candidates)[:2]
    assert best.beatport_id == 9393355
    assert score.total == 100.0 and runner_up.total < 75.0


def test_a_mix_repeated_in_the_track_name_is_dropped() -> None:
    page = extract_next_data(_search_page())
    row = page["props"]["pageProps"]["dehydratedState"]["queries"][0]["state"]["data"]
    row["tracks"]["data"] = [dict(row["tracks"]["data"][12], track_name="Asteroids (Noisia Remix)")]
    (candidate,) = SOURCE.parse(SEARCH, Response(200, _html(page)))
    assert (candidate.name, candidate.mix_name) == ("Asteroids", "Noisia Remix")


def test_track_page_gives_a_complete_candidate() -> None:
    assert SOURCE.parse(PAGE, Response(200, _html(_next_data()))) == [PURPOSE]


def test_track_page_from_either_place() -> None:
    only_query = _next_data()
    del only_query["props"]["pageProps"]["track"]
    only_props = _next_data()
    only_props["props"]["pageProps"]["dehydratedState"]["queries"] = []
    for data in (only_query, only_props):
        assert SOURCE.parse(PAGE, Response(200, _html(data))) == [PURPOSE]


def _broken_pages() -> dict[str, tuple[Request, bytes, str]]:
    page = _search_page()
    cut = page.index(b'"tracks"')
    no_tracks = extract_next_data(page)
    for query in no_tracks["props"]["pageProps"]["dehydratedState"]["queries"]:
        del query["state"]["data"]["tracks"]
    bad_row = extract_next_data(page)
    bad_row["props"]["pageProps"]["dehydratedState"]["queries"][0]["state"]["data"]["tracks"][
        "data"
    ][3].pop("track_id")
    neither = _next_data()
    del neither["props"]["pageProps"]["track"]
    neither["props"]["pageProps"]["dehydratedState"]["queries"] = []
    return {
        "no-next-data": (SEARCH, b"<html><body>Access denied</body></html>", "no __NEXT_DATA__"),
        "truncated": (SEARCH, page[:cut], "not closed"),
        "garbled-json": (SEARCH, page[:cut] + b"</script>", "not JSON"),
        "no-props": (SEARCH, _html({"page": "/search"}), "props is not an object"),
        "no-tracks": (SEARCH, _html(no_tracks), "no tracks result"),
        "row-without-id": (SEARCH, _html(bad_row), "a track without 'track_id'"),
        "page-without-track": (PAGE, _html(neither), r'no \["track-6389004"\] query'),
        "token-request": (Request("POST", "/auth/o/token/", kind="token"), page, "cannot parse"),
    }


@pytest.mark.parametrize("case", list(_broken_pages()))
def test_broken_pages_raise_parse_error(case: str) -> None:
    request, body, message = _broken_pages()[case]
    with pytest.raises(ParseError, match=message) as raised:
        SOURCE.parse(request, Response(200, body))
    assert raised.value.target == request.target()


def test_camelot_covers_the_24_keys_in_both_spellings() -> None:
    sharps = ("C", "C#", "D", "D#", "E", "F", "F#", "G", "G#", "A", "A#", "B")
    flats = ("C", "Db", "D", "Eb", "E", "F", "Gb", "G", "Ab", "A", "Bb", "B")
    for chord, letter in (("Minor", "A"), ("Major", "B")):
        codes = [camelot(f"{tonic} {chord}") for tonic in sharps]
        assert codes == [camelot(f"{tonic} {chord}") for tonic in flats]
        assert sorted(codes, key=lambda c: int(str(c)[:-1])) == [
            f"{n}{letter}" for n in range(1, 13)
        ]
    # Relative keys share a number: A minor is 8A, C major 8B (the wheel's anchor).
    assert (camelot("A Minor"), camelot("C Major"), camelot("Ab Minor")) == ("8A", "8B", "1A")
    assert camelot(None) is None
    assert camelot("H Dorian") is None
