"""How fast could a run have been? Lower bounds on wall time, from its own metrics. Pure.

* latency: the requests' summed network time spread over `concurrency` slots;
* chain: the longest track's own requests, which it must wait for one batch after another;

both after the run's prologue: the requests of no track (the token) that ended before the
first track's request went out. No track can start without them, so they add to either
bound rather than share the slots (they did not; 62 ms of a 0.30 s run at 50 ms latency).
* rate: requests beyond the server's burst at the server's rate limit;
* cpu: the client's CPU time over the cores its mode can keep busy at once: one for sync
  and async (one thread does the work), up to the machine's cores for threads (threads
  overlap where the interpreter lets go: sockets, parsing in C). Counted as one core for
  threads too, the bound came out above the wall time (efficiency 101-109 % at zero
  latency on 2 cores), so it was not a lower bound.

The ideal is the largest of them; efficiency is ideal / measured wall time (1.0 = perfect).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from cratedigger.export import union_length


@dataclass(frozen=True, slots=True)
class Bounds:
    latency: float
    chain: float
    rate: float
    cpu: float

    @property
    def latency_bound(self) -> float:
        """The latency-bound ideal of the async issue: total latency / concurrency or chain."""
        return max(self.latency, self.chain)

    @property
    def ideal(self) -> float:
        return max(self.latency, self.chain, self.rate, self.cpu)

    @property
    def limiting(self) -> str:
        """Which bound is the ideal."""
        parts = {"latency": self.latency, "chain": self.chain, "rate": self.rate, "cpu": self.cpu}
        return max(parts, key=lambda k: parts[k])


def bounds(
    metrics: Mapping[str, Any], *, server_rate: float = 0.0, server_burst: int = 0
) -> Bounds:
    """Lower bounds of one run's wall time, from its exported metrics (schema 1)."""
    session = metrics["session_info"]
    queries = metrics["query_metrics"]
    concurrency = max(1, int(session["concurrency"]))
    sent = [q for q in queries if q["attempts"] > 0]
    first_track = min((q["start"] for q in sent if q["track_index"] is not None), default=None)
    prologue_spans = [
        (q["start"], q["start"] + q["network_time"])
        for q in sent
        if q["track_index"] is None
        and first_track is not None
        and q["start"] + q["network_time"] <= first_track
    ]
    prologue = union_length(prologue_spans)
    rest = [q for q in sent if (q["start"], q["start"] + q["network_time"]) not in prologue_spans]
    total_latency = sum(q["network_time"] for q in rest)
    per_track: dict[object, list[tuple[float, float]]] = defaultdict(list)
    for q in rest:
        per_track[q["track_index"]].append((q["start"], q["start"] + q["network_time"]))
    chain = max((union_length(spans) for spans in per_track.values()), default=0.0)
    requests = int(session["requests_sent"])
    rate = max(0, requests - server_burst) / server_rate if server_rate > 0 else 0.0
    return Bounds(
        latency=prologue + total_latency / concurrency,
        chain=prologue + chain,
        rate=rate,
        cpu=float(session["cpu_time"]) / _cores(session),
    )


def _cores(session: Mapping[str, Any]) -> int:
    """How many cores the run's mode could keep busy at once (see the module's `cpu`)."""
    if session.get("mode") != "threads":
        return 1
    cpus = session.get("cpu_count")
    machine = int(cpus) if isinstance(cpus, int) and cpus > 0 else 1
    return max(1, min(machine, int(session["concurrency"])))


def efficiency(ideal: float, wall: float) -> float:
    return ideal / wall if wall > 0 else 0.0
