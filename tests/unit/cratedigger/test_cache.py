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
