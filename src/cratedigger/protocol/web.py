"""Beatport's website: search and track pages, read from their `__NEXT_DATA__` JSON. Pure.

Search rows use the website's own schema (`track_id`, `track_name`, `artist_type_name`...)
and lack the sub-genre and slug, so their candidates are incomplete; a track page embeds the
API-style track object and gives a complete one.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from cratedigger.errors import ParseError
from cratedigger.models import Candidate, Request, Response
from cratedigger.protocol.api import (
    JsonObject,
    as_list,
    as_object,
    candidate_from_track,
    nested_text,
    text,
    track_id,
    whole,
)
from cratedigger.protocol.nextdata import dehydrated_queries, extract_next_data, page_props

# Pitch class of every spelling of a tonic, and the Camelot number of each minor and major
# key by pitch class (C = 0): the 24 keys of the wheel, sharps and flats alike.
_PITCH_CLASS = {
    "C": 0, "B#": 0, "C#": 1, "Db": 1, "D": 2, "D#": 3, "Eb": 3, "E": 4, "Fb": 4,
    "F": 5, "E#": 5, "F#": 6, "Gb": 6, "G": 7, "G#": 8, "Ab": 8, "A": 9, "A#": 10,
    "Bb": 10, "B": 11, "Cb": 11,
}  # fmt: skip
_CAMELOT_NUMBER = {
    "Minor": (5, 12, 7, 2, 9, 4, 11, 6, 1, 8, 3, 10),
    "Major": (8, 3, 10, 5, 12, 7, 2, 9, 4, 11, 6, 1),
}
_CAMELOT_LETTER = {"Minor": "A", "Major": "B"}


def camelot(key_name: str | None) -> str | None:
    """The Camelot code of a key name such as "A# Minor" or "Ab Major" (None if unknown)."""
    tonic, _, chord = (key_name or "").strip().partition(" ")
    chord = chord.strip().capitalize()
    pitch = _PITCH_CLASS.get(tonic)
    numbers = _CAMELOT_NUMBER.get(chord)
    if pitch is None or numbers is None:
        return None
    return f"{numbers[pitch]}{_CAMELOT_LETTER[chord]}"


def _track_name(name: str, mix_name: str) -> str:
    """The name without a trailing "(<mix name>)" copy of the mix, as the API would give it.

    Website rows spell the title as the store lists it, which can already carry version
    or featuring parts ("Diplodocus (Noisia's 'Outer Edges' Remix) (Live)"); those stay,
    and normalisation reads them. Only a repeat of the mix field itself is dropped.
    """
    suffix = f"({mix_name})"
    if mix_name and name.endswith(suffix) and len(name) > len(suffix):
        return name[: -len(suffix)].rstrip()
    return name


def _genre(row: JsonObject) -> str | None:
    genres = row.get("genre")
    if isinstance(genres, list) and genres and isinstance(genres[0], Mapping):
        return text(genres[0], "genre_name")
    return None


def _date(row: JsonObject) -> str | None:
    stamp = text(row, "release_date") or text(row, "publish_date")
    return stamp.partition("T")[0] if stamp else None


def candidate_from_row(row: JsonObject, target: str) -> Candidate:
    """An incomplete Candidate from one row of a website search result."""
    beatport_id = track_id(row, "track_id", target)
    name = text(row, "track_name")
    if name is None:
        raise ParseError(f"track {beatport_id} without 'track_name'", target=target)
    credits: dict[str, list[str]] = {"Artist": [], "Remixer": []}
    for artist in row.get("artists") or ():
        if isinstance(artist, Mapping):
            role, artist_name = text(artist, "artist_type_name"), text(artist, "artist_name")
            if role in credits and artist_name:
                credits[role].append(artist_name)
    mix_name = text(row, "mix_name") or ""
    key_name = text(row, "key_name")
    return Candidate(
        beatport_id=beatport_id,
        name=_track_name(name, mix_name),
        mix_name=mix_name,
        artists=tuple(credits["Artist"]),
        remixers=tuple(credits["Remixer"]),
        bpm=whole(row, "bpm"),
        key=key_name,
        camelot=camelot(key_name),
        genre=_genre(row),
        label=nested_text(row, "label", "label_name"),
        release=nested_text(row, "release", "release_name"),
        release_date=_date(row),
        isrc=text(row, "isrc"),
        length_ms=whole(row, "length"),
        complete=False,
    )


def _search_rows(props: JsonObject, target: str) -> list[Any]:
    for _, data in dehydrated_queries(props, target):
        if isinstance(data, Mapping) and "tracks" in data:
            tracks = as_object(data["tracks"], "the tracks result", target)
            return as_list(tracks.get("data"), "tracks.data", target)
    raise ParseError("no tracks result in __NEXT_DATA__", target=target)


def _page_track(props: JsonObject, wanted: str, target: str) -> JsonObject:
    for query_hash, data in dehydrated_queries(props, target):
        if query_hash == wanted:
            return as_object(data, f"the {wanted} query's data", target)
    if "track" in props:
        return as_object(props["track"], "pageProps.track", target)
    raise ParseError(f"no {wanted} query and no pageProps.track", target=target)


class WebSource:
    """Beatport's public website: `/search/tracks` and `/track/{slug}/{id}` pages."""

    name = "web"

    def search_request(self, query: str) -> Request:
        """GET /search/tracks?q=..."""
        return Request("GET", "/search/tracks", params=(("q", query),), kind="search", query=query)

    def detail_request(self, candidate: Candidate) -> Request:
        """GET the candidate's track page."""
        return self.track_request(candidate.beatport_id, candidate.slug)

    def track_request(self, beatport_id: int, slug: str = "") -> Request:
        """GET /track/{slug}/{id}; the site serves a track under any slug ("track" here)."""
        return Request("GET", f"/track/{slug or 'track'}/{beatport_id}", kind="page")

    def parse(self, request: Request, response: Response) -> list[Candidate]:
        """Candidates of a search page, or the one track of a track page."""
        target = request.target()
        props = page_props(extract_next_data(response.body, target), target)
        if request.kind == "search":
            rows = _search_rows(props, target)
            return [candidate_from_row(as_object(r, "a track row", target), target) for r in rows]
        if request.kind == "page":
            page_id = request.path.rstrip("/").rpartition("/")[2]
            track = _page_track(props, f'["track-{page_id}"]', target)
            return [candidate_from_track(track, target)]
        raise ParseError(f"cannot parse a {request.kind!r} answer", target=target)
