"""The threaded driver: a pool of `concurrency` workers, one track per worker at a time.

Each worker thread has its own requests.Session (sessions are not thread-safe); the pacer,
token, cache and metrics are shared and locked.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from concurrent.futures import FIRST_EXCEPTION, Future, ThreadPoolExecutor, wait

from cratedigger.drivers.base import ResultCallback, fail_track, pending
from cratedigger.drivers.sync import RequestsTransport, authenticate, run_track
from cratedigger.exchange import Context
from cratedigger.metrics import Collector
from cratedigger.models import LocalTrack, MatchResult
from cratedigger.options import DEFAULT_OPTIONS, MatchOptions, build_context


def match_playlist_threaded(
    tracks: Sequence[LocalTrack],
    options: MatchOptions = DEFAULT_OPTIONS,
    *,
    on_result: ResultCallback | None = None,
    collector: Collector | None = None,
    done: Sequence[int] | frozenset[int] = (),
    context: Context | None = None,
) -> list[MatchResult]:
    """Match tracks on a thread pool; results come back in playlist order."""
    ctx = context or build_context(options, collector)
    local = threading.local()
    transports: list[RequestsTransport] = []
    transports_lock = threading.Lock()
    stop = threading.Event()

    def transport() -> RequestsTransport:
        current: RequestsTransport | None = getattr(local, "transport", None)
        if current is None:
            current = RequestsTransport(ctx.base_url, options.timeout)
            local.transport = current
            with transports_lock:
                transports.append(current)
        return current

    def work(index: int) -> MatchResult | None:
        if stop.is_set():
            return None  # interrupted: leave the rest for --resume
        return run_track(index, tracks[index], ctx, transport(), options, on_result)

    indices = pending(tracks, done)
    try:
        refused = authenticate(ctx, transport(), options)
        if refused is not None:
            return [fail_track(ctx, i, tracks[i], refused, on_result) for i in indices]
        with ThreadPoolExecutor(
            max_workers=options.concurrency, thread_name_prefix="cratedigger"
        ) as pool:
            futures: list[Future[MatchResult | None]] = [pool.submit(work, i) for i in indices]
            try:
                wait(futures, return_when=FIRST_EXCEPTION)
            except BaseException:
                stop.set()
                for future in futures:
                    future.cancel()
                raise
            return [r for f in futures if (r := f.result()) is not None]
    finally:
        stop.set()
        for t in transports:
            t.close()
        if context is None and ctx.cache is not None:
            ctx.cache.close()
