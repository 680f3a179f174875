"""The fault plan: which fault, if any, to inject into a request.

Per route, each fault kind has a probability (drawn from the server's seeded Random, so a run
is reproducible) and "first N" makes the first N requests to each route fail with 503 before
any probability applies. The text syntax (`503=0.05,reset=0.01`, `search:first=3`) lives in
`mockserver.specs`; how each fault is acted out over HTTP lives in `mockserver.behaviour`.
"""

from __future__ import annotations

import random
from collections.abc import Mapping
from dataclasses import dataclass

from mockserver.route_classes import RouteTable

__all__ = [
    "FAULT_KINDS",
    "FAULT_STATUS",
    "FIRST_N",
    "FaultConfig",
    "FaultPlan",
    "FaultSpec",
    "RouteFaults",
]

FAULT_KINDS = ("500", "502", "503", "reset", "hang", "truncate", "invalid_json")
FIRST_N = "first"  # the kind reported for a "first N requests fail" fault
# Faults that are plain error answers, and their status codes.
FAULT_STATUS: Mapping[str, int] = {"500": 500, "502": 502, "503": 503, FIRST_N: 503}


@dataclass(frozen=True, slots=True)
class FaultSpec:
    """Fault probabilities of one route (None: the default); unset kinds are inherited."""

    route: str | None
    rates: tuple[tuple[str, float], ...] = ()  # (kind, probability) in FAULT_KINDS order
    first: int | None = None  # the first N requests to each route answer 503


@dataclass(frozen=True, slots=True)
class FaultConfig:
    """Canonical fault settings: the default spec (if any) first, then one spec per route."""

    specs: tuple[FaultSpec, ...] = ()


@dataclass(frozen=True, slots=True)
class RouteFaults:
    """The effective faults of a route: cumulative probability thresholds, and first N."""

    thresholds: tuple[tuple[float, str], ...]  # (cumulative probability, kind)
    first: int

    @property
    def idle(self) -> bool:
        return not self.thresholds and not self.first


def _resolve(spec: FaultSpec, default: FaultSpec) -> RouteFaults:
    rates = dict(default.rates) | dict(spec.rates)
    thresholds: list[tuple[float, str]] = []
    total = 0.0
    for kind in FAULT_KINDS:
        if rates.get(kind, 0.0) > 0.0:
            total += rates[kind]
            thresholds.append((total, kind))
    first = spec.first if spec.first is not None else default.first
    return RouteFaults(tuple(thresholds), first or 0)


class FaultPlan:
    """Decides per request which fault to inject; counts requests per route for "first N"."""

    def __init__(self, config: FaultConfig) -> None:
        self.config = config
        self._table = RouteTable(config.specs, FaultSpec(None), _resolve)
        self._seen: dict[str, int] = {}
        # The behaviour skips fault handling entirely when this is false.
        self.active = any(not f.idle for f in (self._table.default, *self._table.by_key.values()))

    def for_request(self, route: str, path: str) -> RouteFaults:
        """The faults that apply to a request of `route` at `path`."""
        return self._table.for_request(route, path)

    def choose(self, route: str, path: str, rng: random.Random) -> str | None:
        """The fault kind to inject into this request (a FAULT_KINDS name or FIRST_N), or None."""
        faults = self.for_request(route, path)
        if faults.first:
            seen = self._seen.get(route, 0)
            if seen < faults.first:
                self._seen[route] = seen + 1
                return FIRST_N
        if not faults.thresholds:
            return None
        # One uniform draw against cumulative thresholds: the kinds exclude each other and
        # each still gets exactly its own probability.
        draw = rng.random()
        for threshold, kind in faults.thresholds:
            if draw < threshold:
                return kind
        return None

    def reset(self) -> None:
        """Start counting "first N" from zero again."""
        self._seen.clear()
