"""Fixtures of the pytest-benchmark suites: recordings, demo playlists, the mock.

The mock runs in its own process (as in the asv suite), so the benchmarks time the client
alone; it is started once per session and reconfigured by each end-to-end benchmark.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from bench.benchmarks import support
from cratedigger.models import LocalTrack

E2E_TRACKS = 30


@pytest.fixture(scope="session")
def core() -> support.CoreFixtures:
    """Real Beatport answers and a local track, as the pure-core benchmarks take them."""
    return support.core_fixtures()


@pytest.fixture(scope="session")
def entries() -> list[LocalTrack]:
    """A demo playlist of E2E_TRACKS entries drawn from the mock's catalog."""
    return support.playlists([E2E_TRACKS])[E2E_TRACKS]


@pytest.fixture(scope="session")
def mock() -> Iterator[support.MockServer]:
    """The mock server in a subprocess, for the whole session."""
    server = support.MockServer()
    server.start()
    try:
        yield server
    finally:
        server.stop()
