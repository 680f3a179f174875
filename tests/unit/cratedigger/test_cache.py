from __future__ import annotations

import threading
from pathlib import Path

from cratedigger.cache import ResponseCache


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_put_get_hits_and_misses(tmp_path: Path) -> None:
    cache = ResponseCache(tmp_path, ttl=60)
    assert cache.get("GET http://x/a?") is None
    cache.put("GET http://x/a?", b"body")
    assert cache.get("GET http://x/a?") == b"body"
    assert (cache.hits, cache.misses) == (1, 1)
    assert cache.hit_rate == 0.5
    cache.close()


def test_large_bodies_round_trip_compressed(tmp_path: Path) -> None:
    cache = ResponseCache(tmp_path)
    page = b"<html>" + b"x" * 200_000 + b"</html>"
    cache.put("k", page)
    assert cache.get("k") == page
    assert cache.path.stat().st_size < 100_000
    cache.close()


def test_ttl_expires_entries(tmp_path: Path) -> None:
    clock = FakeClock()
    cache = ResponseCache(tmp_path, ttl=10, clock=clock)
    cache.put("k", b"v")
    clock.now += 9
    assert cache.get("k") == b"v"
    clock.now += 2
    assert cache.get("k") is None
    assert cache.purge_expired() == 1
    cache.close()


def test_persists_across_instances(tmp_path: Path) -> None:
    first = ResponseCache(tmp_path)
    first.put("k", b"v")
    first.close()
    second = ResponseCache(tmp_path)
    assert second.get("k") == b"v"
    second.delete("k")
    assert second.get("k") is None
    second.close()


def test_concurrent_threads(tmp_path: Path) -> None:
    cache = ResponseCache(tmp_path)
    errors: list[BaseException] = []

    def work(n: int) -> None:
        try:
            for i in range(50):
                cache.put(f"{n}-{i}", str(i).encode())
                assert cache.get(f"{n}-{i}") == str(i).encode()
        except BaseException as err:
            errors.append(err)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert cache.hits == 400
    cache.close()


# -- a damaged file is moved aside, never fatal ----------------------------------------------


def _filled(directory: Path, entries: int = 300) -> Path:
    cache = ResponseCache(directory)
    for i in range(entries):
        cache.put(f"GET http://x/{i}?", bytes([i % 251]) * 3000)
    cache.close()
    return directory / "responses.sqlite3"


def _damage(path: Path) -> None:
    """Garbage past the 100-byte header, as a disk fault or a crashed writer leaves it."""
    import sqlite3

    conn = sqlite3.connect(path)
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()
    size = path.stat().st_size
    with path.open("r+b") as stream:
        for offset in (100, 4096, size // 2):
            stream.seek(offset)
            stream.write(b"\xa5" * 2048)


def test_a_cache_damaged_past_its_header_is_moved_aside_at_open(tmp_path: Path) -> None:
    path = _filled(tmp_path)
    _damage(path)
    warnings: list[str] = []
    cache = ResponseCache(tmp_path, warn=warnings.append)
    assert len(warnings) == 1 and "was damaged" in warnings[0]
    aside = [p.name for p in tmp_path.iterdir() if ".damaged-" in p.name]
    assert len(aside) == 1 and aside[0] in warnings[0]
    assert cache.get("GET http://x/1?") is None  # a fresh cache
    cache.put("k", b"v")
    assert cache.get("k") == b"v"
    assert not cache.disabled
    cache.close()


def test_damage_found_during_a_run_is_repaired_once_for_every_thread(tmp_path: Path) -> None:
    path = _filled(tmp_path)
    warnings: list[str] = []
    cache = ResponseCache(tmp_path, warn=warnings.append)
    assert cache.get("GET http://x/5?") is not None
    _damage(path)  # another program breaks the file while the run goes on
    results: list[bytes | None] = []

    def worker() -> None:
        for i in range(300):
            results.append(cache.get(f"GET http://x/{i}?"))
            cache.put(f"new {i}", b"x")

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(warnings) == 1 and "was damaged" in warnings[0]
    assert cache.get("new 7") == b"x"  # the fresh cache works
    cache.close()


def test_a_cache_that_cannot_be_created_is_skipped_with_one_warning(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    warnings: list[str] = []
    cache = ResponseCache(blocker / "cache", warn=warnings.append)
    assert cache.disabled and len(warnings) == 1 and "going on without" in warnings[0]
    cache.put("k", b"v")
    assert cache.get("k") is None
    assert cache.misses == 1
    cache.close()


def test_a_file_that_is_not_a_database_is_replaced(tmp_path: Path) -> None:
    (tmp_path / "responses.sqlite3").write_bytes(b"this is not SQLite at all" * 100)
    warnings: list[str] = []
    cache = ResponseCache(tmp_path, warn=warnings.append)
    assert len(warnings) == 1 and "was damaged" in warnings[0]
    cache.put("k", b"v")
    assert cache.get("k") == b"v"
    cache.close()
