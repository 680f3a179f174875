"""Assemble the mock server: catalog, search index, sign-in, auth, API and website routes,
behaviour.

`create_app` returns an aiohttp Application, so that the mock can be mounted wherever one is
expected (aiohttp's test client, an AppRunner), but all it holds is one catch-all route to
the mock's own `Dispatcher` (`mockserver.routing`). `mockserver.runner` (the CLI,
`running_server`) serves that dispatcher on aiohttp's low-level server instead, without the
Application's per-request routing work: middlewares or startup hooks added to the
Application run only where the Application itself is served.
"""

from __future__ import annotations

import functools
import time
from dataclasses import dataclass
from typing import Final

from aiohttp import web

from mockserver.accounts import DEMO_ACCOUNT, Accounts
from mockserver.admin import admin_routes
from mockserver.api_routes import ApiContext, api_routes, api_unmatched
from mockserver.auth import TOKEN_STORE, Clock, TokenStore, auth_routes
from mockserver.catalog import Catalog, build_catalog
from mockserver.render_api import ApiRenderer
from mockserver.render_web import INTERNAL_API_BASE, PageShell, WebRenderer
from mockserver.routing import Dispatcher, Router, serve_routes
from mockserver.search import SearchIndex
from mockserver.settings import Settings
from mockserver.signin import SignIn, signin_routes
from mockserver.state import ServerState
from mockserver.web_routes import WebContext, web_routes

CATALOG: Final = web.AppKey("catalog", Catalog)
DISPATCHER: Final = web.AppKey("dispatcher", Dispatcher)
SIGN_IN: Final = web.AppKey("sign_in", SignIn)
# Lines the CLI prints after the URL at start-up (who can sign in).
NOTES: Final = web.AppKey("notes", tuple[str, ...])

# Request bodies are small forms; a client sending more is broken or hostile.
MAX_BODY_BYTES: Final = 64 * 1024
# Up to this many tracks, every search row (API and website) is rendered at start-up, so
# that a first-time search only joins rows: ~85 MB of rows and ~2.5 s for 20,000 tracks.
PRERENDER_LIMIT: Final = 50_000


@dataclass(frozen=True, slots=True)
class Derived:
    """What a server derives from its catalog: the search index and the renderers, with
    the rows they keep."""

    index: SearchIndex
    api: ApiRenderer
    web: WebRenderer


@functools.lru_cache(maxsize=4)
def derive(catalog: Catalog, seed: int, prerender: bool) -> Derived:
    """The search index and renderers of `catalog` (the page shell from `seed`).

    Every server on the same catalog gets the same ones: the answers are a function of the
    catalog, and tests that start many servers on one shared catalog then build the index
    and render the rows once.
    """
    api = ApiRenderer(catalog.track)
    web = WebRenderer(ApiRenderer(catalog.track, api_base=INTERNAL_API_BASE), PageShell(seed))
    if prerender and catalog.size <= PRERENDER_LIMIT:
        api_rows: list[bytes] = []
        web_rows: list[bytes] = []
        for start in range(0, catalog.size, 500):  # the track dicts in the cache are reused
            tracks = catalog.tracks[start : start + 500]
            api_rows += api.prerender_search_rows(tracks, catalog.size)
            web_rows += web.prerender_track_rows(tracks, catalog.size, api.track)
        api.rows_by_ordinal, web.rows_by_ordinal = tuple(api_rows), tuple(web_rows)
    return Derived(SearchIndex(catalog), api, web)


def create_app(
    settings: Settings, *, catalog: Catalog | None = None, clock: Clock | None = None
) -> web.Application:
    """The mock Beatport application for `settings`; `clock` (tests) drives all its time."""
    if catalog is None:
        catalog = build_catalog(settings.seed, settings.catalog_size)
    derived = derive(catalog, settings.seed, settings.prerender)
    state = ServerState.from_settings(settings, clock or time.monotonic)
    accounts = Accounts(settings.accounts or (DEMO_ACCOUNT,))
    signin = SignIn(accounts, state.clock)
    tokens = TokenStore(
        settings.token_ttl,
        state.clock,
        refresh_ttl=settings.refresh_token_ttl,
        accounts=accounts.get,
    )
    api = ApiContext(catalog, derived.index, derived.api, tokens)
    website = WebContext(catalog, derived.index, derived.web)

    router = Router()
    routes = [*signin_routes(signin), *auth_routes(tokens, signin), *api_routes(api)]
    serve_routes(router, state, [*routes, *web_routes(website)])
    # Outside the behaviour, and GET only, as aiohttp's add_route("GET") registered them.
    router.add_routes(admin_routes(state, settings.admin_token), head=False)
    # Every request no route takes, 404s and redirects too, pays the configured latency,
    # rate limit and faults.
    dispatcher = Dispatcher(router, state, [api_unmatched])

    app = web.Application(client_max_size=MAX_BODY_BYTES)
    app.router.add_route("*", "/{tail:.*}", dispatcher.route)
    app[CATALOG] = catalog
    app[TOKEN_STORE] = tokens
    app[SIGN_IN] = signin
    app[NOTES] = (_accounts_note(settings),)
    app[DISPATCHER] = dispatcher
    return app


def _accounts_note(settings: Settings) -> str:
    if not settings.accounts:
        return (
            f"sign in as {DEMO_ACCOUNT.username!r} with password {DEMO_ACCOUNT.password!r}"
            " (the demo account; --accounts FILE for others)"
        )
    count = len(settings.accounts)
    return f"{count} account{'s' if count != 1 else ''} can sign in (--accounts)"
