"""The live, changeable behaviour of one mock server: what `mockserver.behaviour`
reads on every request and what the admin API reads and changes."""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Mapping

from mockserver.challenge import (
    ChallengeConfig,
    Challenger,
    format_challenge,
    parse_challenge,
)
from mockserver.errors import SpecError
from mockserver.faults import FaultConfig, FaultPlan
from mockserver.latency import LatencyConfig, LatencyModel
from mockserver.ratelimit import RateLimitConfig, RateLimiter
from mockserver.replay import ReplayStore
from mockserver.settings import Settings
from mockserver.specs import (
    format_faults,
    format_latency,
    format_rate_limit,
    parse_faults,
    parse_latency,
    parse_rate_limit,
)
from mockserver.stats import Journal, Stats

__all__ = ["PATCHABLE", "ServerState"]

PATCHABLE = ("latency", "rate_limit", "faults", "challenge")


def _spec_list(value: object, option: str) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return list(value)
    raise SpecError(option, f"expected a spec string or a list of them, got {value!r}")


class ServerState:
    """Latency model, rate limiter, fault plan, replay store, stats and journal of one server.

    All randomness comes from one `random.Random(settings.seed)` and all time from `clock`,
    so tests can drive both.
    """

    def __init__(
        self,
        settings: Settings,
        replay: ReplayStore | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.settings = settings
        self.clock = clock
        self.rng = random.Random(settings.seed)
        self.replay = replay if replay is not None else ReplayStore()
        self.replay_strict = settings.replay_strict
        self.hang_seconds = settings.hang_seconds
        self.stats = Stats(clock)
        self.journal = Journal(settings.journal_size)
        self.latency = LatencyModel(settings.latency)
        self.faults = FaultPlan(settings.faults)
        self.allow_overrides = settings.allow_overrides
        self.limiter: RateLimiter | None = None
        self._set_rate_limit(settings.rate_limit)
        self.challenger: Challenger | None = None
        self._set_challenge(settings.challenge)

    @classmethod
    def from_settings(
        cls, settings: Settings, clock: Callable[[], float] = time.monotonic
    ) -> ServerState:
        """The state for `settings`, with its HAR files loaded (raises ReplayError if bad)."""
        return cls(settings, ReplayStore.from_paths(settings.replay), clock)

    @property
    def rate_limit(self) -> RateLimitConfig | None:
        return None if self.limiter is None else self.limiter.config

    def _set_rate_limit(self, config: RateLimitConfig | None) -> None:
        # An unchanged limit keeps its buckets: re-sending the same config is not a reset.
        if config != self.rate_limit:
            self.limiter = None if config is None else RateLimiter(config, self.clock)

    @property
    def challenge(self) -> ChallengeConfig | None:
        return None if self.challenger is None else self.challenger.config

    def _set_challenge(self, config: ChallengeConfig | None) -> None:
        # An unchanged challenge keeps its count, as an unchanged rate limit its buckets.
        if config != self.challenge:
            self.challenger = None if config is None else Challenger(config, self.clock)

    def config_dict(self) -> dict[str, object]:
        """The current latency, rate limit, faults and challenge, as spec strings."""
        return {
            "latency": format_latency(self.latency.config),
            "rate_limit": format_rate_limit(self.rate_limit),
            "faults": format_faults(self.faults.config),
            "challenge": format_challenge(self.challenge),
        }

    def apply_patch(self, patch: Mapping[str, object]) -> None:
        """Change latency, rate_limit, faults and/or challenge; all are validated before
        anything changes.

        Raises SpecError (naming the key) for an unknown key or a bad value.
        """
        unknown = [key for key in patch if key not in PATCHABLE]
        if unknown:
            raise SpecError(unknown[0], f"cannot be changed (expected {', '.join(PATCHABLE)})")
        latency: LatencyConfig | None = None
        faults: FaultConfig | None = None
        rate_limit: RateLimitConfig | None = self.rate_limit
        if "latency" in patch:
            latency = parse_latency(_spec_list(patch["latency"], "latency"), "latency")
        if "faults" in patch:
            faults = parse_faults(_spec_list(patch["faults"], "faults"), "faults")
        if "rate_limit" in patch:
            value = patch["rate_limit"]
            if value is not None and not isinstance(value, str):
                raise SpecError("rate_limit", f"expected a spec string or null, got {value!r}")
            rate_limit = None if value is None else parse_rate_limit(value, "rate_limit")
        challenge = self.challenge
        if "challenge" in patch:
            value = patch["challenge"]
            if value is not None and not isinstance(value, str):
                raise SpecError("challenge", f"expected a spec string or null, got {value!r}")
            challenge = None if value is None else parse_challenge(value, "challenge")
        # Everything parsed: from here on nothing can fail.
        if latency is not None and latency != self.latency.config:
            self.latency = LatencyModel(latency)
        if faults is not None and faults != self.faults.config:
            self.faults = FaultPlan(faults)
        self._set_rate_limit(rate_limit)
        self._set_challenge(challenge)

    def reset(self) -> None:
        """Clear stats, journal, rate-limit buckets, "first N" counters and replay positions.

        The random generator is reseeded too, so a run after a reset draws the same delays
        and faults as a run on a fresh server.
        """
        self.rng.seed(self.settings.seed)
        self.stats.reset()
        self.journal.clear()
        if self.limiter is not None:
            self.limiter.reset()
        self.faults.reset()
        self.replay.reset()
        if self.challenger is not None:
            self.challenger.reset()
