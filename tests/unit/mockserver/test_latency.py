"""Delay samplers against their analytical quantiles, and which route gets which latency."""

from __future__ import annotations

import math
import random
import statistics
from collections.abc import Callable
from statistics import NormalDist

import pytest

from mockserver.latency import (
    MIN_CHUNK,
    Distribution,
    LatencyModel,
    RouteLatency,
    chunk_size,
    make_sampler,
)
from mockserver.specs import parse_latency

DRAWS = 10_000
PERCENTILES = (50, 90, 99)
Z = NormalDist()


def _empirical(dist: Distribution, seed: int = 7) -> dict[int, float]:
    sampler = make_sampler(dist)
    assert sampler is not None
    rng = random.Random(seed)
    draws = [sampler(rng) for _ in range(DRAWS)]
    cuts = statistics.quantiles(draws, n=100, method="inclusive")
    return {p: cuts[p - 1] for p in PERCENTILES}


# Each distribution's quantile function, written from its definition rather than the code.
ANALYTIC: list[tuple[Distribution, Callable[[float], float]]] = [
    (Distribution("fixed", (0.05,)), lambda p: 0.05),
    (Distribution("uniform", (0.02, 0.08)), lambda p: 0.02 + p * 0.06),
    (Distribution("normal", (0.05, 0.01)), lambda p: NormalDist(0.05, 0.01).inv_cdf(p)),
    (Distribution("lognormal", (0.05, 0.3)), lambda p: 0.05 * math.exp(0.3 * Z.inv_cdf(p))),
]


@pytest.mark.parametrize(("dist", "quantile"), ANALYTIC, ids=lambda v: getattr(v, "kind", ""))
def test_percentiles_match_the_analytical_quantiles(
    dist: Distribution, quantile: Callable[[float], float]
) -> None:
    measured = _empirical(dist)
    for p in PERCENTILES:
        expected = quantile(p / 100)
        assert measured[p] == pytest.approx(expected, rel=0.04), f"p{p} of {dist}"


def test_lognormal_median_is_the_configured_median() -> None:
    measured = _empirical(Distribution("lognormal", (0.12, 0.5)), seed=3)
    assert measured[50] == pytest.approx(0.12, rel=0.03)


def test_delays_are_never_negative() -> None:
    sampler = make_sampler(Distribution("normal", (0.005, 0.01)))
    assert sampler is not None
    rng = random.Random(1)
    draws = [sampler(rng) for _ in range(DRAWS)]
    assert min(draws) == 0.0
    assert draws.count(0.0) > DRAWS * 0.25  # P(N(5, 10) < 0) is about 31 %


def test_the_same_seed_draws_the_same_delays() -> None:
    sampler = make_sampler(Distribution("lognormal", (0.05, 0.3)))
    assert sampler is not None
    first, second = random.Random(42), random.Random(42)
    assert [sampler(first) for _ in range(50)] == [sampler(second) for _ in range(50)]


def test_no_distribution_means_no_sampler() -> None:
    assert make_sampler(None) is None
    assert make_sampler(Distribution("none")) is None


def _delay(latency: RouteLatency) -> float | None:
    return None if latency.sampler is None else latency.sampler(random.Random(0))


def test_routes_inherit_what_they_do_not_set_from_the_default() -> None:
    model = LatencyModel(
        parse_latency(
            [
                "fixed:50ms,bandwidth=1MB/s",
                "search=fixed:200ms",
                "page=bandwidth=off",
                "/v4/catalog/tracks/*=none",
            ]
        )
    )
    assert model.active
    search = model.for_request("search", "/v4/catalog/search/")
    assert (_delay(search), search.bandwidth) == (0.2, 1e6)
    page = model.for_request("page", "/track/x/1")
    assert (_delay(page), page.bandwidth) == (0.05, None)
    track = model.for_request("track", "/v4/catalog/tracks/1/")
    assert (_delay(track), track.bandwidth) == (None, 1e6)
    other = model.for_request("release", "/v4/catalog/releases/1/")
    assert (_delay(other), other.bandwidth) == (0.05, 1e6)


def test_a_glob_beats_a_route_name() -> None:
    model = LatencyModel(parse_latency(["track=fixed:1ms", "/v4/catalog/tracks/9*=fixed:2ms"]))
    assert _delay(model.for_request("track", "/v4/catalog/tracks/95/")) == 0.002
    assert _delay(model.for_request("track", "/v4/catalog/tracks/15/")) == 0.001
    assert _delay(model.for_request("search", "/search")) is None


def test_an_empty_config_is_inactive() -> None:
    model = LatencyModel(parse_latency([]))
    assert not model.active
    assert model.for_request("search", "/search") == RouteLatency(None, None)


def test_chunks_pace_smoothly_but_not_byte_by_byte() -> None:
    assert chunk_size(1000) == MIN_CHUNK
    assert chunk_size(2e6) == 40_000
