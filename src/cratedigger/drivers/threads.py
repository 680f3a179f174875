"""The threaded driver: a pool of `concurrency` workers, one track per worker at a time.

Each worker thread has its own requests.Session (sessions are not thread-safe); the pacer,
token, cache and metrics are shared and locked.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from concurrent.futures import FIRST_EXCEPTION, ThreadPoolExecutor, wait

from cratedigger.drivers.base import ResultCallback, Results, fail_track, pending
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
    keep: bool = True,
) -> list[MatchResult]:
    """Match tracks on a thread pool; results come back in playlist order (if `keep`)."""
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

    indices = iter(pending(tracks, done))
    taking = threading.Lock()
    results = Results(keep)

    def worker() -> None:
        # A fixed set of workers pulls tracks in playlist order: memory stays flat however
        # long the playlist, and an interrupt leaves the rest for --resume.
        while not stop.is_set():
            with taking:
                index = next(indices, None)
            if index is None:
                return
            results.add(
                index, run_track(index, tracks[index], ctx, transport(), options, on_result)
            )

    try:
        refused = authenticate(ctx, transport(), options)
        if refused is not None:
            return [fail_track(ctx, i, tracks[i], refused, on_result) for i in indices]
        with ThreadPoolExecutor(
            max_workers=options.concurrency, thread_name_prefix="cratedigger"
        ) as pool:
            futures = [pool.submit(worker) for _ in range(options.concurrency)]
            try:
                wait(futures, return_when=FIRST_EXCEPTION)
            except BaseException:
                stop.set()
                raise
            for future in futures:
                future.result()  # a worker's exception is the run's
        return results.ordered()
    finally:
        stop.set()
        for t in transports:
            t.close()
        if context is None and ctx.cache is not None:
            ctx.cache.close()
