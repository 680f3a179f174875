"""The route classes requests are counted, delayed, limited and broken by.

One table: the names the spec language accepts (`search=fixed:50ms`, `track:first=2`),
the stats and the journal report, and the path prefixes each stands for. The website's
search pages count as "search", its track pages and `_next/data` routes as "page";
a request no prefix takes is "other".
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Callable, Iterable, Mapping
from typing import Final, Generic, Protocol, TypeVar

__all__ = ["OTHER", "ROUTES", "RouteSelector", "RouteTable", "route_of"]

# Name -> regex of the paths of that class (no path is taken by two).
_PATTERNS: Final = {
    "search": r"/v4/catalog/search(?:/|$)|/search(?:/|$)",
    "track": r"/v4/catalog/tracks(?:/|$)",
    "release": r"/v4/catalog/releases(?:/|$)",
    "page": r"/track/|/release/|/_next/data/",
    "token": r"/v4/auth/o/token/?$",
    "account": r"/v4/my/account(?:/|$)",
}
OTHER: Final = "other"
ROUTES: Final = (*_PATTERNS, OTHER)

_CLASSIFY: Final = re.compile(
    "^(?:" + "|".join(f"(?P<{name}>{regex})" for name, regex in _PATTERNS.items()) + ")"
)


def route_of(method: str, path: str) -> str:
    """The route class of a request: one of ROUTES.

    `method` does not matter today; it is part of the signature so that a route can come to
    depend on it without changing callers.
    """
    match = _CLASSIFY.match(path)
    return (match.lastgroup or OTHER) if match else OTHER


class RouteSelector:
    """Picks the configured route key for a request: the first matching glob, else its route."""

    def __init__(self, keys: Iterable[str]) -> None:
        keys = list(keys)
        self._names = frozenset(k for k in keys if not k.startswith("/"))
        self._globs = [(re.compile(fnmatch.translate(k)).match, k) for k in keys if k[:1] == "/"]

    def pick(self, route: str, path: str) -> str | None:
        for match, key in self._globs:
            if match(path):
                return key
        return route if route in self._names else None


class _RouteSpec(Protocol):
    """A spec for one route key (None: the default), as latency and fault configs hold."""

    @property
    def route(self) -> str | None: ...


Spec = TypeVar("Spec", bound=_RouteSpec)
Value = TypeVar("Value")


class RouteTable(Generic[Value]):
    """What each route key's spec resolves to, worked out once: the default spec's value,
    and one per route key (a route name or a path glob), which inherits from the default
    what it does not set. The latency model and the fault plan are each one of these."""

    def __init__(
        self, specs: Iterable[Spec], unset: Spec, resolve: Callable[[Spec, Spec], Value]
    ) -> None:
        specs = tuple(specs)
        default = next((s for s in specs if s.route is None), unset)
        self.default: Value = resolve(default, default)
        self.by_key: Mapping[str, Value] = {
            s.route: resolve(s, default) for s in specs if s.route is not None
        }
        self._selector = RouteSelector(self.by_key) if self.by_key else None

    def for_request(self, route: str, path: str) -> Value:
        """The value for a request of `route` at `path`."""
        if self._selector is None:
            return self.default
        key = self._selector.pick(route, path)
        return self.default if key is None else self.by_key[key]
