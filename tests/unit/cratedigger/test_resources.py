"""ResourceMeter: wall and CPU time of a run, its peak RSS sampled on a thread, and how busy
the machine's cores were."""

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


def test_how_busy_the_machines_cores_were_is_recorded() -> None:
    with ResourceMeter() as meter:
        end = time.perf_counter() + 0.1
        while time.perf_counter() < end:  # this process keeps a core busy
            pass
    usage = meter.usage
    assert usage is not None and usage.machine_busy is not None and usage.cpu_count
    assert usage.cpu_count >= 1
    # at least this process's share of all the cores, at most all of them
    assert 0.5 / usage.cpu_count <= usage.machine_busy <= 1.0
