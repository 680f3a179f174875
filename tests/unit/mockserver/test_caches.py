"""The bounded caches: entry and byte bounds, least recently used first out."""

from __future__ import annotations

import pytest

from mockserver.caches import LruCache, RenderCache


def test_lru_forgets_the_least_recently_used_entry() -> None:
    cache: LruCache[str, int] = LruCache(2)
    cache.put("a", 1)
    cache.put("b", 2)
    assert cache.get("a") == 1  # "b" is now the least recently used
    cache.put("c", 3)
    assert (cache.get("a"), cache.get("b"), cache.get("c")) == (1, None, 3)
    assert len(cache) == 2


def test_weighed_lru_keeps_its_values_under_the_byte_bound() -> None:
    cache: LruCache[str, bytes] = LruCache(10, max_weight=10, weigh=len)
    cache.put("a", b"1234")
    cache.put("b", b"1234")
    assert cache.weight == 8
    cache.get("a")
    cache.put("c", b"1234")  # 12 bytes: the least recently used, "b", goes
    assert (cache.get("a"), cache.get("b"), cache.get("c")) == (b"1234", None, b"1234")
    assert cache.weight == 8
    cache.put("a", b"12")  # replacing a value counts its new weight only
    assert cache.weight == 6
    cache.put("huge", b"x" * 11)  # heavier than the whole bound: not kept, nothing evicted
    assert cache.get("huge") is None and len(cache) == 2 and cache.weight == 6


def test_weighed_lru_keeps_the_entry_bound_too() -> None:
    cache: LruCache[int, bytes] = LruCache(2, max_weight=1000, weigh=len)
    for key in range(5):
        cache.put(key, b"ab")
    assert len(cache) == 2 and cache.weight == 4
    assert cache.get(3) == b"ab" and cache.get(2) is None


def test_weighed_lru_needs_a_bound() -> None:
    with pytest.raises(ValueError, match="max_weight"):
        LruCache[str, bytes](4, weigh=len)


def test_render_cache_makes_once_and_evicts_the_oldest() -> None:
    made: list[int] = []
    cache: RenderCache[str] = RenderCache(2)

    def make(key: int) -> str:
        made.append(key)
        return f"v{key}"

    assert [cache.get(k, lambda k=k: make(k)) for k in (1, 2, 1)] == ["v1", "v2", "v1"]
    assert made == [1, 2]
    cache.get(3, lambda: make(3))  # evicts 1, the oldest inserted
    assert cache.peek(1) is None and cache.peek(2) == "v2"
