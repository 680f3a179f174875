"""Render the website: Next.js pages whose `__NEXT_DATA__` script holds the page's data.

Search pages use the website's own search schema (`track_id`, `track_name`, `key_name`,
`length` in ms...; recordings/web-search-noisia.html); track pages embed the API-style
track object (recordings/web-track-page-next-data-6389004.json), whose `url` fields point at
the internal API host as on the real site. The page shell (styles, header, footer and the
big i18n store) is generated once from a seed: pages weigh what real ones do (100-250 KB),
so a client's parse cost is realistic. A page is rendered once into a PageTemplate: its
parts, which reference the shared shell and the cached rows rather than copy them, and holes
for what changes on every request (trace ids, access token, timestamp); serving it again is
one join.
"""

from __future__ import annotations

import base64
import html
import random
import string
import threading
import time
from collections.abc import Callable, Sequence
from functools import partial
from typing import Final

import orjson

from mockserver.caches import LruCache, RenderCache
from mockserver.model import Artist, Genre, Label, Track
from mockserver.render_api import (
    CACHE_SIZE,
    MARK,
    MEDIA_BASE,
    ApiRenderer,
    JsonObject,
    Spliced,
    dumps_kept,
    splice,
    stable_int,
    stable_uuid,
)

INTERNAL_API_BASE: Final = "https://api-internal.beatportprod.com/v4"
BUILD_ID: Final = "V7goWk4B7063GKj9nFPyC"
LOCALES: Final = ["en", "de", "fr", "es", "it", "ja", "pt", "nl"]
SEARCH_ALL_COUNT: Final = 15

# Next.js escapes these inside the inline JSON so that "</script>" in data cannot end it.
# Every value is escaped once, when it is serialized (cached rows at render time, request
# strings per request), so a 150 KB page is never scanned again.
_HTML_ESCAPES: Final = ((b"&", b"\\u0026"), (b"<", b"\\u003c"), (b">", b"\\u003e"))


def script_safe(value: object) -> bytes:
    """`value` as JSON that cannot end or break the <script> it is inlined in (in a bytes
    object of its own size: see `dumps_kept`)."""
    body = dumps_kept(value)
    for raw, escaped in _HTML_ESCAPES:
        if raw in body:
            body = body.replace(raw, escaped)
    return body


def script_fragment(value: object) -> orjson.Fragment:
    """`value` as a script-safe orjson fragment, to embed in a page's data."""
    return orjson.Fragment(script_safe(value))


def genre_list(genres: Sequence[Genre]) -> list[JsonObject]:
    """Genres as the website lists them."""
    return [{"genre_id": g.id, "genre_name": g.name} for g in genres]


def label_ref(label: Label) -> JsonObject:
    """A label as rows of the website's search refer to it."""
    return {"enabled": 1, "label_id": label.id, "label_name": label.name}


def people(artists: Sequence[Artist], remixers: Sequence[Artist]) -> list[JsonObject]:
    """Artists then remixers, each typed ("Artist" / "Remixer") as on the website."""
    typed = [(a, "Artist") for a in artists] + [(a, "Remixer") for a in remixers]
    return [
        {"artist_id": a.id, "artist_name": a.name, "artist_type_name": kind} for a, kind in typed
    ]


def stamp(iso_date: str, clock: str = "00:00:00") -> str:
    """An ISO date as the website's timestamps write it."""
    return f"{iso_date}T{clock}"


def score(rank: int) -> float:
    """The relevance score of the result at `rank`: descending, in the real engine's range."""
    return round(600.0 / (1.0 + 0.05 * rank), 5)


_SCORE_PREFIXES: Final = tuple(b'{"score":%r,' % score(rank) for rank in range(1000))


def _score_prefix(rank: int) -> bytes:
    if rank < len(_SCORE_PREFIXES):
        return _SCORE_PREFIXES[rank]
    return b'{"score":%r,' % score(rank)


# Pages kept as templates (track pages, `_next/data` routes): small, they share the big parts.
TEMPLATE_CACHE_SIZE: Final = 1024
# What differs on every request; cached pages keep holes for these (see PageTemplate).
# Trace ids and the page's anonymous token only have to look random and differ, not be
# secret: a PRNG (seeded from the OS) makes them without a getrandom() call apiece.
_IDS: Final = random.Random()


def _trace_id() -> bytes:
    return b"%032x" % _IDS.getrandbits(128)


def _span_id() -> bytes:
    return b"%016x" % _IDS.getrandbits(64)


def _page_token() -> bytes:
    return base64.urlsafe_b64encode(_IDS.randbytes(20)).rstrip(b"=")  # as token_urlsafe(20)


_FRESH: Final[dict[bytes, Callable[[], bytes]]] = {
    MARK + b"trace": _trace_id,
    MARK + b"span": _span_id,
    MARK + b"token": _page_token,
    MARK + b"now": lambda: b"%d" % int(time.time() * 1000),
}


def _hole(name: str) -> bytes:
    return MARK + name.encode() + MARK


# A page's fresh values may stay the same within one second: the bytes of the pages served
# in the current second are kept, the most recent ones, and sent again as they are.
KEPT_PAGES: Final = 64  # ~10 MB of pages at most


class PageTemplate:
    """A page rendered once, with holes for the values that differ on every request."""

    __slots__ = ("_holes", "_parts")

    def __init__(self, parts: list[bytes]) -> None:
        self._parts = parts
        self._holes = tuple((i, part) for i, part in enumerate(parts) if part[:1] == MARK)

    def render(self) -> bytes:
        """The page with fresh values in its holes (one value per name and page), the same
        bytes again within the second they were made in."""
        second = int(time.time())
        with _KEPT_LOCK:  # servers on other threads of this process share the cache
            kept = _KEPT.get(self)
        if kept is not None and kept[0] == second:
            return kept[1]
        parts = self._parts.copy()
        fresh: dict[bytes, bytes] = {}
        for index, name in self._holes:
            value = fresh.get(name)
            if value is None:
                value = fresh[name] = _FRESH[name]()
            parts[index] = value
        page = b"".join(parts)
        if self._holes:
            with _KEPT_LOCK:
                _KEPT.put(self, (second, page))
        return page


_KEPT: Final[LruCache[PageTemplate, tuple[int, bytes]]] = LruCache(KEPT_PAGES)
_KEPT_LOCK: Final = threading.Lock()


class WebRenderer:
    """Builds the website's pages and `_next/data` JSON; caches per-track rows."""

    def __init__(self, api: ApiRenderer, shell: PageShell) -> None:
        self._api = api
        self._shell = shell
        self._rows: RenderCache[bytes] = RenderCache(CACHE_SIZE)
        # Every catalog track's row (without its score), by catalog ordinal, once rendered
        # at start-up.
        self.rows_by_ordinal: Sequence[bytes] | None = None
        self._details: RenderCache[bytes] = RenderCache(CACHE_SIZE)
        self._track_pages: LruCache[tuple[int, str], PageTemplate] = LruCache(TEMPLATE_CACHE_SIZE)
        self._next_routes: LruCache[int, PageTemplate] = LruCache(TEMPLATE_CACHE_SIZE)
        self._not_found = self._render_not_found()

    # -- rows of the website's search schema ---------------------------------------------

    def track_rows(self, tracks: Sequence[Track], first_rank: int = 0) -> list[orjson.Fragment]:
        """Track rows of the web search schema, `score` falling with the rank of each."""
        # A hot path (25 rows a page): the rows are cached without their leading
        # '{"score":S,' and the per-rank prefixes are made once.
        get, make = self._rows.get, self._track_row_tail
        return [
            orjson.Fragment(_score_prefix(first_rank + i) + get(t.id, partial(make, t)))
            for i, t in enumerate(tracks)
        ]

    def track_row_parts(self, tracks: Sequence[Track], first_rank: int = 0) -> list[Spliced]:
        """`track_rows` as parts for `search_template`, which places them without a copy."""
        peek, get, make = self._rows.peek, self._rows.get, self._track_row_tail
        return [
            Spliced(_score_prefix(first_rank + i), peek(t.id) or get(t.id, partial(make, t)))
            for i, t in enumerate(tracks)
        ]

    def track_row_list(self, tracks: Sequence[Track], first_rank: int = 0) -> Spliced:
        """`track_row_parts` as one spliced JSON list: one placeholder for `splice`."""
        parts = [b"["]
        for row in self.track_row_parts(tracks, first_rank):
            parts += (*row.parts, b",")
        parts[-1] = b"]" if tracks else b"[]"
        return Spliced(*parts)

    def track_row_list_at(
        self, ordinals: Sequence[int], tracks: Sequence[Track], first_rank: int = 0
    ) -> Spliced:
        """`track_row_list` of the tracks at these catalog `ordinals`: straight from the rows
        rendered at start-up, if they were."""
        rows = self.rows_by_ordinal
        if rows is None:
            return self.track_row_list([tracks[o] for o in ordinals], first_rank)
        parts = [b"["]
        for rank, ordinal in enumerate(ordinals, first_rank):
            parts += (_score_prefix(rank), rows[ordinal], b",")
        parts[-1] = b"]" if ordinals else b"[]"
        return Spliced(*parts)

    def prerender_track_rows(
        self,
        tracks: Sequence[Track],
        keep: int,
        details: Callable[[Track], JsonObject] | None = None,
    ) -> list[bytes]:
        """Render the search-page rows of `tracks` now, so that no search page has to; keep
        the rows of at least `keep` tracks from now on. The rows (without their score), in
        the order of `tracks`.

        A row reads no `url` of the track detail: `details` may be another renderer's
        (one whose dicts are already made), which halves the work.
        """
        self._rows.grow(keep)
        return [self._rows.get(t.id, partial(self._track_row_tail, t, details)) for t in tracks]

    def _track_row_tail(
        self, track: Track, details: Callable[[Track], JsonObject] | None = None
    ) -> bytes:
        detail = (details or self._api.track)(track)
        return script_safe(self._track_row(track, detail))[1:]

    @staticmethod
    def _track_row(track: Track, detail: JsonObject) -> JsonObject:
        release = track.release
        return {
            "add_date": stamp(release.date, "16:08:32"),
            "artists": people(track.artists, track.remixers),
            "available_worldwide": int(detail["available_worldwide"]),
            "bpm": track.bpm,
            "catalog_number": release.catalog_number,
            "change_date": stamp(track.publish_date, "00:07:22"),
            "chord_type_id": track.key.chord_id,
            "current_status": {
                "current_status_id": detail["current_status"]["id"],
                "current_status_name": detail["current_status"]["name"],
            },
            "enabled": 1,
            "encode_status": "CONVERTED",
            "exclusive_period": detail["exclusive_period"]["id"],
            "genre_enabled": 1,
            "guid": stable_uuid("track-guid", track.id),
            "is_available_for_streaming": 1,
            "is_classic": int(detail["is_classic"]),
            "isrc": track.isrc,
            "key_id": track.key.id,
            "key_name": track.key.name,
            "label": label_ref(release.label),
            "label_manager": "Label Manager",
            "length": track.length_ms,
            "mix_name": track.mix_name,
            "publish_date": stamp(track.publish_date),
            "publish_status": "published",
            "release": {
                "release_id": release.id,
                "release_name": release.name,
                "release_image_uri": f"{MEDIA_BASE}/1400x1400/{release.image_uuid}.jpg",
            },
            "release_date": stamp(release.date),
            "sale_type": "purchase",
            "suggest": {"input": track.name, "weight": track.id % 10},
            "supplier_id": stable_int("supplier", release.label.id, 5000),
            "track_id": track.id,
            # The website's track_name is the bare name ("Strobe"), "feat." included, mix apart.
            "track_name": track.name,
            "track_number": track.number,
            "update_date": stamp(track.publish_date, "00:07:22"),
            "was_ever_exclusive": int(detail["was_ever_exclusive"]),
            "downloads": track.id % 97,
            "plays": track.id % 389,
            "price": detail["price"],
            "is_explicit": False,
            "track_image_uri": detail["image"]["uri"],
            "genre": genre_list([track.genre]),
            # Only exclusive tracks carry the key, as on the real site.
            **({"exclusive_date": stamp(track.publish_date)} if detail["exclusive"] else {}),
        }

    # -- whole pages ---------------------------------------------------------------------

    def search_page(self, *, path: str, query: str, query_key: str, data: JsonObject) -> bytes:
        """A search page (/search or /search/tracks) around the search `data` object, whose
        rows must be script-safe fragments (`track_rows`, `script_fragment`)."""
        return self.search_template(path=path, query=query, query_key=query_key, data=data).render()

    def search_template(
        self, *, path: str, query: str, query_key: str, data: JsonObject
    ) -> PageTemplate:
        """`search_page` as a template to render again and again; `data` may also hold
        `track_row_parts`."""
        extra = {"accessToken": orjson.Fragment(b'"' + _hole("token") + b'"')}
        extra["query"] = script_fragment(query)
        props = self._page_props(path, extra, fresh=False)
        props["dehydratedState"] = _dehydrated(query_key, data, orjson.Fragment(_hole("now")))
        props["_nextI18Next"] = Spliced(self._shell.i18n_json)
        next_data = self._next_data(props, path, script_fragment({"q": query}))
        title = f"{query} :: Beatport" if query else "Search :: Beatport"
        return self._shell.template(title, f"{path}?q={query}", next_data)

    def track_props(self, track: Track) -> JsonObject:
        """The track page's pageProps: the query cache and `track`, both the API object."""
        return self._track_props(track, fresh=True)

    def _track_props(self, track: Track, *, fresh: bool) -> JsonObject:
        # Fresh: real values for this request; else holes for PageTemplate to fill.
        detail_json = self._details.get(track.id, lambda: script_safe(self._api.track(track)))
        detail = orjson.Fragment(detail_json) if fresh else Spliced(detail_json)
        props = self._page_props("/track/[description]/[id]", {}, fresh=fresh)
        updated = None if fresh else orjson.Fragment(_hole("now"))
        props["dehydratedState"] = _dehydrated(f"track-{track.id}", detail, updated)
        props["track"] = detail
        props["_nextI18Next"] = self._shell.i18n if fresh else Spliced(self._shell.i18n_json)
        return props

    def track_page(self, track: Track, slug: str) -> bytes:
        """The track page /track/{slug}/{id}."""
        template = self._track_pages.get((track.id, slug))
        if template is None:
            query = script_fragment({"description": slug, "id": str(track.id)})
            props = self._track_props(track, fresh=False)
            next_data = self._next_data(props, "/track/[description]/[id]", query)
            names = ", ".join(track.artist_names)
            title = f"{names} - {track.title} [{track.release.label.name}] | Beatport"
            canonical = f"/track/{track.slug}/{track.id}"
            template = self._shell.template(title, canonical, next_data)
            self._track_pages.put((track.id, slug), template)
        return template.render()

    def next_data_route(self, track: Track) -> bytes:
        """The `_next/data/<buildId>/track/<slug>/<id>.json` body of a client-side navigation."""
        template = self._next_routes.get(track.id)
        if template is None:
            props = self._track_props(track, fresh=False)
            template = PageTemplate(splice({"pageProps": props, "__N_SSP": True}))
            self._next_routes.put(track.id, template)
        return template.render()

    def not_found_page(self) -> bytes:
        """The 404 page; the same bytes every time."""
        return self._not_found

    def _render_not_found(self) -> bytes:
        next_data = {
            "props": {"pageProps": {"statusCode": 404}},
            "page": "/_error",
            "query": {},
            "buildId": BUILD_ID,
            "isFallback": False,
            "gip": True,
            "scriptLoader": [],
        }
        return self._shell.page("Page not found :: Beatport", "/404", orjson.dumps(next_data))

    def _page_props(self, page: str, extra: JsonObject, *, fresh: bool = True) -> JsonObject:
        before = (
            f"sentry-environment=production,sentry-release={BUILD_ID},"
            "sentry-public_key=ac053d08206c40feaaa94212ec8c18db,sentry-trace_id="
        )
        after = f",sentry-sample_rate=0.001,sentry-transaction={page},sentry-sampled=false"
        trace_data: object
        baggage: object
        if fresh:
            trace = _trace_id().decode()
            trace_data = f"{trace}-{_span_id().decode()}-0"
            baggage = before + trace + after
        else:  # the same JSON strings, with holes where the random ids go
            trace_data = orjson.Fragment(b'"' + _hole("trace") + b"-" + _hole("span") + b'-0"')
            quoted = orjson.dumps(before)[:-1] + _hole("trace") + orjson.dumps(after)[1:]
            baggage = orjson.Fragment(quoted)
        props: JsonObject = {"_sentryTraceData": trace_data, "_sentryBaggage": baggage}
        props.update(extra)
        return props

    @staticmethod
    def _next_data(props: JsonObject, page: str, query: orjson.Fragment) -> JsonObject:
        return {
            "props": {"pageProps": props, "__N_SSP": True},
            "page": page,
            "query": query,
            "buildId": BUILD_ID,
            "isFallback": False,
            "gssp": True,
            "customServer": True,
            "appGip": True,
            "locale": "en",
            "locales": LOCALES,
            "defaultLocale": "en",
            "scriptLoader": [{"strategy": "afterInteractive", "src": "/scripts/qualtrics.js"}],
        }


def _dehydrated(key: str, data: object, updated_at: object = None) -> JsonObject:
    """A react-query dehydrated cache holding one successful query (updated now, unless
    `updated_at` says otherwise)."""
    return {
        "mutations": [],
        "queries": [
            {
                "state": {
                    "data": data,
                    "dataUpdateCount": 1,
                    "dataUpdatedAt": int(time.time() * 1000) if updated_at is None else updated_at,
                    "error": None,
                    "errorUpdateCount": 0,
                    "errorUpdatedAt": 0,
                    "fetchFailureCount": 0,
                    "fetchFailureReason": None,
                    "fetchMeta": None,
                    "isInvalidated": False,
                    "status": "success",
                    "fetchStatus": "idle",
                },
                "queryKey": script_fragment([key]),
                "queryHash": script_fragment(orjson.dumps([key]).decode()),
            }
        ],
    }


# -- the page shell: generated once, the same bytes on every page --------------------------

# One string each, split at import: 90 one-word lines would hide the code around them.
_CSS_TEXT: Final = (
    "box-sizing: border-box;display: -webkit-box;display: -webkit-flex;display: flex;"
    "-webkit-flex-direction: row;flex-direction: row;-webkit-box-pack: center;"
    "-webkit-justify-content: center;justify-content: space-between;align-items: center;"
    "padding: 5px 16px 7px;gap: 8px;border-radius: 4px;cursor: pointer;font-size: 14px;"
    "font-family: '__aeonikFont_55bd0e', '__aeonikFont_Fallback_55bd0e';line-height: 20px;"
    "font-weight: 500;color: #141414;background: #01ff95;border-bottom: 1px solid #333333;"
    "width: 100%;height: 60px;overflow: hidden;text-overflow: ellipsis;white-space: nowrap;"
    "position: relative;opacity: 0.5"
)
_CSS_RULES: Final = tuple(_CSS_TEXT.split(";"))
_WORDS_TEXT: Final = (
    "track release label artist chart genre key tempo playlist download stream cart account "
    "subscription collection library preview waveform remix original extended radio edit "
    "exclusive hype store checkout purchase price currency format quality lossless sample "
    "search filter sort results page next previous follow share save remove queue player "
    "volume settings privacy cookies support contact careers press legal copyright country"
)
_WORDS: Final = tuple(_WORDS_TEXT.split())
_SOCIAL: Final = ("facebook", "twitter", "instagram", "youtube", "tiktok", "discord")
_HEAD: Final = (
    '<!doctype html>\n<html lang="en">\n  <head>\n    <meta charset="utf-8" />\n'
    '    <meta name="viewport" content="width=device-width" />\n'
    '    <link rel="canonical" hreflang="en" href="{canonical}" />\n{alternates}'
    "    <title>{title}</title>\n"
)
_SCRIPT_OPEN: Final = b'<script id="__NEXT_DATA__" type="application/json">'
_SCRIPT_CLOSE: Final = b"</script>"
_TAIL: Final = b"\n  </body>\n</html>\n"


def _sentence(rng: random.Random, low: int, high: int) -> str:
    return " ".join(rng.choice(_WORDS) for _ in range(rng.randint(low, high))).capitalize()


def _camel(rng: random.Random, words: int) -> str:
    return "".join(rng.choice(_WORDS).capitalize() for _ in range(words))


def _translations(rng: random.Random, sections: int) -> JsonObject:
    store: JsonObject = {}
    for _ in range(sections):
        section = {_camel(rng, 2): _sentence(rng, 2, 14) for _ in range(rng.randint(2, 9))}
        store[_camel(rng, rng.randint(1, 3))] = section
    config = {
        "i18n": {"defaultLocale": "en", "locales": LOCALES},
        "localePath": "/srv/mock-next/public/locales",
        "defaultNS": "translation",
        "localeDetection": False,
    }
    return {
        "initialI18nStore": {"en": {"translation": store}},
        "initialLocale": "en",
        "ns": ["translation"],
        "userConfig": {**config, "default": config},
    }


def _styles(rng: random.Random, blocks: int) -> str:
    parts = ['    <style data-styled="" data-styled-version="5.3.11">\n']
    for _ in range(blocks):
        name = "".join(rng.choices(string.ascii_letters, k=6))
        for variant in ("", ".primary", ":hover", ".disabled"):
            rules = "".join(f"        {r};\n" for r in rng.sample(_CSS_RULES, rng.randint(3, 12)))
            parts.append(f"      .{name}{variant} {{\n{rules}      }} /*!sc*/\n\n")
    parts.append("    </style>\n  </head>\n")
    return "".join(parts)


def _body(rng: random.Random, items: int) -> str:
    parts = ['  <body class="__variable_55bd0e">\n    <div id="__next">\n      <ul class="nav">\n']
    for _ in range(items):
        word = rng.choice(_WORDS)
        parts.append(
            f'        <li class="Footer-style__ListItem-sc-9bbde809-7 jdXFgp">\n'
            f'          <a class="listItemLink" data-testid="footer-link-{word}" href="/{word}">'
            f"{_sentence(rng, 1, 3)}</a>\n        </li>\n"
        )
    for name in _SOCIAL:
        parts.append(
            f'        <a target="_blank" rel="noopener noreferrer" href="https://www.{name}.com/'
            f'beatport"><svg width="24" height="20" fill="#8C8C8C" data-testid="icon-{name}">'
            f'<use href="/icons/sprite.svg#{name}"></use></svg></a>\n'
        )
    parts.append("      </ul>\n    </div>\n    ")
    return "".join(parts)


class PageShell:
    """Everything of a page but its title and `__NEXT_DATA__`, generated once from a seed."""

    def __init__(
        self, seed: int = 0, *, css_blocks: int = 42, nav_items: int = 160, i18n_sections: int = 120
    ) -> None:
        # Sized like beatport.com's pages: ~45 KB of styles, ~30 KB of markup, ~48 KB of i18n.
        rng = random.Random(seed)
        self.i18n_json = script_safe(_translations(rng, i18n_sections))
        self.i18n = orjson.Fragment(self.i18n_json)
        self._static = (_styles(rng, css_blocks) + _body(rng, nav_items)).encode()

    def page(self, title: str, canonical: str, next_data: bytes) -> bytes:
        """The whole HTML page; `next_data` must be script-safe JSON (see `script_safe`)."""
        head = self._head(title, canonical)
        return b"".join((head, self._static, _SCRIPT_OPEN, next_data, _SCRIPT_CLOSE, _TAIL))

    def template(self, title: str, canonical: str, next_data: JsonObject) -> PageTemplate:
        """The page around `next_data` (script-safe, with `Spliced` parts and holes)."""
        parts = [self._head(title, canonical), self._static, _SCRIPT_OPEN]
        parts += splice(next_data)
        parts += (_SCRIPT_CLOSE, _TAIL)
        return PageTemplate(parts)

    @staticmethod
    def _head(title: str, canonical: str) -> bytes:
        href = html.escape(canonical, quote=True)
        alternates = "".join(
            f'    <link rel="alternate" hreflang="{lang}" href="/{lang}{href}" />\n'
            for lang in LOCALES[1:]
        )
        return _HEAD.format(
            canonical=href, alternates=alternates, title=html.escape(title)
        ).encode()
