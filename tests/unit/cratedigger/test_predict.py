"""The predictor (`cratedigger.predict`), `analyze --predict`, and the comparison's explanation.

Metrics documents are real exports (`export.build_metrics`) of hand-made request records, so
the model reads exactly what `cratedigger match --metrics` writes. No sockets.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import pytest

from cratedigger.analyzer import analyze, validate_metrics
from cratedigger.cli import main
from cratedigger.errors import InputError
from cratedigger.export import RunMetrics, build_metrics
from cratedigger.metrics import MetricsCollector, RequestRecord, TrackRecord
from cratedigger.options import MatchOptions
from cratedigger.pacing import AutoTuning, RateLimit
from cratedigger.predict import (
    CALIBRATION,
    TRACKS_PER_SLOT,
    Calibration,
    predict,
    predict_from_metrics,
    simulate,
    workload_from_metrics,
)
from cratedigger.prediction_check import error_summary, find_sync_run, prediction_errors
from cratedigger.report import (
    compare_runs,
    explain_disagreement,
    generate_comparison_report,
    generate_prediction_report,
    profile_run,
)
from cratedigger.resources import Usage
from cratedigger.run import RunSummary

T0 = 500.0
AUTO = RateLimit("auto")
# A calibration that leaves the client's CPU as measured: exact answers for simple cases.
ONES = {"sync": 1.0, "threads": 1.0, "async": 1.0}
PLAIN = Calibration(cpu_factor=ONES, cold_cpu_factor=ONES, contention=ONES)


@dataclass(frozen=True)
class Req:
    """One request of a synthetic run: its kind, time on the wire, and what else it cost."""

    network: float
    kind: str = "search"
    attempts: int = 1
    backoff: float = 0.0  # seconds slept between attempts
    parse: float = 0.0
    cached: bool = False


def document(
    tracks: Sequence[Sequence[Req]],
    *,
    mode: str = "sync",
    concurrency: int = 1,
    gap: float = 0.0,
    cpu: float | None = None,
    rate_limit: RateLimit = AUTO,
    rate_limited: int = 0,
    machine_busy: float | None = None,
    cpu_count: int | None = None,
) -> dict[str, Any]:
    """A sync run's export: each track's requests one after another, `gap` seconds of client
    CPU after each; its CPU time is the gaps (or `cpu`); the machine's cores `machine_busy`
    busy meanwhile (not recorded: None)."""
    collector = MetricsCollector()
    now = 0.0
    for index, requests in enumerate(tracks):
        began = now
        for r in requests:
            took = r.network + r.backoff + r.parse
            collector.record_request(
                RequestRecord(
                    kind=r.kind,
                    query=f"{r.kind} {index} {now}",
                    start=T0 + now,
                    end=T0 + now + took,
                    network_time=0.0 if r.cached else r.network,
                    parse_time=r.parse,
                    cache_hit=r.cached,
                    status=200,
                    attempts=0 if r.cached else r.attempts,
                    bytes=100,
                    rate_limited=0,
                    track_index=index,
                )
            )
            now += took + gap
        collector.record_track(
            TrackRecord(index, f"rb{index}", T0 + began, T0 + now, 1, 1, 1, True, "matched", 1, 1.0)
        )
    spent = cpu if cpu is not None else gap * sum(len(t) for t in tracks)
    sent = collector.sent
    summary = RunSummary(
        mode=mode,
        source="api",
        concurrency=concurrency,
        total=len(tracks),
        resumed=0,
        matched=len(tracks),
        unmatched=0,
        errors=0,
        interrupted=False,
        usage=Usage(now, spent, 60 << 20, 50 << 20, machine_busy, cpu_count),
        requests_sent=sent,
        cache_hits=collector.cache_hits,
        cache_misses=len(collector.requests) - collector.cache_hits,
        rate_limited=rate_limited,
        rate_limit_wait=0.0,
    )
    options = MatchOptions(base_url="http://127.0.0.1:9", rate_limit=rate_limit)
    built = build_metrics(RunMetrics(summary, collector, options))
    validate_metrics(built)
    return built


def one_request_tracks(count: int, network: float, gap: float = 0.0) -> dict[str, Any]:
    return document([[Req(network)] for _ in range(count)], gap=gap)


class TestModel:
    def test_independent_tracks_at_concurrency_10_are_latency_bound(self) -> None:
        # 100 one-request tracks of 50 ms, no CPU: 10 slots each serve 10 requests.
        workload = workload_from_metrics(one_request_tracks(100, 0.05))
        for mode in ("async", "threads"):
            p = simulate(workload, mode, 10, calibration=PLAIN)
            assert p.wall_time == pytest.approx(0.5, abs=1e-9)
            assert p.binding == "latency"
            assert p.bounds.latency == pytest.approx(0.5)
            assert p.bounds.chain == pytest.approx(0.05)
            assert p.speedup == pytest.approx(10.0)

    def test_sync_replays_the_sync_run(self) -> None:
        metrics = document([[Req(0.03), Req(0.02, kind="track")] for _ in range(20)], gap=0.004)
        p = predict_from_metrics(metrics, "sync", 16)
        assert p.concurrency == 1
        assert p.wall_time == pytest.approx(metrics["session_info"]["wall_time"], rel=1e-6)

    def test_a_long_chain_binds_async_batch_by_batch_and_threads_request_by_request(
        self,
    ) -> None:
        # One track: its first search alone, then 3, then 1 more, then 2 detail requests.
        chain = [Req(0.1)] + [Req(0.1)] * 3 + [Req(0.1)] + [Req(0.1, kind="track")] * 2
        workload = workload_from_metrics(document([chain]))
        assert [len(b) for b in workload.tracks[0]] == [1, 3, 1, 2]
        asynchronous = simulate(workload, "async", 16, calibration=PLAIN)
        assert asynchronous.wall_time == pytest.approx(0.4)
        assert asynchronous.binding == "chain"
        assert (asynchronous.chain_track, asynchronous.chain_batches) == (0, 4)
        assert (asynchronous.chain_requests, asynchronous.chain_attempts) == (7, 7)
        threads = simulate(workload, "threads", 16, calibration=PLAIN)
        assert threads.wall_time == pytest.approx(0.7)  # a worker sends a batch in order

    def test_a_known_id_fetch_is_a_batch_of_its_own(self) -> None:
        chain = [Req(0.1, kind="track"), Req(0.1), Req(0.1), Req(0.1), Req(0.1, kind="track")]
        workload = workload_from_metrics(document([chain]))
        assert [len(b) for b in workload.tracks[0]] == [1, 1, 2, 1]

    def test_a_rate_limit_binds_at_the_auto_headroom(self) -> None:
        workload = workload_from_metrics(one_request_tracks(100, 0.05))
        p = simulate(workload, "async", 16, rate_limit=10.0, calibration=PLAIN)
        pace = 10.0 * AutoTuning().headroom
        assert p.pace == pytest.approx(pace)
        assert p.binding == "rate"
        assert p.bounds.rate == pytest.approx(100 / pace)
        # the last request books its slot at 99 gaps and then waits its 50 ms
        assert p.wall_time == pytest.approx(99 / pace + 0.05)

    def test_under_a_rate_limit_the_speedup_compares_with_sync_under_it_too(self) -> None:
        # 100 requests of 50 ms: sync took 5 s without a limit. At 10/s every mode takes
        # ~10 s: async is no faster than sync would be (not 0.5x, against the unlimited run).
        workload = workload_from_metrics(one_request_tracks(100, 0.05))
        pace = 10.0 * AutoTuning().headroom
        for mode in ("threads", "async"):
            p = simulate(workload, mode, 32, rate_limit=10.0, calibration=PLAIN)
            assert p.wall_time == pytest.approx(99 / pace + 0.05)  # the prediction itself
            assert p.sync_wall == pytest.approx(5.0, rel=1e-3)  # the recorded run, as it was
            assert p.speedup_against == "predicted"
            sync = simulate(workload, "sync", 1, rate_limit=10.0, calibration=PLAIN)
            assert p.sync_baseline == pytest.approx(sync.wall_time)
            assert p.sync_baseline == pytest.approx(99 / pace + 0.05)
            assert p.speedup == pytest.approx(1.0)

    def test_a_limit_that_slows_only_the_concurrent_client_still_shows_a_speedup(self) -> None:
        # At 100/s sync (one 50 ms request at a time, 20/s) is not slowed; async is.
        workload = workload_from_metrics(one_request_tracks(100, 0.05))
        p = simulate(workload, "async", 16, rate_limit=100.0, calibration=PLAIN)
        pace = 100.0 * AutoTuning().headroom
        assert p.wall_time == pytest.approx(99 / pace + 0.05)
        assert p.sync_baseline == pytest.approx(5.0, rel=1e-3)
        assert p.speedup == pytest.approx(5.0 / (99 / pace + 0.05), rel=1e-3)

    def test_without_a_new_limit_the_speedup_compares_with_the_recorded_run(self) -> None:
        workload = workload_from_metrics(one_request_tracks(100, 0.05))
        p = simulate(workload, "async", 10, calibration=PLAIN)
        assert (p.speedup_against, p.sync_predicted) == ("recorded", None)
        assert p.sync_baseline == p.sync_wall
        # A recorded fixed client rate slower than the limit's pace: the run had the limit.
        metrics = document([[Req(0.05)] for _ in range(40)], rate_limit=RateLimit("fixed", 8.0))
        paced = workload_from_metrics(metrics)
        assert simulate(paced, "async", 16, rate_limit=20.0).speedup_against == "recorded"
        slower = simulate(paced, "async", 16, rate_limit=5.0)
        assert slower.speedup_against == "predicted"
        assert slower.sync_baseline == pytest.approx(
            simulate(paced, "sync", 1, rate_limit=5.0).wall_time
        )

    def test_sync_under_a_limit_is_its_own_baseline(self) -> None:
        workload = workload_from_metrics(one_request_tracks(20, 0.05))
        p = simulate(workload, "sync", 1, rate_limit=5.0, calibration=PLAIN)
        assert p.sync_baseline == p.wall_time and p.speedup == pytest.approx(1.0)

    def test_a_fixed_client_rate_recorded_in_the_export_paces_the_prediction(self) -> None:
        metrics = document([[Req(0.05)] for _ in range(40)], rate_limit=RateLimit("fixed", 8.0))
        p = predict_from_metrics(metrics, "async", 16, calibration=PLAIN)
        assert p.pace == pytest.approx(8.0)
        assert p.binding == "rate"

    def test_cpu_binds_on_one_interpreter(self) -> None:
        # 1 ms on the wire and 10 ms of client CPU per request: the CPU is the run.
        metrics = one_request_tracks(100, 0.001, gap=0.01)
        workload = workload_from_metrics(metrics)
        assert workload.cpu_in_network == pytest.approx(0.0, abs=1e-6)
        p = simulate(workload, "async", 16, calibration=PLAIN)
        assert p.binding == "cpu"
        assert p.bounds.cpu == pytest.approx(1.0)
        assert p.wall_time == pytest.approx(1.0, rel=0.01)
        assert p.cpu_per_request == pytest.approx(0.01)

    def test_the_calibration_scales_cpu_per_mode_and_the_share_of_a_core(self) -> None:
        workload = workload_from_metrics(one_request_tracks(100, 0.001, gap=0.01))
        halved = replace(
            PLAIN, cpu_factor={"async": 0.5}, cold_cpu_factor={}, contention={"async": 0.5}
        )
        p = simulate(workload, "async", 16, calibration=halved)
        assert p.cpu_time == pytest.approx(0.5)  # the CPU work is halved...
        assert p.bounds.cpu == pytest.approx(1.0)  # ...on half a core
        assert p.cpu_share == pytest.approx(0.5)
        assert p.wall_time == pytest.approx(1.0)

    def test_a_busy_machine_leaves_a_cpu_bound_client_less_of_a_core(self) -> None:
        # 1 ms on the wire and 10 ms of CPU per request, as above; during the sync run the
        # two cores were busy 0.75 of the time: 1.5 cores, of which the client's 0.91 (its CPU
        # time over its wall time), so the rest of the machine kept 0.59 of a core busy.
        busy = document(
            [[Req(0.001)] for _ in range(100)], gap=0.01, machine_busy=0.75, cpu_count=2
        )
        workload = workload_from_metrics(busy)
        client = 1.0 / 1.1
        assert workload.core_share == pytest.approx(min(1.0, 2 / (1 + 1.5 - client)))
        assert workload.core_share == 1.0  # two cores, one of them free: a whole core
        loaded = document(
            [[Req(0.001)] for _ in range(100)], gap=0.01, machine_busy=1.0, cpu_count=2
        )
        workload = workload_from_metrics(loaded)
        assert workload.core_share == pytest.approx(2 / (1 + 2 - client))
        p = simulate(workload, "async", 16, calibration=PLAIN)
        assert p.binding == "cpu" and p.cpu_share == pytest.approx(workload.core_share)
        assert p.wall_time == pytest.approx(1.0 / workload.core_share, rel=0.01)
        assert p.to_json()["cpu_share"] == pytest.approx(workload.core_share, abs=1e-4)
        # sync is replayed as it ran; an export without the machine's load gets a whole core
        assert simulate(workload, "sync", 1, calibration=PLAIN).cpu_share == 1.0
        assert workload_from_metrics(one_request_tracks(10, 0.001, gap=0.01)).core_share == 1.0

    def test_cpu_per_request_moves_from_warm_to_cold_with_the_sync_runs_wait(self) -> None:
        c = CALIBRATION
        assert c.cpu_factor_of("async", 0.0) == pytest.approx(c.cpu_factor["async"])
        assert c.cpu_factor_of("async", 1.0) == pytest.approx(c.cold_cpu_factor["async"])
        warm, cold = c.cpu_factor["threads"], c.cold_cpu_factor["threads"]
        between = c.cpu_factor_of("threads", c.cold_wait)
        assert between == pytest.approx(cold + (warm - cold) / 2.718281828, rel=1e-6)
        assert c.cpu_factor_of("sync", 0.5) == 1.0
        # the typical wait is the median wait of an attempt, the client's CPU taken out
        fast = workload_from_metrics(one_request_tracks(20, 0.0005, gap=0.001))
        slow = workload_from_metrics(one_request_tracks(20, 0.05, gap=0.001))
        assert fast.typical_wait == pytest.approx(0.0005)
        assert slow.typical_wait == pytest.approx(0.05)
        on_fast = simulate(fast, "async", 16)
        on_slow = simulate(slow, "async", 16)
        assert on_fast.cpu_time == pytest.approx(0.02 * c.cpu_factor_of("async", 0.0005))
        assert on_slow.cpu_time == pytest.approx(0.02 * c.cpu_factor_of("async", 0.05))
        assert on_slow.cpu_time < on_fast.cpu_time

    def test_a_paced_wait_is_not_time_the_sync_client_computed(self) -> None:
        # 10 ms on the wire, 40 ms waiting for its send slot (a single attempt: the pacer,
        # not a retry), 2 ms of CPU after each; the CPU time is 3 ms a request: 1 ms of it
        # was inside the network time.
        tracks = [[Req(0.01, backoff=0.04)] for _ in range(20)]
        workload = workload_from_metrics(document(tracks, gap=0.002, cpu=0.06))
        assert workload.cpu_in_network == pytest.approx(0.02)
        assert workload.tracks[0][0][0].wait == pytest.approx(0.009)
        assert workload.idle == pytest.approx(0.0, abs=1e-9)

    def test_cpu_inside_the_network_time_is_not_waiting(self) -> None:
        # 20 ms on the wire per request, of which the client spent 4 ms on the CPU (its CPU
        # time is larger than its time outside the network).
        metrics = document([[Req(0.02)] for _ in range(50)], gap=0.001, cpu=0.25)
        workload = workload_from_metrics(metrics)
        assert workload.cpu_in_network == pytest.approx(0.2)
        request = workload.tracks[0][0][0]
        assert request.wait == pytest.approx(0.016)
        assert request.cpu == pytest.approx(0.005)

    def test_retry_backoff_is_slept_without_a_slot(self) -> None:
        chain = [Req(0.3, attempts=3, backoff=1.0)]
        workload = workload_from_metrics(document([chain, [Req(0.1)]]))
        retried = workload.tracks[0][0][0]
        assert (retried.wait, retried.backoff, retried.attempts) == pytest.approx((0.3, 1.0, 3))
        p = simulate(workload, "async", 1, calibration=PLAIN)
        # the second track's request goes out while the first sleeps between its attempts
        assert p.wall_time == pytest.approx(1.3)
        assert p.binding == "chain"
        text = " ".join(generate_prediction_report([p]).split())
        assert "track 0 takes 1.30 s (1 batch one after another, 1 request, 3 attempts" in text

    def test_cache_hits_cost_cpu_only(self) -> None:
        tracks = [[Req(0.0, cached=True, parse=0.002)] for _ in range(10)]
        workload = workload_from_metrics(document(tracks, cpu=0.02))
        p = simulate(workload, "async", 4, calibration=PLAIN)
        assert p.attempts == 0
        assert p.bounds.latency == 0.0
        assert p.wall_time == pytest.approx(0.02)

    def test_async_keeps_tracks_per_slot_in_flight_and_threads_one_per_worker(self) -> None:
        workload = workload_from_metrics(one_request_tracks(200, 0.01))
        assert simulate(workload, "async", 4).tracks_in_flight == 4 * TRACKS_PER_SLOT
        assert simulate(workload, "threads", 4).tracks_in_flight == 4
        assert simulate(workload, "async", 64).tracks_in_flight == 200

    def test_tracks_per_slot_is_the_async_drivers(self) -> None:
        from cratedigger.drivers import aio

        assert aio.TRACKS_PER_SLOT == TRACKS_PER_SLOT

    def test_predict_gives_threads_and_async(self) -> None:
        workload = workload_from_metrics(one_request_tracks(10, 0.01))
        assert [p.mode for p in predict(workload)] == ["threads", "async"]
        assert all(p.concurrency == 16 for p in predict(workload))

    def test_the_json_form_carries_the_bounds_and_the_binding(self) -> None:
        p = predict_from_metrics(one_request_tracks(100, 0.05), "async", 10, None, PLAIN)
        data = p.to_json()
        assert data["binding"] == "latency"
        assert data["wall_time"] == pytest.approx(0.5)
        assert set(data["bounds"]) == {"latency", "chain", "rate", "cpu"}
        assert data["speedup_against"] == "recorded"
        assert data["sync_baseline"] == pytest.approx(data["sync_wall"])
        json.dumps(data)
        limited = predict_from_metrics(one_request_tracks(100, 0.05), "async", 10, 10.0, PLAIN)
        data = limited.to_json()
        assert data["speedup_against"] == "predicted"
        assert data["sync_baseline"] == pytest.approx(limited.sync_baseline, abs=1e-6)
        assert data["speedup"] == pytest.approx(1.0, abs=1e-4)

    def test_only_a_sync_run_can_be_replayed(self) -> None:
        metrics = document([[Req(0.01)]], mode="async", concurrency=16)
        with pytest.raises(InputError, match="--predict needs a sync run"):
            workload_from_metrics(metrics)

    @pytest.mark.parametrize(
        ("mode", "concurrency", "rate", "message"),
        [
            ("fibers", 4, None, "mode: expected one of sync, threads, async"),
            ("async", 0, None, "--concurrency: expected a whole number >= 1"),
            ("async", 4, -1.0, "--rate-limit: expected a rate above 0"),
        ],
    )
    def test_bad_arguments_name_the_option(
        self, mode: str, concurrency: int, rate: float | None, message: str
    ) -> None:
        with pytest.raises(InputError, match=message):
            predict_from_metrics(one_request_tracks(3, 0.01), mode, concurrency, rate)

    def test_the_shipped_calibration_is_within_reason(self) -> None:
        for wait in (0.0, 0.005, 0.05):
            async_, threads = (CALIBRATION.cpu_factor_of(m, wait) for m in ("async", "threads"))
            assert 0.2 < async_ < threads < 1.5
        assert 0.0 < CALIBRATION.cpu_share_of("async", 0.5) <= 1.0
        assert CALIBRATION.cpu_share_of("async") == 1.0  # a quiet machine: a whole core
        assert CALIBRATION.cpu_share_of("sync", 0.5) == 1.0
        assert CALIBRATION.headroom == AutoTuning().headroom


def write(tmp_path: Path, document: dict[str, Any], name: str) -> Path:
    path = tmp_path / name
    path.write_text(json.dumps(document), encoding="utf-8")
    return path


class TestCli:
    def test_predict_prints_both_modes_and_what_binds(
        self, tmp_path: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        path = write(tmp_path, one_request_tracks(100, 0.05, gap=0.001), "sync.json")
        assert main(["analyze", str(path), "--predict", "--concurrency", "10"]) == 0
        out = capsys.readouterr().out
        assert "Prediction (from this sync run)" in out
        assert "\n  threads    10     0.5" in out and "\n  async      10     0.5" in out
        out = " ".join(out.split())
        assert "async: bound by latency" in out
        assert "no rate limit" in out
        assert "speedup: against the recorded sync run, 5.10 s." in out

    def test_predict_with_a_rate_limit(
        self, tmp_path: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        path = write(tmp_path, one_request_tracks(100, 0.05), "sync.json")
        assert main(["analyze", str(path), "--predict", "--rate-limit", "1200/min"]) == 0
        out = " ".join(capsys.readouterr().out.split())
        assert "paced at 19.4 req/s (97 % of the server's 20/s" in out
        assert "async: bound by the rate limit: 100 requests at 19.4 req/s" in out
        assert (
            "speedup: against sync predicted under the same limit (20/s, paced at 19.4 req/s), "
            "5.15 s; the recorded sync run, without it, took 5.00 s." in out
        )

    def test_the_speedup_under_a_limit_compares_with_sync_under_the_same_limit(
        self, tmp_path: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        # The reviewer's case: a sync run without a limit (5 s), predicted at 10/s. Sync,
        # one 50 ms request at a time, is slowed by 10/s as much as async: 1.0x, not 0.5x
        # (the unlimited 5 s over the limited 10.26 s).
        path = write(tmp_path, one_request_tracks(100, 0.05), "sync.json")
        argv = ["analyze", str(path), "--predict", "--concurrency", "32", "--rate-limit", "10/s"]
        assert main(argv) == 0
        out = " ".join(capsys.readouterr().out.split())
        assert "threads 32 10.26 1.0x rate" in out and "async 32 10.26 1.0x rate" in out
        assert "0.5x" not in out
        assert "speedup: against sync predicted under the same limit (10/s" in out
        assert main([*argv, "--json"]) == 0
        data = json.loads(capsys.readouterr().out)
        assert [p["speedup"] for p in data["prediction"]] == pytest.approx([1.0, 1.0], abs=1e-3)
        assert {p["speedup_against"] for p in data["prediction"]} == {"predicted"}

    def test_predict_as_json(self, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
        path = write(tmp_path, one_request_tracks(100, 0.05), "sync.json")
        assert main(["analyze", str(path), "--predict", "--concurrency", "10", "--json"]) == 0
        data = json.loads(capsys.readouterr().out)
        assert [p["mode"] for p in data["prediction"]] == ["threads", "async"]
        assert data["prediction"][1]["binding"] == "latency"

    def test_predict_beside_a_measured_run(
        self, tmp_path: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        sync = write(tmp_path, one_request_tracks(100, 0.05), "sync.json")
        measured = latency_bound_async(100, 0.05, concurrency=10)
        other = write(tmp_path, measured, "async.json")
        assert main(["analyze", str(sync), str(other), "--predict"]) == 0
        out = capsys.readouterr().out
        assert "\n  async      10" in out  # the second run's mode and concurrency
        assert "threads" not in out.split("Prediction (from this sync run)")[1]
        wall = measured["session_info"]["wall_time"]
        assert f"measured: async {wall:.2f} s against" in out

    def test_predict_on_a_concurrent_run_is_explained(
        self, tmp_path: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        path = write(tmp_path, latency_bound_async(20, 0.05, concurrency=4), "async.json")
        assert main(["analyze", str(path), "--predict"]) == 2
        err = capsys.readouterr().err
        assert err.startswith(f"cratedigger: error: {path}: --predict needs a sync run's metrics")
        assert "this is an async run at concurrency 4" in err
        assert "--mode sync --metrics" in err

    @pytest.mark.parametrize(
        ("argv", "message"),
        [
            (["--predict", "--rate-limit", "fast"], "--rate-limit: expected the server's limit"),
            (["--predict", "--rate-limit", "auto"], "--rate-limit: expected the server's limit"),
            (["--predict", "--rate-limit=-3/s"], "--rate-limit: expected the server's limit"),
            (["--predict", "--concurrency", "0"], "--concurrency: expected a whole number >= 1"),
            (["--predict", "--concurrency", "many"], "--concurrency: expected a whole number"),
            (["--concurrency", "8"], "--concurrency: only with --predict"),
        ],
    )
    def test_bad_options_are_named(
        self,
        tmp_path: Path,
        capsys: pytest.CaptureFixture[str],
        argv: list[str],
        message: str,
    ) -> None:
        path = write(tmp_path, one_request_tracks(5, 0.01), "sync.json")
        assert main(["analyze", str(path), *argv]) == 2
        err = capsys.readouterr().err
        assert err.startswith("cratedigger: error: ")
        assert message in err
        assert len(err.strip().splitlines()) == 1

    def test_rate_limit_off_is_no_limit(
        self, tmp_path: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        path = write(tmp_path, one_request_tracks(5, 0.01), "sync.json")
        assert main(["analyze", str(path), "--predict", "--rate-limit", "off"]) == 0
        assert "no rate limit" in " ".join(capsys.readouterr().out.split())


# --- the comparison's explanation ------------------------------------------------------------


def concurrent_document(
    requests: Sequence[tuple[float, float]],
    *,
    mode: str,
    concurrency: int,
    wall: float,
    cpu: float,
    rate_limited: int = 0,
) -> dict[str, Any]:
    """An export of a concurrent run: one request per track, at the given (start, network)."""
    collector = MetricsCollector()
    for index, (start, network) in enumerate(requests):
        collector.record_request(
            RequestRecord(
                "search",
                f"q{index}",
                T0 + start,
                T0 + start + network,
                network,
                0.0,
                False,
                200,
                1,
                100,
                0,
                index,
            )
        )
        collector.record_track(
            TrackRecord(
                index,
                f"rb{index}",
                T0 + start,
                T0 + start + network,
                1,
                1,
                1,
                True,
                "matched",
                1,
                1.0,
            )
        )
    summary = RunSummary(
        mode,
        "api",
        concurrency,
        len(requests),
        0,
        len(requests),
        0,
        0,
        False,
        Usage(wall, cpu, 60 << 20, 50 << 20),
        len(requests),
        0,
        len(requests),
        rate_limited,
        0.0,
    )
    return build_metrics(
        RunMetrics(summary, collector, MatchOptions(base_url="http://127.0.0.1:9"))
    )


def latency_bound_async(count: int, network: float, concurrency: int) -> dict[str, Any]:
    starts = [(i // concurrency) * network for i in range(count)]
    wall = -(-count // concurrency) * network
    return concurrent_document(
        [(s, network) for s in starts], mode="async", concurrency=concurrency, wall=wall, cpu=0.01
    )


def paced_async(count: int, rate: float, network: float = 0.05) -> dict[str, Any]:
    """An async run held to `rate` requests/s: one request every 1/rate s, slots mostly idle."""
    return concurrent_document(
        [(i / rate, network) for i in range(count)],
        mode="async",
        concurrency=16,
        wall=count / rate,
        cpu=0.02 * count / rate,
    )


class TestExplanation:
    def test_a_rate_limit_explains_a_small_speedup_after_implement(self) -> None:
        sync = one_request_tracks(252, 0.06)  # 15.1 s, all of it waiting: IMPLEMENT
        paced = paced_async(252, 19.4)  # 13.0 s
        comparison = compare_runs(sync, paced, rate_limit=20.0)
        assert comparison.baseline_verdict == "IMPLEMENT"
        assert comparison.speedup == pytest.approx(15.12 / 12.99, rel=0.01)
        assert (comparison.baseline_bound, comparison.candidate_bound) == ("latency", "rate")
        text = comparison.explanation
        assert text is not None
        assert text.startswith(
            "async was 1.16x as fast as sync, though the analyzer says IMPLEMENT"
        )
        assert "the async run was bound by the server's rate limit (19.4 req/s of 20/s)" in text
        assert "which no client can pass. At 19.4 req/s, 252 requests take 13.0 s" in text

    def test_without_a_known_limit_the_pace_is_read_from_idle_slots(self) -> None:
        comparison = compare_runs(one_request_tracks(252, 0.06), paced_async(252, 19.4))
        assert comparison.candidate_bound == "paced"
        assert comparison.explanation is not None
        assert "a pace (19.4 req/s with its 16 request slots busy 6 % and its CPU 2 %" in (
            comparison.explanation
        )

    def test_both_runs_paced(self) -> None:
        slow_sync = document([[Req(0.05)] for _ in range(50)], gap=0.0)
        # a sync run held to ~19 req/s as well: its requests spaced out, the gaps idle
        slow_sync["session_info"]["wall_time"] = 50 / 19.4
        comparison = compare_runs(slow_sync, paced_async(50, 19.4), rate_limit=20.0)
        assert comparison.explanation is not None
        assert "both runs were bound by the server's rate limit" in comparison.explanation

    def test_429s_are_a_rate_limit_too(self) -> None:
        paced = paced_async(100, 19.4)
        paced["session_info"]["rate_limited"] = 7
        comparison = compare_runs(one_request_tracks(100, 0.06), paced)
        assert comparison.candidate_bound == "rate"
        assert comparison.explanation is not None
        assert "the server answered 429 7 times" in comparison.explanation

    def test_a_cpu_bound_candidate(self) -> None:
        sync = one_request_tracks(100, 0.004, gap=0.005)  # 0.9 s: IMPLEMENT (network 100 %)
        busy = concurrent_document(
            [(i * 0.007, 0.004) for i in range(100)],
            mode="async",
            concurrency=16,
            wall=0.7,
            cpu=0.65,
        )
        comparison = compare_runs(sync, busy)
        assert comparison.candidate_bound == "cpu"
        assert comparison.explanation is not None
        assert "bound by the client's CPU (0.65 s of CPU in 0.70 s, 93 %; 6.5 ms per query)" in (
            comparison.explanation
        )

    def test_skip_with_a_large_speedup(self) -> None:
        threads = concurrent_document(
            [(i * 0.004, 0.0005) for i in range(100)],
            mode="threads",
            concurrency=16,
            wall=0.4,
            cpu=0.38,
        )
        asynchronous = concurrent_document(
            [(i * 0.001, 0.0005) for i in range(100)],
            mode="async",
            concurrency=16,
            wall=0.1,
            cpu=0.095,
        )
        for document_ in (threads, asynchronous):  # the network share under 20 %: SKIP
            document_["network_analysis"]["network_time_percentage"] = 12.0
        assert analyze(threads).recommendation == "SKIP"
        comparison = compare_runs(threads, asynchronous)
        text = comparison.explanation
        assert text is not None
        assert text.startswith("async was 4.00x as fast as threads, though the analyzer says SKIP")
        assert "threads was bound by the client's CPU" in text
        assert "cheaper client CPU per query (3.8 -> 0.9 ms)" in text

    def test_no_explanation_when_the_speedup_agrees(self) -> None:
        comparison = compare_runs(one_request_tracks(100, 0.05), latency_bound_async(100, 0.05, 10))
        assert comparison.speedup == pytest.approx(10.0)
        assert comparison.explanation is None
        assert comparison.candidate_bound == "latency"

    def test_the_report_and_json_carry_it(self, tmp_path: Path) -> None:
        sync, paced = one_request_tracks(252, 0.06), paced_async(252, 19.4)
        report = generate_comparison_report(sync, paced, ("s.json", "a.json"), 20.0)
        assert "  held back by     latency -> rate" in report
        assert "no client can pass" in " ".join(report.split())
        data = compare_runs(sync, paced, 20.0).to_json()
        assert "no client can pass" in data["explanation"]

    def test_the_cli_passes_the_rate_limit(
        self, tmp_path: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        sync = write(tmp_path, one_request_tracks(252, 0.06), "sync.json")
        paced = write(tmp_path, paced_async(252, 19.4), "async.json")
        assert main(["analyze", str(sync), str(paced), "--rate-limit", "20/s"]) == 0
        assert "(19.4 req/s of 20/s)" in capsys.readouterr().out

    def test_one_request_at_a_time_against_itself(self) -> None:
        sync = one_request_tracks(10, 0.05)
        profile = profile_run(sync)
        assert profile.bound == "latency"
        assert profile.slot_share == pytest.approx(1.0)
        verdict = analyze(sync)
        text = explain_disagreement(profile, profile, 1.0, (verdict, verdict))
        assert text is not None
        assert "with 1 requests in flight it cannot be much more than 1x as fast" in text


# --- the harness check ---------------------------------------------------------------------


def test_prediction_errors_against_a_scenario_summary(tmp_path: Path) -> None:
    metrics = tmp_path / "metrics"
    metrics.mkdir()
    write(metrics, one_request_tracks(100, 0.05), "a-sync.json")
    summary = {
        "scenario": "s",
        "cases": [
            {
                "name": "a",
                "params": {"tracks": 100, "source": "api", "latency_ms": 50, "server_rate": 0},
                "runs": [
                    {
                        "mode": "sync",
                        "concurrency": 1,
                        "wall_time": 5.0,
                        "cpu_time": 0.0,
                        "metrics_file": "a-sync.json",
                    },
                    {
                        "mode": "async",
                        "concurrency": 10,
                        "wall_time": 0.55,
                        "cpu_time": 0.1,
                        "metrics_file": "a-async.json",
                        "limiting": "latency",
                    },
                ],
            },
            {
                "name": "b",
                "params": {"tracks": 100, "source": "api", "latency_ms": 50, "server_rate": 20},
                "runs": [
                    {
                        "mode": "threads",
                        "concurrency": 16,
                        "wall_time": 5.0,
                        "cpu_time": 0.1,
                        "metrics_file": "b-threads.json",
                        "limiting": "rate",
                    },
                ],
            },
            {
                "name": "c",
                "params": {"tracks": 7, "source": "web"},
                "runs": [
                    {
                        "mode": "async",
                        "concurrency": 4,
                        "wall_time": 1.0,
                        "cpu_time": 0.1,
                        "metrics_file": "c-async.json",
                    }
                ],
            },
        ],
    }
    rows = prediction_errors(summary, metrics)
    assert [(r["case"], r["mode"]) for r in rows] == [
        ("a", "async"),
        ("b", "threads"),
        ("c", "async"),
    ]
    a, b, c = rows
    assert a["from"] == f"{tmp_path.name}/a sync"
    assert a["binding"] == "latency"
    assert a["error"] == pytest.approx((a["predicted"] - 0.55) / 0.55)
    assert b["rate_limit"] == 20.0 and b["binding"] == "rate"  # from a's sync run
    assert c["predicted"] is None and c["why"] == "no sync run"
    summary_ = error_summary(rows)
    assert summary_["runs"] == 2 and summary_["unpredicted"] == 1
    assert find_sync_run(summary["cases"][2], summary, metrics) is None


def test_prediction_errors_of_repeated_runs_use_every_sync_repeat(tmp_path: Path) -> None:
    # The harness's repeated format: one row per mode (the typical run's metrics file, the
    # median wall time, every sample), metrics files <case>-<mode>-<k>.json.
    for k, network in enumerate((0.04, 0.05, 0.07), start=1):
        write(tmp_path, one_request_tracks(100, network), f"a-sync-{k}.json")
    samples = [{"wall_time": w} for w in (4.0, 5.0, 7.0)]
    summary = {
        "scenario": "s",
        "cases": [
            {
                "name": "a",
                "params": {"tracks": 100, "source": "api"},
                "runs": [
                    {"mode": "sync", "concurrency": 1, "wall_time": 5.0, "cpu_time": 0.0,
                     "metrics_file": "a-sync-2.json", "samples": samples},
                    {"mode": "async", "concurrency": 10, "wall_time": 0.5, "cpu_time": 0.0,
                     "metrics_file": "a-async-2.json", "samples": samples,
                     "flags": ["machine at 95%"]},
                ],
            }
        ],
    }  # fmt: skip
    (row,) = prediction_errors(summary, tmp_path, calibration=PLAIN)
    assert row["predictions"] == pytest.approx([0.4, 0.5, 0.7])
    assert row["predicted"] == pytest.approx(0.5)
    assert row["error"] == pytest.approx(0.0, abs=1e-9)
    assert row["flags"] == ["machine at 95%"]
    assert error_summary([row])["flagged"] == 1


def test_bench_predictions_writes_the_table_over_repeats(tmp_path: Path) -> None:
    from bench import predictions

    def scenario(root: Path, name: str, cases: list[dict[str, Any]]) -> None:
        (root / name / "metrics").mkdir(parents=True)
        summary = {"scenario": name, "cases": cases}
        (root / name / "summary.json").write_text(json.dumps(summary), encoding="utf-8")

    def run(mode: str, wall: float, file: str, concurrency: int = 16) -> dict[str, Any]:
        return {"mode": mode, "concurrency": concurrency, "wall_time": wall, "cpu_time": 0.0,
                "metrics_file": file, "limiting": "latency"}  # fmt: skip

    roots = [tmp_path / "r1", tmp_path / "r2"]
    for root, measured in zip(roots, (0.5, 0.6), strict=True):
        params = {"tracks": 100, "source": "api", "latency_ms": 50}
        runs = [run("sync", 5.0, "a-sync.json", 1), run("async", measured, "a-async.json", 10)]
        scenario(root, "lat", [{"name": "a", "params": params, "runs": runs}])
        write(root / "lat" / "metrics", one_request_tracks(100, 0.05), "a-sync.json")
        limited = params | {"server_rate": 10}
        scenario(
            root, "rl", [{"name": "b", "params": limited, "runs": [run("threads", 10.4, "x")]}]
        )
        sync_runs = [run("sync", 10.4, "b-sync.json", 1)]
        scenario(root, "rl-sync", [{"name": "b", "params": limited, "runs": sync_runs}])
        write(root / "rl-sync" / "metrics", one_request_tracks(100, 0.05), "b-sync.json")
    out = tmp_path / "out"
    args = ["--results", *map(str, roots), "--out", str(out)]
    assert predictions.main(args) == 0
    data = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    rows = {(r["scenario"], r["case"], r["mode"]): r for r in data["rows"]}
    a = rows[("lat", "a", "async")]
    assert a["repeats"] == 2 and a["measured"] == pytest.approx(0.55)
    assert a["measured_spread"] == pytest.approx(0.1 / 0.55)
    b = rows[("rl", "b", "threads")]
    assert b["from"] == "rl-sync/b sync" and b["binding"] == "rate"
    assert data["summary"]["runs"] == 2
    readme = (out / "README.md").read_text(encoding="utf-8")
    assert "python -m bench.predictions --results" in readme
    assert "| rl | b | threads | 16 | 10/s | rl-sync/b sync |" in readme
    assert "| cpu_factor[async] |" in readme
    assert "## Each scenario held out" in readme


def test_a_warm_cache_spreads_the_runs_cpu_over_every_query() -> None:
    # 99 cache hits and one request sent: the sent request does not carry the run's work.
    tracks = [[Req(0.0, cached=True, parse=0.001)] for _ in range(99)] + [[Req(0.05)]]
    workload = workload_from_metrics(document(tracks, gap=0.001, cpu=0.199))
    sent = workload.tracks[-1][0][0]
    hit = workload.tracks[0][0][0]
    assert sent.cpu == pytest.approx(0.001) and hit.cpu == pytest.approx(0.001)
    assert hit.parse == pytest.approx(0.001)
    p = simulate(workload, "async", 16, calibration=PLAIN)
    assert p.bounds.cpu == pytest.approx(0.199)
    assert p.bounds.chain == pytest.approx(0.051)


def test_a_pace_of_the_clients_own_setting_is_said_to_be_its_own() -> None:
    paced = paced_async(100, 9.5)
    paced["session_info"]["rate_limit"] = "10/s"
    text = compare_runs(one_request_tracks(100, 0.06), paced).explanation
    assert text is not None
    assert "its own --rate-limit 10/s: raise it if the server allows more" in text
    assert "no client can pass" not in text
