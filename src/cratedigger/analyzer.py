"""Should this workload move to async I/O? Load a metrics export, check it, and decide.

The decision reads two measured figures and nothing else: the network share of query time
(`network_analysis.network_time_percentage`) and the cache hit rate
(`cache_stats.hit_rate_percentage`). The rule is the table `RULES`, tried in order; the
first rule whose conditions hold gives the verdict, and `FALLBACK` applies when none does.
"""

from __future__ import annotations

import json
import math
import operator
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from importlib.resources import files
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final, Literal

from cratedigger.errors import InputError

if TYPE_CHECKING:  # jsonschema is imported when a file is checked, not with the CLI
    from jsonschema import Draft202012Validator, ValidationError

__all__ = [
    "FALLBACK",
    "RULES",
    "SCHEMA_VERSION",
    "Condition",
    "Decision",
    "Rule",
    "Verdict",
    "analyze",
    "analyze_network_time_percentage",
    "decide",
    "load_metrics_from_json",
    "metrics_schema",
    "validate_metrics",
]

SCHEMA_VERSION: Final = 1
Recommendation = Literal["IMPLEMENT", "SKIP", "EVALUATE"]
Figure = Literal["network", "cache"]

# What each figure is called in reasons, and where it is read in a metrics document.
FIGURES: Final[Mapping[Figure, tuple[str, str]]] = {
    "network": ("network time", "network_analysis.network_time_percentage"),
    "cache": ("cache hit rate", "cache_stats.hit_rate_percentage"),
}
_OPERATORS: Final[Mapping[str, Callable[[float, float], bool]]] = {
    ">": operator.gt,
    "<": operator.lt,
}


@dataclass(frozen=True, slots=True)
class Condition:
    """`figure op threshold`, e.g. network time > 40 %; strict, so 40 is not above 40."""

    figure: Figure
    op: Literal[">", "<"]
    threshold: float

    def holds(self, figures: Mapping[Figure, float]) -> bool:
        return _OPERATORS[self.op](figures[self.figure], self.threshold)

    def describe(self, figures: Mapping[Figure, float] | None = None) -> str:
        """'network time > 40 %', or with figures 'network time 55.20 % > 40 %'."""
        name = FIGURES[self.figure][0]
        value = "" if figures is None else f" {_pct(figures[self.figure], self.threshold)}"
        return f"{name}{value} {self.op} {self.threshold:g} %"


@dataclass(frozen=True, slots=True)
class Rule:
    """A recommendation and the conditions that give it: all of them, or any one."""

    recommendation: Recommendation
    combine: Literal["all", "any"]
    conditions: tuple[Condition, ...]

    def fired(self, figures: Mapping[Figure, float]) -> tuple[Condition, ...]:
        """The conditions that make this rule hold (empty: it does not hold)."""
        holding = tuple(c for c in self.conditions if c.holds(figures))
        enough = len(holding) == len(self.conditions) if self.combine == "all" else bool(holding)
        return holding if enough else ()

    def describe(self) -> str:
        joiner = " and " if self.combine == "all" else " or "
        return joiner.join(c.describe() for c in self.conditions)


# IMPLEMENT needs both of its conditions, SKIP either of its own; the two cannot hold at
# once (network cannot be both > 40 and < 20, nor the cache both < 50 and > 80).
RULES: Final[tuple[Rule, ...]] = (
    Rule("IMPLEMENT", "all", (Condition("network", ">", 40.0), Condition("cache", "<", 50.0))),
    Rule("SKIP", "any", (Condition("network", "<", 20.0), Condition("cache", ">", 80.0))),
)
FALLBACK: Final[Recommendation] = "EVALUATE"


@dataclass(frozen=True, slots=True)
class Decision:
    """What `decide` concluded, and why."""

    recommendation: Recommendation
    reason: str  # which conditions fired, with the figures
    fired: tuple[Condition, ...]


def decide(
    network_percentage: float, cache_hit_rate: float, rules: Sequence[Rule] = RULES
) -> Decision:
    """The recommendation for a network share and a cache hit rate (both 0-100)."""
    figures: dict[Figure, float] = {"network": network_percentage, "cache": cache_hit_rate}
    for rule in rules:
        fired = rule.fired(figures)
        if fired:
            joiner = " and " if rule.combine == "all" else "; "
            return Decision(
                rule.recommendation, joiner.join(c.describe(figures) for c in fired), fired
            )
    shown = ", ".join(f"{FIGURES[f][0]} {_pct(v)}" for f, v in figures.items())
    ruled_out = "; ".join(f"not {r.recommendation} ({r.describe()})" for r in rules)
    return Decision(FALLBACK, f"{shown}: {ruled_out}", ())


@dataclass(frozen=True, slots=True)
class Verdict:
    """The decision for one metrics document, with the figures it rests on."""

    percentage: float  # network_analysis.network_time_percentage
    recommendation: Recommendation
    reason: str
    cache_hit_rate: float
    in_flight_wall_percentage: float
    mode: str
    concurrency: int
    fired: tuple[str, ...]  # the conditions that gave the verdict (none for the fallback)

    def to_json(self) -> dict[str, Any]:
        return {
            "percentage": self.percentage,
            "recommendation": self.recommendation,
            "reason": self.reason,
            "cache_hit_rate": self.cache_hit_rate,
            "in_flight_wall_percentage": self.in_flight_wall_percentage,
            "mode": self.mode,
            "concurrency": self.concurrency,
            "conditions": list(self.fired),
            "rule": {r.recommendation: r.describe() for r in RULES},
        }


def analyze(metrics: Mapping[str, Any]) -> Verdict:
    """The verdict for a metrics document (as `load_metrics_from_json` returns it)."""
    network = number_at(metrics, FIGURES["network"][1])
    cache_rate = number_at(metrics, FIGURES["cache"][1])
    decision = decide(network, cache_rate)
    return Verdict(
        percentage=network,
        recommendation=decision.recommendation,
        reason=decision.reason,
        cache_hit_rate=cache_rate,
        in_flight_wall_percentage=number_at(metrics, "network_analysis.in_flight_wall_percentage"),
        mode=str(value_at(metrics, "session_info.mode")),
        concurrency=int(number_at(metrics, "session_info.concurrency")),
        fired=tuple(c.describe() for c in decision.fired),
    )


def analyze_network_time_percentage(metrics: Mapping[str, Any]) -> tuple[float, str]:
    """(network time percentage, "IMPLEMENT" | "SKIP" | "EVALUATE") for a metrics document."""
    verdict = analyze(metrics)
    return verdict.percentage, verdict.recommendation


def value_at(document: Mapping[str, Any], dotted: str) -> Any:
    """The value at a dotted path; InputError naming the path when a key is missing."""
    node: Any = document
    for depth, key in enumerate(dotted.split(".")):
        if not isinstance(node, Mapping) or key not in node:
            where = ".".join(dotted.split(".")[: depth + 1])
            raise InputError(f"missing key {where}")
        node = node[key]
    return node


def number_at(document: Mapping[str, Any], dotted: str) -> float:
    """A finite number at a dotted path; InputError naming the path otherwise."""
    value = value_at(document, dotted)
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise InputError(f"{dotted}: expected a number, found {json.dumps(value)}")
    return float(value)


def load_metrics_from_json(path: Path | str) -> dict[str, Any]:
    """Read and check a metrics export; InputError (naming the file) on any problem."""
    name = str(path)
    try:
        text = Path(path).read_text(encoding="utf-8-sig")  # a BOM from a Windows editor is harmless
    except FileNotFoundError:
        raise InputError("no such file", path=name) from None
    except IsADirectoryError:
        raise InputError("is a directory, not a metrics file", path=name) from None
    except UnicodeDecodeError as err:
        raise InputError(f"not UTF-8 text (byte offset {err.start})", path=name) from None
    except OSError as err:
        raise InputError(f"cannot read: {err.strerror or err}", path=name) from None
    try:
        document = json.loads(text, parse_constant=_reject_constant)
    except json.JSONDecodeError as err:
        problem = f"invalid JSON at line {err.lineno}, column {err.colno}: {err.msg}"
        raise InputError(problem, path=name) from None
    except ValueError as err:  # NaN or Infinity, which JSON does not have
        raise InputError(f"invalid JSON: {err}", path=name) from None
    if _is_results_file(document):
        raise InputError(
            "this is a results file, not a metrics export (write one with "
            "`cratedigger match ... --metrics run.json`)",
            path=name,
        )
    try:
        validate_metrics(document)
    except InputError as err:
        raise InputError(str(err), path=name) from None
    assert isinstance(document, dict)
    return document


def _is_results_file(document: object) -> bool:
    """A `cratedigger match --out` file (or the list one from before it named its run)."""
    if isinstance(document, dict):
        return str(document.get("format", "")).startswith("cratedigger-results/")
    return (
        isinstance(document, list)
        and bool(document)
        and isinstance(document[0], dict)
        and {"rekordbox_id", "status"} <= document[0].keys()
    )


def validate_metrics(document: object) -> None:
    """Check a decoded document against schema version 1; InputError naming the problem."""
    if not isinstance(document, dict):
        raise InputError(f"expected a JSON object at the top level, found {_kind(document)}")
    if "version" not in document:
        raise InputError("missing key version")
    found = document["version"]
    if type(found) is not int or found != SCHEMA_VERSION:
        raise InputError(
            f"unsupported metrics version {json.dumps(found)} "
            f"(this cratedigger reads version {SCHEMA_VERSION})"
        )
    problems = _problems(document)
    if problems:
        more = f" (and {len(problems) - 1} more problems)" if len(problems) > 1 else ""
        raise InputError(_describe(*problems[0]) + more)


@cache
def metrics_schema() -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) of the metrics export, shipped with the package."""
    text = files("cratedigger").joinpath("metrics.schema.json").read_text(encoding="utf-8")
    schema: dict[str, Any] = json.loads(text)
    return schema


# Checking every per-query record with jsonschema costs ~0.3 ms each (4 s for 10 000
# queries), so the record arrays are checked by `_sure_check`, which accepts only records
# the schema surely accepts and hands every other one to jsonschema for the verdict and
# the message. The schema stays the only definition of what is valid.
_SURE_KEYWORDS: Final = frozenset({"type", "enum", "minimum", "maximum", "description"})
_JSON_TYPES: Final[Mapping[str, tuple[type, ...]]] = {
    "string": (str,),
    "integer": (int,),  # exactly int: bool is refused here and left to jsonschema
    "number": (int, float),
    "boolean": (bool,),
    "null": (type(None),),
}
JsonPath = tuple[str | int, ...]


def _problems(document: dict[str, Any]) -> list[tuple[JsonPath, ValidationError]]:
    """Every schema violation with its absolute path, the shallowest first."""
    arrays = _record_arrays()
    slim = {k: [] if k in arrays and isinstance(v, list) else v for k, v in document.items()}
    found: list[tuple[JsonPath, ValidationError]] = [
        (tuple(e.absolute_path), e) for e in _validator(None).iter_errors(slim)
    ]
    for key, name in arrays.items():
        records = document.get(key)
        if not isinstance(records, list):
            continue
        accepts = _sure_check(name)
        for index, record in enumerate(records):
            if not accepts(record):
                errors = _validator(name).iter_errors(record)
                found += [((key, index, *e.absolute_path), e) for e in errors]
    # A missing section explains the errors inside it, so the shallowest comes first.
    return sorted(found, key=lambda p: (len(p[0]), _dotted(p[0])))


@cache
def _validator(definition: str | None) -> Draft202012Validator:
    """A validator of the whole document, or of one of its `$defs`."""
    from jsonschema import Draft202012Validator

    schema = metrics_schema()
    if definition is None:
        return Draft202012Validator(schema)
    ref = {"$defs": schema["$defs"], "$ref": f"#/$defs/{definition}"}
    return Draft202012Validator(ref | {"$schema": schema["$schema"]})


@cache
def _record_arrays() -> dict[str, str]:
    """Top-level arrays whose items are one `$defs` entry: {key: definition}."""
    out = {}
    for key, sub in metrics_schema()["properties"].items():
        items = sub.get("items", {})
        if sub.get("type") == "array" and set(items) == {"$ref"}:
            out[key] = items["$ref"].rsplit("/", 1)[-1]
    return out


def _resolve(node: Mapping[str, Any]) -> dict[str, Any]:
    out = dict(node)
    while "$ref" in out:
        target = metrics_schema()["$defs"][out.pop("$ref").rsplit("/", 1)[-1]]
        out = dict(target) | out
    return out


@dataclass(frozen=True, slots=True)
class _SureField:
    types: tuple[type, ...]
    enum: frozenset[str] | None
    minimum: float
    maximum: float

    def accepts(self, value: object) -> bool:
        if type(value) not in self.types:
            return False
        if self.enum is not None and value not in self.enum:
            return False
        if isinstance(value, int | float):
            return self.minimum <= value <= self.maximum
        return True


def _sure_field(schema: Mapping[str, Any]) -> _SureField | None:
    if set(schema) - _SURE_KEYWORDS:
        return None
    declared, enum = schema.get("type"), schema.get("enum")
    names = [str(n) for n in (declared if isinstance(declared, list) else [declared])]
    if isinstance(enum, list) and all(isinstance(v, str) for v in enum) and declared is None:
        types: tuple[type, ...] = (str,)
    elif enum is None and all(n in _JSON_TYPES for n in names):
        types = tuple(t for n in names for t in _JSON_TYPES[n])
    else:
        return None
    minimum, maximum = schema.get("minimum", -math.inf), schema.get("maximum", math.inf)
    return _SureField(types, frozenset(enum) if enum else None, minimum, maximum)


@cache
def _sure_check(definition: str) -> Callable[[object], bool]:
    """A fast check of one record that never accepts what the schema refuses."""
    schema = _resolve(metrics_schema()["$defs"][definition])
    fields = {k: _sure_field(_resolve(sub)) for k, sub in schema.get("properties", {}).items()}
    plain = not set(schema) - {"type", "required", "properties", "description"}
    if not plain or schema.get("type") != "object" or None in fields.values():
        return lambda record: False
    sure = {k: f for k, f in fields.items() if f is not None}
    required = frozenset(schema.get("required", ()))

    def accepts(record: object) -> bool:
        return (
            type(record) is dict
            and required <= record.keys()
            and all(f.accepts(record[k]) for k, f in sure.items() if k in record)
        )

    return accepts


def _reject_constant(token: str) -> float:
    raise ValueError(f"{token} is not a JSON number")


def _dotted(parts: Iterable[str | int]) -> str:
    out = ""
    for part in parts:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else part)
    return out


def _describe(path: JsonPath, error: ValidationError) -> str:
    where = _dotted(path)
    if error.validator == "required" and isinstance(error.instance, dict):
        value = error.validator_value
        required = [str(k) for k in value] if isinstance(value, list) else []
        missing = [k for k in required if k not in error.instance]
        keys = ", ".join(f"{where}.{k}" if where else str(k) for k in missing)
        return f"missing key {keys}"
    if error.validator == "type":
        wanted = error.validator_value
        wanted = " or ".join(wanted) if isinstance(wanted, list) else str(wanted)
        value = json.dumps(error.instance)
        found = value if len(value) <= 60 else _kind(error.instance)
        return f"{where}: expected {wanted}, found {found}"
    message = " ".join(error.message.split())  # one line, whatever the value was
    if len(message) > 160:
        message = message[:157] + "..."
    return f"{where or '(top level)'}: {message}"


def _kind(value: object) -> str:
    names = {dict: "an object", list: "an array", str: "a string", bool: "a boolean"}
    if value is None:
        return "null"
    return names.get(type(value), "a number")


def _pct(value: float, threshold: float | None = None) -> str:
    """A percentage with 2 decimals, as the reports print figures; compared with a threshold,
    with as many more as it takes to show which side of it the figure is (40.0001 %, not
    40.00 %, > 40 %)."""
    side = 0 if threshold is None else _sign(value - threshold)
    for digits in range(2, 11):
        text = f"{value:.{digits}f}"
        if threshold is None or _sign(float(text) - threshold) == side:
            return f"{text} %"
    return f"{value!r} %"


def _sign(x: float) -> int:
    return (x > 0) - (x < 0)
