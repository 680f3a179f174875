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


def _converted(default: Any, value: Any) -> Any:
    """`value` as the type of the parameter whose default is `default`; ValueError if not."""
    if isinstance(default, tuple):
        if not isinstance(value, list) or not all(v in MODES for v in value):
            raise ValueError(f"expected a list of modes from {', '.join(MODES)}")
        return tuple(value)
    if isinstance(default, str):
        if not isinstance(value, str):
            raise ValueError(f"expected a string, got {value!r}")
        return value
    if isinstance(default, bool) or not isinstance(default, int | float):
        raise ValueError("unsupported type")
    kind = "an integer" if isinstance(default, int) else "a number"
    try:
        if isinstance(value, bool):
            raise ValueError
        number = type(default)(value)
    except (TypeError, ValueError):
        raise ValueError(f"expected {kind}, got {value!r}") from None
    if isinstance(default, int) and number != value and not isinstance(value, str):
        raise ValueError(f"expected {kind}, got {value!r}")
    return number


# The lowest value a numeric parameter may take, and whether that value itself is allowed.
_AT_LEAST: dict[str, tuple[float, bool]] = {
    "tracks": (1, True),
    "concurrency": (1, True),
    "latency_ms": (0, True),
    "server_rate": (0, True),
    "server_burst": (1, True),
    "timeout": (0, False),
}


def _case(
    scenario: str,
    index: int,
    defaults: Mapping[str, Any],
    own: Mapping[str, Any],
    x: str,
    where: str,
) -> Case:
    base = Case(name=f"case-{index + 1}")
    values: dict[str, Any] = {}
    for key, value in {**defaults, **own}.items():
        label = f"{scenario}.cases[{index}].{key}" if key in own else f"{scenario}.defaults.{key}"
        field = _CASE_FIELDS.get(key)
        if field is None:
            raise InputError(f"{label}: unknown parameter {key!r}", path=where)
        try:
            converted = _converted(getattr(base, key), value)
            if key in _AT_LEAST:
                low, inclusive = _AT_LEAST[key]
                if converted < low if inclusive else converted <= low:
                    least = "at least" if inclusive else "more than"
                    raise ValueError(f"expected {least} {low:g}, got {value!r}")
        except ValueError as err:
            raise InputError(f"{label}: {err}", path=where) from None
        values[key] = converted
    case = replace(base, **values)
    if "name" not in own and "name" not in defaults and x:
        case = replace(case, name=f"{x}-{case.value(x):g}")
    if case.source not in ("api", "web"):
        raise InputError(
            f"{scenario}.cases[{index}].source: expected api or web, got {case.source!r}",
            path=where,
        )
    return case


def _scenario(name: str, raw: Any, where: str) -> Scenario:
    if not isinstance(raw, dict):
        raise InputError(f"{name}: a scenario must be a table", path=where)
    defaults = raw.get("defaults", {})
    cases = raw.get("cases", [{}])  # no cases: one, of the defaults
    if not isinstance(defaults, dict) or not isinstance(cases, list):
        raise InputError(f"{name}: defaults must be a table and cases a list", path=where)
    if not cases:
        raise InputError(f"{name}.cases: the list is empty; give at least one case", path=where)
    if not all(isinstance(case, dict) for case in cases):
        raise InputError(f"{name}.cases: each case must be a table", path=where)
    x = str(raw.get("x", ""))
    if x and x not in _CASE_FIELDS:
        raise InputError(f"{name}.x: unknown parameter {x!r}", path=where)
    built = tuple(_case(name, i, defaults, case, x, where) for i, case in enumerate(cases))
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
        if path.suffix == ".toml" or len(path.parts) > 1:
            problem = "is a folder, not a file" if path.is_dir() else "no such file"
            raise InputError(f"--scenario: {problem}", path=str(path))
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
