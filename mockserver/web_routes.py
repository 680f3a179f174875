"""The website routes: search pages, track pages and Next.js `_next/data` JSON, and what
the /search page shows next to its tracks.

No token is needed (the website is public). Page parameters that make no sense fall back
to their defaults, as the real site does, instead of answering 400. A wrong slug in a track
URL still serves the track (the id decides); an unknown id serves the 404 page. Search
pages are kept as templates by target: a repeated search renders no row and runs no search.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import partial
from typing import Final

import orjson
from aiohttp import web

from mockserver.caches import LruCache
from mockserver.catalog import Catalog
from mockserver.model import Artist, Genre, Label, Release, Track
from mockserver.render_api import (
    MEDIA_BASE,
    JsonObject,
    days_before,
    exclusive_period,
    stable_int,
    stable_uuid,
)
from mockserver.render_web import (
    BUILD_ID,
    SEARCH_ALL_COUNT,
    PageTemplate,
    WebRenderer,
    genre_list,
    label_ref,
    people,
    score,
    script_fragment,
    stamp,
)
from mockserver.routing import Params, Route, id_param
from mockserver.search import SearchIndex

HTML: Final = "text/html"
WEB_PER_PAGE: Final = 25
WEB_MAX_PER_PAGE: Final = 150
CHARTS_PER_SEARCH: Final = 3
# Search pages kept as templates, by request target: they hold references to cached rows
# and the shared page shell, so an entry weighs a few KB.
PAGE_CACHE_SIZE: Final = 1024


def _page_cache() -> LruCache[str, PageTemplate]:
    return LruCache(PAGE_CACHE_SIZE)


@dataclass(frozen=True, slots=True)
class WebContext:
    """What the website handlers read: the catalog, its search index and the renderer, and
    the search pages already rendered (the same target gives the same page)."""

    catalog: Catalog
    index: SearchIndex
    renderer: WebRenderer
    pages: LruCache[str, PageTemplate] = field(default_factory=_page_cache)


def _lenient_int(query: Mapping[str, str], name: str, default: int, maximum: int) -> int:
    try:
        value = int(query.get(name, default))
    except ValueError:
        return default
    return value if 1 <= value <= maximum else default


def _html(body: bytes, status: int = 200) -> web.Response:
    return web.Response(body=body, status=status, content_type=HTML, charset="utf-8")


async def _search_tracks(
    request: web.BaseRequest, params: Params, ctx: WebContext
) -> web.StreamResponse:
    # The target decides the page (the host does not appear in it): repeats skip the search.
    template = ctx.pages.get(request.raw_path)
    if template is None:
        text = request.query.get("q", "").strip()
        page = _lenient_int(request.query, "page", 1, 10_000)
        per_page = _lenient_int(request.query, "per_page", WEB_PER_PAGE, WEB_MAX_PER_PAGE)
        found = ctx.index.search_track_ordinals(text, page, per_page)
        first = (page - 1) * per_page
        rows = ctx.renderer.track_row_list_at(found.items, ctx.catalog.tracks, first)
        data = {"tracks": {"data": rows, "count": found.count, "page": page, "per_page": per_page}}
        key = f"search-tracks-q={text}&page={page}&per_page={per_page}"
        template = ctx.renderer.search_template(
            path="/search/tracks",
            query=text,
            query_key=f"{key}&is_approved=true&preorder=true",
            data=data,
        )
        ctx.pages.put(request.raw_path, template)
    return _html(template.render())


# -- what /search shows besides tracks: rows in the website's search schema ----------------
# Artists, labels and releases come from the hits; charts are not in the catalog, so each of
# the first artists gets a made-up "Artist Series" chart of their tracks.


def _release_row(release: Release, tracks: Sequence[Track], rank: int) -> orjson.Fragment:
    """A release row of the web search schema."""
    exclusive = any(exclusive_period(t.id)[2] for t in tracks)
    return script_fragment(
        {
            "score": score(rank),
            "current_status": [{"current_status_id": 10, "current_status_name": "General Content"}],
            "genre": genre_list(list({t.genre.id: t.genre for t in tracks}.values())),
            "label": label_ref(release.label),
            "tracks": [{"track_id": t.id, "track_name": t.name} for t in tracks],
            "key": [{"key_id": t.key.id, "key_name": t.key.name} for t in tracks],
            "artists": people(release.artists, release.remixers),
            "aggregator": {"aggregator_id": 1270, "aggregator_name": "Mock Distribution"},
            "available_worldwide": 1,
            "catalog_number": release.catalog_number,
            "create_date": stamp(release.date, "18:20:03"),
            "encoded_date": stamp(release.date, "12:20:03"),
            "exclusive": int(exclusive),
            "label_manager": "Label Manager",
            "publish_date": stamp(release.date),
            "release_date": stamp(release.date),
            "release_id": release.id,
            "release_name": release.name,
            "release_type": "1",
            "status": 1,
            "upc": release.upc,
            "update_date": stamp(release.date, "06:08:40"),
            "price": {"code": "USD", "symbol": "$", "value": 1.49, "display": "$1.49"},
            "is_explicit": False,
            "track_count": len(release.track_ids),
            "release_image_uri": f"{MEDIA_BASE}/500x500/{release.image_uuid}.jpg",
            "downloads": release.id % 1500,
            "is_hype": False,
            "plays": release.id % 1800,
            **(_exclusive_release(release) if exclusive else {}),
        }
    )


def _exclusive_release(release: Release) -> JsonObject:
    return {
        "exclusive_date": stamp(release.date),
        "is_pre_order": False,
        "pre_order_date": stamp(days_before(release.date, 8)),
    }


def _artist_row(artist: Artist, genres: Sequence[Genre], rank: int) -> orjson.Fragment:
    """An artist row of the web search schema."""
    return script_fragment(
        {
            "score": score(rank) * 100,
            "enabled": 1,
            "update_date": "2023-12-15T07:52:02",
            "latest_publish_date": "2023-12-15",
            "available_worldwide": 1,
            "downloads": artist.id % 50_000,
            "artist_id": artist.id,
            "artist_name": artist.name,
            "genre": genre_list(genres),
            "artist_image_uri": f"{MEDIA_BASE}/590x404/{stable_uuid('artist', artist.id)}.jpg",
        }
    )


def _label_row(label: Label, rank: int) -> orjson.Fragment:
    """A label row of the web search schema."""
    return script_fragment(
        {
            "score": score(rank) * 3,
            "label_id": label.id,
            "label_name": label.name,
            "update_date": "2023-06-09T06:53:35",
            "create_date": "2019-07-29T21:41:58",
            "is_included_in_rightsflow": 1,
            "enabled": 1,
            "is_available_for_hype": 1,
            "is_available_for_streaming": 1,
            "plays": label.id % 400,
            "downloads": label.id % 200,
            "label_image_uri": f"{MEDIA_BASE}/500x500/{stable_uuid('label', label.id)}.jpg",
        }
    )


def _chart_row(artist: Artist, tracks: Sequence[Track], rank: int) -> orjson.Fragment:
    """A DJ chart row (charts are not in the catalog: one per artist, made up)."""
    return script_fragment(
        {
            "score": score(rank) / 30,
            "chart_id": stable_int("chart", artist.id, 900_000),
            "chart_name": f"{artist.name} Artist Series",
            "artist_id": artist.id,
            "artist_name": artist.name,
            "create_date": "2021-04-08T16:01:05",
            "is_approved": 1,
            "update_date": "2022-07-19T15:35:32",
            "enabled": 1,
            "is_indexed": 1,
            "person_id": stable_int("person", artist.id, 4_000_000),
            "item_type_id": 11,
            "person_username": artist.slug.replace("-", ""),
            "is_published": 1,
            "track_count": len(tracks),
            "publish_date": "2022-07-19T15:35:32",
            "chart_image_uri": f"{MEDIA_BASE}/500x500/{stable_uuid('chart', artist.id)}.jpg",
            "genres": genre_list(list({t.genre.id: t.genre for t in tracks}.values())),
        }
    )


def _unique_artists(tracks: Sequence[Track]) -> dict[int, tuple[Artist, list[Track]]]:
    """Artists and remixers of `tracks` in order of appearance, each with their tracks."""
    found: dict[int, tuple[Artist, list[Track]]] = {}
    for track in tracks:
        for artist in (*track.artists, *track.remixers):
            found.setdefault(artist.id, (artist, []))[1].append(track)
    return found


def _search_all_data(ctx: WebContext, text: str) -> JsonObject:
    """The /search page's data: tracks, artists, charts, labels and releases for `text`."""
    renderer = ctx.renderer
    tracks = list(ctx.index.search_tracks(text, 1, SEARCH_ALL_COUNT).items)
    releases = list(ctx.index.search_releases(text, 1, SEARCH_ALL_COUNT).items)
    artists = list(_unique_artists(tracks).values())[:SEARCH_ALL_COUNT]
    labels: dict[int, Label] = {}
    for label in [t.release.label for t in tracks] + [r.label for r in releases]:
        labels.setdefault(label.id, label)
    release_rows = []
    for rank, release in enumerate(releases):
        on_release = [t for t in (ctx.catalog.track(i) for i in release.track_ids) if t]
        release_rows.append(_release_row(release, on_release, rank))
    artist_rows = []
    for rank, (artist, theirs) in enumerate(artists):
        genres: dict[int, Genre] = {t.genre.id: t.genre for t in theirs}
        artist_rows.append(_artist_row(artist, list(genres.values()), rank))
    return {
        "tracks": {"data": renderer.track_row_list(tracks)},
        "artists": {"data": artist_rows},
        "charts": {
            "data": [
                _chart_row(artist, theirs, rank)
                for rank, (artist, theirs) in enumerate(artists[:CHARTS_PER_SEARCH])
            ]
        },
        "labels": {
            "data": [
                _label_row(label, rank)
                for rank, label in enumerate(list(labels.values())[:SEARCH_ALL_COUNT])
            ]
        },
        "releases": {"data": release_rows},
    }


async def _search_all(
    request: web.BaseRequest, params: Params, ctx: WebContext
) -> web.StreamResponse:
    template = ctx.pages.get(request.raw_path)
    if template is None:
        text = request.query.get("q", "").strip()
        key = f"search-all-q={text}&count={SEARCH_ALL_COUNT}&is_approved=true&preorder=true"
        data = _search_all_data(ctx, text)
        template = ctx.renderer.search_template(
            path="/search", query=text, query_key=key, data=data
        )
        ctx.pages.put(request.raw_path, template)
    return _html(template.render())


async def _track_page(
    request: web.BaseRequest, params: Params, ctx: WebContext
) -> web.StreamResponse:
    track = ctx.catalog.track(id_param(params, "track_id"))
    if track is None:
        return _html(ctx.renderer.not_found_page(), status=404)
    return _html(ctx.renderer.track_page(track, params["slug"]))


async def _next_data_track(
    request: web.BaseRequest, params: Params, ctx: WebContext
) -> web.StreamResponse:
    track = ctx.catalog.track(id_param(params, "track_id"))
    # A stale build id is a 404 on a real Next.js site: clients must re-read it from a page.
    if track is None or params["build_id"] != BUILD_ID:
        return web.json_response({"notFound": True}, status=404)
    return web.Response(body=ctx.renderer.next_data_route(track), content_type="application/json")


def web_routes(context: WebContext) -> list[Route]:
    """The website's pages, bound to `context`."""
    return [
        ("GET", "/search", partial(_search_all, ctx=context)),
        ("GET", "/search/tracks", partial(_search_tracks, ctx=context)),
        ("GET", r"/track/{slug}/{track_id:\d+}", partial(_track_page, ctx=context)),
        (
            "GET",
            r"/_next/data/{build_id}/track/{slug}/{track_id:\d+}.json",
            partial(_next_data_track, ctx=context),
        ),
    ]
