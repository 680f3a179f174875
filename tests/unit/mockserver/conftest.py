"""Catalogs and a search index shared by the mock server's unit tests (built once)."""

from __future__ import annotations

import pytest

from mockserver.catalog import Catalog, build_catalog
from mockserver.search import SearchIndex


@pytest.fixture(scope="session")
def catalog_20k() -> Catalog:
    """The default-size catalog (seed 1, 20,000 tracks)."""
    return build_catalog(1, 20_000)


@pytest.fixture(scope="session")
def index_20k(catalog_20k: Catalog) -> SearchIndex:
    return SearchIndex(catalog_20k)


@pytest.fixture(scope="session")
def catalog_5k() -> Catalog:
    """A smaller catalog (seed 3, 5,000 tracks) for the playlist tests."""
    return build_catalog(3, 5_000)
