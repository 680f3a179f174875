"""Benchmark scenarios are data: a TOML file in the package, extendable with --scenario FILE."""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, fields, replace
from importlib import resources
from pathlib import Path
from typing import Any

from cratedigger.errors import InputError

MODES = ("sync", "threads", "async")


@dataclass(frozen=True)
class Case:
    """One measured point: a server configuration, a playlist, and the modes to compare."""

    name: str
    tracks: int = 200
    source: str = "api"
    modes: tuple[str, ...] = MODES
    concurrency: int = 16
    latency_ms: float = 0.0
    latency: str = ""  # a full mock latency spec; overrides latency_ms
    server_rate: float = 0.0  # requests/s; 0 = unlimited
    server_burst: int = 5
    faults: str = ""
    client_rate: str = ""  # the client's --rate-limit; "" = the mode's default
    timeout: float = 10.0

    @property
    def latency_spec(self) -> str:
        """The mock's --latency value for this case."""
        if self.latency:
            return self.latency
        if self.latency_ms > 0:
            return f"lognormal:median={self.latency_ms:g}ms,sigma=0.3"
        return "none"

    @property
    def rate_limit_spec(self) -> str:
        if self.server_rate > 0:
            return f"{self.server_rate:g}/s,burst={self.server_burst}"
        return "off"

    def value(self, parameter: str) -> Any:
        return getattr(self, parameter)


_CASE_FIELDS = {f.name: f for f in fields(Case)}


@dataclass(frozen=True)
class Scenario:
    name: str
    description: str
    cases: tuple[Case, ...]
    x: str = ""  # the parameter plotted on the x axis
    plot: str = ""  # speedup | throughput | memory
    repeat: int = 3  # runs of each mode per case, interleaved round by round
    # After each async run, replay its requests with a bare aiohttp client (harness/bare.py):
    # the transport's own CPU per request, beside matching's.
    baseline: bool = False

    @property
    def max_tracks(self) -> int:
        return max(c.tracks for c in self.cases)


def _case(scenario: str, index: int, raw: Mapping[str, Any], x: str, where: str) -> Case:
    base = Case(name=f"case-{index + 1}")
    values: dict[str, Any] = {}
    for key, value in raw.items():
        field = _CASE_FIELDS.get(key)
        if field is None:
            raise InputError(f"{scenario}.cases[{index}]: unknown parameter {key!r}", path=where)
        default = getattr(base, key)
        try:
            if isinstance(default, tuple):
                if not isinstance(value, list) or not all(v in MODES for v in value):
                    raise ValueError(f"expected a list of modes from {', '.join(MODES)}")
                values[key] = tuple(value)
            elif isinstance(default, bool) or not isinstance(default, int | float | str):
                raise ValueError("unsupported type")
            else:
                values[key] = type(default)(value)
        except (TypeError, ValueError) as err:
            raise InputError(f"{scenario}.cases[{index}].{key}: {err}", path=where) from None
    case = replace(base, **values)
    if "name" not in raw and x:
        case = replace(case, name=f"{x}-{case.value(x):g}")
    if case.source not in ("api", "web") or case.tracks < 1 or case.concurrency < 1:
        raise InputError(
            f"{scenario}.cases[{index}]: bad source, tracks or concurrency", path=where
        )
    return case


def _scenario(name: str, raw: Any, where: str) -> Scenario:
    if not isinstance(raw, dict):
        raise InputError(f"{name}: a scenario must be a table", path=where)
    defaults = raw.get("defaults", {})
    cases = raw.get("cases") or [{}]
    if not isinstance(defaults, dict) or not isinstance(cases, list):
        raise InputError(f"{name}: defaults must be a table and cases a list", path=where)
    x = str(raw.get("x", ""))
    if x and x not in _CASE_FIELDS:
        raise InputError(f"{name}.x: unknown parameter {x!r}", path=where)
    built = tuple(_case(name, i, {**defaults, **case}, x, where) for i, case in enumerate(cases))
    repeat = raw.get("repeat", 3)
    if isinstance(repeat, bool) or not isinstance(repeat, int) or repeat < 1:
        raise InputError(f"{name}.repeat: expected a positive integer, got {repeat!r}", path=where)
    description = str(raw.get("description", ""))
    baseline = raw.get("baseline", False)
    if not isinstance(baseline, bool):
        raise InputError(f"{name}.baseline: expected true or false, got {baseline!r}", path=where)
    return Scenario(name, description, built, x, str(raw.get("plot", "")), repeat, baseline)


def _load(text: str, where: str) -> dict[str, Scenario]:
    try:
        document = tomllib.loads(text)
    except tomllib.TOMLDecodeError as err:
        raise InputError(f"invalid TOML: {err}", path=where) from None
    return {name: _scenario(name, raw, where) for name, raw in document.items()}


def builtin_scenarios() -> dict[str, Scenario]:
    text = resources.files("cratedigger.harness").joinpath("scenarios.toml").read_text("utf-8")
    return _load(text, "cratedigger/harness/scenarios.toml")


def load_scenario(name_or_file: str) -> Scenario:
    """A built-in scenario by name, or the first scenario of a TOML file (or `FILE:name`)."""
    scenarios = builtin_scenarios()
    if name_or_file in scenarios:
        return scenarios[name_or_file]
    path_text, _, wanted = name_or_file.partition(":")
    path = Path(path_text)
    if not path.is_file():
        known = ", ".join(scenarios)
        raise InputError(f"unknown scenario {name_or_file!r} (built in: {known}; or a .toml file)")
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as err:
        raise InputError(f"cannot read: {err.strerror}", path=str(path)) from None
    extra = _load(text, str(path))
    if not extra:
        raise InputError("no scenario in file", path=str(path))
    if wanted:
        if wanted not in extra:
            raise InputError(f"no scenario {wanted!r} in file", path=str(path))
        return extra[wanted]
    return next(iter(extra.values()))
