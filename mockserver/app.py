"""Assemble the mock server: catalog, search index, auth, API and website routes, behaviour."""

from __future__ import annotations

import time
from typing import Final

from aiohttp import web

from mockserver.admin import add_admin_routes
from mockserver.api_routes import ApiContext, add_api_routes, api_unmatched
from mockserver.auth import Clock, TokenStore, add_auth_routes
from mockserver.catalog import Catalog, build_catalog
from mockserver.render_api import ApiRenderer
from mockserver.render_web import INTERNAL_API_BASE, PageShell, WebRenderer
from mockserver.routing import STATE, serve_unmatched
from mockserver.search import SearchIndex
from mockserver.settings import Settings
from mockserver.state import ServerState
from mockserver.web_routes import WebContext, add_web_routes

SETTINGS: Final = web.AppKey("settings", Settings)
CATALOG: Final = web.AppKey("catalog", Catalog)

# Request bodies are small forms; a client sending more is broken or hostile.
MAX_BODY_BYTES: Final = 64 * 1024


def create_app(
    settings: Settings, *, catalog: Catalog | None = None, clock: Clock | None = None
) -> web.Application:
    """The mock Beatport application for `settings`; `clock` (tests) drives all its time."""
    if catalog is None:
        catalog = build_catalog(settings.seed, settings.catalog_size)
    index = SearchIndex(catalog)
    state = ServerState.from_settings(settings, clock or time.monotonic)

    app = web.Application(client_max_size=MAX_BODY_BYTES)
    app[SETTINGS] = settings
    app[CATALOG] = catalog
    app[STATE] = state
    add_auth_routes(app, TokenStore(settings.token_ttl, state.clock))
    add_api_routes(app, ApiContext(catalog, index, ApiRenderer(catalog.track)))
    web_renderer = WebRenderer(
        ApiRenderer(catalog.track, api_base=INTERNAL_API_BASE), PageShell(settings.seed)
    )
    add_web_routes(app, WebContext(catalog, index, web_renderer))
    add_admin_routes(app, state, settings.admin_token)
    # Every request no route takes, 404s and redirects too, pays the configured latency,
    # rate limit and faults.
    serve_unmatched(app, [api_unmatched])
    return app
