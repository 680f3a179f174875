"""How a request reaches its handler: the mock's own router and its front door.

The mock is served by aiohttp's low-level server with `Dispatcher.handle` as its one handler, not
by an aiohttp Application: an Application's router, match info and per-request app
bookkeeping cost a fixed-body answer about a fifth of its CPU time on this kind of machine
(`python -m bench.mock_throughput`), and the mock must stay far from being the bottleneck
of the benchmark it serves. Routes are aiohttp-style patterns (`/track/{slug}/{id:\\d+}`);
a handler takes the request and the pattern's parameters.

Every route outside `/__admin/` is registered with the server's behaviour around its
handler (`serve_routes`), its route class known from its pattern once. What no route takes
goes to the catch-all, under the same behaviour (404s, 405s and redirects pay latency,
limits and faults too), which answers what aiohttp would have (a 404, or a 405 naming the
allowed methods) unless a surface answers in its own format.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, Iterable, Mapping
from types import MappingProxyType
from typing import Final

from aiohttp import hdrs, web
from aiohttp.http import HttpVersion11

from mockserver.behaviour import Params, Served, with_behaviour
from mockserver.route_classes import route_of
from mockserver.state import ServerState

__all__ = [
    "NO_PARAMS",
    "Dispatcher",
    "Params",
    "Route",
    "Router",
    "Served",
    "UnmatchedAnswer",
    "id_param",
    "serve_routes",
]

Route = tuple[str, str, Served]  # method, pattern, handler
NO_PARAMS: Final[Params] = MappingProxyType({})

_PARAM: Final = re.compile(r"\{(?P<name>[A-Za-z_]\w*)(?::(?P<regex>[^{}]+))?\}")  # no {} inside
_DEFAULT_PARAM_REGEX: Final = "[^{}/]+"  # aiohttp's, for a parameter with no regex


class Router:
    """Method and path to handler and parameters, for aiohttp-style patterns.

    A GET route answers HEAD too, as aiohttp's `add_get` does, unless told otherwise. A path
    is taken by the first pattern that matches it, static ones first; its other methods make
    a 405.
    """

    def __init__(self) -> None:
        self._by_pattern: dict[str, dict[str, Served]] = {}
        self._static: dict[str, dict[str, Served]] = {}
        # (the pattern's literal start, its regex, its methods), in registration order
        self._dynamic: list[tuple[str, re.Pattern[str], dict[str, Served]]] = []

    def add(self, method: str, pattern: str, handler: Served, *, head: bool = True) -> None:
        """Route `method` on `pattern` to `handler`; a GET also takes HEAD unless `head` is
        false."""
        methods = self._by_pattern.get(pattern)
        if methods is None:
            methods = self._by_pattern[pattern] = {}
            prefix, regex = _compile(pattern)
            if regex is None:
                self._static[pattern] = methods
            else:
                self._dynamic.append((prefix, regex, methods))
        method = method.upper()
        if method in methods:
            raise ValueError(f"{method} {pattern} is already routed")
        methods[method] = handler
        if method == "GET" and head:
            methods.setdefault("HEAD", handler)

    def add_routes(self, routes: Iterable[Route], *, head: bool = True) -> None:
        for method, pattern, handler in routes:
            self.add(method, pattern, handler, head=head)

    def match(self, path: str) -> tuple[Mapping[str, Served], Params] | None:
        """The methods of the route taking `path`, and its parameters; None if none does."""
        methods = self._static.get(path)
        if methods is not None:
            return methods, NO_PARAMS
        for prefix, regex, methods in self._dynamic:
            if path.startswith(prefix) and (found := regex.fullmatch(path)) is not None:
                params = found.groupdict()
                for name, value in params.items():
                    if "%" in value:  # path_safe keeps only these two encoded (and bad UTF-8)
                        params[name] = value.replace("%2F", "/").replace("%25", "%")
                return methods, params
        return None

    def takes(self, method: str, path: str) -> bool:
        """Whether a route answers `method` on `path`."""
        found = self.match(path)
        return found is not None and method in found[0]


MAX_ID_DIGITS: Final = 18  # a catalog id fits in 64 bits; a longer one is nobody's


def id_param(params: Params, name: str) -> int:
    """The `\\d+` parameter `name` as an id: -1, which nothing has, when it is too long to be
    one (Python refuses to read a number over 4,300 digits long)."""
    digits = params[name]
    return int(digits) if len(digits) <= MAX_ID_DIGITS else -1


def _compile(pattern: str) -> tuple[str, re.Pattern[str] | None]:
    """A pattern's literal start and its regex (None for a pattern with no parameter)."""
    pieces: list[str] = []
    end = 0
    prefix: str | None = None
    for param in _PARAM.finditer(pattern):
        if prefix is None:
            prefix = pattern[: param.start()]
        pieces.append(re.escape(pattern[end : param.start()]))
        regex = param.group("regex") or _DEFAULT_PARAM_REGEX
        pieces.append(f"(?P<{param.group('name')}>{regex})")
        end = param.end()
    if prefix is None:
        return pattern, None
    pieces.append(re.escape(pattern[end:]))
    return prefix, re.compile("".join(pieces))


def serve_routes(router: Router, state: ServerState, routes: Iterable[Route]) -> None:
    """Register `routes`, each handler inside `state`'s behaviour."""
    router.add_routes(
        (method, pattern, with_behaviour(state, handler, route_of(method, pattern)))
        for method, pattern, handler in routes
    )


# What a surface answers to a request no route took, given aiohttp's error for it (a 404,
# or a 405 naming the allowed methods) and the router; None leaves the error to aiohttp's
# plain-text answer.
UnmatchedAnswer = Callable[
    [web.BaseRequest, web.HTTPException, Router], Awaitable[web.StreamResponse | None]
]


class Dispatcher:
    """The server's one request handler: the router's route, or the catch-all."""

    def __init__(
        self, router: Router, state: ServerState, answers: Iterable[UnmatchedAnswer] = ()
    ) -> None:
        self._match = router.match
        chosen = tuple(answers)

        async def unmatched(request: web.BaseRequest, params: Params) -> web.StreamResponse:
            found = router.match(request.rel_url.path_safe)
            error: web.HTTPException = (
                web.HTTPNotFound()
                if found is None
                else web.HTTPMethodNotAllowed(request.method, set(found[0]))
            )
            for answer in chosen:
                response = await answer(request, error, router)
                if response is not None:
                    return response
            raise error

        self._unmatched = with_behaviour(state, unmatched, None)

    async def handle(self, request: web.BaseRequest) -> web.StreamResponse:
        """Answer `request`: the low-level server's handler."""
        if request.headers.get(hdrs.EXPECT):
            await _continue(request)
        return await self.route(request)

    async def route(self, request: web.BaseRequest) -> web.StreamResponse:
        """Answer `request` once its `Expect` is dealt with (an Application route's handler:
        the Application answers `Expect` itself)."""
        found = self._match(request.rel_url.path_safe)
        if found is not None:
            handler = found[0].get(request.method)
            if handler is not None:
                return await handler(request, found[1])
        return await self._unmatched(request, NO_PARAMS)


async def _continue(request: web.BaseRequest) -> None:
    """What an aiohttp Application does with `Expect`: "100 Continue" to the client that
    waits for it before sending its body (curl does, for bodies over 1 KB), 417 for the
    rest."""
    if request.version != HttpVersion11:
        return
    expect = request.headers[hdrs.EXPECT]
    if expect.lower() != "100-continue":
        raise web.HTTPExpectationFailed(text=f"Unknown Expect: {expect}")
    await request.writer.write(b"HTTP/1.1 100 Continue\r\n\r\n")
    request.writer.output_size = 0  # the answer's own bytes start now
