"""The fault plan: seeded frequencies, first-N, and per-route overrides."""

from __future__ import annotations

import math
import random
from collections import Counter

import pytest

from mockserver.faults import FAULT_KINDS, FAULT_STATUS, FIRST_N, FaultPlan
from mockserver.specs import parse_faults

RATES = {
    "500": 0.01,
    "502": 0.02,
    "503": 0.1,
    "reset": 0.05,
    "hang": 0.02,
    "truncate": 0.03,
    "invalid_json": 0.04,
}


def test_every_kind_comes_up_at_its_probability() -> None:
    plan = FaultPlan(parse_faults(",".join(f"{k}={p}" for k, p in RATES.items())))
    rng = random.Random(11)
    n = 40_000
    counts = Counter(plan.choose("search", "/search", rng) for _ in range(n))
    for kind, p in RATES.items():
        tolerance = 4 * math.sqrt(p * (1 - p) / n)  # four binomial standard deviations
        assert abs(counts[kind] / n - p) < tolerance, kind
    assert abs(counts[None] / n - (1 - sum(RATES.values()))) < 0.01
    assert set(counts) <= {*FAULT_KINDS, None}


def test_the_same_seed_injects_the_same_faults() -> None:
    cfg = parse_faults("503=0.3,reset=0.2")
    runs = []
    for _ in range(2):
        plan, rng = FaultPlan(cfg), random.Random(5)
        runs.append([plan.choose("track", "/v4/catalog/tracks/1/", rng) for _ in range(200)])
    assert runs[0] == runs[1]


def test_no_faults_draws_nothing() -> None:
    plan = FaultPlan(parse_faults([]))
    rng = random.Random(3)
    state = rng.getstate()
    assert not plan.active
    assert plan.choose("search", "/search", rng) is None
    assert rng.getstate() == state


def test_the_first_n_requests_to_each_route_fail_then_succeed() -> None:
    plan = FaultPlan(parse_faults("first=2"))
    rng = random.Random(0)
    search = [plan.choose("search", "/search", rng) for _ in range(4)]
    assert search == [FIRST_N, FIRST_N, None, None]
    assert plan.choose("track", "/v4/catalog/tracks/1/", rng) == FIRST_N
    plan.reset()
    assert plan.choose("search", "/search", rng) == FIRST_N
    assert FAULT_STATUS[FIRST_N] == 503


def test_first_n_comes_before_the_probabilities() -> None:
    plan = FaultPlan(parse_faults("reset=1,first=1"))
    rng = random.Random(0)
    assert [plan.choose("page", "/track/x/1", rng) for _ in range(3)] == [FIRST_N, "reset", "reset"]


def test_routes_override_the_default_kind_by_kind() -> None:
    plan = FaultPlan(parse_faults(["503=1", "search:503=0,reset=1", "track:first=1"]))
    rng = random.Random(0)
    assert plan.choose("search", "/v4/catalog/search/", rng) == "reset"
    assert plan.choose("release", "/v4/catalog/releases/1/", rng) == "503"
    assert [plan.choose("track", "/v4/catalog/tracks/1/", rng) for _ in range(2)] == [
        FIRST_N,
        "503",
    ]


def test_globs_pick_paths() -> None:
    plan = FaultPlan(parse_faults(["/v4/catalog/releases/*:truncate=1"]))
    rng = random.Random(0)
    assert plan.choose("release", "/v4/catalog/releases/4706244/tracks/", rng) == "truncate"
    assert plan.choose("track", "/v4/catalog/tracks/4706244/", rng) is None


@pytest.mark.parametrize("kind", ["500", "502", "503"])
def test_status_faults_have_their_status(kind: str) -> None:
    assert FAULT_STATUS[kind] == int(kind)
