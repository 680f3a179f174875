"""The challenge spec and the challenger's decisions, with a fake clock."""

from __future__ import annotations

import pytest

from mockserver.challenge import ChallengeConfig, Challenger, format_challenge, parse_challenge
from mockserver.cli import build_parser, settings_from_args
from mockserver.errors import SpecError


@pytest.mark.parametrize(
    ("spec", "config"),
    [
        ("web:after=10", ChallengeConfig(after=10)),
        (" WEB : after = 0 ", ChallengeConfig(after=0)),
        ("web:rate=2.5/s", ChallengeConfig(rate=2.5)),
        ("off", None),
    ],
)
def test_specs_parse_and_format_back(spec: str, config: ChallengeConfig | None) -> None:
    assert parse_challenge(spec) == config
    assert parse_challenge(format_challenge(config)) == config


@pytest.mark.parametrize("bad", ["web", "api:after=1", "web:after=-1", "web:rate=0/s", "web:x=1"])
def test_bad_specs_name_the_option(bad: str) -> None:
    with pytest.raises(SpecError) as caught:
        parse_challenge(bad, "--challenge")
    assert caught.value.option == "--challenge"


def test_only_website_paths_are_counted_and_challenged() -> None:
    challenger = Challenger(ChallengeConfig(after=1), clock=lambda: 0.0)
    assert not challenger.challenges("/v4/catalog/search/")
    assert not challenger.challenges("/search/tracks")
    assert challenger.challenges("/track/a/1")
    assert not challenger.challenges("/v4/catalog/tracks/1/")
    challenger.reset()
    assert not challenger.challenges("/track/a/1")


def test_the_rate_refills_with_time() -> None:
    now = [0.0]
    challenger = Challenger(ChallengeConfig(rate=1.0), clock=lambda: now[0])
    assert [challenger.challenges("/search") for _ in range(2)] == [False, True]
    now[0] = 1.0
    assert [challenger.challenges("/search") for _ in range(2)] == [False, True]


def test_serve_options() -> None:
    args = build_parser().parse_args(
        ["serve", "--challenge", "web:after=3", "--allow-overrides", "--no-prerender"]
    )
    settings = settings_from_args(args)
    assert settings.challenge == ChallengeConfig(after=3)
    assert settings.allow_overrides and not settings.prerender
    defaults = settings_from_args(build_parser().parse_args(["serve"]))
    assert defaults.challenge is None and not defaults.allow_overrides and defaults.prerender
