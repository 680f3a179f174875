"""Render catalog objects in Beatport API v4's JSON schemas (see tests/fixtures/beatport/api-v4-*).

Every `url` field inside an object points at `api_base` (by default the real
"https://api.beatport.com/v4"), never at the mock's own host: the objects are then the same
bytes for every request, so each one is rendered once and cached, and real clients only read
ids from them anyway. Pagination links (`next`/`previous`) are per request and do use the
request's host; see `page_envelope_parts`. `splice` builds a response around cached pieces by
reference, so a big answer is copied once, when it is joined.
"""

from __future__ import annotations

import hashlib
import math
import uuid
from collections.abc import Callable, Mapping, Sequence
from datetime import date, timedelta
from functools import lru_cache, partial
from typing import Any, Final

import orjson

from mockserver.caches import RenderCache
from mockserver.model import Artist, Genre, Key, Label, Release, SubGenre, Track

JsonObject = dict[str, Any]

API_BASE: Final = "https://api.beatport.com/v4"
MEDIA_BASE: Final = "https://geo-media.beatport.com/image_size"
SAMPLES_BASE: Final = "https://geo-samples.beatport.com/track"

# Keys of a track detail that search rows do not carry (compare the two recordings).
_SEARCH_ROW_DROPS: Final = frozenset(
    {
        "audio_format",
        "desc",
        "enabled",
        "encode_status",
        "exclusive_period",
        "hidden",
        "is_classic",
        "number",
        "was_ever_exclusive",
    }
)

# (id, name) of Beatport's current-status and (id, description, days) of exclusive-period
# tables; which one a track gets is a function of its id so renders are deterministic.
# One track in five is exclusive, about the share of a real search page.
_CURRENT_STATUSES: Final = ((10, "General Content"), (7, "Exclusive"), (1, "New Release"))
_NOT_EXCLUSIVE: Final = (1, "Not exclusive", 0)
_EXCLUSIVE_BY_LAST_DIGIT: Final = {
    3: (3, "Exclusive for 2 weeks (14 days)", 14),
    7: (2, "Exclusive for 4 weeks (28 days)", 28),
}
# Serialized objects kept per kind: a few KB each, so at most ~60 MB a kind.
CACHE_SIZE: Final = 20_000
_PAGING: Final = frozenset({"page", "per_page"})
_PRICE: Final = {"code": "USD", "symbol": "$", "value": 1.49, "display": "$1.49"}
_RELEASE_TYPES: Final = ((1, "Release"), (2, "Album"))  # indexed by "is an album"
ALBUM_MIN_TRACKS: Final = 5


def dumps_kept(value: object) -> bytes:
    """`orjson.dumps(value)` in a bytes object of its own size, for a cache to keep.

    orjson's result keeps its whole output buffer: a 3 KB search row held ~14 KB, so 20,000
    cached rows took 270 MB where their bytes need 56 MB. The copy costs a memcpy.
    """
    return memoryview(orjson.dumps(value)).tobytes()


def stable_uuid(kind: str, ident: int) -> str:
    """A UUID that is always the same for (kind, id): images of artists and labels."""
    digest = hashlib.blake2b(f"{kind}:{ident}".encode(), digest_size=16).digest()
    return str(uuid.UUID(bytes=digest))


def stable_int(kind: str, ident: int, modulo: int = 90_000_000) -> int:
    """A positive int that is always the same for (kind, id): image ids, identifiers."""
    digest = hashlib.blake2b(f"{kind}:{ident}".encode(), digest_size=8).digest()
    return 1_000_000 + int.from_bytes(digest, "big") % modulo


def image(kind: str, ident: int, image_uuid: str, size: str, ext: str = "jpg") -> JsonObject:
    """An image object: {id, uri, dynamic_uri} on Beatport's media host."""
    return {
        "id": stable_int(f"image-{kind}", ident),
        "uri": f"{MEDIA_BASE}/{size}/{image_uuid}.{ext}",
        "dynamic_uri": f"{MEDIA_BASE}/{{w}}x{{h}}/{image_uuid}.{ext}",
    }


def exclusive_period(track_id: int) -> tuple[int, str, int]:
    """(id, description, days) of the track's exclusive period; days 0: not exclusive."""
    return _EXCLUSIVE_BY_LAST_DIGIT.get(track_id % 10, _NOT_EXCLUSIVE)


def length_text(length_ms: int) -> str:
    """Beatport's "m:ss" track length."""
    seconds = length_ms // 1000
    return f"{seconds // 60}:{seconds % 60:02d}"


def days_before(iso_date: str, days: int) -> str:
    """The ISO date `days` before `iso_date`."""
    return (date.fromisoformat(iso_date) - timedelta(days=days)).isoformat()


# Dates repeat across a release's tracks: the parse and format need not.
_days_before: Final = lru_cache(maxsize=4096)(days_before)


class ApiRenderer:
    """Renders tracks, releases and search rows; caches the serialized form per id."""

    def __init__(
        self,
        track_lookup: Callable[[int], Track | None],
        *,
        api_base: str = API_BASE,
        cache_size: int = CACHE_SIZE,
    ) -> None:
        self._track_lookup = track_lookup
        self._base = api_base
        # Every catalog track's search row, by catalog ordinal, once rendered at start-up.
        self.rows_by_ordinal: Sequence[bytes] | None = None
        self._track_json: RenderCache[bytes] = RenderCache(cache_size)
        self._row_json: RenderCache[bytes] = RenderCache(cache_size)
        self._release_json: RenderCache[bytes] = RenderCache(cache_size)
        # Dicts weigh ~10x their JSON: keep only the recent ones (rows are built from them).
        self._track_dict: RenderCache[JsonObject] = RenderCache(max(1, cache_size // 20))
        # The parts a track shares with others (artists, label, release...), rendered once:
        # inside the cached, never mutated track dicts only. Keyed by (kind, id).
        self._shared: dict[tuple[str, int], JsonObject] = {}
        self._shared_size = cache_size
        self._shared_keys: dict[str, Callable[[Any], JsonObject]] = {
            "artist": self.artist,
            "label": self.label,
            "genre": self.genre,
            "sub_genre": self.genre,
            "key": self.key,
            "release": self._release_ref,
        }

    # -- small objects -------------------------------------------------------------------

    def artist(self, artist: Artist) -> JsonObject:
        return {
            "id": artist.id,
            "image": image("artist", artist.id, stable_uuid("artist", artist.id), "590x404"),
            "name": artist.name,
            "slug": artist.slug,
            "url": f"{self._base}/catalog/artists/{artist.id}/",
        }

    def label(self, label: Label) -> JsonObject:
        return {
            "id": label.id,
            "name": label.name,
            "image": image("label", label.id, stable_uuid("label", label.id), "500x500"),
            "slug": label.slug,
        }

    def genre(self, genre: Genre | SubGenre) -> JsonObject:
        kind = "genres" if isinstance(genre, Genre) else "sub-genres"
        return {
            "id": genre.id,
            "name": genre.name,
            "slug": genre.slug,
            "url": f"{self._base}/catalog/{kind}/{genre.id}/",
        }

    def key(self, key: Key) -> JsonObject:
        return {
            "camelot_number": key.camelot_number,
            "camelot_letter": key.camelot_letter,
            "chord_type": {
                "id": key.chord_id,
                "name": key.chord,
                "url": f"{self._base}/catalog/chord-types/{key.chord_id}/",
            },
            "id": key.id,
            "is_sharp": key.is_sharp,
            "is_flat": key.is_flat,
            "letter": key.letter,
            "name": key.name,
            "url": f"{self._base}/catalog/keys/{key.id}/",
        }

    def _aux(self, table: str, ident: int, name: str) -> JsonObject:
        return {"id": ident, "name": name, "url": f"{self._base}/auxiliary/{table}/{ident}/"}

    def _release_ref(self, release: Release) -> JsonObject:
        return {
            "id": release.id,
            "name": release.name,
            "image": image("release", release.id, release.image_uuid, "500x500"),
            "label": self._part("label", release.label),
            "slug": release.slug,
        }

    def _part(self, kind: str, value: Any) -> JsonObject:
        """The shared rendering of an object many tracks refer to (never mutated)."""
        key = (kind, value.id)
        found = self._shared.get(key)
        if found is None:
            found = self._shared[key] = self._shared_keys[kind](value)
            if len(self._shared) > self._shared_size:
                del self._shared[next(iter(self._shared))]
        return found

    # -- tracks --------------------------------------------------------------------------

    def track(self, track: Track) -> JsonObject:
        """The track detail object (GET /v4/catalog/tracks/{id}/); shared, do not mutate."""
        return self._track_dict.get(track.id, partial(self._render_track, track))

    def _render_track(self, track: Track) -> JsonObject:
        release = track.release
        status_id, status_name = _CURRENT_STATUSES[track.id % len(_CURRENT_STATUSES)]
        period_id, period_text, period_days = exclusive_period(track.id)
        exclusive = period_days > 0
        sample_start = (track.length_ms * 2 // 5) // 1000 * 1000
        part = self._part
        return {
            "artists": [part("artist", a) for a in track.artists],
            "audio_format": None,
            "available_worldwide": track.id % 4 != 0,
            "bpm": track.bpm,
            "bsrc_remixer": [],
            "catalog_number": release.catalog_number,
            "current_status": self._aux("current-status", status_id, status_name),
            "desc": "",
            "enabled": True,
            "encode_status": "CONVERTED",
            "encoded_date": f"{_days_before(track.publish_date, 19)}T14:35:53-06:00",
            "exclusive": exclusive,
            "exclusive_period": {
                "days": period_days,
                "description": period_text,
                "id": period_id,
                "url": f"{self._base}/auxiliary/exclusive-period/{period_id}/",
            },
            "free_downloads": [],
            "free_download_start_date": None,
            "free_download_end_date": None,
            "genre": part("genre", track.genre),
            "hidden": False,
            "id": track.id,
            "image": image("track", track.id, track.image_uuid, "1500x250", "png"),
            "is_available_for_streaming": True,
            "is_explicit": False,
            "is_ugc_remix": False,
            "is_dj_edit": False,
            "is_classic": release.date < "2010-01-01",
            "isrc": track.isrc,
            "key": part("key", track.key),
            "label_track_identifier": str(stable_int("lti", track.id, 9_000_000)),
            "length": length_text(track.length_ms),
            "length_ms": track.length_ms,
            "mix_name": track.mix_name,
            "name": track.name,
            "new_release_date": release.date,
            "number": track.number,
            "pre_order": False,
            "pre_order_date": _days_before(release.date, 8),
            "price": dict(_PRICE),
            "publish_date": track.publish_date,
            "publish_status": "published",
            "release": part("release", release),
            "remixers": [part("artist", a) for a in track.remixers],
            "sale_type": self._aux("sale-types", 1, "purchase"),
            "sample_url": f"{SAMPLES_BASE}/{track.image_uuid}.LOFI.mp3",
            "sample_start_ms": sample_start,
            "sample_end_ms": min(track.length_ms, sample_start + 120_000),
            "slug": track.slug,
            "sub_genre": None if track.sub_genre is None else part("sub_genre", track.sub_genre),
            "was_ever_exclusive": exclusive or track.id % 5 == 0,
            "is_hype": track.id % 11 == 0,
        }

    def cached_track_json(self, track_id: int) -> bytes | None:
        """The serialized track detail if it is already rendered, else None."""
        return self._track_json.peek(track_id)

    def track_json(self, track: Track) -> bytes:
        """The serialized track detail, rendered once per id."""
        return self._track_json.get(track.id, lambda: dumps_kept(self.track(track)))

    def search_row_bytes(self, tracks: Sequence[Track]) -> list[bytes]:
        """Tracks as rows of /v4/catalog/search/ (the detail minus a few keys, plus `url`),
        serialized, each rendered once per id."""
        peek, get, make = self._row_json.peek, self._row_json.get, self._search_row
        return [peek(t.id) or get(t.id, partial(make, t)) for t in tracks]

    def search_rows_at(self, ordinals: Sequence[int], tracks: Sequence[Track]) -> list[bytes]:
        """`search_row_bytes` of the tracks at these catalog `ordinals`: straight from the
        rows rendered at start-up, if they were."""
        rows = self.rows_by_ordinal
        if rows is not None:
            return [rows[o] for o in ordinals]
        return self.search_row_bytes([tracks[o] for o in ordinals])

    def prerender_search_rows(self, tracks: Sequence[Track], keep: int) -> list[bytes]:
        """Render the search rows of `tracks` now, so that no search answer has to; keep
        the rows of at least `keep` tracks from now on. The rows, in the order of `tracks`."""
        self._row_json.grow(keep)
        return self.search_row_bytes(tracks)

    def _search_row(self, track: Track) -> bytes:
        row = {k: v for k, v in self.track(track).items() if k not in _SEARCH_ROW_DROPS}
        row["url"] = f"{self._base}/catalog/tracks/{track.id}/"
        return dumps_kept(row)

    # -- releases ------------------------------------------------------------------------

    def release_json(self, release: Release) -> bytes:
        """The serialized release detail (GET /v4/catalog/releases/{id}/)."""
        return self._release_json.get(release.id, lambda: dumps_kept(self.release(release)))

    def release(self, release: Release) -> JsonObject:
        """The release detail object."""
        tracks = [t for t in map(self._track_lookup, release.track_ids) if t is not None]
        bpms = [t.bpm for t in tracks] or [0]
        exclusive = any(exclusive_period(t.id)[2] > 0 for t in tracks)
        type_id, type_name = _RELEASE_TYPES[len(release.track_ids) >= ALBUM_MIN_TRACKS]
        return {
            "artists": [self.artist(a) for a in release.artists],
            "bpm_range": {"min": min(bpms), "max": max(bpms)},
            "catalog_number": release.catalog_number,
            "desc": "",
            "enabled": True,
            "encoded_date": f"{days_before(release.date, 19)}T14:35:53-06:00",
            "exclusive": exclusive,
            "grid": None,
            "id": release.id,
            "image": image("release-full", release.id, release.image_uuid, "1400x1400"),
            "is_available_for_streaming": True,
            "is_explicit": False,
            "is_ugc_remix": False,
            "is_dj_edit": False,
            "label": self.label(release.label),
            "name": release.name,
            "new_release_date": release.date,
            "override_price": None,
            "pre_order": False,
            "pre_order_date": days_before(release.date, 8),
            "price": dict(_PRICE),
            "price_override_firm": False,
            "publish_date": release.date,
            "remixers": [self.artist(a) for a in release.remixers],
            "slug": release.slug,
            "tracks": [f"{self._base}/catalog/tracks/{tid}/" for tid in release.track_ids],
            "track_count": len(release.track_ids),
            "type": {"id": type_id, "name": type_name},
            "upc": release.upc,
            "updated": f"{days_before(release.date, 1)}T01:03:59-06:00",
            "is_hype": release.id % 11 == 0,
        }

    def release_row_bytes(self, release: Release) -> bytes:
        """A release as a row of /v4/catalog/search/?type=releases (detail plus `url`),
        serialized."""
        body = self.release_json(release)
        url = orjson.dumps(f"{self._base}/catalog/releases/{release.id}/")
        return body[:-1] + b',"url":' + url + b"}"


def page_count(count: int, per_page: int) -> int:
    """How many pages `count` items fill (at least one, as Beatport answers "1/1")."""
    return max(1, math.ceil(count / per_page))


def page_links(
    host: str, path: str, raw_query: str, page: int, pages: int, per_page: int
) -> tuple[str | None, str | None]:
    """Scheme-less (next, previous) links, "host/path?...&page=N&per_page=M", like Beatport's:
    the request's other parameters as it sent them, then page and per_page."""
    kept = "&".join(
        item for item in raw_query.split("&") if item and item.partition("=")[0] not in _PAGING
    )
    base = f"{host}{path}?{kept}&" if kept else f"{host}{path}?"
    after = f"&per_page={per_page}"
    return (
        f"{base}page={page + 1}{after}" if page < pages else None,
        f"{base}page={page - 1}{after}" if page > 1 else None,
    )


def _envelope(
    items_key: str,
    items: object,
    count: int,
    page: int,
    per_page: int,
    links: tuple[str | None, str | None],
    extra: Mapping[str, object] | None,
) -> JsonObject:
    body: JsonObject = {items_key: items}
    if extra:
        body.update(extra)
    body["next"], body["previous"] = links
    body["count"] = count
    body["page"] = f"{page}/{page_count(count, per_page)}"
    body["per_page"] = per_page
    return body


def page_envelope_parts(
    items_key: str,
    items: Sequence[bytes],
    *,
    count: int,
    page: int,
    per_page: int,
    host: str,
    path: str,
    raw_query: str,
    extra: Mapping[str, object] | None = None,
) -> list[bytes]:
    """A paginated response, {items_key: [...], next, previous, count, page "n/N",
    per_page}, around the serialized `items`, as parts to join (see `splice`)."""
    links = page_links(host, path, raw_query, page, page_count(count, per_page), per_page)
    return splice(_envelope(items_key, json_list(items), count, page, per_page, links, extra))


def json_list(items: Sequence[bytes]) -> Spliced:
    """Serialized JSON values as one spliced JSON list: what orjson makes of a list of them
    (`[a,b]`), for one splice placeholder instead of one per item."""
    parts = [b"["]
    for item in items:
        parts += (item, b",")
    parts[-1] = b"]" if items else b"[]"
    return Spliced(*parts)


# -- splicing: big serialized pieces joined into a response by reference ----------------------

# orjson never writes a NUL byte (it escapes control characters), so NULs can mark places.
MARK: Final = b"\x00"


class Spliced:
    """Serialized JSON, kept as byte strings, that `splice` places without copying."""

    __slots__ = ("parts",)

    def __init__(self, *parts: bytes) -> None:
        self.parts = parts


def splice(value: object) -> list[bytes]:
    """`value` as JSON in parts whose join is `orjson.dumps(value)`, each `Spliced` object's
    parts among them as they are (no copy: cached pieces stay shared).

    A NUL-delimited name inside an `orjson.Fragment` (b'"\\x00name\\x00"') is a hole: it comes
    back as its own part, b"\\x00name", for the caller to replace before joining.
    """
    spliced: list[tuple[bytes, ...]] = []

    def place(obj: object) -> orjson.Fragment:
        if isinstance(obj, Spliced):
            spliced.append(obj.parts)
            return orjson.Fragment(MARK + b"%d" % (len(spliced) - 1) + MARK)
        raise TypeError(f"Type is not JSON serializable: {type(obj).__name__}")

    parts: list[bytes] = []
    for i, piece in enumerate(orjson.dumps(value, default=place).split(MARK)):
        if not i % 2:
            if piece:
                parts.append(piece)
        elif piece.isdigit():
            parts.extend(spliced[int(piece)])
        else:
            parts.append(MARK + piece)
    return parts
