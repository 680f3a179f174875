"""The API v4 routes under /v4: account, search, track and release details, track lists.

Handlers validate the query, ask the catalog or the search index, and splice the cached
per-object JSON (`render_api`) into the response envelope; a search answer is kept by host
and target, so a repeated search costs a dict lookup. Every route but the token endpoint needs a
live Bearer token. Paths without their trailing slash answer 301 to the
slashed path and unknown paths a JSON 404, as Beatport's Django stack does.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Final

from aiohttp import web

from mockserver.auth import TokenStore, json_response, unauthorized
from mockserver.caches import LruCache
from mockserver.catalog import Catalog
from mockserver.errors import MockServerError
from mockserver.render_api import (
    ApiRenderer,
    page_count,
    page_envelope_parts,
)
from mockserver.routing import Params, Route, Router, Served, id_param
from mockserver.search import SearchIndex

DEFAULT_PER_PAGE: Final = 25
MAX_PER_PAGE: Final = 100
NOT_FOUND: Final = {"detail": "Not found."}
INVALID_PAGE: Final = {"detail": "Invalid page."}
TRACK_FILTERS: Final = ("name", "artist_name", "mix_name", "isrc")
SEARCH_TYPES: Final = ("tracks", "releases")
# Search answers kept by (host, target), whole: 70 KB for a default page of 25 tracks, so
# the bytes they add up to bound the cache before the entries do.
SEARCH_CACHE_SIZE: Final = 1024
SEARCH_CACHE_BYTES: Final = 32 << 20

SearchKey = tuple[str, str]


def _search_cache() -> LruCache[SearchKey, bytes]:
    return LruCache(SEARCH_CACHE_SIZE, max_weight=SEARCH_CACHE_BYTES, weigh=len)


@dataclass(frozen=True, slots=True)
class ApiContext:
    """What the API handlers read: the catalog, its search index, the renderer, the live
    tokens, and the search answers already given (the same host and target give the same
    answer)."""

    catalog: Catalog
    index: SearchIndex
    renderer: ApiRenderer
    tokens: TokenStore
    searches: LruCache[SearchKey, bytes] = field(default_factory=_search_cache)


ApiHandler = Callable[[web.BaseRequest, Params, ApiContext], Awaitable[web.StreamResponse]]


class _BadParam(MockServerError):
    """A query parameter out of range; becomes a DRF-style 400 body naming the field."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


def _int_param(query: Mapping[str, str], name: str, default: int, maximum: int | None) -> int:
    raw = query.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise _BadParam(name, "A valid integer is required.") from None
    if value < 1:
        raise _BadParam(name, "Ensure this value is greater than or equal to 1.")
    if maximum is not None and value > maximum:
        raise _BadParam(name, f"Ensure this value is less than or equal to {maximum}.")
    return value


def _paging(query: Mapping[str, str]) -> tuple[int, int]:
    page = _int_param(query, "page", 1, None)
    per_page = _int_param(query, "per_page", DEFAULT_PER_PAGE, MAX_PER_PAGE)
    return page, per_page


def _route(handler: ApiHandler, context: ApiContext) -> Served:
    """`handler` bound to `context`, refusing the request with Beatport's 401 unless it
    carries a live Bearer token."""
    check = context.tokens.check

    async def guarded(request: web.BaseRequest, params: Params) -> web.StreamResponse:
        problem = check(request.headers.get("Authorization"))
        if problem is not None:
            return unauthorized(problem)
        try:
            return await handler(request, params, context)
        except _BadParam as bad:
            return json_response({bad.field: [bad.message]}, status=400)

    return guarded


def _json_bytes(body: bytes) -> web.Response:
    return web.Response(body=body, content_type="application/json")


def _page_parts(
    request: web.BaseRequest,
    key: str,
    rows: Sequence[bytes],
    count: int,
    page: int,
    per_page: int,
    extra: Mapping[str, object] | None = None,
) -> list[bytes] | None:
    """A paginated answer around the serialized `rows`, as parts to join; None when `page`
    is past the last page."""
    if page > page_count(count, per_page):
        return None
    path, _, raw_query = request.raw_path.partition("?")
    return page_envelope_parts(
        key,
        rows,
        count=count,
        page=page,
        per_page=per_page,
        host=request.host,
        path=path,
        raw_query=raw_query,
        extra=extra,
    )


def _paginated(
    request: web.BaseRequest, key: str, rows: Sequence[bytes], count: int, page: int, per_page: int
) -> web.Response:
    parts = _page_parts(request, key, rows, count, page, per_page)
    if parts is None:
        return json_response(INVALID_PAGE, status=404)
    return _json_bytes(b"".join(parts))


async def _account(request: web.BaseRequest, params: Params, ctx: ApiContext) -> web.StreamResponse:
    return json_response(ctx.tokens.profile(request.headers["Authorization"]))


async def _search(request: web.BaseRequest, params: Params, ctx: ApiContext) -> web.StreamResponse:
    # The answer is a function of the host (in the links) and the target: repeats skip
    # the parsing, the search, the rendering and the join. Only 200s are kept.
    key = (request.host, request.raw_path)
    body = ctx.searches.get(key)
    if body is None:
        query = request.query
        page, per_page = _paging(query)
        kind = query.get("type") or "tracks"
        if kind not in SEARCH_TYPES:
            raise _BadParam("type", f'"{kind}" is not a valid choice.')
        text = query.get("q", "").strip()
        rows: list[bytes]
        if kind == "tracks":
            found = ctx.index.search_track_ordinals(text, page, per_page)
            rows = ctx.renderer.search_rows_at(found.items, ctx.catalog.tracks)
            count = found.count
        else:
            releases = ctx.index.search_releases(text, page, per_page)
            rows, count = (
                [ctx.renderer.release_row_bytes(r) for r in releases.items],
                releases.count,
            )
        parts = _page_parts(request, kind, rows, count, page, per_page, {"order": [kind]})
        if parts is None:
            return json_response(INVALID_PAGE, status=404)
        body = b"".join(parts)
        ctx.searches.put(key, body)
    return _json_bytes(body)


async def _track_list(
    request: web.BaseRequest, params: Params, ctx: ApiContext
) -> web.StreamResponse:
    page, per_page = _paging(request.query)
    filters = {name: request.query[name] for name in TRACK_FILTERS if request.query.get(name)}
    tracks = ctx.catalog.find_tracks(**filters)
    start = (page - 1) * per_page
    rows = [ctx.renderer.track_json(t) for t in tracks[start : start + per_page]]
    return _paginated(request, "results", rows, len(tracks), page, per_page)


async def _track_detail(
    request: web.BaseRequest, params: Params, ctx: ApiContext
) -> web.StreamResponse:
    track_id = id_param(params, "track_id")
    body = ctx.renderer.cached_track_json(track_id)  # a hit needs no catalog lookup
    if body is None:
        track = ctx.catalog.track(track_id)
        if track is None:
            return json_response(NOT_FOUND, status=404)
        body = ctx.renderer.track_json(track)
    return _json_bytes(body)


async def _release_detail(
    request: web.BaseRequest, params: Params, ctx: ApiContext
) -> web.StreamResponse:
    release = ctx.catalog.release(id_param(params, "release_id"))
    if release is None:
        return json_response(NOT_FOUND, status=404)
    return _json_bytes(ctx.renderer.release_json(release))


async def _release_tracks(
    request: web.BaseRequest, params: Params, ctx: ApiContext
) -> web.StreamResponse:
    release = ctx.catalog.release(id_param(params, "release_id"))
    if release is None:
        return json_response(NOT_FOUND, status=404)
    page, per_page = _paging(request.query)
    start = (page - 1) * per_page
    ids = release.track_ids[start : start + per_page]
    tracks = [t for t in (ctx.catalog.track(i) for i in ids) if t is not None]
    rows = [ctx.renderer.track_json(t) for t in tracks]
    return _paginated(request, "results", rows, len(release.track_ids), page, per_page)


_ROUTES: Final[tuple[tuple[str, ApiHandler], ...]] = (
    ("/v4/my/account/", _account),
    ("/v4/catalog/search/", _search),
    ("/v4/catalog/tracks/", _track_list),
    (r"/v4/catalog/tracks/{track_id:\d+}/", _track_detail),
    (r"/v4/catalog/releases/{release_id:\d+}/", _release_detail),
    (r"/v4/catalog/releases/{release_id:\d+}/tracks/", _release_tracks),
)


async def api_unmatched(
    request: web.BaseRequest, error: web.HTTPException, router: Router
) -> web.Response | None:
    """Under /v4/, Beatport's answers to what no route takes: a 301 to the slashed path when
    only that one exists, JSON 404s and 405s. None elsewhere."""
    if not request.path.startswith("/v4/"):
        return None
    if error.status == 405:
        return json_response({"detail": f'Method "{request.method}" not allowed.'}, status=405)
    if not request.path.endswith("/") and router.takes(
        request.method, request.rel_url.path_safe + "/"
    ):
        path, sep, query = request.raw_path.partition("?")
        raise web.HTTPMovedPermanently(location=path + "/" + sep + query)
    return json_response(NOT_FOUND, status=404)


def api_routes(context: ApiContext) -> list[Route]:
    """The /v4 catalog and account routes (the token route is in `auth`)."""
    return [("GET", path, _route(handler, context)) for path, handler in _ROUTES]
