"""The admin API under /__admin/: read stats and the journal, change behaviour live, reset.

    GET   /__admin/stats           counters, latency percentiles, in-flight, uptime
    GET   /__admin/config          {"latency": [...], "rate_limit": "...", "faults": [...]}
    PATCH /__admin/config          the same shape, any subset; 400 and no change on a bad value
    POST  /__admin/reset           clear stats, journal, buckets, "first N" and replay positions
    GET   /__admin/requests?limit= the journal, newest last

Only loopback clients may use it, unless an admin token is set and the request carries
`Authorization: Bearer <token>`: the API can switch faults on for everyone.
"""

from __future__ import annotations

import hmac
import ipaddress
import json
from collections.abc import Awaitable, Callable

from aiohttp import web

from mockserver.behaviour import ADMIN_PREFIX
from mockserver.errors import SpecError
from mockserver.routing import Params, Route, Served
from mockserver.state import ServerState

__all__ = ["admin_routes", "is_loopback"]

_AdminHandler = Callable[[web.BaseRequest, ServerState], Awaitable[web.Response]]


def _json(payload: object, status: int = 200) -> web.Response:
    body = json.dumps(payload, indent=1).encode()
    return web.Response(status=status, body=body, content_type="application/json")


def is_loopback(remote: str | None) -> bool:
    """Whether a peer address is this machine (unix sockets, with no address, count as local)."""
    if not remote:
        return True
    try:
        address = ipaddress.ip_address(remote.split("%", 1)[0])
    except ValueError:
        return False
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped.is_loopback
    return address.is_loopback


def _allowed(request: web.BaseRequest, admin_token: str | None) -> bool:
    if is_loopback(request.remote):
        return True
    if admin_token is None:
        return False
    scheme, _, credentials = request.headers.get("Authorization", "").partition(" ")
    return scheme.lower() == "bearer" and hmac.compare_digest(
        credentials.strip().encode(), admin_token.encode()
    )


async def _stats(request: web.BaseRequest, state: ServerState) -> web.Response:
    return _json(state.stats.snapshot() | {"replay": {"recorded": len(state.replay)}})


async def _get_config(request: web.BaseRequest, state: ServerState) -> web.Response:
    return _json(state.config_dict())


async def _patch_config(request: web.BaseRequest, state: ServerState) -> web.Response:
    try:
        patch = json.loads(await request.read())
    except ValueError as error:
        return _json({"error": f"the body is not JSON: {error}"}, 400)
    if not isinstance(patch, dict):
        return _json({"error": "the body must be a JSON object"}, 400)
    try:
        state.apply_patch(patch)
    except SpecError as error:
        return _json({"error": str(error), "option": error.option, "reason": error.message}, 400)
    return _json(state.config_dict())


async def _reset(request: web.BaseRequest, state: ServerState) -> web.Response:
    state.reset()
    return _json({"reset": True})


async def _requests(request: web.BaseRequest, state: ServerState) -> web.Response:
    raw = request.query.get("limit")
    if raw is not None and not raw.isdigit():
        return _json({"error": f"limit must be a whole number, got {raw!r}"}, 400)
    entries = state.journal.recent(None if raw is None else int(raw))
    return _json({"count": len(entries), "requests": [entry.to_json() for entry in entries]})


_ROUTES: tuple[tuple[str, str, _AdminHandler], ...] = (
    ("GET", "stats", _stats),
    ("GET", "config", _get_config),
    ("PATCH", "config", _patch_config),
    ("POST", "reset", _reset),
    ("GET", "requests", _requests),
)


def _guarded(handler: _AdminHandler, state: ServerState, admin_token: str | None) -> Served:
    async def guarded(request: web.BaseRequest, params: Params) -> web.StreamResponse:
        if not _allowed(request, admin_token):
            return _json({"error": "the admin API is for loopback clients or the admin token"}, 403)
        return await handler(request, state)

    return guarded


def admin_routes(state: ServerState, admin_token: str | None) -> list[Route]:
    """The admin API, acting on `state` (outside the server's behaviour)."""
    return [
        (method, ADMIN_PREFIX + name, _guarded(handler, state, admin_token))
        for method, name, handler in _ROUTES
    ]
