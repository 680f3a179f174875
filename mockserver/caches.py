"""The bounded caches the renderers and routes keep their serialized answers in."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

__all__ = ["LruCache", "RenderCache"]

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class RenderCache(Generic[V]):
    """A bounded id -> rendered value map; evicts the oldest entry (renders are cheap to redo)."""

    def __init__(self, maxsize: int) -> None:
        self._maxsize = maxsize
        self._items: dict[int, V] = {}

    def grow(self, maxsize: int) -> None:
        """Hold at least `maxsize` entries from now on."""
        self._maxsize = max(self._maxsize, maxsize)

    def peek(self, key: int) -> V | None:
        """The value for `key` if it is cached, else None."""
        return self._items.get(key)

    def get(self, key: int, make: Callable[[], V]) -> V:
        """The value for `key`, made by `make()` the first time."""
        try:
            return self._items[key]
        except KeyError:
            value = make()
            if len(self._items) >= self._maxsize:
                del self._items[next(iter(self._items))]
            self._items[key] = value
            return value


class LruCache(Generic[K, V]):
    """A bounded map that forgets its least recently used entries first.

    It holds at most `maxsize` entries and, when `weigh` is given, values whose weights add
    up to at most `max_weight`; a value heavier than that on its own is not kept.
    """

    def __init__(
        self, maxsize: int, *, max_weight: int = 0, weigh: Callable[[V], int] | None = None
    ) -> None:
        if weigh is not None and max_weight <= 0:
            raise ValueError("a weighed LruCache needs a positive max_weight")
        self._maxsize = maxsize
        self._max_weight = max_weight
        self._weigh = weigh
        self._weight = 0
        self._items: OrderedDict[K, V] = OrderedDict()

    def get(self, key: K) -> V | None:
        """The value for `key` (now the most recently used), or None."""
        value = self._items.get(key)
        if value is not None:
            self._items.move_to_end(key)
        return value

    def put(self, key: K, value: V) -> None:
        """Keep `value` for `key`, forgetting the least recently used entries if full."""
        weigh = self._weigh
        if weigh is None:
            self._items[key] = value
            self._items.move_to_end(key)
            if len(self._items) > self._maxsize:
                self._items.popitem(last=False)
            return
        old = self._items.pop(key, None)
        if old is not None:
            self._weight -= weigh(old)
        weight = weigh(value)
        if weight > self._max_weight:
            return
        self._items[key] = value
        self._weight += weight
        while len(self._items) > self._maxsize or self._weight > self._max_weight:
            self._weight -= weigh(self._items.popitem(last=False)[1])

    @property
    def weight(self) -> int:
        """The total weight of the values kept (0 when not weighed)."""
        return self._weight

    def __len__(self) -> int:
        return len(self._items)
