"""The threaded driver: a pool of `concurrency` workers, one track per worker at a time.

Each worker thread has its own requests.Session (sessions are not thread-safe); the pacer,
token and cache are shared (the session's objects take the locks they need).
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from concurrent.futures import FIRST_EXCEPTION, ThreadPoolExecutor, wait
from typing import Unpack

from cratedigger.drivers.base import PlaylistRun, RunArgs
from cratedigger.drivers.requests_transport import RequestsTransport
from cratedigger.drivers.sync import SyncDriver
from cratedigger.models import LocalTrack, MatchResult
from cratedigger.options import DEFAULT_OPTIONS, MatchOptions


def match_playlist_threaded(
    tracks: Sequence[LocalTrack], options: MatchOptions = DEFAULT_OPTIONS, **args: Unpack[RunArgs]
) -> list[MatchResult]:
    """Match tracks on a thread pool; results come back in playlist order (if `keep`)."""
    with PlaylistRun(tracks, options, **args) as run:
        local = threading.local()
        transports: list[RequestsTransport] = []
        stop = threading.Event()

        def driver() -> SyncDriver:
            current: SyncDriver | None = getattr(local, "driver", None)
            if current is None:
                transport = RequestsTransport(run.ctx.base_url, options.timeout, run.ctx.clock)
                transports.append(transport)  # list.append is atomic under the GIL
                current = local.driver = SyncDriver(run.session, transport)
            return current

        def worker() -> None:
            # A fixed set of workers pulls tracks in playlist order: memory stays flat however
            # long the playlist, and an interrupt leaves the rest for --resume.
            while not stop.is_set() and (index := run.take()) is not None:
                driver().drive(run.job(index))

        try:
            if run.proceed(driver().drive(run.authentication())):
                with ThreadPoolExecutor(options.concurrency, "cratedigger") as pool:
                    futures = [pool.submit(worker) for _ in range(options.concurrency)]
                    try:
                        wait(futures, return_when=FIRST_EXCEPTION)
                    except BaseException:
                        stop.set()
                        raise
                    for future in futures:
                        future.result()  # a worker's exception is the run's
        finally:
            stop.set()
            for transport in transports:
                transport.close()
        return run.ordered()
