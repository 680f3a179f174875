"""Layered settings: each layer's precedence, defaults, and errors that say where they came from."""

from __future__ import annotations

import sys
from collections.abc import Mapping
from pathlib import Path

import pytest

from cratedigger.errors import InputError
from cratedigger.pacing import RateLimit
from cratedigger.settings import SETTINGS, EffectiveSettings, resolve_settings

HOME = {"HOME": "/home/dj"}


def resolve(
    tmp_path: Path, cli: Mapping[str, object | None] | None = None, **env: str
) -> EffectiveSettings:
    return resolve_settings(cli or {}, {**HOME, **env}, tmp_path)


def test_defaults(tmp_path: Path) -> None:
    settings = resolve(tmp_path)
    assert settings.mode == "sync"
    assert settings.source == "api"
    assert settings.concurrency == 16
    assert settings.rate_limit == RateLimit("auto")
    assert settings.timeout == 10.0
    assert settings.retries == 4
    assert settings.base_url is None
    assert settings.cache_dir == Path("/home/dj/.cache/cratedigger")
    assert settings.cache_ttl == 7 * 24 * 3600
    assert settings.no_cache is False
    assert settings.token is None
    assert {settings.origin(s.name) for s in SETTINGS} == {"default"}


def test_rate_limit_defaults_to_auto_in_every_mode(tmp_path: Path) -> None:
    assert resolve(tmp_path, CRATEDIGGER_MODE="async").rate_limit == RateLimit("auto")
    assert resolve(tmp_path, {"mode": "threads"}).rate_limit == RateLimit("auto")
    assert resolve(tmp_path, {"mode": "sync"}).rate_limit == RateLimit("auto")
    explicit = resolve(tmp_path, {"mode": "async", "rate_limit": "off"})
    assert (explicit.rate_limit, explicit.origin("rate_limit")) == (RateLimit("off"), "cli")


def test_xdg_cache_home_is_respected_when_absolute(tmp_path: Path) -> None:
    assert resolve(tmp_path, XDG_CACHE_HOME="/var/cache").cache_dir == Path(
        "/var/cache/cratedigger"
    )
    relative = resolve(tmp_path, XDG_CACHE_HOME="cache").cache_dir
    assert relative == Path("/home/dj/.cache/cratedigger")


@pytest.mark.skipif(sys.platform in ("darwin", "win32"), reason="platformdirs decides there")
def test_the_token_store_is_in_the_users_config_folder(tmp_path: Path) -> None:
    assert resolve(tmp_path).config_dir == Path("/home/dj/.config/cratedigger")
    assert resolve(tmp_path, XDG_CONFIG_HOME="/etc/me").config_dir == Path("/etc/me/cratedigger")
    assert resolve(tmp_path, XDG_CONFIG_HOME="rel").config_dir == Path(
        "/home/dj/.config/cratedigger"
    )


# One sample value per setting for each layer: (raw in file, raw in env, raw on CLI, parsed).
LAYERS: dict[str, tuple[tuple[object, object], tuple[str, object], tuple[object, object]]] = {
    "mode": (("threads", "threads"), ("async", "async"), ("sync", "sync")),
    "source": (("web", "web"), ("api", "api"), ("web", "web")),
    "concurrency": ((4, 4), ("8", 8), (32, 32)),
    "rate_limit": (
        ("5/s", RateLimit("fixed", 5.0)),
        ("auto", RateLimit("auto")),
        ("off", RateLimit("off")),
    ),
    "timeout": ((2.5, 2.5), ("3", 3.0), (4.0, 4.0)),
    "retries": ((0, 0), ("1", 1), (2, 2)),
    "outage_timeout": ((5, 5.0), ("7.5", 7.5), (60, 60.0)),
    "client_id": (("mine", "mine"), ("env-id", "env-id"), ("cli-id", "cli-id")),
    "base_url": (
        ("http://127.0.0.1:8080/", "http://127.0.0.1:8080"),
        ("http://mock:1", "http://mock:1"),
        ("https://example.org", "https://example.org"),
    ),
    "cache_dir": (
        ("cache", "CWD/cache"),  # relative to the directory the settings file is in
        ("/env/cache", Path("/env/cache")),
        ("~/c", Path("/home/dj/c")),
    ),
    "cache_ttl": ((60, 60.0), ("0", 0.0), (3600.5, 3600.5)),
    "config_dir": (
        ("conf", "CWD/conf"),
        ("/env/conf", Path("/env/conf")),
        ("~/k", Path("/home/dj/k")),
    ),
    "no_cache": ((True, True), ("0", False), (True, True)),
}


def expected(value: object, cwd: Path) -> object:
    if isinstance(value, str) and value.startswith("CWD/"):
        return cwd / value.removeprefix("CWD/")
    return value


def toml_value(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return f'"{value}"'
    return repr(value)


@pytest.mark.parametrize("name", list(LAYERS))
@pytest.mark.parametrize("file_name", ["cratedigger.toml", "pyproject.toml"])
def test_each_layer_overrides_the_one_below(tmp_path: Path, name: str, file_name: str) -> None:
    (file_raw, file_value), (env_raw, env_value), (cli_raw, cli_value) = LAYERS[name]
    setting = next(s for s in SETTINGS if s.name == name)
    header = "[tool.cratedigger]\n" if file_name == "pyproject.toml" else ""
    (tmp_path / file_name).write_text(f"{header}{name} = {toml_value(file_raw)}\n")
    file_origin = (
        "file ./cratedigger.toml"
        if file_name == "cratedigger.toml"
        else "file ./pyproject.toml [tool.cratedigger]"
    )
    layers: list[tuple[dict[str, object | None], dict[str, str], object, str]] = [
        ({name: cli_raw}, {setting.env: env_raw}, cli_value, "cli"),
        ({name: None}, {setting.env: env_raw}, env_value, f"env {setting.env}"),
        ({}, {setting.env: ""}, file_value, file_origin),  # an empty variable counts as unset
    ]
    for cli, env, value, origin in layers:
        settings = resolve(tmp_path, cli, **env)
        assert getattr(settings, name) == expected(value, tmp_path), origin
        assert settings.origin(name) == origin
    (tmp_path / file_name).unlink()
    assert resolve(tmp_path).origin(name) == "default"


def test_cratedigger_toml_wins_over_pyproject(tmp_path: Path) -> None:
    (tmp_path / "cratedigger.toml").write_text('mode = "threads"\n')
    (tmp_path / "pyproject.toml").write_text('[tool.cratedigger]\nmode = "async"\nretries = 9\n')
    settings = resolve(tmp_path)
    assert (settings.mode, settings.retries) == ("threads", 4)


def test_pyproject_without_our_table_is_ignored(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "x"\n[tool.other]\nmode = 1\n')
    assert resolve(tmp_path).origin("mode") == "default"


def test_token_comes_from_cli_or_environment_only(tmp_path: Path) -> None:
    from_env = resolve(tmp_path, BEATPORT_TOKEN="env-t0ken")
    assert (from_env.token, from_env.origin("token")) == ("env-t0ken", "env BEATPORT_TOKEN")
    from_cli = resolve(tmp_path, {"token": "cli-t0ken"}, BEATPORT_TOKEN="env-t0ken")
    assert (from_cli.token, from_cli.origin("token")) == ("cli-t0ken", "cli")
    assert "t0ken" not in repr(from_cli) and "t0ken" not in from_cli.describe()
    (tmp_path / "cratedigger.toml").write_text('token = "oops"\n')
    with pytest.raises(InputError, match=r"^\./cratedigger\.toml: token: tokens do not belong"):
        resolve(tmp_path)


@pytest.mark.parametrize(
    ("cli", "env", "message"),
    [
        (
            {},
            {"CRATEDIGGER_CONCURRENCY": "abc"},
            "CRATEDIGGER_CONCURRENCY: expected a positive integer, got 'abc'",
        ),
        ({"concurrency": 0}, {}, "--concurrency: expected a positive integer, got 0"),
        (
            {},
            {"CRATEDIGGER_MODE": "fast"},
            "CRATEDIGGER_MODE: expected one of sync, threads, async, got 'fast'",
        ),
        ({"retries": -1}, {}, "--retries: expected an integer >= 0, got -1"),
        (
            {},
            {"CRATEDIGGER_TIMEOUT": "0"},
            "CRATEDIGGER_TIMEOUT: expected a number of seconds > 0, got '0'",
        ),
        ({"cache_ttl": "-5"}, {}, "--cache-ttl: expected a number of seconds >= 0, got '-5'"),
        (
            {},
            {"CRATEDIGGER_NO_CACHE": "maybe"},
            "CRATEDIGGER_NO_CACHE: expected true or false, got 'maybe'",
        ),
        (
            {},
            {"CRATEDIGGER_BASE_URL": "localhost:80"},
            "CRATEDIGGER_BASE_URL: expected an http:// or https:// URL, got 'localhost:80'",
        ),
        (
            {"base_url": "http://127.0.0.1:99999"},
            {},
            "--base-url: 'http://127.0.0.1:99999': Port out of range 0-65535",
        ),
        (
            {"rate_limit": "fast"},
            {},
            "--rate-limit: expected 'auto', 'off' or a rate like '20/s', got 'fast'",
        ),
        (
            {},
            {"CRATEDIGGER_SOURCE": "ftp"},
            "CRATEDIGGER_SOURCE: expected one of api, web, got 'ftp'",
        ),
    ],
)
def test_bad_values_name_their_origin(
    tmp_path: Path, cli: Mapping[str, object], env: Mapping[str, str], message: str
) -> None:
    with pytest.raises(InputError) as caught:
        resolve(tmp_path, cli, **env)
    assert str(caught.value) == message


def test_bad_file_values_name_the_file(tmp_path: Path) -> None:
    (tmp_path / "cratedigger.toml").write_text('mode = "fast"\n')
    with pytest.raises(InputError) as caught:
        resolve(tmp_path)
    assert str(caught.value) == (
        "./cratedigger.toml: mode: expected one of sync, threads, async, got 'fast'"
    )
    (tmp_path / "cratedigger.toml").unlink()
    (tmp_path / "pyproject.toml").write_text("[tool.cratedigger]\nconcurrency = true\n")
    with pytest.raises(InputError) as caught:
        resolve(tmp_path)
    assert str(caught.value) == (
        "./pyproject.toml: tool.cratedigger.concurrency: expected a positive integer, got True"
    )


def test_a_bad_file_value_overridden_by_a_higher_layer_is_not_read(tmp_path: Path) -> None:
    (tmp_path / "cratedigger.toml").write_text('mode = "fast"\n')
    assert resolve(tmp_path, CRATEDIGGER_MODE="async").mode == "async"


def test_unknown_file_key_is_an_error_naming_it(tmp_path: Path) -> None:
    (tmp_path / "cratedigger.toml").write_text("concurency = 4\n")
    with pytest.raises(InputError, match=r"concurency: unknown setting \(did you mean concurrency"):
        resolve(tmp_path)


@pytest.mark.parametrize("file_name", ["cratedigger.toml", "pyproject.toml"])
def test_toml_syntax_error_names_file_line_and_column(tmp_path: Path, file_name: str) -> None:
    (tmp_path / file_name).write_text('[tool.cratedigger]\nmode = "sync"\nretries = = 3\n')
    with pytest.raises(InputError) as caught:
        resolve(tmp_path)
    assert caught.value.line == 3
    assert str(caught.value).startswith(f"./{file_name}:3: invalid TOML at column 11: ")


def test_our_pyproject_table_must_be_a_table(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text("[tool]\ncratedigger = 3\n")
    with pytest.raises(InputError, match="must be a table"):
        resolve(tmp_path)


def test_cli_keys_that_are_not_settings_are_ignored(tmp_path: Path) -> None:
    settings = resolve(tmp_path, {"playlist": "Warmup", "mode": None, "no_cache": None})
    assert (settings.mode, settings.no_cache) == ("sync", False)


def test_describe_prints_every_setting_value_and_source(tmp_path: Path) -> None:
    (tmp_path / "cratedigger.toml").write_text("retries = 2\n")
    settings = resolve(
        tmp_path, {"mode": "async"}, CRATEDIGGER_CONCURRENCY="64", BEATPORT_TOKEN="t"
    )
    lines = settings.describe().splitlines()
    table = {line.split()[0]: line.split(maxsplit=2)[1:] for line in lines}
    assert lines[0].split() == ["setting", "value", "source"]
    assert table["mode"] == ["async", "cli"]
    assert table["concurrency"] == ["64", "env CRATEDIGGER_CONCURRENCY"]
    assert table["retries"] == ["2", "file ./cratedigger.toml"]
    assert table["rate_limit"] == ["auto", "default"]
    assert table["base_url"] == ["-", "default"]
    assert table["cache_ttl"] == ["604800", "default"]
    assert table["no_cache"] == ["false", "default"]
    assert table["token"] == ["(hidden)", "env BEATPORT_TOKEN"]
    assert len(lines) == len(SETTINGS) + 1  # the header; the token is a row of the table
    assert len({line.index(line.split()[1]) for line in lines}) == 1  # values column aligned


def test_a_table_in_the_settings_file_says_where_settings_go(tmp_path: Path) -> None:
    (tmp_path / "cratedigger.toml").write_text('[cratedigger]\nmode = "async"\n')
    with pytest.raises(InputError, match="write the settings at the top level"):
        resolve(tmp_path)
