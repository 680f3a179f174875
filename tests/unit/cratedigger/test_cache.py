from __future__ import annotations

import subprocess
import sys
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


# Readers busy on big rows while a writer meets SQLite's "database or disk is full" (the
# writer's connection capped by max_page_count, as a full disk caps a real file). Run in a
# child process: the crash this guards against is a segfault, which would end pytest too.
_FULL_DISK_RACE = """
import os, sys, threading, time
from pathlib import Path
from cratedigger.cache import ResponseCache

warnings = []
cache = ResponseCache(Path(sys.argv[1]), warn=warnings.append)
for i in range(50):
    cache.put(f"big{i}", os.urandom(200_000))
deadline = time.monotonic() + 10

def reader(n):
    while time.monotonic() < deadline and not cache.disabled:
        assert cache.get(f"big{n % 50}") is not None or cache.disabled
        n += 7

def writer():
    _, conn = cache._connection()
    pages = conn.execute("PRAGMA page_count").fetchone()[0]
    conn.execute(f"PRAGMA max_page_count = {pages + 20}")
    time.sleep(0.2)
    for i in range(1000):
        cache.put(f"w{i}", os.urandom(3000))
        if cache.disabled:
            break

threads = [threading.Thread(target=reader, args=(n,)) for n in range(6)]
threads.append(threading.Thread(target=writer))
for t in threads:
    t.start()
for t in threads:
    t.join()
cache.put("after", b"x")
print(len(warnings), warnings[0] if warnings else "", cache.get("after"), cache.disabled)
cache.close()
"""


def test_a_disk_filling_up_under_busy_threads_disables_the_cache_without_a_crash(
    tmp_path: Path,
) -> None:
    # Before the fix, the thread that met the full disk closed every thread's connection,
    # some in the middle of a query: a segfault in 4 runs out of 10.
    for run in range(6):
        folder = tmp_path / str(run)
        done = subprocess.run(
            [sys.executable, "-X", "faulthandler", "-c", _FULL_DISK_RACE, str(folder)],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert done.returncode == 0, (run, done.returncode, done.stderr[-2000:])
        count, _, rest = done.stdout.partition(" ")
        assert count == "1" and "database or disk is full" in rest, done.stdout
        assert rest.rstrip().endswith("None True"), done.stdout  # no cache after, no error
