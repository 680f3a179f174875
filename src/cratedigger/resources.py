"""What a run costs the machine: wall and CPU time, and peak RSS sampled with psutil; and how
busy the machine's cores were meanwhile."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from typing import Any

import psutil


@dataclass(frozen=True, slots=True)
class Usage:
    wall_time: float
    cpu_time: float  # user + system of this process, all threads but the sampler's own
    peak_rss: int  # bytes
    start_rss: int
    # The share of all `cpu_count` cores' time busy during the run, this process included
    # (None where psutil cannot tell): what the rest of the machine left the client.
    machine_busy: float | None = None
    cpu_count: int | None = None


class ResourceMeter:
    """Context manager: samples this process's RSS on a thread every `interval` seconds.

    A sampler (rather than ru_maxrss) measures the run itself, not whatever the process
    did before it, and works the same on every platform psutil supports.
    """

    def __init__(self, interval: float = 0.02) -> None:
        self._interval = interval
        self._process = psutil.Process()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, name="rss-sampler", daemon=True)
        self._peak = 0
        self._start_rss = 0
        self._wall0 = self._cpu0 = 0.0
        self._sampler_cpu = 0.0
        self._machine0: Any = None
        self.usage: Usage | None = None

    def __enter__(self) -> ResourceMeter:
        self._start_rss = self._peak = self._process.memory_info().rss
        self._wall0 = time.perf_counter()
        self._cpu0 = time.process_time()
        self._machine0 = machine_times()
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join()
        self._peak = max(self._peak, self._process.memory_info().rss)
        machine = busy_share(self._machine0, machine_times())
        self.usage = Usage(
            wall_time=time.perf_counter() - self._wall0,
            # The sampler's wake-ups cost ~15 ms of CPU a second here: not the run's work, and
            # in a long, mostly waiting run (sync) they were a fifth of its measured CPU.
            cpu_time=max(time.process_time() - self._cpu0 - self._sampler_cpu, 0.0),
            peak_rss=self._peak,
            start_rss=self._start_rss,
            machine_busy=machine,
            cpu_count=psutil.cpu_count() if machine is not None else None,
        )

    def _sample(self) -> None:
        try:
            while not self._stop.wait(self._interval):
                rss = self._process.memory_info().rss
                if rss > self._peak:
                    self._peak = rss
        finally:
            self._sampler_cpu = time.thread_time()  # this thread's CPU, read by __exit__


def machine_times() -> Any:
    try:
        return psutil.cpu_times()
    except (OSError, AttributeError, NotImplementedError):  # pragma: no cover - platform
        return None


def busy_share(before: Any, after: Any) -> float | None:
    """The share of all cores' time busy between two `psutil.cpu_times()`, or None."""
    if before is None or after is None:
        return None
    total = sum(after) - sum(before)
    idle = (after.idle - before.idle) + (getattr(after, "iowait", 0) - getattr(before, "iowait", 0))
    return max(0.0, min(1.0, 1.0 - idle / total)) if total > 0 else None
