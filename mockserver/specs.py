"""The behaviour spec language, shared by the CLI, the TOML config file and the admin API.

    latency     [ROUTE=]DIST[,bandwidth=RATE] | [ROUTE=]bandwidth=RATE | off
                DIST = none | fixed:50ms | uniform:20ms..80ms | normal:mean=50ms,sd=10ms
                       | lognormal:median=50ms,sigma=0.3      (durations in us, ms or s)
                RATE = 2MB/s | 500KB/s | 1000B/s | off        (bytes; K = 1000, M = 1000**2)
    rate limit  COUNT/(s|min|h)[,burst=N][,scope=global|token|client][,penalty=on|off] | off
    faults      [ROUTE:]KIND=P[,KIND=P...][,first=N] | off
                KIND = 500 | 502 | 503 | reset | hang | truncate | invalid_json

ROUTE is a route name (search, track, release, page, token, account, other) or a path glob
starting with "/" (`/v4/catalog/*`; `*` also matches "/"). Latency takes its route with "=",
faults with ":". Specs combine in order: a later spec overrides the fields it sets, a route
spec inherits from the default spec what it does not set, and `off` clears everything before
it. Parsers return canonical configs, so `parse_x(format_x(cfg)) == cfg`.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence

from mockserver.errors import SpecError
from mockserver.faults import FAULT_KINDS, FaultConfig, FaultSpec
from mockserver.latency import DISTRIBUTIONS, Distribution, LatencyConfig, LatencySpec
from mockserver.ratelimit import SCOPES, RateLimitConfig
from mockserver.route_classes import ROUTES

__all__ = [
    "DISTRIBUTIONS",
    "FAULT_KINDS",
    "ROUTES",
    "SCOPES",
    "Distribution",
    "FaultConfig",
    "FaultSpec",
    "LatencyConfig",
    "LatencySpec",
    "RateLimitConfig",
    "format_faults",
    "format_latency",
    "format_rate_limit",
    "parse_duration",
    "parse_faults",
    "parse_latency",
    "parse_rate_limit",
]

_UNITLESS_PARAMS = frozenset({"sigma"})
# Unit -> (multiplier, divisor): dividing by an exact 1000 keeps "50ms" == 0.05 exactly.
_DURATION_UNITS = {"us": (1.0, 1e6), "ms": (1.0, 1e3), "s": (1.0, 1.0)}
_BANDWIDTH_UNITS = {"B/s": (1.0, 1.0), "KB/s": (1e3, 1.0), "MB/s": (1e6, 1.0)}
_Units = dict[str, tuple[float, float]]
_PERIOD_ALIASES = {"s": "s", "sec": "s", "min": "min", "minute": "min", "h": "h", "hour": "h"}
_SWITCH = {"on": True, "true": True, "yes": True, "off": False, "false": False, "no": False}
_NUMBER = r"(\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?"
_QUANTITY = re.compile(rf"^\s*(?P<num>{_NUMBER})\s*(?P<unit>[A-Za-z/µ]*)\s*$")
_LATENCY_ROUTE = re.compile(r"^(?P<route>[A-Za-z_]+|/[^=]*)=(?P<body>.*)$", re.DOTALL)
_FAULT_ROUTE = re.compile(r"^(?P<route>[A-Za-z_]+|/[^:]*):(?P<body>.*)$", re.DOTALL)
_RATE = re.compile(rf"^\s*(?P<count>{_NUMBER})\s*/\s*(?P<per>[a-z]+)\s*$")


def _quantity(text: str, units: _Units, option: str, what: str) -> float:
    match = _QUANTITY.match(text)
    folded = {u.lower(): scale for u, scale in units.items()}
    unit = match["unit"].lower().replace("µ", "u") if match else ""
    if match is None or unit not in folded:
        expected = ", ".join(units)
        raise SpecError(
            option,
            f"bad {what} {text.strip()!r} (expected a non-negative number and a unit: {expected})",
        )
    mul, div = folded[unit]
    value = float(match["num"]) * mul / div
    if not math.isfinite(value):
        raise SpecError(option, f"{what} {text.strip()!r} is too large")
    return value


def parse_duration(text: str, option: str) -> float:
    """A duration such as `250ms`, `1.5s` or `800us`, in seconds."""
    return _quantity(text, _DURATION_UNITS, option, "duration")


def _format_quantity(value: float, units: _Units, option: str) -> str:
    # Prefer the largest unit that keeps the number >= 1, but only if it parses back exactly.
    def rank(unit: str) -> tuple[bool, float]:
        scale = units[unit][0] / units[unit][1]
        return (value < scale, -scale if value >= scale else scale)

    for unit in sorted(units, key=rank) if value else [u for u in units if units[u] == (1, 1)]:
        mul, div = units[unit]
        text = f"{value * div / mul:.12g}{unit}"
        if _quantity(text, units, option, "value") == value:
            return text
    base = next(u for u, scale in units.items() if scale == (1.0, 1.0))
    return f"{value!r}{base}"


def _number(text: str, option: str, what: str) -> float:
    if not re.fullmatch(_NUMBER, text.strip()):
        raise SpecError(option, f"bad {what} {text.strip()!r} (expected a non-negative number)")
    if not math.isfinite(float(text)):
        raise SpecError(option, f"{what} {text.strip()!r} is too large")
    return float(text)


def _format_number(value: float) -> str:
    text = f"{value:.12g}"
    return text if float(text) == value else repr(value)


def _check_route(route: str, option: str) -> str:
    if route in ROUTES or route.startswith("/"):
        return route
    raise SpecError(option, f"unknown route {route!r} (expected {', '.join(ROUTES)} or /glob)")


def _items(text: str, option: str) -> list[str]:
    items = [item.strip() for item in text.split(",")]
    if not text.strip() or "" in items:
        raise SpecError(option, f"empty item in {text!r}")
    return items


def _key_value(item: str, option: str) -> tuple[str, str]:
    key, sep, value = item.partition("=")
    if not sep or not value.strip():
        raise SpecError(option, f"expected key=value, got {item!r}")
    return key.strip(), value.strip()


def _as_list(specs: Sequence[str] | str) -> list[str]:
    return [specs] if isinstance(specs, str) else list(specs)


def _parse_bandwidth(text: str, option: str) -> float:
    if text.lower() in ("off", "none"):
        return math.inf
    value = _quantity(text, _BANDWIDTH_UNITS, option, "bandwidth")
    if value <= 0:
        raise SpecError(option, f"bandwidth must be positive, got {text!r}")
    return value


def _parse_distribution(kind: str, items: list[str], option: str) -> Distribution:
    if kind not in DISTRIBUTIONS:
        expected = ", ".join(k for k in DISTRIBUTIONS if k != "none")
        raise SpecError(option, f"unknown distribution {kind!r} (expected {expected})")
    names = DISTRIBUTIONS[kind]
    raw: dict[str, str] = {}
    for item in items:
        if "=" in item:
            key, value = _key_value(item, option)
        elif kind == "uniform" and ".." in item:
            raw["low"], _, raw["high"] = item.partition("..")
            continue
        elif len(names) == 1:
            key, value = names[0], item
        else:
            raise SpecError(option, f"{kind} takes {', '.join(f'{n}=' for n in names)}: {item!r}")
        if key not in names:
            raise SpecError(
                option, f"{kind} has no parameter {key!r} (expected {', '.join(names)})"
            )
        raw[key] = value
    missing = [n for n in names if n not in raw]
    if missing:
        raise SpecError(option, f"{kind} needs {', '.join(missing)}")
    params = tuple(
        _number(raw[n], option, n)
        if n in _UNITLESS_PARAMS
        else _quantity(raw[n], _DURATION_UNITS, option, n)
        for n in names
    )
    _check_distribution(kind, params, option)
    return Distribution(kind, params)


def _check_distribution(kind: str, params: tuple[float, ...], option: str) -> None:
    if kind == "uniform" and params[0] > params[1]:
        raise SpecError(option, "uniform needs low <= high")
    if kind == "lognormal" and params[0] <= 0:
        raise SpecError(option, "lognormal needs a positive median")


def _parse_latency_one(text: str, option: str) -> LatencySpec:
    route: str | None = None
    match = _LATENCY_ROUTE.match(text)
    if match and match["route"] != "bandwidth":
        route, text = _check_route(match["route"], option), match["body"]
    items = _items(text, option)
    kind: str | None = None
    head, colon, first = items[0].partition(":")
    if colon:
        kind, items = head.strip(), ([first.strip()] if first.strip() else []) + items[1:]
    elif "=" not in items[0]:
        kind, items = items[0], items[1:]
    bandwidth: float | None = None
    rest: list[str] = []
    for item in items:
        key, _, value = item.partition("=")
        if key.strip() == "bandwidth":
            bandwidth = _parse_bandwidth(value.strip(), option)
        else:
            rest.append(item)
    if kind is None and rest:
        raise SpecError(option, f"missing distribution before {rest[0]!r}")
    dist = None if kind is None else _parse_distribution(kind, rest, option)
    return LatencySpec(route, dist, bandwidth)


def parse_latency(specs: Sequence[str] | str, option: str = "--latency") -> LatencyConfig:
    """Parse and combine latency specs (see the module docstring) into one LatencyConfig."""
    merged: dict[str | None, LatencySpec] = {}
    for text in _as_list(specs):
        if text.strip().lower() == "off":
            merged.clear()
            continue
        spec = _parse_latency_one(text.strip(), option)
        old = merged.get(spec.route, LatencySpec(spec.route))
        merged[spec.route] = LatencySpec(
            spec.route,
            spec.distribution if spec.distribution is not None else old.distribution,
            spec.bandwidth if spec.bandwidth is not None else old.bandwidth,
        )
    default = merged.pop(None, LatencySpec(None))
    # Without a default to override, "none" and "unlimited" say nothing: drop them.
    dist = default.distribution
    default = LatencySpec(
        None,
        None if dist is None or dist.kind == "none" else dist,
        None if default.bandwidth == math.inf else default.bandwidth,
    )
    head = (default,) if default != LatencySpec(None) else ()
    return LatencyConfig(head + tuple(merged.values()))


def _format_distribution(dist: Distribution) -> str:
    def fmt(name: str, value: float) -> str:
        if name in _UNITLESS_PARAMS:
            return _format_number(value)
        return _format_quantity(value, _DURATION_UNITS, "--latency")

    names, params = DISTRIBUTIONS[dist.kind], dist.params
    if dist.kind == "none":
        return "none"
    if dist.kind == "fixed":
        return f"fixed:{fmt('delay', params[0])}"
    if dist.kind == "uniform":
        return f"uniform:{fmt('low', params[0])}..{fmt('high', params[1])}"
    return f"{dist.kind}:" + ",".join(
        f"{n}={fmt(n, v)}" for n, v in zip(names, params, strict=True)
    )


def format_latency(cfg: LatencyConfig) -> list[str]:
    """The specs that parse back to `cfg`."""
    out: list[str] = []
    for spec in cfg.specs:
        parts: list[str] = []
        if spec.distribution is not None:
            parts.append(_format_distribution(spec.distribution))
        if spec.bandwidth is not None:
            bw = spec.bandwidth
            text = "off" if bw == math.inf else _format_quantity(bw, _BANDWIDTH_UNITS, "--latency")
            parts.append(f"bandwidth={text}")
        out.append(("" if spec.route is None else f"{spec.route}=") + ",".join(parts))
    return out


def _default_burst(count: float) -> int:
    return max(1, math.ceil(count))


def parse_rate_limit(spec: str, option: str = "--rate-limit") -> RateLimitConfig | None:
    """Parse `20/s[,burst=5][,scope=token][,penalty=on]`; `off` gives None."""
    if spec.strip().lower() in ("off", "none", ""):
        return None
    items = _items(spec, option)
    match = _RATE.match(items[0])
    per = _PERIOD_ALIASES.get(match["per"]) if match else None
    if match is None or per is None:
        raise SpecError(option, f"bad rate {items[0]!r} (expected COUNT/s, COUNT/min or COUNT/h)")
    count = float(match["count"])
    if count <= 0:
        raise SpecError(option, "the rate must be positive (use 'off' to disable)")
    burst, scope, penalty = _default_burst(count), "global", False
    for item in items[1:]:
        key, value = _key_value(item, option)
        if key == "burst" and value.isdigit() and int(value) >= 1:
            burst = int(value)
        elif key == "scope" and value in SCOPES:
            scope = value
        elif key == "penalty" and value.lower() in _SWITCH:
            penalty = _SWITCH[value.lower()]
        elif key in ("burst", "scope", "penalty"):
            raise SpecError(option, f"bad {key} {value!r}")
        else:
            raise SpecError(option, f"unknown option {key!r} (expected burst, scope, penalty)")
    return RateLimitConfig(count, per, burst, scope, penalty)


def format_rate_limit(cfg: RateLimitConfig | None) -> str:
    """The spec that parses back to `cfg` ("off" for None)."""
    if cfg is None:
        return "off"
    parts = [f"{_format_number(cfg.count)}/{cfg.per}"]
    if cfg.burst != _default_burst(cfg.count):
        parts.append(f"burst={cfg.burst}")
    if cfg.scope != "global":
        parts.append(f"scope={cfg.scope}")
    if cfg.penalty:
        parts.append("penalty=on")
    return ",".join(parts)


def _parse_fault_one(text: str, option: str) -> FaultSpec:
    route: str | None = None
    match = _FAULT_ROUTE.match(text)
    if match:
        route, text = _check_route(match["route"], option), match["body"]
    rates: dict[str, float] = {}
    first: int | None = None
    for item in _items(text, option):
        key, value = _key_value(item, option)
        if key == "first":
            if not value.isdigit():
                raise SpecError(option, f"first needs a whole number, got {value!r}")
            first = int(value)
        elif key in FAULT_KINDS:
            rate = _number(value, option, f"probability of {key}")
            if rate > 1:
                raise SpecError(option, f"probability of {key} must be in 0..1, got {value}")
            rates[key] = rate
        else:
            expected = ", ".join((*FAULT_KINDS, "first"))
            raise SpecError(option, f"unknown fault {key!r} (expected {expected})")
    return FaultSpec(route, tuple(rates.items()), first)


def parse_faults(specs: Sequence[str] | str, option: str = "--faults") -> FaultConfig:
    """Parse and combine fault specs; each route's probabilities must add up to at most 1."""
    rates: dict[str | None, dict[str, float]] = {}
    firsts: dict[str | None, int | None] = {}
    for text in _as_list(specs):
        if text.strip().lower() in ("off", "none"):
            rates.clear()
            firsts.clear()
            continue
        spec = _parse_fault_one(text.strip(), option)
        rates.setdefault(spec.route, {}).update(spec.rates)
        if spec.first is not None:
            firsts[spec.route] = spec.first
    default = {k: p for k, p in rates.pop(None, {}).items() if p > 0}
    specs_out: list[FaultSpec] = []
    if default or firsts.get(None):
        specs_out.append(FaultSpec(None, _ordered(default), firsts.get(None) or None))
    for route, own in rates.items():
        total = sum((default | own).values())
        if total > 1 + 1e-9:
            raise SpecError(option, f"fault probabilities for {route} add up to {total:g} (> 1)")
        specs_out.append(FaultSpec(route, _ordered(own), firsts.get(route)))
    if sum(default.values()) > 1 + 1e-9:
        raise SpecError(option, f"fault probabilities add up to {sum(default.values()):g} (> 1)")
    return FaultConfig(tuple(specs_out))


def _ordered(rates: dict[str, float]) -> tuple[tuple[str, float], ...]:
    return tuple((kind, rates[kind]) for kind in FAULT_KINDS if kind in rates)


def format_faults(cfg: FaultConfig) -> list[str]:
    """The specs that parse back to `cfg`."""
    out: list[str] = []
    for spec in cfg.specs:
        items = [f"{kind}={_format_number(p)}" for kind, p in spec.rates]
        if spec.first is not None:
            items.append(f"first={spec.first}")
        out.append(("" if spec.route is None else f"{spec.route}:") + ",".join(items))
    return out
