"""A response cache damaged past its header costs one warning line, never a result.

Each mode runs as a user runs it (a `cratedigger match` subprocess) against the real mock,
with a cache that a previous run filled and a disk fault then damaged.
"""

from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path

import pytest

from cratedigger.settings import MODES
from mockserver.catalog import Catalog
from tests.integration.playlists import Demo, make_demo
from tests.integration.test_cli_match import cratedigger


@pytest.fixture(scope="module")
def demo(mock_catalog: Catalog, tmp_path_factory: pytest.TempPathFactory) -> Demo:
    return make_demo(mock_catalog, tmp_path_factory.mktemp("damaged"), tracks=40, seed=11)


def run(demo: Demo, base_url: str, mode: str, out: Path, *cache: str | Path) -> tuple[int, str]:
    done = cratedigger(
        "match", demo.xml, "--playlist", demo.playlist, "--base-url", base_url,
        "--mode", mode, "--no-progress", "--out", out, *cache,
    )  # fmt: skip
    return done.returncode, done.stderr


@pytest.fixture(scope="module")
def filled_cache(demo: Demo, mock_server: str, tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("cache")
    code, err = run(demo, mock_server, "sync", folder / "first.json", "--cache-dir", folder)
    assert code == 0, err
    db = folder / "responses.sqlite3"
    conn = sqlite3.connect(db)
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()
    return db


@pytest.mark.parametrize("mode", MODES)
def test_every_mode_survives_a_damaged_cache_with_one_warning(
    mode: str, demo: Demo, mock_server: str, filled_cache: Path, tmp_path: Path
) -> None:
    folder = tmp_path / "cache"
    folder.mkdir()
    db = folder / "responses.sqlite3"
    shutil.copyfile(filled_cache, db)
    size = db.stat().st_size
    with db.open("r+b") as stream:  # the 100-byte header survives, the pages do not
        for offset in (100, 4096, size // 3, size - 8192):
            stream.seek(offset)
            stream.write(b"\x5a" * 4096)

    clean_code, clean_err = run(demo, mock_server, mode, tmp_path / "clean.json", "--no-cache")
    code, err = run(demo, mock_server, mode, tmp_path / "damaged.json", "--cache-dir", folder)

    assert clean_code == 0, clean_err
    assert code == 0, err
    assert (tmp_path / "damaged.json").read_bytes() == (tmp_path / "clean.json").read_bytes()
    warnings = [line for line in err.splitlines() if "warning" in line]
    assert len(warnings) == 1, err
    assert "response cache" in warnings[0] and "damaged" in warnings[0]
    assert "Traceback" not in err
    assert len(list(folder.glob("responses.sqlite3.damaged-*"))) == 1
