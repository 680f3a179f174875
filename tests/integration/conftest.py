"""Real mock servers on loopback (port 0) for integration tests.

* `mock_server`: one server for the whole session, default settings; yields its base URL.
* `mock_catalog`: the catalog that server serves (to pick tracks the tests then ask for).
* `mock_server_factory(**settings_overrides)`: extra servers with other settings (and,
  optionally, `clock=` for token expiry or `catalog=`); returns a `MockServerHandle`
  (`.base_url`, `.port`, `.app`); every server it started is stopped after the test.

Catalogs are built once per (seed, size) and shared, so extra servers start fast.

No test reads or writes the user's own sign-ins: XDG_CONFIG_HOME points every test, and
every `cratedigger` subprocess, at an empty folder of the session (`isolated_config`).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from typing import Any

import pytest

from mockserver.catalog import Catalog, build_catalog
from mockserver.runner import MockServerHandle, running_server
from mockserver.settings import Settings, settings_from

_CATALOGS: dict[tuple[int, int], Catalog] = {}

ServerFactory = Callable[..., MockServerHandle]


@pytest.fixture(scope="session", autouse=True)
def isolated_config(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """The user's config folder (the token store's) is a temporary one for the session."""
    before = os.environ.get("XDG_CONFIG_HOME")
    os.environ["XDG_CONFIG_HOME"] = str(tmp_path_factory.mktemp("xdg-config"))
    try:
        yield
    finally:
        if before is None:
            os.environ.pop("XDG_CONFIG_HOME", None)
        else:
            os.environ["XDG_CONFIG_HOME"] = before


def shared_catalog(seed: int, size: int) -> Catalog:
    """The catalog for (seed, size), built on first use."""
    key = (seed, size)
    if key not in _CATALOGS:
        _CATALOGS[key] = build_catalog(seed, size)
    return _CATALOGS[key]


def _settings(overrides: dict[str, Any]) -> Settings:
    return settings_from({}, {"port": 0, **overrides})


@pytest.fixture(scope="session")
def mock_server_handle() -> Iterator[MockServerHandle]:
    """The session's mock server (default settings, a free port)."""
    settings = _settings({})
    catalog = shared_catalog(settings.seed, settings.catalog_size)
    with running_server(settings, catalog=catalog) as handle:
        yield handle


@pytest.fixture(scope="session")
def mock_server(mock_server_handle: MockServerHandle) -> str:
    """Base URL of the session's mock server, e.g. "http://127.0.0.1:54321"."""
    return mock_server_handle.base_url


@pytest.fixture(scope="session")
def mock_catalog(mock_server_handle: MockServerHandle) -> Catalog:
    """The catalog the session's mock server serves."""
    settings = _settings({})
    return shared_catalog(settings.seed, settings.catalog_size)


@pytest.fixture
def mock_server_factory() -> Iterator[ServerFactory]:
    """Start extra mock servers with other settings; all are stopped after the test."""
    with ExitStack() as servers:

        def start(
            *,
            clock: Callable[[], float] | None = None,
            catalog: Catalog | None = None,
            **overrides: Any,
        ) -> MockServerHandle:
            settings = _settings(overrides)
            if catalog is None:
                catalog = shared_catalog(settings.seed, settings.catalog_size)
            return servers.enter_context(running_server(settings, catalog=catalog, clock=clock))

        yield start
