"""A track's job: the match flow with each of its requests' exchanges, as one generator.

The job yields a `Batch` of exchanges for each batch of requests the flow asks for and is
sent back their replies, in order; it returns the flow's `MatchResult`. Pure, like the
flow and the exchange it joins: a driver decides how a batch's exchanges run.
"""

from __future__ import annotations

from collections.abc import Generator
from dataclasses import dataclass

from cratedigger.exchange import Context, Exchange, exchange
from cratedigger.flow import MatchFlow, match_flow
from cratedigger.models import LocalTrack, MatchResult, Reply, Request
from cratedigger.scoring import Rules


@dataclass(frozen=True, slots=True)
class Batch:
    """Run these exchanges (at once, if the driver can) and send back their replies in order."""

    exchanges: tuple[Exchange, ...]


Job = Generator[Batch, list[Reply], MatchResult]


def track_job(ctx: Context, track: LocalTrack, index: int, rules: Rules) -> Job:
    """Match one track: its flow's batches of requests, each request's exchange."""
    flow = match_flow(track, ctx.source, rules)
    step = _step(flow, None)
    while isinstance(step, list):
        replies = yield Batch(tuple(exchange(r, ctx, index) for r in step))
        step = _step(flow, replies)
    return step


def _step(flow: MatchFlow, replies: list[Reply] | None) -> list[Request] | MatchResult:
    """Start or advance a flow: its next batch of requests, or its result."""
    try:
        return flow.send(replies)  # type: ignore[arg-type]  # None starts a generator
    except StopIteration as stop:
        return stop.value  # type: ignore[no-any-return]
