"""Medians with 95 % bootstrap intervals, for figures measured a few times on a noisy machine.

A benchmark here runs each case a few times (`repeat`), the modes interleaved round by round,
so that a busy moment of the machine falls on every mode alike. A figure is the median of its
samples with a percentile bootstrap interval; a speedup is the median of the ratios of paired
runs (the same round), with its own interval. The resampling is seeded: the same samples give
the same interval. With 3 samples an interval is wide and says so; it is not a test of
significance, it is how far one run can be trusted.
"""

from __future__ import annotations

import random
import statistics
from collections.abc import Sequence
from dataclasses import dataclass

RESAMPLES = 2000
LEVEL = 0.95


@dataclass(frozen=True, slots=True)
class Estimate:
    """A median and its 95 % bootstrap interval, with the samples it came from."""

    median: float
    low: float
    high: float
    samples: tuple[float, ...]

    def to_json(self) -> dict[str, object]:
        return {
            "median": self.median,
            "ci95": [self.low, self.high],
            "samples": list(self.samples),
        }

    def text(self, digits: int = 3, suffix: str = "") -> str:
        if len(self.samples) < 2:
            return f"{self.median:.{digits}f}{suffix}"
        return f"{self.median:.{digits}f}{suffix} [{self.low:.{digits}f}-{self.high:.{digits}f}]"


def estimate(samples: Sequence[float], seed: int = 0) -> Estimate:
    """The median of `samples` and a percentile bootstrap interval of the median."""
    if not samples:
        raise ValueError("no samples")
    values = tuple(float(s) for s in samples)
    middle = statistics.median(values)
    if len(values) < 2:
        return Estimate(middle, middle, middle, values)
    rng = random.Random(seed)
    medians = sorted(
        statistics.median(rng.choices(values, k=len(values))) for _ in range(RESAMPLES)
    )
    tail = (1.0 - LEVEL) / 2.0
    low = medians[int(tail * (RESAMPLES - 1))]
    high = medians[int((1.0 - tail) * (RESAMPLES - 1))]
    return Estimate(middle, low, high, values)


def paired_ratio(numerators: Sequence[float], denominators: Sequence[float]) -> Estimate:
    """The ratio of paired samples (round by round), e.g. sync wall / async wall."""
    if len(numerators) != len(denominators):
        raise ValueError("paired samples must be as many on both sides")
    ratios = [n / d for n, d in zip(numerators, denominators, strict=True) if d > 0]
    return estimate(ratios)
