"""The shared state of one run, built for the drivers: the core's context plus the cache.

This is shell code: it picks the clocks, the jitter source and the lock the core's shared
objects use, and it owns the only disk I/O of a run (the response cache), which the
exchanges reach through `CacheGet`/`CachePut`/`CacheDelete` actions.
"""

from __future__ import annotations

import random
import threading
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

from cratedigger.breaker import Breaker, BreakerPolicy
from cratedigger.credentials import TokenBox
from cratedigger.exchange import CacheDelete, CacheGet, CachePut, Context
from cratedigger.metrics import Collector
from cratedigger.options import MatchOptions
from cratedigger.pacing import Pacer
from cratedigger.retry import RetryPolicy

if TYPE_CHECKING:
    from cratedigger.cache import ResponseCache

CacheAction = CacheGet | CachePut | CacheDelete


@dataclass
class Session:
    """A run's context (pure shared state) and its response cache (or None)."""

    ctx: Context
    cache: ResponseCache | None = None

    def touch_cache(self, action: CacheAction) -> bytes | None:
        """Carry out one of the exchange's cache actions."""
        cache = self.cache
        if cache is None:
            return None
        if isinstance(action, CacheGet):
            return cache.get(action.key)
        if isinstance(action, CachePut):
            cache.put(action.key, action.body)
        else:
            cache.delete(action.key)
        return None

    def close(self) -> None:
        if self.cache is not None:
            self.cache.close()


def open_session(options: MatchOptions, collector: Collector | None = None) -> Session:
    """The shared state of one run: source, retry policy, pacer, token, cache."""
    cache = None
    if options.cache_dir is not None:
        from cratedigger.cache import ResponseCache  # sqlite is only loaded when a cache is used

        cache = ResponseCache(options.cache_dir, ttl=options.cache_ttl)
    # One lock type for every mode: uncontended it costs tens of nanoseconds, and the
    # threaded driver needs it (sync and asyncio would do without).
    ctx = Context(
        source=options.make_source(),
        base_url=options.url,
        clock=time.monotonic,
        jitter=random.Random(options.seed).random,
        policy=RetryPolicy(retries=options.retries),
        pacer=Pacer(options.rate_limit, lock=threading.Lock()),
        breaker=Breaker(BreakerPolicy(outage_budget=options.outage_timeout), threading.Lock()),
        caching=cache is not None,
        collector=collector,
        credentials=options.credentials,
        tokens=TokenBox(options.credentials.token, lock=threading.Lock()),
        wall_clock=time.time,
    )
    return Session(ctx, cache)
