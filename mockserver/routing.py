"""How a request reaches its handler: the served routes and the catch-all for the rest.

Every route outside `/__admin/` is registered with the server's behaviour around its handler
(`serve_routes`), its route class known from its path pattern once rather than classified
per request. What no route matches goes to one catch-all route (`serve_unmatched`) that has
the same behaviour, so 404s, 405s and redirects pay latency, rate limits and faults too, and
then answers them: aiohttp's own 404 or 405, unless a surface answers in its own format
(the API's JSON errors and trailing-slash redirects). No aiohttp middleware is involved.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable
from typing import Final

from aiohttp import web

from mockserver.behaviour import route_of, with_behaviour
from mockserver.state import ServerState

__all__ = ["STATE", "UnmatchedAnswer", "has_route", "serve_routes", "serve_unmatched"]

STATE: Final = web.AppKey("state", ServerState)
# The catch-all route's resource, told apart from the real routes when resolving.
_CATCH_ALL: Final = web.AppKey("catch_all", web.AbstractResource)
CATCH_ALL_PATH: Final = "/{tail:.*}"

# What a surface answers to a request no route took, given aiohttp's error for it (a 404, or
# a 405 naming the allowed methods); None leaves the error to aiohttp's plain-text answer.
UnmatchedAnswer = Callable[[web.Request, web.HTTPException], Awaitable[web.StreamResponse | None]]


def serve_routes(app: web.Application, routes: Iterable[web.RouteDef]) -> None:
    """Register `routes`, each handler inside the behaviour of the app's STATE."""
    state = app[STATE]
    for route in routes:
        handler = with_behaviour(state, route.handler, route_of(route.method, route.path))
        web.RouteDef(route.method, route.path, handler, route.kwargs).register(app.router)


def serve_unmatched(app: web.Application, answers: Iterable[UnmatchedAnswer] = ()) -> None:
    """Register the catch-all route: requests no other route takes, in the app's behaviour.

    Each of `answers` in turn may answer; the first that does not return None wins.
    """
    chosen = tuple(answers)

    async def unmatched(request: web.Request) -> web.StreamResponse:
        error = await _routing_error(request)
        for answer in chosen:
            response = await answer(request, error)
            if response is not None:
                return response
        raise error

    route = app.router.add_route("*", CATCH_ALL_PATH, with_behaviour(app[STATE], unmatched, None))
    resource = route.resource
    assert resource is not None, "a route added to a router has its resource"
    app[_CATCH_ALL] = resource


async def has_route(request: web.Request) -> bool:
    """Whether a route other than the catch-all takes `request` (for a redirect's target)."""
    match = await request.app.router.resolve(request)
    route = match.route
    return match.http_exception is None and (
        route is None or route.resource is not request.app[_CATCH_ALL]
    )


async def _routing_error(request: web.Request) -> web.HTTPException:
    """What aiohttp would have answered without the catch-all: 405 if a route takes the
    path with another method, else 404."""
    catch_all = request.app[_CATCH_ALL]
    allowed: set[str] = set()
    for resource in request.app.router.resources():
        if resource is not catch_all:
            allowed |= (await resource.resolve(request))[1]
    if allowed:
        return web.HTTPMethodNotAllowed(request.method, allowed)
    return web.HTTPNotFound()
