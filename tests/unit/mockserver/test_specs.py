"""The spec language, the settings built from it, and the live state that accepts patches."""

from __future__ import annotations

import math
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mockserver.errors import SpecError
from mockserver.faults import FaultConfig, FaultSpec
from mockserver.latency import Distribution, LatencyConfig, LatencySpec
from mockserver.ratelimit import RateLimitConfig
from mockserver.replay import ReplayStore
from mockserver.route_classes import route_of
from mockserver.settings import Settings, load_settings_toml, settings_from
from mockserver.specs import (
    ROUTES,
    format_faults,
    format_latency,
    format_rate_limit,
    parse_faults,
    parse_latency,
    parse_rate_limit,
)
from mockserver.state import ServerState

# ---------------------------------------------------------------- latency


@pytest.mark.parametrize(
    ("specs", "expected"),
    [
        (["fixed:50ms"], [LatencySpec(None, Distribution("fixed", (0.05,)))]),
        (["uniform:20ms..80ms"], [LatencySpec(None, Distribution("uniform", (0.02, 0.08)))]),
        (["normal:mean=50ms,sd=10ms"], [LatencySpec(None, Distribution("normal", (0.05, 0.01)))]),
        (
            ["search=lognormal:median=50ms,sigma=0.3,bandwidth=2MB/s"],
            [LatencySpec("search", Distribution("lognormal", (0.05, 0.3)), 2e6)],
        ),
        (["bandwidth=500KB/s"], [LatencySpec(None, None, 5e5)]),
        (["fixed:250us"], [LatencySpec(None, Distribution("fixed", (0.00025,)))]),
        (["fixed:1.5s"], [LatencySpec(None, Distribution("fixed", (1.5,)))]),
        (["none"], []),
        ([], []),
    ],
)
def test_latency_specs_parse_to_their_values(specs: list[str], expected: list[LatencySpec]) -> None:
    assert parse_latency(specs) == LatencyConfig(tuple(expected))


def test_latency_specs_combine_in_order() -> None:
    cfg = parse_latency(
        [
            "search=fixed:10ms",
            "fixed:50ms",
            "search=bandwidth=1MB/s",  # adds a bandwidth, keeps search's distribution
            "/v4/catalog/tracks/*=none",
        ]
    )
    assert cfg.specs == (
        LatencySpec(None, Distribution("fixed", (0.05,))),
        LatencySpec("search", Distribution("fixed", (0.01,)), 1e6),
        LatencySpec("/v4/catalog/tracks/*", Distribution("none")),
    )
    assert parse_latency(["fixed:50ms", "off", "track=fixed:1ms"]).specs == (
        LatencySpec("track", Distribution("fixed", (0.001,))),
    )


@pytest.mark.parametrize(
    "specs",
    [
        ["fixed:50ms"],
        ["uniform:20ms..80ms,bandwidth=2MB/s"],
        ["normal:mean=50ms,sd=10ms", "search=lognormal:median=120ms,sigma=0.45"],
        ["bandwidth=1500B/s", "page=bandwidth=off", "token=none"],
        ["/v4/catalog/*=fixed:12.3ms"],
        ["fixed:0ms"],
    ],
)
def test_latency_format_round_trips(specs: list[str]) -> None:
    cfg = parse_latency(specs)
    assert parse_latency(format_latency(cfg)) == cfg


@given(
    delay=st.floats(min_value=0, max_value=3600, allow_nan=False),
    bandwidth=st.floats(min_value=1e-3, max_value=1e12, allow_nan=False),
)
def test_any_duration_and_bandwidth_round_trip_exactly(delay: float, bandwidth: float) -> None:
    cfg = LatencyConfig((LatencySpec(None, Distribution("fixed", (delay,)), bandwidth),))
    assert parse_latency(format_latency(cfg)) == cfg


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("gauss:50ms", "unknown distribution 'gauss' (expected fixed, uniform, normal, lognormal)"),
        ("fixed:50", "bad delay '50'"),
        ("fixed:-5ms", "bad delay '-5ms'"),
        ("serach=fixed:5ms", "unknown route 'serach'"),
        ("uniform:80ms..20ms", "uniform needs low <= high"),
        ("normal:mean=50ms", "normal needs sd"),
        ("fixed:5ms,jitter=2ms", "fixed has no parameter 'jitter'"),
        ("lognormal:median=0ms,sigma=0.3", "positive median"),
        ("bandwidth=0MB/s", "bandwidth must be positive"),
        ("bandwidth=2Mbit", "bad bandwidth '2Mbit'"),
        ("fixed:5ms,,", "empty item"),
        ("fixed:1e400s", "too large"),
        ("lognormal:median=5ms,sigma=1e999", "too large"),
    ],
)
def test_bad_latency_specs_say_what_is_wrong(spec: str, message: str) -> None:
    with pytest.raises(SpecError) as caught:
        parse_latency([spec])
    assert caught.value.option == "--latency"
    assert message in caught.value.message
    assert str(caught.value).startswith("--latency: ")


def test_spec_error_reads_as_option_colon_message() -> None:
    with pytest.raises(SpecError, match=r"^--latency: unknown distribution 'gauss' \(expected"):
        parse_latency("gauss:1ms")


# ---------------------------------------------------------------- rate limit


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        ("20/s", RateLimitConfig(20, "s", 20)),
        ("20/s,burst=5", RateLimitConfig(20, "s", 5)),
        ("100/min,scope=token,penalty=on", RateLimitConfig(100, "min", 100, "token", True)),
        ("0.5/s,scope=client", RateLimitConfig(0.5, "s", 1, "client")),
        ("off", None),
    ],
)
def test_rate_limit_specs(spec: str, expected: RateLimitConfig | None) -> None:
    cfg = parse_rate_limit(spec)
    assert cfg == expected
    assert parse_rate_limit(format_rate_limit(cfg)) == cfg


def test_rate_limit_rate_is_per_second() -> None:
    cfg = parse_rate_limit("120/min")
    assert cfg is not None and cfg.rate == 2.0 and cfg.period == 60.0


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("20", "bad rate '20'"),
        ("20/fortnight", "bad rate"),
        ("0/s", "must be positive"),
        ("20/s,burst=0", "bad burst '0'"),
        ("20/s,scope=ip", "bad scope 'ip'"),
        ("20/s,penalty=maybe", "bad penalty"),
        ("20/s,window=3", "unknown option 'window'"),
    ],
)
def test_bad_rate_limit_specs(spec: str, message: str) -> None:
    with pytest.raises(SpecError, match=r"^--rate-limit: ") as caught:
        parse_rate_limit(spec)
    assert message in caught.value.message


# ---------------------------------------------------------------- faults


def test_fault_specs_parse_and_combine() -> None:
    cfg = parse_faults(["503=0.05,reset=0.01,first=3", "search:503=0.2,hang=0.1", "503=0.1"])
    assert cfg == FaultConfig(
        (
            FaultSpec(None, (("503", 0.1), ("reset", 0.01)), 3),
            FaultSpec("search", (("503", 0.2), ("hang", 0.1))),
        )
    )
    assert parse_faults(["503=0.5", "off"]) == FaultConfig()
    assert parse_faults("503=0") == FaultConfig()


@pytest.mark.parametrize(
    "specs",
    [
        ["500=0.01,502=0.02,503=0.05,reset=0.01,hang=0.01,truncate=0.01,invalid_json=0.01"],
        ["first=2", "track:first=0", "/v4/catalog/releases/*:503=0"],
        ["search:truncate=0.3333333333333333"],
    ],
)
def test_fault_format_round_trips(specs: list[str]) -> None:
    cfg = parse_faults(specs)
    assert parse_faults(format_faults(cfg)) == cfg


@pytest.mark.parametrize(
    ("specs", "message"),
    [
        (["boom=0.1"], "unknown fault 'boom'"),
        (["503=1.5"], "probability of 503 must be in 0..1"),
        (["503=0.6,500=0.6"], "add up to 1.2"),
        (["500=0.6", "search:503=0.6"], "for search add up to 1.2"),
        (["first=two"], "first needs a whole number"),
        (["cart:503=0.1"], "unknown route 'cart'"),
        (["503"], "expected key=value"),
    ],
)
def test_bad_fault_specs(specs: list[str], message: str) -> None:
    with pytest.raises(SpecError, match=r"^--faults: ") as caught:
        parse_faults(specs)
    assert message in caught.value.message


# ---------------------------------------------------------------- routes


@pytest.mark.parametrize(
    ("method", "path", "route"),
    [
        ("POST", "/v4/auth/o/token/", "token"),
        ("GET", "/v4/my/account/", "account"),
        ("GET", "/v4/catalog/search/", "search"),
        ("GET", "/v4/catalog/search", "search"),
        ("GET", "/v4/catalog/tracks/19431036/", "track"),
        ("GET", "/v4/catalog/tracks/", "track"),
        ("GET", "/v4/catalog/releases/4706244/tracks/", "release"),
        ("GET", "/search", "search"),
        ("GET", "/search/tracks", "search"),
        ("GET", "/track/strobe/6389004", "page"),
        ("GET", "/_next/data/abc/track/strobe/6389004.json", "page"),
        ("GET", "/searchlight", "other"),
        ("GET", "/", "other"),
        ("GET", "/v4/catalog/labels/1/", "other"),
    ],
)
def test_route_of(method: str, path: str, route: str) -> None:
    assert route_of(method, path) == route
    assert route in ROUTES


# ---------------------------------------------------------------- settings


def test_settings_from_a_toml_file(tmp_path: Path) -> None:
    (tmp_path / "recordings").mkdir()
    config = tmp_path / "mock.toml"
    config.write_text(
        "port = 9000\ncatalog-size = 500\nlatency = 'fixed:20ms'\n"
        "rate_limit = '10/s,burst=2'\nfaults = ['503=0.1', 'search:first=1']\n"
        "replay = ['recordings']\nreplay_strict = true\nadmin_token = 's3cret'\n"
    )
    values = load_settings_toml(config)
    settings = settings_from(values, {"port": 0, "seed": None, "latency": ["fixed:5ms"]})
    assert settings.port == 0  # the CLI wins
    assert settings.seed == 1  # None means "not given on the command line"
    assert settings.catalog_size == 500
    assert settings.latency == parse_latency("fixed:5ms")
    assert settings.rate_limit == RateLimitConfig(10, "s", 2)
    assert settings.faults == parse_faults(["503=0.1", "search:first=1"])
    assert settings.replay == (tmp_path / "recordings",)  # relative to the file
    assert settings.replay_strict is True
    assert settings.admin_token == "s3cret"


def test_settings_toml_may_use_a_mockserver_table(tmp_path: Path) -> None:
    config = tmp_path / "mock.toml"
    config.write_text("[mockserver]\nseed = 7\n")
    assert settings_from(load_settings_toml(config), {}).seed == 7


@pytest.mark.parametrize(
    ("text", "key", "message"),
    [
        ("colour = 'red'\n", "colour", "unknown setting"),
        ("latency = 'gauss:5ms'\n", "latency", "unknown distribution 'gauss'"),
        ("port = 70000\n", "port", "expected a whole number 0..65535"),
        ("port = '80a'\n", "port", "expected a whole number"),
        ("replay_strict = 'yes'\n", "replay_strict", "expected true or false"),
        ("replay = ['nowhere.har']\n", "replay", "no such file or directory"),
        ("faults = 3\n", "faults", "expected a spec string or a list of them"),
    ],
)
def test_bad_toml_values_name_the_file_and_key(
    tmp_path: Path, text: str, key: str, message: str
) -> None:
    config = tmp_path / "mock.toml"
    config.write_text(text)
    with pytest.raises(SpecError) as caught:
        load_settings_toml(config)
    assert caught.value.option == f"{config}: {key}"
    assert message in caught.value.message


def test_unreadable_or_invalid_toml(tmp_path: Path) -> None:
    with pytest.raises(SpecError, match="cannot read"):
        load_settings_toml(tmp_path / "missing.toml")
    broken = tmp_path / "broken.toml"
    broken.write_text("port = \n")
    with pytest.raises(SpecError, match="not valid TOML"):
        load_settings_toml(broken)


def test_settings_from_accepts_typed_values_and_names_cli_options() -> None:
    latency = parse_latency("fixed:1ms")
    settings = settings_from({}, {"latency": latency, "rate_limit": "off", "hang_seconds": 2})
    assert settings == Settings(latency=latency, hang_seconds=2.0)
    with pytest.raises(SpecError, match=r"^--rate-limit: bad rate"):
        settings_from({}, {"rate_limit": "fast"})
    with pytest.raises(SpecError, match=r"^--journal-size: expected a whole number"):
        settings_from({}, {"journal_size": -1})


# ---------------------------------------------------------------- live state


def _state(**changes: object) -> ServerState:
    return ServerState(settings_from({}, changes), ReplayStore(), clock=lambda: 100.0)


def test_config_dict_shows_specs_and_patches_apply() -> None:
    state = _state(latency="fixed:5ms", rate_limit="5/s")
    assert state.config_dict() == {
        "latency": ["fixed:5ms"],
        "rate_limit": "5/s",
        "faults": [],
        "challenge": "off",
    }
    state.apply_patch({"faults": ["503=0.5"], "rate_limit": None})
    assert state.config_dict() == {
        "latency": ["fixed:5ms"],
        "rate_limit": "off",
        "faults": ["503=0.5"],
        "challenge": "off",
    }
    assert state.limiter is None and state.faults.active
    state.apply_patch({"latency": "search=fixed:1s", "rate_limit": "1/s,penalty=on"})
    assert state.config_dict()["latency"] == ["search=fixed:1s"]
    assert state.rate_limit == RateLimitConfig(1, "s", 1, penalty=True)


@pytest.mark.parametrize(
    ("patch", "option"),
    [
        ({"latency": ["fixed:9ms"], "faults": ["503=2"]}, "faults"),
        ({"faults": ["503=0.1"], "rate_limit": "fast"}, "rate_limit"),
        ({"latency": 5}, "latency"),
        ({"faults": "503=0.1", "seed": 3}, "seed"),
    ],
)
def test_a_bad_patch_changes_nothing(patch: dict[str, object], option: str) -> None:
    state = _state(latency="fixed:5ms", rate_limit="5/s", faults="reset=0.1")
    before, limiter, plan = state.config_dict(), state.limiter, state.faults
    with pytest.raises(SpecError) as caught:
        state.apply_patch(patch)
    assert caught.value.option == option
    assert state.config_dict() == before
    assert state.limiter is limiter and state.faults is plan


def test_resending_the_same_rate_limit_keeps_its_buckets() -> None:
    state = _state(rate_limit="1/min")
    limiter = state.limiter
    assert limiter is not None and limiter.check("global").allowed
    state.apply_patch({"rate_limit": "1/min"})
    assert state.limiter is limiter and not limiter.check("global").allowed


def test_reset_clears_counters_and_reseeds() -> None:
    state = _state(rate_limit="1/min", faults="first=1")
    draws = [state.rng.random() for _ in range(3)]
    assert state.limiter is not None and state.limiter.check("global").allowed
    assert state.faults.choose("search", "/search", state.rng) == "first"
    state.stats.begin("search")
    state.stats.end("search", 200, None, 0.01, None)
    state.reset()
    assert [state.rng.random() for _ in range(3)] == draws
    assert state.limiter.check("global").allowed
    assert state.faults.choose("search", "/search", state.rng) == "first"
    assert state.stats.requests == {} and len(state.journal) == 0


def test_infinite_bandwidth_is_explicit_only_on_routes() -> None:
    cfg = parse_latency(["bandwidth=off", "page=bandwidth=off"])
    assert cfg.specs == (LatencySpec("page", None, math.inf),)
