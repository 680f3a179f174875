"""The API v4 source: its requests, and its parser against real recorded answers."""

from __future__ import annotations

from typing import Any

import orjson
import pytest

from cratedigger.errors import ParseError
from cratedigger.models import Candidate, Request, Response
from cratedigger.protocol.api import ApiSource
from cratedigger.protocol.base import Source
from tests.support import recording

SOURCE = ApiSource()
SEARCH = SOURCE.search_request("strobe")
DETAIL = Request("GET", "/v4/catalog/tracks/19431036/", kind="track", auth=True)

# Every field of every track of api-v4-search-tracks-strobe.json, read off the recording.
GIORDANI = Candidate(
    beatport_id=19431036,
    name="Strobe",
    mix_name="Layton Giordani Extended Remix",
    artists=("deadmau5",),
    remixers=("Layton Giordani",),
    slug="strobe",
    bpm=128,
    key="Ab Minor",
    camelot="1A",
    genre="Melodic House & Techno",
    sub_genre=None,
    label="mau5trap",
    release="Strobe (Layton Giordani Extended Remix)",
    release_date="2024-09-13",
    isrc="GBTDG1302861",
    length_ms=285000,
    complete=True,
)
RUIZ = Candidate(
    beatport_id=19797533,
    name="Strobe",
    mix_name="Victor Ruiz Remix",
    artists=("deadmau5",),
    remixers=("Victor Ruiz",),
    slug="strobe",
    bpm=130,
    key="Ab Minor",
    camelot="1A",
    genre="Melodic House & Techno",
    sub_genre=None,
    label="mau5trap",
    release="Strobe (2024 Remixes)",
    release_date="2024-12-13",
    isrc="GBTDG1302885",
    length_ms=386000,
    complete=True,
)
ANOTR = Candidate(
    beatport_id=7066037,
    name="Strobe",
    mix_name="Original Mix",
    artists=("ANOTR",),
    remixers=(),
    slug="strobe",
    bpm=124,
    key="B Minor",
    camelot="10A",
    genre="Deep House",
    sub_genre=None,
    label="DFTD",
    release="Strobe EP",
    release_date="2015-10-05",
    isrc="GBCPZ1508970",
    length_ms=452948,
    complete=True,
)


def _body(name: str) -> bytes:
    return recording(name).read_bytes()


def _track() -> dict[str, Any]:
    track: dict[str, Any] = orjson.loads(_body("api-v4-track-19431036.json"))
    return track


def test_it_is_a_source() -> None:
    source: Source = SOURCE
    assert source.name == "api"


def test_search_request() -> None:
    assert ApiSource(per_page=25).search_request("deadmau5 strobe") == Request(
        "GET",
        "/v4/catalog/search/",
        params=(("q", "deadmau5 strobe"), ("type", "tracks"), ("per_page", "25")),
        kind="search",
        query="deadmau5 strobe",
        auth=True,
    )
    assert SEARCH.target() == "/v4/catalog/search/?q=strobe&type=tracks&per_page=10"


def test_detail_request() -> None:
    assert SOURCE.detail_request(GIORDANI) == DETAIL


def test_search_answer_gives_every_field_of_every_track() -> None:
    candidates = SOURCE.parse(SEARCH, Response(200, _body("api-v4-search-tracks-strobe.json")))
    assert candidates == [GIORDANI, RUIZ, ANOTR]


def test_track_answer_gives_one_complete_candidate() -> None:
    body = _body("api-v4-track-19431036.json")
    assert SOURCE.parse(DETAIL, Response(200, body)) == [GIORDANI]


def test_sub_genre_and_release_date_fallback() -> None:
    track = _track()
    track["sub_genre"] = {"id": 4, "name": "Deep / Hypnotic"}
    del track["new_release_date"]
    track["publish_date"] = "2024-09-20"
    (candidate,) = SOURCE.parse(DETAIL, Response(200, orjson.dumps(track)))
    assert (candidate.sub_genre, candidate.release_date) == ("Deep / Hypnotic", "2024-09-20")


def test_optional_fields_may_be_null_or_missing() -> None:
    track = _track()
    for key in ("key", "genre", "release", "bpm", "isrc", "length_ms", "slug", "mix_name"):
        track[key] = None
    del track["remixers"]
    (candidate,) = SOURCE.parse(DETAIL, Response(200, orjson.dumps(track)))
    assert candidate == Candidate(19431036, "Strobe", "", ("deadmau5",), release_date="2024-09-13")


@pytest.mark.parametrize(
    ("request_", "body", "message"),
    [
        (SEARCH, b"<html>502 Bad Gateway</html>", "not JSON"),
        (SEARCH, b'{"tracks": [', "not JSON"),
        (SEARCH, b"", "not JSON"),
        (SEARCH, b"[]", "the body is not an object"),
        (SEARCH, b'{"results": []}', "no 'tracks'"),
        (SEARCH, b'{"tracks": {}}', "'tracks' is not a list"),
        (SEARCH, b'{"tracks": [1]}', "a track is not an object"),
        (SEARCH, b'{"tracks": [{"name": "Strobe"}]}', "a track without 'id'"),
        (SEARCH, b'{"tracks": [{"id": "1", "name": "Strobe"}]}', "a track without 'id'"),
        (SEARCH, b'{"tracks": [{"id": 1}]}', "track 1 without 'name'"),
        (DETAIL, b'{"detail": "Not found."}', "a track without 'id'"),
        (Request("GET", "/v4/my/account/", kind="account"), b"{}", "cannot parse"),
    ],
)
def test_wrong_shapes_raise_parse_error_naming_the_problem(
    request_: Request, body: bytes, message: str
) -> None:
    with pytest.raises(ParseError, match=message) as raised:
        SOURCE.parse(request_, Response(200, body))
    assert raised.value.target == request_.target()


def test_fast_path_agrees_with_the_checked_path() -> None:
    """Every well-formed row parses the same through both paths (the fast one is for speed)."""
    from cratedigger.protocol.api import _checked, _well_formed, candidate_from_track

    rows = orjson.loads(recording("api-v4-search-tracks-strobe.json").read_bytes())["tracks"]
    rows.append(orjson.loads(recording("api-v4-track-19431036.json").read_bytes()))
    for row in rows:
        assert _well_formed(row) == _checked(row, "t")
    odd = dict(rows[0], isrc=12, sub_genre={"name": "Peak Time"})
    with pytest.raises(TypeError):
        _well_formed(odd)
    assert candidate_from_track(odd, "t") == _checked(odd, "t")


def _dict_path(kind: str, body: bytes) -> list[Candidate] | str:
    """The candidates the orjson-and-dicts path reads, or the message of its ParseError."""
    from cratedigger.protocol.api import candidate_from_track

    request = SEARCH if kind == "search" else DETAIL
    document = orjson.loads(body)
    rows = document["tracks"] if kind == "search" else [document]
    try:
        return [candidate_from_track(row, request.target()) for row in rows]
    except ParseError as error:
        return str(error)


def _parsed(request: Request, body: bytes) -> list[Candidate] | str:
    try:
        return SOURCE.parse(request, Response(200, body))
    except ParseError as error:
        return str(error)


def _variants(row: dict[str, Any]) -> list[dict[str, Any]]:
    """A recorded row, and the shapes a real answer could take that the typed path refuses
    or reads differently: each must give what the dict path gives."""
    key = row["key"]
    return [
        row,
        dict(row, mix_name=None, slug=None, isrc=None, new_release_date=None),
        dict(row, bpm=127.6, length_ms=285000.4),
        dict(row, sub_genre={"id": 4, "name": "Peak Time"}),
        dict(row, sub_genre={"id": 4, "name": None}),
        dict(row, key=dict(key, camelot_letter="")),
        dict(row, key=dict(key, camelot_number=True)),
        dict(row, key=None),
        dict(row, artists=[{"name": ""}]),
        dict(row, remixers=[{"id": 1}]),
        dict(row, genre=None),
        dict(row, isrc=12),
        dict(row, id=True),
        dict(row, id=2**64 - 1),
        {k: v for k, v in row.items() if k != "publish_date"},
        dict(row, release=dict(row["release"], label=None)),
    ]


def test_typed_decoding_gives_what_the_dict_path_gives() -> None:
    """The msgspec fast path is for speed only: same Candidates on every shape, or it steps
    aside (None) and the dict path answers."""
    from cratedigger.protocol.api import _fast

    track = recording("api-v4-track-19431036.json").read_bytes()
    search = orjson.loads(recording("api-v4-search-tracks-strobe.json").read_bytes())
    assert _fast("search", orjson.dumps(search)) == _dict_path("search", orjson.dumps(search))
    assert _fast("track", track) is not None
    stepped_aside = 0
    for variant in _variants(orjson.loads(track)):
        body = orjson.dumps(variant)
        fast = _fast("track", body)
        stepped_aside += fast is None
        assert _parsed(DETAIL, body) == _dict_path("track", body)
        if fast is not None:
            assert fast == _dict_path("track", body)
        together = orjson.dumps(dict(search, tracks=[*search["tracks"], variant]))
        assert _parsed(SEARCH, together) == _dict_path("search", together)
    assert stepped_aside >= 10  # most variants are for the dict path


def test_an_id_beyond_64_bits_is_no_id_on_either_path() -> None:
    from cratedigger.protocol.api import _fast

    track = orjson.loads(recording("api-v4-track-19431036.json").read_bytes())
    body = orjson.dumps(dict(track, id=1)).replace(b'"id":1,', b'"id":18446744073709551616,')
    assert _fast("track", body) is None
    assert _parsed(DETAIL, body) == _dict_path("track", body)
