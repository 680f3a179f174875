"""The mock server's settings: one frozen value, built from a TOML file and CLI overrides.

The TOML keys mirror the CLI options (`catalog-size` or `catalog_size` alike) and take the
spec syntax of `mockserver.specs`:

    port = 8080
    latency = ["lognormal:median=40ms,sigma=0.4", "search=fixed:120ms,bandwidth=2MB/s"]
    rate_limit = "20/s,burst=5,scope=token"
    faults = "503=0.02,first=1"
    challenge = "web:after=20"        # website requests after the 20th get a bot challenge
    allow_overrides = true            # honour X-Mock-Latency / X-Mock-Fault request headers
    replay = ["recordings/"]          # relative to the TOML file
    replay_timing = "recorded"        # or "model" (the default), or a factor such as "0.5x"
    accounts = "accounts.toml"        # who may sign in (mockserver.accounts); relative too

A `[mockserver]` table holding the keys works too (handy inside a larger config file).
"""

from __future__ import annotations

import dataclasses
import math
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mockserver.accounts import Account, load_accounts
from mockserver.challenge import ChallengeConfig, parse_challenge
from mockserver.errors import SpecError
from mockserver.faults import FaultConfig
from mockserver.latency import LatencyConfig
from mockserver.ratelimit import RateLimitConfig
from mockserver.specs import parse_faults, parse_latency, parse_rate_limit

__all__ = [
    "REPLAY_TIMING_NAMES",
    "SETTING_NAMES",
    "Settings",
    "load_settings_toml",
    "settings_from",
]

# --replay-timing words and the factor each stands for (None: the latency model decides).
REPLAY_TIMING_NAMES: dict[str, float | None] = {"model": None, "recorded": 1.0}


@dataclass(frozen=True)
class Settings:
    """Everything that configures one mock server run."""

    host: str = "127.0.0.1"
    port: int = 8080
    seed: int = 1
    catalog_size: int = 20000
    latency: LatencyConfig = field(default_factory=LatencyConfig)
    rate_limit: RateLimitConfig | None = None
    faults: FaultConfig = field(default_factory=FaultConfig)
    replay: tuple[Path, ...] = ()
    replay_strict: bool = False
    # None: replayed answers wait the latency model's delay; a number: the entry's recorded
    # time times this factor ("recorded" is 1.0, "0.5x" halves it).
    replay_timing: float | None = None
    admin_token: str | None = None
    token_ttl: float = 36000.0  # what api.beatport.com gives (10 hours)
    refresh_token_ttl: float = 30 * 24 * 3600.0
    # Who may sign in; empty: the demo account (mockserver.accounts.DEMO_ACCOUNT).
    accounts: tuple[Account, ...] = ()
    journal_size: int = 1000
    # How long a "hang" fault holds a request before the server gives up (504); clients
    # normally time out long before.
    hang_seconds: float = 300.0
    # Website requests answered with a Cloudflare-style bot challenge (None: never).
    challenge: ChallengeConfig | None = None
    # Honour the per-request X-Mock-Latency and X-Mock-Fault headers.
    allow_overrides: bool = False
    # Render every search row at start-up (catalogs up to app.PRERENDER_LIMIT tracks).
    prerender: bool = True


# A converter turns a raw value (TOML or CLI) or an already-typed one into the field's type;
# `base` is the directory relative paths are resolved against (the TOML file's).
_Converter = Callable[[object, str, Path | None], object]


def _fail(option: str, expected: str, value: object) -> SpecError:
    return SpecError(option, f"expected {expected}, got {value!r}")


def _integer(low: int, high: int | None = None) -> _Converter:
    def convert(value: object, option: str, base: Path | None) -> object:
        if isinstance(value, str) and value.strip().isdigit():
            value = int(value)
        if (
            isinstance(value, bool)
            or not isinstance(value, int)
            or value < low
            or (high is not None and value > high)
        ):
            span = f"{low}..{high}" if high is not None else f">= {low}"
            raise _fail(option, f"a whole number {span}", value)
        return value

    return convert


def _positive_number(value: object, option: str, base: Path | None) -> object:
    if isinstance(value, str):
        try:
            value = float(value)
        except ValueError:
            raise _fail(option, "a number", value) from None
    if isinstance(value, bool) or not isinstance(value, int | float) or not value > 0:
        raise _fail(option, "a positive number", value)
    return float(value)


def _text(value: object, option: str, base: Path | None) -> object:
    if not isinstance(value, str) or not value:
        raise _fail(option, "a non-empty string", value)
    return value


def _flag(value: object, option: str, base: Path | None) -> object:
    if not isinstance(value, bool):
        raise _fail(option, "true or false", value)
    return value


def _specs(value: object, option: str) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, list | tuple) and all(isinstance(v, str) for v in value):
        return list(value)
    raise _fail(option, "a spec string or a list of them", value)


def _latency(value: object, option: str, base: Path | None) -> object:
    if isinstance(value, LatencyConfig):
        return value
    return parse_latency(_specs(value, option), option)


def _spec_or_off(
    config_type: type, what: str, example: str, parse: Callable[[str, str], object | None]
) -> _Converter:
    """A setting that is one spec string, or "off" (None; `false` in TOML)."""

    def convert(value: object, option: str, base: Path | None) -> object:
        if isinstance(value, config_type) or value is False:
            return value or None
        if not isinstance(value, str):
            raise _fail(option, f'a {what} spec such as "{example}" or "off"', value)
        return parse(value, option)

    return convert


_rate_limit = _spec_or_off(RateLimitConfig, "rate limit", "20/s,burst=5", parse_rate_limit)
_challenge = _spec_or_off(ChallengeConfig, "challenge", "web:after=10", parse_challenge)


def _faults(value: object, option: str, base: Path | None) -> object:
    if isinstance(value, FaultConfig):
        return value
    return parse_faults(_specs(value, option), option)


def _replay(value: object, option: str, base: Path | None) -> object:
    items = [value] if isinstance(value, str | Path) else value
    if not isinstance(items, list | tuple) or not all(isinstance(i, str | Path) for i in items):
        raise _fail(option, "a path or a list of paths", value)
    paths: list[Path] = []
    for item in items:
        path = Path(item)
        path = base / path if base is not None and not path.is_absolute() else path
        if not path.exists():
            raise SpecError(option, f"no such file or directory: {path}")
        paths.append(path)
    return tuple(paths)


def _accounts(value: object, option: str, base: Path | None) -> object:
    if isinstance(value, tuple) and all(isinstance(a, Account) for a in value):
        return value
    if not isinstance(value, str | Path) or not str(value):
        raise _fail(option, "the path of an accounts TOML file", value)
    path = Path(value)
    path = base / path if base is not None and not path.is_absolute() else path
    try:
        return load_accounts(path)
    except SpecError as error:
        raise SpecError(option, str(error)) from None


def _replay_timing(value: object, option: str, base: Path | None) -> object:
    if value is None:
        return None
    factor = value
    if isinstance(value, str):
        word = value.strip().lower()
        if word in REPLAY_TIMING_NAMES:
            return REPLAY_TIMING_NAMES[word]
        try:
            factor = float(word.removesuffix("x"))
        except ValueError:
            factor = math.nan
    if (
        isinstance(factor, bool)
        or not isinstance(factor, int | float)
        or not 0 <= factor < math.inf
    ):
        raise _fail(option, 'recorded, model or a factor such as "0.5x"', value)
    return float(factor)


_CONVERTERS: dict[str, _Converter] = {
    "host": _text,
    "port": _integer(0, 65535),
    "seed": _integer(0),
    "catalog_size": _integer(1),
    "latency": _latency,
    "rate_limit": _rate_limit,
    "faults": _faults,
    "replay": _replay,
    "replay_strict": _flag,
    "replay_timing": _replay_timing,
    "admin_token": _text,
    "token_ttl": _positive_number,
    "refresh_token_ttl": _positive_number,
    "accounts": _accounts,
    "journal_size": _integer(0),
    "hang_seconds": _positive_number,
    "challenge": _challenge,
    "allow_overrides": _flag,
    "prerender": _flag,
}
SETTING_NAMES = tuple(_CONVERTERS)
assert set(SETTING_NAMES) == {f.name for f in dataclasses.fields(Settings)}


def _convert(key: str, value: object, option: str, base: Path | None) -> object:
    name = key.replace("-", "_")
    if name not in _CONVERTERS:
        raise SpecError(option, f"unknown setting (expected one of {', '.join(SETTING_NAMES)})")
    return _CONVERTERS[name](value, option, base)


def load_settings_toml(path: Path) -> dict[str, object]:
    """Read and validate a TOML settings file; values come back converted to Settings' types."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as error:
        raise SpecError(str(path), f"cannot read: {error.strerror or error}") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as error:
        raise SpecError(str(path), f"not valid TOML: {error}") from None
    table = data.get("mockserver")
    if isinstance(table, dict) and len(data) == 1:
        data = table
    return {
        key.replace("-", "_"): _convert(key, value, f"{path}: {key}", path.parent)
        for key, value in data.items()
    }


def settings_from(toml: Mapping[str, object], overrides: Mapping[str, object]) -> Settings:
    """Settings from file values overridden by CLI values; None values mean "not given"."""
    # Any: each value has just been checked and converted by its field's converter.
    merged: dict[str, Any] = {}
    for source in (toml, overrides):
        for key, value in source.items():
            if value is not None:
                option = "--" + key.replace("_", "-")
                merged[key.replace("-", "_")] = _convert(key, value, option, None)
    return dataclasses.replace(Settings(), **merged)
