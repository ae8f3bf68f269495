"""Was a logged metric still moving at its end? One reading for the diagnosis ("the loss was still falling at the
end of training", which proposes a longer run), for the chat ("is the loss of run 3 still going down?") and, by its
1% bar, for a stop on a plateau (ssl_runtime/stop_rules.py: "stop run 3 when its loss stops falling").

The window is the last fifth of the logged points (at least three), and the metric moved when its last value lies
more than 1% of the window's first value from it. It compares two logged values, as a user reading the curve's
tail does; a loss noisy from step to step can read falling on one logging step and flat on the next, so the
answer gives the two values and their steps, not only the word.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

MIN_POINTS = 6  # fewer logged points than this: no trend is read
FIFTH = 5  # the window: the last len(points) // FIFTH points, at least three
REL = 0.01  # a move under 1% of the window's first value is flat; a new best under 1% is no improvement


@dataclass
class Trend:
    direction: str  # falling | rising | flat
    first: tuple[int, float]  # (step, value) at the window's start
    last: tuple[int, float]  # (step, value) at its end

    @property
    def change(self) -> float:
        """The relative change over the window (-0.02: fell 2%)."""
        return (self.last[1] - self.first[1]) / abs(self.first[1]) if self.first[1] else 0.0

    def to_dict(self) -> dict:
        return {**asdict(self), "change": self.change}


def tail_trend(points: list[tuple[int, float]]) -> Trend | None:
    """The trend of a metric's finite (step, value) points over their last fifth, or None with too few points."""
    if len(points) < MIN_POINTS:
        return None
    return _between(points[-max(3, len(points) // FIFTH):])


def trend_over(points: list[tuple[int, float]], last_steps: int) -> Trend | None:
    """The trend over the last `last_steps` steps the user named ("over the last 100 steps"): from the first logged
    point at or after the last step minus that many to the last; None with fewer than two points there."""
    if not points:
        return None
    window = [p for p in points if p[0] >= points[-1][0] - last_steps]
    return _between(window) if len(window) >= 2 else None


def _between(window: list[tuple[int, float]]) -> Trend:
    (s0, v0), (s1, v1) = window[0], window[-1]
    direction = "falling" if v1 < v0 - REL * abs(v0) else "rising" if v1 > v0 + REL * abs(v0) else "flat"
    return Trend(direction, (s0, v0), (s1, v1))
