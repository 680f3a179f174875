"""How long would this playlist take in async or threads mode? Predicted from one sync run. Pure.

A sync run's metrics export (schema 1) records every request: which track it served, when
it started, how long it was on the wire (`network_time`), how long its answer took to parse,
how many attempts it took, whether the cache answered it; and the run's client CPU time.
That is enough to replay the run under another driver:

* **Chains.** The match flow sends a track's first query alone, then the others in batches
  (`scoring.Rules.search_batches`), then one batch of detail requests (`flow.py`). A sync run
  sends a batch's requests one after another, so the batches are rebuilt from the order of a
  track's requests and the flow's batch sizes. Async sends a batch at once (`gather`);
  threads, like sync, one request after another within a worker.
* **Waits.** A request's wait is its recorded network time less the client CPU spent inside
  it (the requests library reading and writing the socket): in a sync run the client works
  only outside the network time or inside it, so the CPU the run spent outside its network
  time is `wall - in_flight - sleeps` (backoff, Retry-After, pacing), and the rest of its
  CPU time was inside.
* **Client CPU.** One interpreter: its CPU work never overlaps with itself. Every request
  costs its own parse time plus an equal share of the rest of the run's CPU time, scaled to
  the target mode (`Calibration.cpu_factor_of`: aiohttp costs less per request than
  requests; sixteen threads fighting for the interpreter more; a sync client that slept for
  every answer paid for a cold cache a busy concurrent client does not). It is a single
  first-come first-served resource, working at the share of a core the machine's other work
  leaves a CPU-bound process (`Workload.core_share`, from the `machine_busy` and
  `cpu_count` the export records; a whole core in an export without them).
* **Concurrency.** Async: `concurrency` request slots (a semaphore) and `TRACKS_PER_SLOT`
  tracks in flight per slot; the slot is held from the send to the end of the body, the
  parse comes after. Threads: `concurrency` workers, one track each.
* **Rate limit.** A server's limit (`rate_limit`, requests/s) is paced by the client at the
  share `pacing.AutoTuning.headroom` of it, as `--rate-limit auto` does once the server
  announced it; a fixed client rate recorded in the export paces at that rate. Each attempt
  books the next slot, one every 1/rate seconds, as `pacing.Pacer` does.

`simulate` replays the chains through those resources as a small discrete-event simulation;
`bounds` gives the four lower bounds (latency, chain, rate, cpu) and which one binds. A
prediction's speedup compares with sync under the same conditions: the recorded run, or,
where a rate limit paces the client slower than the recorded run went, sync replayed under
that limit by the same simulation (`Prediction.sync_predicted`).
"""

from __future__ import annotations

import heapq
import math
import statistics
from collections import defaultdict, deque
from collections.abc import Callable, Generator, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final, Literal

from cratedigger.errors import InputError
from cratedigger.pacing import AutoTuning, RateLimit
from cratedigger.scoring import RULES

__all__ = [
    "CALIBRATION",
    "MODES",
    "TRACKS_PER_SLOT",
    "Bounds",
    "Calibration",
    "Prediction",
    "Request",
    "Workload",
    "predict",
    "predict_from_metrics",
    "simulate",
    "workload_from_metrics",
]

Mode = Literal["sync", "threads", "async"]
MODES: Final[tuple[Mode, ...]] = ("sync", "threads", "async")
# drivers/aio.py's TRACKS_PER_SLOT (importing the driver would load aiohttp; a test keeps
# the two equal).
TRACKS_PER_SLOT: Final = 8
BOUND_NAMES: Final = ("latency", "chain", "rate", "cpu")
SEARCH_KINDS: Final = frozenset({"search"})


@dataclass(frozen=True, slots=True)
class Calibration:
    """The model's constants, each measured: `python -m bench.predictions` derives them again
    from benchmark runs and prints them beside these (results/predictions/README.md).

    cpu_factor, cold_cpu_factor, cold_wait: a mode's client CPU time per request over
        sync's, in the same case. It depends on how long the sync client slept for each
        answer: woken after milliseconds, an interpreter computes on a cold cache, so here a
        sync client at 5-50 ms latency spent 1.5-2.2 times the CPU per request it spent at
        zero latency (0.8-1.0 ms), while a concurrent client kept busy stays warm.
        `cpu_factor` is the ratio where the sync run's typical wait is zero,
        `cold_cpu_factor` where it is long; between them it moves with
        exp(-wait / cold_wait). Medians over six rounds of runs on 2026-12-07, quiet and
        busy (the benchmark scenarios and a zero/5/50 ms check): async 0.645 (12 pairs,
        0.57-0.73) and threads 1.14 (10, 1.03-1.30: sixteen threads fighting for the
        interpreter) at the 0.3 ms a zero-latency answer takes, 0.68 and 1.19 at zero;
        cold, over the runs the CPU binds, async 0.365 (16, 0.26-0.52) and threads 0.77
        (17, 0.56-1.16); no pair between 0.4 and 4 ms, and cold_wait 2 ms fits both ends.
        The spread of the cold ones is the largest error left: an export has no warm
        reference to tell how cold its sync run was (its parse time per byte grows with the
        cold, from an unknown warm value). The constants they replace (async 0.59, threads
        0.95 at every wait) were off by up to 2x both ways. On a slower, loaded host
        (results/ of 2026-11-28: every request three times the CPU) the cold cost was small,
        async 0.50-0.62 at every latency: there a cold, CPU-bound run comes out about a
        third too fast.
    contention: the share of a core a CPU-bound client of each mode gets, over
        `Workload.core_share` (what the machine's other work during the sync run leaves one
        more CPU-bound process: cores / (1 + cores busy with other work)). 1.0 for both:
        CPU time / wall time of the CPU-bound async runs was 0.97-0.99 on a quiet machine
        and 0.83-0.96 with another process keeping one of the two cores busy, and the model
        is within 10 % there. With two more CPU-bound processes at the client's priority
        (core_share 0.67-0.85) it was 0.30-0.55 for async, whose mock, starved too, answered
        late, and 0.46-0.73 for threads (sixteen threads are sixteen claims on the cores):
        zero-latency async ran 33-71 % slower than predicted, threads 14-26 %; the harness
        flags such a run (machine over 90 % busy) as not a measurement of the client. The
        constant shares this replaces (async 0.46, threads 0.69) were measured in such a
        state and predicted a quiet machine's CPU-bound runs twice too slow.
    send_share: the share of a request's CPU spent before its wait (building and writing the
        request) rather than after (reading and parsing the answer). An export cannot tell;
        the median error moves by about a point between 0.2 and 0.8.
    headroom: the share of an announced rate limit `--rate-limit auto` paces at (pacing.py).
    """

    cpu_factor: Mapping[str, float] = field(
        default_factory=lambda: {"sync": 1.0, "threads": 1.19, "async": 0.68}
    )
    cold_cpu_factor: Mapping[str, float] = field(
        default_factory=lambda: {"sync": 1.0, "threads": 0.78, "async": 0.37}
    )
    cold_wait: float = 0.002
    contention: Mapping[str, float] = field(
        default_factory=lambda: {"sync": 1.0, "threads": 1.0, "async": 1.0}
    )
    send_share: float = 0.5
    headroom: float = AutoTuning().headroom

    def cpu_factor_of(self, mode: str, wait: float = 0.0) -> float:
        """A mode's CPU per request over sync's, where the sync run waited `wait` seconds for
        a typical answer."""
        warm = self.cpu_factor.get(mode, 1.0)
        cold = self.cold_cpu_factor.get(mode, warm)
        return cold + (warm - cold) * math.exp(-max(0.0, wait) / self.cold_wait)

    def cpu_share_of(self, mode: str, core_share: float = 1.0) -> float:
        """The share of a core a CPU-bound client in `mode` gets where the machine's other
        work leaves one more CPU-bound process `core_share` of a core."""
        if mode == "sync":
            return 1.0  # the sync run's own CPU time, replayed as measured
        return max(0.01, min(1.0, core_share * self.contention.get(mode, 1.0)))


CALIBRATION: Final = Calibration()


@dataclass(frozen=True, slots=True)
class Request:
    """One request of the recorded run, as the model sees it.

    wait: seconds on the wire, less the client's CPU inside that time (all attempts);
    backoff: seconds slept between attempts (retry backoff, Retry-After);
    parse: client CPU parsing its answer; cpu: the rest of its client CPU, in sync mode;
    attempts: HTTP requests sent for it (0: the cache answered it).
    """

    wait: float
    backoff: float
    parse: float
    cpu: float
    attempts: int


Batch = tuple[Request, ...]
Chain = tuple[Batch, ...]


@dataclass(frozen=True, slots=True)
class Workload:
    """What one sync run did, reduced to what the simulation needs."""

    prologue: tuple[Request, ...]  # requests outside any track (the token), one by one
    tracks: tuple[Chain, ...]  # per track in playlist order, its batches in order
    track_indices: tuple[int, ...]  # each chain's track_index in the export
    sync_wall: float
    sync_cpu: float
    source: str
    client_rate: float | None  # a fixed --rate-limit of the recorded run (requests/s)
    cpu_in_network: float  # seconds of client CPU the sync run spent inside network time
    idle: float  # seconds of the sync run's wall time outside the network, sleeps and the CPU
    # The share of a core the machine's other work left one more CPU-bound process during
    # the sync run: cores / (1 + cores busy with other work), at most 1 (1: not recorded).
    core_share: float
    typical_wait: float  # the median wait of an attempt, seconds
    overhead: (
        float  # seconds of the sync run's wall time before its first or after its last request
    )

    @property
    def requests(self) -> int:
        return len(self.prologue) + sum(len(b) for chain in self.tracks for b in chain)

    @property
    def attempts(self) -> int:
        return sum(r.attempts for r in self.all_requests())

    def all_requests(self) -> Iterable[Request]:
        yield from self.prologue
        for chain in self.tracks:
            for batch in chain:
                yield from batch


@dataclass(frozen=True, slots=True)
class Bounds:
    """Lower bounds of the predicted run's wall time, seconds (as harness/bounds.py names them)."""

    latency: float  # summed waits over the request slots
    chain: float  # the longest track's own requests, batch after batch
    rate: float  # attempts at the paced rate
    cpu: float  # the client's CPU work, on one interpreter

    def as_dict(self) -> dict[str, float]:
        return {name: getattr(self, name) for name in BOUND_NAMES}

    @property
    def binding(self) -> str:
        parts = self.as_dict()
        return max(parts, key=lambda k: parts[k])

    @property
    def ideal(self) -> float:
        return max(self.as_dict().values())


@dataclass(frozen=True, slots=True)
class Prediction:
    """The predicted wall time of one mode and concurrency, with its bounds and their inputs."""

    mode: str
    concurrency: int
    rate_limit: float | None  # the server's limit the prediction assumed (requests/s)
    pace: float | None  # the rate the client paces at (requests/s), if any
    wall_time: float
    bounds: Bounds
    sync_wall: float
    requests: int
    attempts: int
    waits: float  # summed waits of every request, seconds
    cpu_time: float  # predicted client CPU time
    cpu_per_request: float  # predicted client CPU per request, seconds
    cpu_share: float  # the share of a core the client's CPU work runs at
    tracks: int
    tracks_in_flight: int
    chain_track: int | None  # the export's track_index of the longest chain
    chain_batches: int  # its batches
    chain_requests: int  # its requests
    chain_attempts: int  # their attempts (retries included)
    # Sync's predicted wall time under the same pace, where `rate_limit` slows the client
    # below the recorded run's pace (a limit the recorded run did not have); None where the
    # recorded run had the same conditions. The speedup compares with it.
    sync_predicted: float | None = None

    @property
    def binding(self) -> str:
        return self.bounds.binding

    @property
    def sync_baseline(self) -> float:
        """The sync wall time the speedup compares with: sync under the same conditions."""
        return self.sync_wall if self.sync_predicted is None else self.sync_predicted

    @property
    def speedup_against(self) -> Literal["recorded", "predicted"]:
        """Which sync wall time `speedup` compares with: the recorded run's, or sync's
        predicted under `rate_limit` (the recorded run was not slowed by it)."""
        return "recorded" if self.sync_predicted is None else "predicted"

    @property
    def speedup(self) -> float | None:
        """Sync's wall time under the same conditions over this prediction's."""
        return self.sync_baseline / self.wall_time if self.wall_time > 0 else None

    def to_json(self) -> dict[str, Any]:
        return {
            "mode": self.mode,
            "concurrency": self.concurrency,
            "rate_limit": self.rate_limit,
            "pace": self.pace,
            "wall_time": round(self.wall_time, 6),
            "speedup": round(self.speedup, 4) if self.speedup is not None else None,
            "binding": self.binding,
            "bounds": {k: round(v, 6) for k, v in self.bounds.as_dict().items()},
            "sync_wall": self.sync_wall,
            "sync_baseline": round(self.sync_baseline, 6),
            "speedup_against": self.speedup_against,
            "requests": self.requests,
            "attempts": self.attempts,
            "waits": round(self.waits, 6),
            "cpu_time": round(self.cpu_time, 6),
            "cpu_per_request": round(self.cpu_per_request, 9),
            "cpu_share": round(self.cpu_share, 4),
            "tracks": self.tracks,
            "tracks_in_flight": self.tracks_in_flight,
            "chain_track": self.chain_track,
            "chain_batches": self.chain_batches,
            "chain_requests": self.chain_requests,
            "chain_attempts": self.chain_attempts,
        }


# --- from a metrics export to a workload --------------------------------------------------


def workload_from_metrics(metrics: Mapping[str, Any]) -> Workload:
    """The workload of a sync run's metrics document; InputError if it is not a sync run."""
    session: Mapping[str, Any] = metrics["session_info"]
    mode = str(session["mode"])
    if mode != "sync":
        raise InputError(
            f"--predict needs a sync run's metrics: this run is {mode} "
            f"(concurrency {session['concurrency']}), whose requests overlapped; "
            "rerun with --mode sync --metrics FILE.json and predict from that"
        )
    queries: Sequence[Mapping[str, Any]] = metrics["query_metrics"]
    wall, cpu = float(session["wall_time"]), float(session["cpu_time"])
    in_flight = float(metrics["network_analysis"]["in_flight_time"])
    backoffs = [_backoff(q) for q in queries]
    attempts = sum(int(q["attempts"]) for q in queries)
    cached_cpu = sum(float(q["execution_time"]) for q in queries if _cached(q))
    parse = sum(float(q["parse_time"]) for q in queries if not _cached(q))
    # The sync client computes whenever it is neither on the wire nor asleep (backoff,
    # Retry-After, pacing). Asleep most of the time, it gets a core whenever it wakes, busy
    # machine or not: its own timings do not show the machine's load, the machine's do.
    outside = max(0.0, wall - in_flight - sum(_sleep(q) for q in queries))
    cpu_in_network = min(max(0.0, cpu - outside), cpu)
    idle = max(0.0, outside - cpu)
    per_attempt_in_network = cpu_in_network / attempts if attempts else 0.0
    # The rest of the CPU time (transport, flow, scoring, writing results) is spread over
    # the queries, a sent one counting once per attempt: a warm-cache run's few sent
    # requests do not carry the whole run's work.
    rest = max(0.0, cpu - parse - cached_cpu)
    units = sum(max(1, int(q["attempts"])) for q in queries)
    per_attempt = rest / units if units else 0.0

    def request(q: Mapping[str, Any], backoff: float) -> Request:
        tries = int(q["attempts"])
        if _cached(q):
            return Request(0.0, 0.0, float(q["execution_time"]), per_attempt, 0)
        wait = max(0.0, float(q["network_time"]) - per_attempt_in_network * tries)
        return Request(wait, backoff, float(q["parse_time"]), per_attempt * tries, tries)

    prologue: list[Request] = []
    by_track: dict[int, list[tuple[float, str, Request]]] = defaultdict(list)
    for q, backoff in zip(queries, backoffs, strict=True):
        r = request(q, backoff)
        if q.get("track_index") is None:
            prologue.append(r)
        else:
            by_track[int(q["track_index"])].append((float(q["start"]), str(q["query_type"]), r))
    all_requests = prologue + [r for rs in by_track.values() for _, _, r in rs]
    indices = tuple(sorted(by_track))
    tracks = tuple(_chain(by_track[i]) for i in indices)
    rate = _fixed_rate(str(session.get("rate_limit", "off")))
    return Workload(
        prologue=tuple(prologue),
        tracks=tracks,
        track_indices=indices,
        sync_wall=wall,
        sync_cpu=cpu,
        source=str(session.get("source", "")),
        client_rate=rate,
        cpu_in_network=cpu_in_network,
        idle=idle,
        core_share=_core_share(session, wall, cpu),
        typical_wait=_median([r.wait / r.attempts for r in all_requests if r.attempts]),
        # After its last request the run still scored and wrote that track: the replay
        # charges that CPU to the request already.
        overhead=max(
            0.0, wall - max((float(q["end"]) for q in queries), default=0.0) - per_attempt
        ),
    )


def _core_share(session: Mapping[str, Any], wall: float, cpu: float) -> float:
    """cores / (1 + cores the machine's other work kept busy during the run), at most 1.

    The export's `machine_busy` is the share of all `cpu_count` cores busy during the run,
    this process included; without them (an older export) the client has a core.
    """
    busy, cores = session.get("machine_busy"), session.get("cpu_count")
    if busy is None or not cores or wall <= 0:
        return 1.0
    others = max(0.0, float(busy) * int(cores) - cpu / wall)
    return min(1.0, int(cores) / (1.0 + others))


def _sleep(q: Mapping[str, Any]) -> float:
    """Seconds a sent request spent neither on the wire nor parsing: pacing, backoff."""
    if _cached(q):
        return 0.0
    gap = float(q["execution_time"]) - float(q["network_time"]) - float(q["parse_time"])
    return max(0.0, gap)


def _median(values: Sequence[float]) -> float:
    return statistics.median(values) if values else 0.0


def _cached(q: Mapping[str, Any]) -> bool:
    return bool(q["cache_hit"]) or int(q["attempts"]) == 0


def _backoff(q: Mapping[str, Any]) -> float:
    """Seconds a request slept between its attempts: its time neither sent nor parsed."""
    if int(q["attempts"]) < 2:
        return 0.0
    gap = float(q["execution_time"]) - float(q["network_time"]) - float(q["parse_time"])
    return max(0.0, gap)


def _chain(requests: list[tuple[float, str, Request]]) -> Chain:
    """A track's requests, in the order sent, regrouped into the batches the flow yielded.

    Detail requests before the first search are the known-id fetch (a batch of one); the
    searches follow in batches of `Rules.search_batches` (the last size repeats); the detail
    requests after them are one batch.
    """
    ordered = [(kind, r) for _, kind, r in sorted(requests, key=lambda x: x[0])]
    searches = [i for i, (kind, _) in enumerate(ordered) if kind in SEARCH_KINDS]
    first = searches[0] if searches else len(ordered)
    last = searches[-1] + 1 if searches else len(ordered)
    batches: list[Batch] = [(r,) for _, r in ordered[:first]]
    sizes, step, at = RULES.search_batches, 0, first
    while at < last:
        size = sizes[min(step, len(sizes) - 1)]
        batches.append(tuple(r for _, r in ordered[at : min(at + size, last)]))
        at, step = at + size, step + 1
    if ordered[last:]:
        batches.append(tuple(r for _, r in ordered[last:]))
    return tuple(b for b in batches if b)


def _fixed_rate(text: str) -> float | None:
    try:
        limit = RateLimit.parse(text)
    except ValueError:
        return None
    return limit.rate if limit.mode == "fixed" else None


# --- the simulation ----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Cpu:
    seconds: float


@dataclass(frozen=True, slots=True)
class _Delay:
    seconds: float


@dataclass(frozen=True, slots=True)
class _Acquire:
    pass


@dataclass(frozen=True, slots=True)
class _Release:
    pass


@dataclass(frozen=True, slots=True)
class _Pace:
    pass


@dataclass(frozen=True, slots=True)
class _All:
    """Run these processes at once; resume when every one has finished."""

    processes: tuple[Process, ...]


Command = _Cpu | _Delay | _Acquire | _Release | _Pace | _All
Process = Generator[Command, None, None]


class _Kernel:
    """A discrete-event kernel: processes yield commands, resources are served in order.

    The CPU is one first-come first-served server (one interpreter); the request slots a
    counting semaphore with a FIFO queue; the pacer hands out send slots 1/rate apart.
    """

    def __init__(self, slots: int, pace: float | None, cpu_speed: float) -> None:
        self.now = 0.0
        self.slots = slots
        self.queue: deque[_Proc] = deque()
        self.pace_gap = 1.0 / pace if pace else 0.0
        self.next_send = 0.0
        self.cpu_free = 0.0
        self.cpu_busy = 0.0
        self.cpu_speed = cpu_speed
        self._events: list[tuple[float, int, _Proc]] = []
        self._seq = 0

    def start(self, process: Process, parent: _Proc | None = None) -> None:
        self._wake(_Proc(process, parent), self.now)

    def run(self) -> float:
        while self._events:
            self.now, _, proc = heapq.heappop(self._events)
            self._step(proc)
        return self.now

    def _wake(self, proc: _Proc, at: float) -> None:
        self._seq += 1
        heapq.heappush(self._events, (at, self._seq, proc))

    def _step(self, proc: _Proc) -> None:
        try:
            command = next(proc.gen)
        except StopIteration:
            parent = proc.parent
            if parent is not None:
                parent.pending -= 1
                if parent.pending == 0:
                    self._wake(parent, self.now)
            return
        if isinstance(command, _Cpu):
            begin = max(self.now, self.cpu_free)
            self.cpu_free = begin + command.seconds / self.cpu_speed
            self.cpu_busy += command.seconds
            self._wake(proc, self.cpu_free)
        elif isinstance(command, _Delay):
            self._wake(proc, self.now + command.seconds)
        elif isinstance(command, _Acquire):
            if self.slots > 0:
                self.slots -= 1
                self._wake(proc, self.now)
            else:
                self.queue.append(proc)
        elif isinstance(command, _Release):
            if self.queue:
                self._wake(self.queue.popleft(), self.now)  # the slot passes on
            else:
                self.slots += 1
            self._wake(proc, self.now)
        elif isinstance(command, _Pace):
            slot = max(self.now, self.next_send)
            self.next_send = slot + self.pace_gap
            self._wake(proc, slot)
        else:
            proc.pending = len(command.processes)
            if not proc.pending:
                self._wake(proc, self.now)
            for child in command.processes:
                self.start(child, proc)


@dataclass(slots=True)
class _Proc:
    gen: Process
    parent: _Proc | None
    pending: int = 0


@dataclass(frozen=True, slots=True)
class _Costs:
    """Per-request client CPU in the target mode, split around the wait: the sync run's,
    scaled by the mode's factor (parse time included: measured on the wall clock, it grows
    when the machine is busy, so the factor is taken over the whole CPU time)."""

    factor: float
    send_share: float

    def before(self, r: Request) -> float:
        return r.cpu * self.factor * self.send_share

    def after(self, r: Request) -> float:
        return r.cpu * self.factor * (1.0 - self.send_share)

    def parse(self, r: Request) -> float:
        return r.parse * self.factor

    def total(self, r: Request) -> float:
        return (r.cpu + r.parse) * self.factor


def _request(r: Request, costs: _Costs, slotted: bool) -> Process:
    """One request: pace, (take a slot,) send, wait, read, (free the slot,) parse."""
    if r.attempts == 0:  # answered by the cache: client work only
        yield _Cpu(costs.total(r))
        return
    for attempt in range(r.attempts):
        yield _Pace()
        if slotted:
            yield _Acquire()
        yield _Cpu(costs.before(r) / r.attempts)
        yield _Delay(r.wait / r.attempts)
        yield _Cpu(costs.after(r) / r.attempts)
        if slotted:
            yield _Release()
        if attempt < r.attempts - 1 and r.backoff:
            yield _Delay(r.backoff / (r.attempts - 1))
    yield _Cpu(costs.parse(r))


def _track(chain: Chain, costs: _Costs, mode: Mode) -> Process:
    for batch in chain:
        if mode == "async" and len(batch) > 1:
            yield _All(tuple(_request(r, costs, True) for r in batch))
        else:
            for r in batch:
                yield from _request(r, costs, mode == "async")


def _worker(take: Callable[[], Chain | None], costs: _Costs, mode: Mode) -> Process:
    while (chain := take()) is not None:
        yield from _track(chain, costs, mode)


def _run(
    workload: Workload, mode: Mode, concurrency: int, pace: float | None, calibration: Calibration
) -> tuple[float, float, int]:
    """(wall time, client CPU time, tracks in flight) of one simulated run."""
    costs = _Costs(calibration.cpu_factor_of(mode, workload.typical_wait), calibration.send_share)
    slots = concurrency if mode == "async" else math.inf
    share = calibration.cpu_share_of(mode, workload.core_share)
    kernel = _Kernel(int(min(slots, 1 << 30)), pace, share)
    pending = deque(workload.tracks)

    def take() -> Chain | None:
        return pending.popleft() if pending else None

    workers = {"sync": 1, "threads": concurrency, "async": concurrency * TRACKS_PER_SLOT}[mode]
    workers = max(1, min(workers, len(workload.tracks)))

    def main() -> Process:
        for r in workload.prologue:
            yield from _request(r, costs, mode == "async")
        yield _All(tuple(_worker(take, costs, mode) for _ in range(workers)))

    kernel.start(main())
    end = kernel.run()
    return end + workload.overhead, kernel.cpu_busy, workers


def simulate(
    workload: Workload,
    mode: str,
    concurrency: int,
    *,
    rate_limit: float | None = None,
    calibration: Calibration = CALIBRATION,
) -> Prediction:
    """The predicted run of `workload` in `mode` at `concurrency` (requests in flight)."""
    if mode not in MODES:
        raise InputError(f"mode: expected one of {', '.join(MODES)}, got {mode!r}")
    return _simulate(workload, mode, concurrency, rate_limit, calibration)


def _simulate(
    workload: Workload,
    mode: Mode,
    concurrency: int,
    rate_limit: float | None,
    calibration: Calibration,
) -> Prediction:
    if concurrency < 1:
        raise InputError(f"--concurrency: expected a whole number >= 1, got {concurrency}")
    if rate_limit is not None and not (math.isfinite(rate_limit) and rate_limit > 0):
        raise InputError(f"--rate-limit: expected a rate above 0, got {rate_limit}")
    effective = 1 if mode == "sync" else concurrency
    pace = _pace(workload, rate_limit, calibration)
    wall, cpu, workers = _run(workload, mode, effective, pace, calibration)
    figures = _Figures.of(workload, mode, effective, pace, calibration)
    # The replay respects the four bounds by construction (its CPU runs at the share of a
    # core the client gets).
    wall_time = max(wall, figures.bounds.cpu)
    sync_predicted = None
    if pace != _pace(workload, None, calibration):
        # The limit paces the client slower than the recorded run went: sync would have
        # been slowed by it too, so the speedup compares with sync predicted under it.
        sync_predicted = (
            wall_time
            if mode == "sync"
            else _simulate(workload, "sync", 1, rate_limit, calibration).wall_time
        )
    return Prediction(
        mode=mode,
        concurrency=effective,
        rate_limit=rate_limit,
        pace=pace,
        wall_time=wall_time,
        bounds=figures.bounds,
        sync_wall=workload.sync_wall,
        requests=workload.requests,
        attempts=workload.attempts,
        waits=figures.waits,
        cpu_time=cpu,
        cpu_per_request=cpu / workload.requests if workload.requests else 0.0,
        cpu_share=calibration.cpu_share_of(mode, workload.core_share),
        tracks=len(workload.tracks),
        tracks_in_flight=workers,
        chain_track=figures.chain_track,
        chain_batches=figures.chain_batches,
        chain_requests=figures.chain_requests,
        chain_attempts=figures.chain_attempts,
        sync_predicted=sync_predicted,
    )


def _pace(workload: Workload, rate_limit: float | None, calibration: Calibration) -> float | None:
    """The client's pace: the server's limit at the auto headroom, or the recorded fixed rate."""
    rates = [r for r in (workload.client_rate,) if r]
    if rate_limit:
        rates.append(rate_limit * calibration.headroom)
    return min(rates) if rates else None


@dataclass(frozen=True, slots=True)
class _Figures:
    bounds: Bounds
    waits: float
    chain_track: int | None
    chain_batches: int
    chain_requests: int
    chain_attempts: int

    @classmethod
    def of(
        cls,
        workload: Workload,
        mode: Mode,
        concurrency: int,
        pace: float | None,
        calibration: Calibration,
    ) -> _Figures:
        """The four lower bounds of the predicted run (the simulation respects each)."""
        costs = _Costs(
            calibration.cpu_factor_of(mode, workload.typical_wait), calibration.send_share
        )
        share = calibration.cpu_share_of(mode, workload.core_share)

        def cpu_of(r: Request) -> float:
            return costs.total(r)

        def alone(r: Request) -> float:
            """A request's duration with the request slots and the pacer to itself."""
            return r.wait + r.backoff + cpu_of(r) / share

        def chain_time(chain: Chain) -> float:
            if mode == "async":
                return sum(max(alone(r) for r in batch) for batch in chain)
            return sum(alone(r) for batch in chain for r in batch)

        prologue = sum(alone(r) for r in workload.prologue)
        everything = list(workload.all_requests())
        waits = sum(r.wait for r in everything)
        track_waits = waits - sum(r.wait for r in workload.prologue)
        chains = [chain_time(c) for c in workload.tracks]
        longest = max(range(len(chains)), key=chains.__getitem__, default=None)
        chain = workload.tracks[longest] if longest is not None else ()
        return cls(
            bounds=Bounds(
                latency=prologue + track_waits / concurrency,
                chain=prologue + (chains[longest] if longest is not None else 0.0),
                rate=sum(r.attempts for r in everything) / pace if pace else 0.0,
                cpu=sum(cpu_of(r) for r in everything) / share,
            ),
            waits=waits,
            chain_track=workload.track_indices[longest] if longest is not None else None,
            chain_batches=len(chain),
            chain_requests=sum(len(b) for b in chain),
            chain_attempts=sum(r.attempts for b in chain for r in b),
        )


def predict(
    workload: Workload,
    concurrency: int = 16,
    rate_limit: float | None = None,
    modes: Sequence[Mode] = ("threads", "async"),
    calibration: Calibration = CALIBRATION,
) -> list[Prediction]:
    """One prediction per mode."""
    return [
        simulate(workload, m, concurrency, rate_limit=rate_limit, calibration=calibration)
        for m in modes
    ]


def predict_from_metrics(
    sync_metrics: Mapping[str, Any],
    mode: str,
    concurrency: int,
    rate_limit: float | None = None,
    calibration: Calibration = CALIBRATION,
) -> Prediction:
    """The harness's entry point: a sync run's metrics document -> the predicted run."""
    workload = workload_from_metrics(sync_metrics)
    return simulate(workload, mode, concurrency, rate_limit=rate_limit, calibration=calibration)
