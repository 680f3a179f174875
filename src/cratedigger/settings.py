"""Layered configuration: CLI over environment over settings file over defaults.

Every setting is one row of `SETTINGS` (name, parser, default, environment variable, CLI
flag and help); the resolver walks the layers for each row and remembers where each value
came from, which is what `cratedigger config` prints. Secrets (the token, the client
secret) are deliberately not file material and never printed. A sign-in's password is no
setting at all: `cratedigger login` asks for it (or reads BEATPORT_PASSWORD) and forgets it.
"""

from __future__ import annotations

import math
import re
import sys
import urllib.parse
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from cratedigger.credentials import DEFAULT_CLIENT_ID
from cratedigger.errors import InputError
from cratedigger.pacing import RateLimit

__all__ = [
    "MODES",
    "SETTINGS",
    "SOURCES",
    "TOKEN_ENV",
    "EffectiveSettings",
    "Mode",
    "Place",
    "Setting",
    "SourceName",
    "resolve_settings",
]

Mode = Literal["sync", "threads", "async"]
SourceName = Literal["api", "web"]
MODES: tuple[Mode, ...] = ("sync", "threads", "async")
SOURCES: tuple[SourceName, ...] = ("api", "web")

SETTINGS_FILE = "cratedigger.toml"
PYPROJECT = "pyproject.toml"
TOKEN_ENV = "BEATPORT_TOKEN"
_TRUE = frozenset({"1", "true", "yes", "on"})
_FALSE = frozenset({"0", "false", "no", "off"})


@dataclass(frozen=True, slots=True)
class Place:
    """What relative values are relative to: the working directory and the home directory."""

    cwd: Path
    home: Path


Parser = Callable[[object, Place], object]  # (raw value, place) -> value; ValueError says why
Default = Callable[[Mapping[str, object], Mapping[str, str]], object]  # (resolved, env)


def _choice(*options: str) -> Parser:
    def parse(raw: object, _place: Place) -> str:
        if isinstance(raw, str) and raw.strip().lower() in options:
            return raw.strip().lower()
        raise ValueError(f"expected one of {', '.join(options)}, got {raw!r}")

    return parse


def _integer(minimum: int, expected: str) -> Parser:
    def parse(raw: object, _place: Place) -> int:
        try:
            if isinstance(raw, bool) or not isinstance(raw, int | str):
                raise ValueError
            value = int(raw)
        except ValueError:
            raise ValueError(f"expected {expected}, got {raw!r}") from None
        if value < minimum:
            raise ValueError(f"expected {expected}, got {raw!r}")
        return value

    return parse


def _seconds(*, allow_zero: bool) -> Parser:
    expected = "a number of seconds " + (">= 0" if allow_zero else "> 0")

    def parse(raw: object, _place: Place) -> float:
        try:
            if isinstance(raw, bool) or not isinstance(raw, int | float | str):
                raise ValueError
            value = float(raw)
        except ValueError:
            raise ValueError(f"expected {expected}, got {raw!r}") from None
        if not math.isfinite(value) or value < 0 or (value == 0 and not allow_zero):
            raise ValueError(f"expected {expected}, got {raw!r}")
        return value

    return parse


def _boolean(raw: object, _place: Place) -> bool:
    if isinstance(raw, bool):
        return raw
    if isinstance(raw, str) and raw.strip().lower() in _TRUE | _FALSE:
        return raw.strip().lower() in _TRUE
    raise ValueError(f"expected true or false, got {raw!r}")


def _rate_limit(raw: object, _place: Place) -> RateLimit:
    if isinstance(raw, RateLimit):
        return raw
    if isinstance(raw, bool) or not isinstance(raw, str | int | float):
        raise ValueError(f"expected 'auto', 'off' or a rate like '20/s', got {raw!r}")
    return RateLimit.parse(str(raw))


def _url(raw: object, _place: Place) -> str | None:
    if raw is None or raw == "":
        return None
    if isinstance(raw, str) and re.match(r"https?://[^/\s]+", raw.strip()):
        url = raw.strip().rstrip("/")
        try:  # a port out of range or not a number: said now, not after an outage budget
            _ = urllib.parse.urlsplit(url).port
        except ValueError as err:
            raise ValueError(f"{url!r}: {err}") from None
        return url
    raise ValueError(f"expected an http:// or https:// URL, got {raw!r}")


def _directory(raw: object, place: Place) -> Path:
    if not isinstance(raw, str | Path) or not str(raw).strip():
        raise ValueError(f"expected a directory path, got {raw!r}")
    path = Path(raw)
    if path.parts[0] == "~":
        path = place.home.joinpath(*path.parts[1:])
    elif path.parts[0].startswith("~"):  # ~user/...: only the system knows other users' homes
        path = path.expanduser()
    return path if path.is_absolute() else place.cwd / path


def _text(raw: object, _place: Place) -> str | None:
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        return None
    if isinstance(raw, str):
        return raw.strip()
    raise ValueError(f"expected text, got {raw!r}")


def _const(value: object) -> Default:
    return lambda _resolved, _env: value


def _default_cache_dir(_resolved: Mapping[str, object], env: Mapping[str, str]) -> Path:
    xdg = env.get("XDG_CACHE_HOME", "")
    if xdg and Path(xdg).is_absolute():  # the XDG spec says to ignore relative values
        return Path(xdg) / "cratedigger"
    return _home(env) / ".cache" / "cratedigger"


def _default_config_dir(_resolved: Mapping[str, object], env: Mapping[str, str]) -> Path:
    """The user's config folder, as platformdirs says (on Linux and BSD read from `env`)."""
    if sys.platform in ("darwin", "win32"):
        import platformdirs

        return platformdirs.user_config_path("cratedigger", appauthor=False)
    xdg = env.get("XDG_CONFIG_HOME", "")
    if xdg and Path(xdg).is_absolute():  # the XDG spec says to ignore relative values
        return Path(xdg) / "cratedigger"
    return _home(env) / ".config" / "cratedigger"


def _home(env: Mapping[str, str]) -> Path:
    return Path(env["HOME"]) if env.get("HOME") else Path.home()


@dataclass(frozen=True, slots=True)
class Setting:
    """One configurable value: how to parse it, its default, its variable and its CLI flag.

    This table is the only place a setting and its default are written: the CLI flags, the
    environment, the settings file, `cratedigger config` and `MatchOptions` all read it.
    """

    name: str
    parse: Parser
    default: Default
    env: str
    help: str
    metavar: str | None = None
    choices: tuple[str, ...] | None = None
    switch: bool = False  # a flag without a value (--no-cache)
    secret: bool = False  # never printed, never read from a settings file

    @property
    def flag(self) -> str:
        return "--" + self.name.replace("_", "-")


SETTINGS: tuple[Setting, ...] = (
    Setting(
        "mode",
        _choice(*MODES),
        _const("sync"),
        "CRATEDIGGER_MODE",
        "I/O mode (default: sync)",
        choices=MODES,
    ),
    Setting(
        "source",
        _choice(*SOURCES),
        _const("api"),
        "CRATEDIGGER_SOURCE",
        "Beatport surface: API v4 or the website (default: api)",
        choices=SOURCES,
    ),
    Setting(
        "concurrency",
        _integer(1, "a positive integer"),
        _const(16),
        "CRATEDIGGER_CONCURRENCY",
        "requests in flight for threads/async (default: 16)",
        "N",
    ),
    Setting(
        "rate_limit",
        _rate_limit,
        _const(RateLimit("auto")),
        "CRATEDIGGER_RATE_LIMIT",
        "client rate: auto (adopt or learn the server's limit), off, or e.g. 20/s (default: auto)",
        "R",
    ),
    Setting(
        "timeout",
        _seconds(allow_zero=False),
        _const(10.0),
        "CRATEDIGGER_TIMEOUT",
        "per-request timeout (default: 10)",
        "SECONDS",
    ),
    Setting(
        "retries",
        _integer(0, "an integer >= 0"),
        _const(4),
        "CRATEDIGGER_RETRIES",
        "retries on timeouts, resets and 5xx (default: 4)",
        "N",
    ),
    Setting(
        "outage_timeout",
        _seconds(allow_zero=False),
        _const(30.0),
        "CRATEDIGGER_OUTAGE_TIMEOUT",
        "stop the run cleanly (exit 3; finish with --resume) when the server has been "
        "unreachable this long (default: 30)",
        "SECONDS",
    ),
    Setting(
        "base_url",
        _url,
        _const(None),
        "CRATEDIGGER_BASE_URL",
        "Beatport base URL, e.g. a mock server's (default: the real one)",
        "URL",
    ),
    Setting(
        "cache_dir",
        _directory,
        _default_cache_dir,
        "CRATEDIGGER_CACHE_DIR",
        "response cache folder (default: ~/.cache/cratedigger)",
        "DIR",
    ),
    Setting(
        "cache_ttl",
        _seconds(allow_zero=True),
        _const(7 * 24 * 3600.0),
        "CRATEDIGGER_CACHE_TTL",
        "cache time to live (default: 7 days)",
        "SECONDS",
    ),
    Setting(
        "no_cache",
        _boolean,
        _const(False),
        "CRATEDIGGER_NO_CACHE",
        "do not read or write the response cache",
        switch=True,
    ),
    Setting(
        "config_dir",
        _directory,
        _default_config_dir,
        "CRATEDIGGER_CONFIG_DIR",
        "folder of the sign-in token store, tokens.json (default: the user's config folder, "
        "~/.config/cratedigger on Linux)",
        "DIR",
    ),
    Setting(
        "client_id",
        _text,
        _const(DEFAULT_CLIENT_ID),
        "BEATPORT_CLIENT_ID",
        "OAuth client id for the token endpoint when no token is given",
        "ID",
    ),
    Setting(
        "client_secret",
        _text,
        _const(None),
        "BEATPORT_CLIENT_SECRET",
        "OAuth client secret (or env BEATPORT_CLIENT_SECRET)",
        "SECRET",
        secret=True,
    ),
    Setting(
        "token",
        _text,
        _const(None),
        TOKEN_ENV,
        f"Beatport API bearer token (or env {TOKEN_ENV})",
        "TOKEN",
        secret=True,
    ),
)
_BY_NAME = {setting.name: setting for setting in SETTINGS}


def default_of(name: str) -> Any:
    """The default of a setting whose default needs no environment (for `MatchOptions`)."""
    return _BY_NAME[name].default({}, {})


@dataclass(frozen=True, slots=True)
class EffectiveSettings:
    """The value of every setting and where it came from ("cli", "env X", "file ...", "default")."""

    mode: Mode
    source: SourceName
    concurrency: int
    rate_limit: RateLimit
    timeout: float
    retries: int
    outage_timeout: float
    base_url: str | None
    cache_dir: Path
    cache_ttl: float
    no_cache: bool
    config_dir: Path
    client_id: str
    client_secret: str | None = field(default=None, repr=False)
    token: str | None = field(default=None, repr=False)
    origins: Mapping[str, str] = field(default_factory=dict, repr=False)

    def origin(self, name: str) -> str:
        """Where the value of setting `name` came from."""
        return self.origins.get(name, "default")

    def describe(self) -> str:
        """The table `cratedigger config` prints: setting, value, source."""
        rows = [("setting", "value", "source")]
        for s in SETTINGS:
            value = getattr(self, s.name)
            if s.secret:
                shown = "(hidden)" if value else "(not set)"
                rows.append((s.name, shown, self.origin(s.name) if value else "-"))
            else:
                rows.append((s.name, _show(value), self.origin(s.name)))
        widths = [max(len(row[column]) for row in rows) for column in range(2)]
        return "\n".join(
            f"{name:<{widths[0]}}  {value:<{widths[1]}}  {source}" for name, value, source in rows
        )


def _show(value: object) -> str:
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


@dataclass(frozen=True, slots=True)
class _FileLayer:
    values: Mapping[str, object]
    origin: str  # "file ./cratedigger.toml"
    display: str  # "./cratedigger.toml", used in error messages
    prefix: str  # how a key is named in messages: "" or "tool.cratedigger."

    def fail(self, key: str, message: str) -> InputError:
        return InputError(f"{self.prefix}{key}: {message}", path=self.display)


def _load_toml(path: Path, display: str) -> dict[str, Any]:
    import tomllib  # only when there is a settings file to read

    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        position = re.search(r"\(at line (\d+), column (\d+)\)", str(exc))
        reason = re.sub(r"\s*\(at [^)]*\)$", "", str(exc))
        if position is None:
            raise InputError(f"invalid TOML: {exc}", path=display) from None
        line, column = int(position[1]), int(position[2])
        raise InputError(
            f"invalid TOML at column {column}: {reason}", path=display, line=line
        ) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"cannot read settings: {exc}", path=display) from None


def _file_layer(cwd: Path) -> _FileLayer | None:
    own = cwd / SETTINGS_FILE
    if own.is_file():
        display = f"./{SETTINGS_FILE}"
        values = _load_toml(own, display)
        return _FileLayer(values, f"file {display}", display, "")
    pyproject = cwd / PYPROJECT
    if not pyproject.is_file():
        return None
    display = f"./{PYPROJECT}"
    document = _load_toml(pyproject, display)
    tool = document.get("tool")
    table = tool.get("cratedigger") if isinstance(tool, dict) else None
    if table is None:
        return None
    if not isinstance(table, dict):
        raise InputError("[tool.cratedigger] must be a table", path=display)
    return _FileLayer(table, f"file {display} [tool.cratedigger]", display, "tool.cratedigger.")


def _check_keys(layer: _FileLayer) -> None:
    for key in layer.values:
        setting = _BY_NAME.get(key)
        if setting is not None and setting.secret:
            what = "tokens" if key == "token" else "secrets"
            raise layer.fail(
                key, f"{what} do not belong in a settings file; use {setting.flag} or {setting.env}"
            )
        if key not in _BY_NAME and isinstance(layer.values[key], dict):
            where = (
                "at the top level of cratedigger.toml"
                if not layer.prefix
                else "directly in [tool.cratedigger]"
            )
            raise layer.fail(key, f"a table is not a setting: write the settings {where}")
        if key not in _BY_NAME:
            import difflib  # only to suggest a name for a typo

            close = difflib.get_close_matches(key, list(_BY_NAME), n=1)
            hint = f" (did you mean {close[0]}?)" if close else ""
            known = ", ".join(_BY_NAME)
            raise layer.fail(key, f"unknown setting{hint}; known settings: {known}")


def _pick(
    setting: Setting,
    cli: Mapping[str, object | None],
    env: Mapping[str, str],
    layer: _FileLayer | None,
) -> tuple[str, object]:
    """The layer that sets `setting` (its origin label) and the raw value it gives."""
    if cli.get(setting.name) is not None:
        return "cli", cli[setting.name]
    if env.get(setting.env, "") != "":  # an empty variable counts as unset, as in most tools
        return f"env {setting.env}", env[setting.env]
    if layer is not None and setting.name in layer.values:
        return layer.origin, layer.values[setting.name]
    return "default", None


def resolve_settings(
    cli: Mapping[str, object | None], env: Mapping[str, str], cwd: Path
) -> EffectiveSettings:
    """Resolve every setting: CLI over environment over settings file over default.

    `cli` maps setting names to values, None for options not given; other keys are ignored.
    """
    layer = _file_layer(cwd)
    place = Place(cwd, _home(env))
    if layer is not None:
        _check_keys(layer)
    values: dict[str, Any] = {}
    origins: dict[str, str] = {}
    for setting in SETTINGS:
        origin, raw = _pick(setting, cli, env, layer)
        origins[setting.name] = origin
        if origin == "default":
            values[setting.name] = setting.default(values, env)
            continue
        try:
            values[setting.name] = setting.parse(raw, place)
        except ValueError as exc:
            if layer is not None and origin == layer.origin:
                raise layer.fail(setting.name, str(exc)) from None
            where = setting.env if origin.startswith("env ") else setting.flag
            raise InputError(f"{where}: {exc}") from None
        if setting.secret and values[setting.name] is None:
            origins[setting.name] = "default"  # an empty --token is no token
    return EffectiveSettings(**values, origins=origins)
