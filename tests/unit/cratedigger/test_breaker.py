"""The circuit breaker's state machine, with the clock in the test's hands."""

from __future__ import annotations

import pytest

from cratedigger.breaker import Breaker, BreakerPolicy, Go, Halt, Wait
from cratedigger.models import Response
from cratedigger.retry import TransportError

POLICY = BreakerPolicy(threshold=3, first_gap=0.5, max_gap=2.0, outage_budget=10.0, poll=0.25)


def test_what_counts_as_the_server_being_gone() -> None:
    assert POLICY.failed(TransportError("connection", "refused"))
    assert POLICY.failed(TransportError("timeout", "read"))
    assert not POLICY.failed(TransportError("payload", "truncated"))  # it did answer
    assert all(POLICY.failed(Response(s, b"")) for s in (502, 503, 504))
    assert not any(POLICY.failed(Response(s, b"")) for s in (200, 404, 429, 500))


def test_a_success_between_failures_keeps_the_circuit_closed() -> None:
    breaker = Breaker(POLICY)
    for now in range(10):
        breaker.record(now, failed=True, probe=False)
        breaker.record(now + 0.5, failed=True, probe=False)
        breaker.record(now + 0.7, failed=False, probe=False)
    assert not breaker.open and breaker.admit(11) == Go(probe=False)


def test_open_circuit_lets_one_probe_out_at_growing_gaps() -> None:
    breaker = Breaker(POLICY)
    for now in (1.0, 1.1, 1.2):
        wait = breaker.record(now, failed=True, probe=False)
    assert wait and breaker.open
    assert breaker.admit(1.3) == Wait(0.25)
    assert breaker.admit(1.7) == Go(probe=True)  # 1.2 + 0.5
    assert isinstance(breaker.admit(1.7), Wait)  # one probe at a time
    breaker.record(1.8, failed=True, probe=True)  # gap doubles to 1 s
    assert isinstance(breaker.admit(2.7), Wait)
    assert breaker.admit(2.8) == Go(probe=True)
    breaker.record(2.9, failed=True, probe=True)  # 2 s (the cap)
    assert breaker.admit(4.9) == Go(probe=True)
    breaker.record(5.0, failed=True, probe=True)
    assert breaker.admit(6.9) == Wait(pytest.approx(0.1))  # capped at 2 s: next probe at 7.0


def test_the_outage_budget_counts_from_the_first_failure_and_halts() -> None:
    breaker = Breaker(POLICY)
    for now in (1.0, 1.1, 1.2):
        breaker.record(now, failed=True, probe=False)
    assert breaker.admit(10.9) == Go(probe=True)
    assert breaker.admit(11.0) == Halt("outage", 1.0)
    assert breaker.admit(50.0) == Halt("outage", 1.0)  # for good


def test_a_successful_probe_closes_and_resets_the_gaps() -> None:
    breaker = Breaker(POLICY)
    for now in (1.0, 1.1, 1.2):
        breaker.record(now, failed=True, probe=False)
    assert breaker.admit(1.7) == Go(probe=True)
    assert breaker.record(1.8, failed=False, probe=True) is False
    assert not breaker.open and breaker.admit(1.9) == Go(probe=False)
    for now in (3.0, 3.1, 3.2):
        breaker.record(now, failed=True, probe=False)
    assert breaker.admit(3.6) == Wait(pytest.approx(0.1))  # first gap again: 0.5 s
    assert breaker.openings == 2


def test_halt_wins_at_once_and_keeps_its_first_reason() -> None:
    breaker = Breaker(POLICY)
    breaker.halt(Halt("challenge", 2.0, "blocked"))
    breaker.halt(Halt("outage", 3.0))
    assert breaker.admit(2.5) == Halt("challenge", 2.0, "blocked")
