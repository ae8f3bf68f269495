"""A health metric read against the run's own path: where it started (the random init) and its best since.

Levels alone misread two kinds of run. A random init already reads "collapsed" by the absolute thresholds (the
spread of the development set's runs at step 1 is 0.02-0.16x isotropic, their uniformity -0.0 to -0.11), so a run
climbing out of that level is not failing: a collapse is a fall from where the run got to, or never leaving the
start. And a log without the projection width d cannot be read against 1/sqrt(d) at all, while a large fall of its
own spread is a collapse whatever d is (`spread_fall_verdict`).
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass

from tools.diagnosis import thresholds as T
from tools.diagnosis.evidence import Series


@dataclass(frozen=True)
class MetricPath:
    """A metric where larger is healthier (spread, rank, teacher entropy; uniformity as its magnitude)."""

    start: float  # the first measurement: the initialisation
    best: float  # the largest value after it
    best_step: int
    now: float
    now_step: int

    @property
    def fall(self) -> float:
        """How many times under its best the metric is now (1.0 = at its best)."""
        return self.best / self.now if self.now > 0 else float("inf")

    @property
    def climbing(self) -> bool:
        """Left its start (at least CLIMB_FROM_START x) and holds at least HOLD_OF_BEST of its best: a run on its
        way out of the initial level, whatever that level reads."""
        return self.now >= T.CLIMB_FROM_START * self.start and self.now >= T.HOLD_OF_BEST * self.best


def path_of(series: Series, sign: float = 1.0, smooth: bool = False) -> MetricPath | None:
    """The path of `sign * series` (sign -1 for uniformity, where more negative is healthier); None before a
    second measurement. `smooth` reads "now" as the median of the last three (for logs with noisy points)."""
    points = [(s, sign * v) for s, v in series.finite]
    if len(points) < T.MIN_HEALTH_POINTS:
        return None
    later = points[1:]
    best = max(later, key=lambda sv: sv[1])
    now = statistics.median(v for _, v in points[-3:]) if smooth else points[-1][1]
    return MetricPath(points[0][1], best[1], best[0], now, points[-1][0])


def spread_fall_verdict(p: MetricPath) -> str | None:
    """The verdict a fall of the spread of L2-normalised outputs gives without knowing d. Their per-dimension
    std averages at most 1/sqrt(d) (the variances sum to at most 1), so a spread now 1/STD_RATIO_COMPLETE (6.7x)
    under its best is under STD_RATIO_COMPLETE x isotropic for every d (complete collapse), and one 1/STD_RATIO_
    COLLAPSED (2x) under it is under half the isotropic value (a collapse into a narrow cone)."""
    if p.fall >= 1 / T.STD_RATIO_COMPLETE:
        return "complete_collapse"
    if p.fall >= 1 / T.STD_RATIO_COLLAPSED:
        return "dimensional_collapse"
    return None


# ---- against a healthy run of the same method on the same data ----------------------------------------------
PATH_METRICS = ("health/rank", "health/std")


def normalised_path(ev) -> dict[str, list[tuple[float, float]]]:
    """The run's rank and spread as (fraction of its steps, value on the scale the thresholds use: RankMe / min(n,
    d), spread x sqrt(d)), so runs of other lengths and widths line up."""
    total = float(ev.resolved.get("total_steps") or 0) or float(max(ev.s("health/std").steps or [0])) or 1.0
    scale = {"health/rank": 1 / ev.rank_capacity if ev.rank_capacity else None,
             "health/std": ev.embedding_dim ** 0.5 if ev.embedding_dim else None}
    return {m: [(s / total, v * scale[m]) for s, v in ev.s(m).finite] for m in PATH_METRICS if scale[m]}


def _at(path: list[tuple[float, float]], fraction: float) -> float | None:
    """The path's value at `fraction`, linearly interpolated; None outside what it measured."""
    for (f0, v0), (f1, v1) in zip(path, path[1:], strict=False):
        if f0 <= fraction <= f1:
            return v0 if f1 == f0 else v0 + (v1 - v0) * (fraction - f0) / (f1 - f0)
    return None


def departure(run: list[tuple[float, float]], healthy: list[tuple[float, float]],
              factor: float = 0.5) -> tuple[float, float, float] | None:
    """Where the run left a healthy run's path for good: the first point (after the init) from which every later
    measurement sits under `factor` x the healthy value at the same fraction of training. (fraction, the run's
    value there, the healthy value there), or None if it never left or the paths do not overlap."""
    points = [(f, v, _at(healthy, f)) for f, v in run[1:]]
    points = [(f, v, h) for f, v, h in points if h is not None]
    if not points or points[-1][1] >= factor * points[-1][2]:
        return None
    start = len(points) - 1
    while start > 0 and points[start - 1][1] < factor * points[start - 1][2]:
        start -= 1
    return points[start]
