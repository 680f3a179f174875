"""Latency models: what delay and bandwidth each route gets, and seeded samplers to draw delays.

The config values live here; their text syntax (`fixed:50ms`, `search=lognormal:...`) is in
`mockserver.specs`. Every sampler takes the server's seeded `random.Random`, so a run with the
same seed and the same request order draws the same delays.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable
from dataclasses import dataclass

from mockserver.route_classes import RouteTable

__all__ = [
    "DISTRIBUTIONS",
    "Distribution",
    "LatencyConfig",
    "LatencyModel",
    "LatencySpec",
    "RouteLatency",
    "Sampler",
    "chunk_size",
    "make_sampler",
]

# Parameter names of each distribution, in the order Distribution.params stores them.
DISTRIBUTIONS: dict[str, tuple[str, ...]] = {
    "none": (),
    "fixed": ("delay",),
    "uniform": ("low", "high"),
    "normal": ("mean", "sd"),
    "lognormal": ("median", "sigma"),
}
# Bandwidth-limited bodies go out in chunks this many seconds apart: fine enough that the
# pacing is smooth, coarse enough that a 250 KB page is not thousands of tiny writes.
BANDWIDTH_TICK = 0.02
MIN_CHUNK = 512

Sampler = Callable[[random.Random], float]


@dataclass(frozen=True, slots=True)
class Distribution:
    """A delay distribution; `params` follow DISTRIBUTIONS[kind], durations in seconds."""

    kind: str
    params: tuple[float, ...] = ()


@dataclass(frozen=True, slots=True)
class LatencySpec:
    """Latency of one route (None: the default). A None field is inherited from the default."""

    route: str | None
    distribution: Distribution | None = None
    bandwidth: float | None = None  # bytes/s; math.inf = explicitly unlimited


@dataclass(frozen=True, slots=True)
class LatencyConfig:
    """Canonical latency settings: the default spec (if any) first, then one spec per route."""

    specs: tuple[LatencySpec, ...] = ()


@dataclass(frozen=True, slots=True)
class RouteLatency:
    """The effective latency of a route: a sampler (None: no delay) and a bandwidth cap."""

    sampler: Sampler | None
    bandwidth: float | None  # bytes/s; None: unlimited


def _fixed(params: tuple[float, ...]) -> Sampler:
    (delay,) = params
    return lambda rng: delay


def _uniform(params: tuple[float, ...]) -> Sampler:
    low, high = params
    return lambda rng: rng.uniform(low, high)


def _normal(params: tuple[float, ...]) -> Sampler:
    mean, sd = params
    # Clamped rather than redrawn: a wide normal then piles up at zero, as a reader expects.
    return lambda rng: max(0.0, rng.gauss(mean, sd))


def _lognormal(params: tuple[float, ...]) -> Sampler:
    median, sigma = params
    mu = math.log(median)  # the median of a lognormal is exp(mu)
    return lambda rng: rng.lognormvariate(mu, sigma)


_FACTORIES: dict[str, Callable[[tuple[float, ...]], Sampler]] = {
    "fixed": _fixed,
    "uniform": _uniform,
    "normal": _normal,
    "lognormal": _lognormal,
}


def make_sampler(distribution: Distribution | None) -> Sampler | None:
    """A function drawing one delay (seconds, never negative) from `distribution`."""
    if distribution is None or distribution.kind == "none":
        return None
    return _FACTORIES[distribution.kind](distribution.params)


def chunk_size(bandwidth: float) -> int:
    """How many bytes to write per tick when pacing a body to `bandwidth` bytes/s."""
    return max(MIN_CHUNK, int(bandwidth * BANDWIDTH_TICK))


class LatencyModel:
    """The effective latency of every route of a LatencyConfig, resolved once."""

    def __init__(self, config: LatencyConfig) -> None:
        self.config = config
        self._table = RouteTable(config.specs, LatencySpec(None), _resolve)
        # The behaviour skips all latency work when this is false.
        self.active = bool(self._table.by_key) or self._table.default != RouteLatency(None, None)

    def for_request(self, route: str, path: str) -> RouteLatency:
        """The latency to apply to a request of `route` at `path`."""
        return self._table.for_request(route, path)


def _resolve(spec: LatencySpec, default: LatencySpec) -> RouteLatency:
    dist = spec.distribution if spec.distribution is not None else default.distribution
    bandwidth = spec.bandwidth if spec.bandwidth is not None else default.bandwidth
    return RouteLatency(make_sampler(dist), None if bandwidth == math.inf else bandwidth)
