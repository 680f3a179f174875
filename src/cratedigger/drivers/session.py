"""The shared state of one run, built for the drivers: the core's context plus the cache.

This is shell code: it picks the clocks, the jitter source and the lock the core's shared
objects use, and it owns the only disk I/O of a run: the response cache, which the
exchanges reach through `CacheGet`/`CachePut`/`CacheDelete` actions, and the store of a
signed-in token, where `SaveToken` writes each renewed token for the next run.
"""

from __future__ import annotations

import random
import sys
import threading
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

from cratedigger.breaker import Breaker, BreakerPolicy
from cratedigger.credentials import token_box
from cratedigger.exchange import CacheDelete, CacheGet, CachePut, Context, SaveToken
from cratedigger.metrics import Collector
from cratedigger.options import MatchOptions
from cratedigger.pacing import Pacer
from cratedigger.retry import RetryPolicy

if TYPE_CHECKING:
    from cratedigger.cache import ResponseCache
    from cratedigger.tokenstore import TokenFile

CacheAction = CacheGet | CachePut | CacheDelete | SaveToken


@dataclass
class Session:
    """A run's context (pure shared state), its response cache (or None), and the store a
    signed-in run's renewed tokens go to (or None)."""

    ctx: Context
    cache: ResponseCache | None = None
    tokens: TokenFile | None = None

    def touch_cache(self, action: CacheAction) -> bytes | None:
        """Carry out one of the exchange's disk actions: the cache's, or storing a token."""
        if isinstance(action, SaveToken):
            self.save_token(action)
            return None
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

    def save_token(self, action: SaveToken) -> None:
        """Write a renewed token over the sign-in's entry; a failure costs only a warning
        (this run goes on with the token; the next one renews it again)."""
        if self.tokens is None:
            return
        try:
            self.tokens.renew(
                self.ctx.base_url,
                action.access_token,
                action.refresh_token,
                action.expires_in,
                time.time(),
            )
        except OSError as error:
            print(
                f"cratedigger: warning: cannot store the renewed sign-in in "
                f"{self.tokens.path}: {error.strerror or error}",
                file=sys.stderr,
            )

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
        tokens=token_box(options.credentials, time.monotonic, time.time, threading.Lock()),
        wall_clock=time.time,
    )
    store = None
    if options.credentials.signed_in and options.token_store is not None:
        from cratedigger.tokenstore import TokenFile

        store = TokenFile(options.token_store)
    return Session(ctx, cache, store)
