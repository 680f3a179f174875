"""ResourceMeter: wall and CPU time of a run, and its peak RSS, sampled on a thread."""

from __future__ import annotations

import time

from cratedigger.resources import ResourceMeter


def test_the_samplers_own_cpu_is_not_counted_as_the_runs() -> None:
    before = time.process_time()
    with ResourceMeter(interval=0.001) as meter:  # a thousand wake-ups a second
        time.sleep(0.3)
    total = time.process_time() - before
    assert meter.usage is not None
    assert 0.0 <= meter.usage.cpu_time < total
    assert meter.usage.wall_time >= 0.3


def test_peak_rss_sees_memory_the_run_held_for_a_moment() -> None:
    with ResourceMeter(interval=0.005) as meter:
        block = bytearray(64 << 20)  # 64 MiB, touched so that it is resident
        for i in range(0, len(block), 4096):
            block[i] = 1
        time.sleep(0.05)
        del block
    assert meter.usage is not None
    assert meter.usage.peak_rss - meter.usage.start_rss >= 60 << 20
