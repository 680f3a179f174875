"""One matching run of a playlist: resume, progress, results on disk, interrupts, costs.

This is the edge where a mode becomes a driver call (and where `asyncio.run` happens); the
CLI and the benchmark harness both come through here, so what they measure is what a DJ runs.
"""

from __future__ import annotations

import asyncio
import gc
import signal
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tqdm import tqdm

from cratedigger.breaker import Halt

# The drivers are imported here, not when a run starts: their libraries' import time must
# not be counted in a run's CPU time (the CLI imports this module only for `match`).
from cratedigger.drivers.aio import match_playlist_async
from cratedigger.drivers.base import ResultCallback
from cratedigger.drivers.session import Session, open_session
from cratedigger.drivers.sync import match_playlist
from cratedigger.drivers.threads import match_playlist_threaded
from cratedigger.errors import CratediggerError, OutputError
from cratedigger.metrics import MetricsCollector
from cratedigger.models import LocalTrack, MatchResult
from cratedigger.options import MatchOptions
from cratedigger.output import ResultSink, RunIdentity, load_resume
from cratedigger.resources import ResourceMeter, Usage
from cratedigger.settings import MODES, Mode


@dataclass(frozen=True)
class RunSummary:
    mode: str
    source: str
    concurrency: int
    total: int
    resumed: int
    matched: int
    unmatched: int
    errors: int
    interrupted: bool
    usage: Usage
    requests_sent: int
    cache_hits: int
    cache_misses: int
    rate_limited: int
    rate_limit_wait: float  # seconds the whole client was paused by Retry-After
    halted: str | None = None  # why the run stopped before its end (server gone, challenge)
    halt_reason: str | None = None  # "outage", "challenge" or "signin" (cratedigger.breaker)

    @property
    def done(self) -> int:
        return self.matched + self.unmatched + self.errors

    def line(self) -> str:
        state = "interrupted" if self.interrupted else "stopped" if self.halted else "done"
        earlier = f", {self.resumed} of them from an earlier run" if self.resumed else ""
        return (
            f"{state}: {self.done + self.resumed}/{self.total} tracks{earlier}; this run: "
            f"{self.matched} matched, {self.unmatched} unmatched, {self.errors} errors; "
            f"{self.requests_sent} requests, {self.cache_hits} cache hits, "
            f"{self.rate_limited} answered 429; {self.usage.wall_time:.2f} s wall, "
            f"{self.usage.cpu_time:.2f} s CPU, mode {self.mode}"
        )


class ResultCounter:
    """Counts results as they arrive, from any thread, and moves the progress bar."""

    def __init__(self, bar: tqdm[Any]) -> None:
        self._lock = threading.Lock()
        self._bar = bar
        self.counts = {"matched": 0, "unmatched": 0, "error": 0}

    def add(self, result: MatchResult) -> None:
        with self._lock:
            self.counts[result.status] += 1
            if self._bar.disable:
                return  # formatting a postfix nobody sees cost 2 % of async's CPU
            self._bar.set_postfix(
                matched=self.counts["matched"], errors=self.counts["error"], refresh=False
            )
            self._bar.update(1)


def run_playlist(
    entries: Sequence[LocalTrack],
    options: MatchOptions,
    mode: Mode,
    *,
    out: Path,
    csv: Path | None = None,
    resume: bool = False,
    progress: bool = True,
    collector: MetricsCollector | None = None,
    on_result: ResultCallback | None = None,
    identity: RunIdentity | None = None,
    force: bool = False,
) -> RunSummary:
    """Match `entries`, writing results as they come; safe to interrupt and `resume`.

    `identity` names the run in the result files (default: an unnamed playlist of these
    entries); `resume` refuses another run's files unless `force`.
    """
    ids = [t.track_id for t in entries]
    identity = identity or RunIdentity.of(None, "", ids)
    finished = load_resume(out, ids, identity, force=force) if resume else {}
    sink = ResultSink(out, csv=csv, total=len(entries), resume=resume, identity=identity)
    bar = tqdm(
        total=len(entries),
        initial=len(finished),
        unit="track",
        disable=not progress,
        desc=f"{mode}/{options.source}",
        dynamic_ncols=True,
    )
    tally = ResultCounter(bar)

    def record(index: int, result: MatchResult) -> None:
        sink.add(index, result)
        tally.add(result)
        if on_result is not None:
            on_result(index, result)

    session = open_session(options, collector)
    interrupted = False
    failed: OutputError | None = None  # a result file could not be written: the run stops
    meter = ResourceMeter()
    try:
        with meter, _collector_tuned():
            for index, result in sorted(finished.items()):
                sink.add(index, result, journal=not sink.appending)
            _dispatch(mode, entries, options, session, record, frozenset(finished))
    except KeyboardInterrupt:
        interrupted = True
    except OutputError as exc:
        failed = exc
    finally:
        bar.close()
        try:
            complete = failed is None and not interrupted and sink.count == len(entries)
            sink.close(complete=complete)
        except OutputError as exc:
            failed = failed or exc
        finally:
            session.close()
    ctx, cache = session.ctx, session.cache
    assert meter.usage is not None
    halted = _halt_message(ctx.breaker.halted, options.url)
    halt_reason = ctx.breaker.halted.reason if ctx.breaker.halted is not None else None
    if failed is not None:
        halted, halt_reason = str(failed), "output"
    counts = tally.counts
    return RunSummary(
        mode=mode,
        source=options.source,
        concurrency=1 if mode == "sync" else options.concurrency,
        total=len(entries),
        resumed=len(finished),
        matched=counts["matched"],
        unmatched=counts["unmatched"],
        errors=counts["error"],
        interrupted=interrupted,
        usage=meter.usage,
        requests_sent=collector.sent if collector is not None else 0,
        cache_hits=cache.hits if cache is not None else 0,
        cache_misses=cache.misses if cache is not None else 0,
        rate_limited=ctx.pacer.rate_limited,
        rate_limit_wait=ctx.pacer.pause_time,
        halted=halted,
        halt_reason=halt_reason,
    )


@contextmanager
def _collector_tuned() -> Iterator[None]:
    """The start-up heap (libraries, the parsed library file) out of the collector's sight.

    Matching allocates thousands of short-lived objects per request, so collections are
    frequent, and each older-generation one rescanned everything start-up left behind.
    Frozen, it is skipped: 7 % less client CPU per request in async (interleaved A/B, 5
    rounds, 500 tracks, zero latency); raising the gen-0 threshold as well measured no
    better (0.955 against 0.930 of the default).
    """
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()


def _halt_message(halt: Halt | None, url: str) -> str | None:
    if halt is None:
        return None
    if halt.reason != "outage":
        return halt.detail or halt.reason
    down = time.monotonic() - halt.since
    since = time.strftime("%H:%M:%S", time.localtime(time.time() - down))
    return f"the server at {url} has been unreachable since {since} ({down:.0f} s)"


def _dispatch(
    mode: Mode,
    entries: Sequence[LocalTrack],
    options: MatchOptions,
    session: Session,
    record: ResultCallback,
    done: frozenset[int],
) -> None:
    # Results reach the caller through `record` (and the files); the drivers keep none.
    if mode == "sync":
        match_playlist(entries, options, on_result=record, done=done, session=session, keep=False)
    elif mode == "threads":
        match_playlist_threaded(
            entries, options, on_result=record, done=done, session=session, keep=False
        )
    elif mode == "async":
        try:
            cancelled = asyncio.run(_run_async(entries, options, session, record, done))
        except BaseExceptionGroup as group:  # the TaskGroup's: the first of ours is the run's
            own = _first_own(group)
            if own is group:
                raise
            raise own from group
        if cancelled:
            raise KeyboardInterrupt
    else:
        raise ValueError(f"unknown mode {mode!r} (expected one of {', '.join(MODES)})")


def _first_own(group: BaseExceptionGroup[BaseException]) -> BaseException:
    """The first error cratedigger raised on purpose in `group`, else the group itself."""
    for exc in group.exceptions:
        found = _first_own(exc) if isinstance(exc, BaseExceptionGroup) else exc
        if isinstance(found, CratediggerError):
            return found
    return group


async def _run_async(
    entries: Sequence[LocalTrack],
    options: MatchOptions,
    session: Session,
    record: ResultCallback,
    done: frozenset[int],
) -> bool:
    """Run the async driver; True if it was cancelled (Ctrl-C or SIGTERM)."""
    # SIGTERM cancels the run like Ctrl-C does: tasks in flight are cancelled, the session
    # closes, and the results so far are written by the caller.
    task = asyncio.current_task()
    loop = asyncio.get_running_loop()
    cancel: Callable[[], object] = task.cancel if task is not None else (lambda: None)
    # SIGINT too: asyncio's own handler raises KeyboardInterrupt inside whatever runs at a
    # second Ctrl-C, mid-clean-up; cancelling again is harmless.
    installed = [s for s in (signal.SIGTERM, signal.SIGINT) if _add_signal_handler(loop, s, cancel)]
    try:
        await match_playlist_async(
            entries, options, on_result=record, done=done, session=session, keep=False
        )
    except asyncio.CancelledError:
        return True
    finally:
        for sig in installed:
            loop.remove_signal_handler(sig)
    return False


def _add_signal_handler(
    loop: asyncio.AbstractEventLoop, sig: signal.Signals, callback: Callable[[], object]
) -> bool:
    if threading.current_thread() is not threading.main_thread():
        return False  # signal handlers can only be set from the main thread
    try:
        loop.add_signal_handler(sig, callback)
    except (NotImplementedError, RuntimeError):
        return False
    return True
