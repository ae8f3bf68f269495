"""The learning-rate schedule as plain arithmetic: linear warm-up, then cosine decay to zero or a constant rate.

Torch-free so that what reads a run afterwards (the forecast in tools/diagnosis) follows the same schedule the
trainer stepped (ssl_runtime/optim.build_schedule wraps `lr_factor` in a LambdaLR).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

DEFAULT_WARMUP_SHARE = 0.1


def warmup_of(configured: int | None, total_steps: int) -> int:
    """optim.warmup_steps, else 10% of the steps; never the whole run."""
    warmup = configured if configured is not None else int(total_steps * DEFAULT_WARMUP_SHARE)
    return min(warmup, max(0, total_steps - 1))


def lr_factor(step: int, total_steps: int, warmup: int, kind: str = "cosine") -> float:
    """The rate at optimiser step `step` (0-based) as a share of the peak."""
    if step < warmup:
        return (step + 1) / warmup
    if kind == "constant":
        return 1.0
    progress = (step - warmup) / max(1, total_steps - warmup)
    return 0.5 * (1 + math.cos(math.pi * min(1.0, progress)))


@dataclass(frozen=True)
class Schedule:
    """A run's planned schedule, enough to say how far its rate has carried it by a given step."""

    total_steps: int
    warmup: int
    kind: str = "cosine"

    @property
    def decays(self) -> bool:
        return self.kind != "constant"

    def area(self, step: float) -> float:
        """The cumulative rate (in peak-rate steps) by `step`: the integral of the warm-up ramp and the cosine. Past
        the planned end, the area a run that long with the same shape (the same warm-up share) has at its end: how
        far a longer run of this recipe would carry the weights."""
        total, warmup = float(self.total_steps), float(self.warmup)
        if step > total:
            warmup, total = warmup * step / total, float(step)
        ramp = min(step, warmup)
        out = ramp * ramp / (2 * warmup) if warmup > 0 else 0.0
        rest = max(0.0, step - warmup)
        if self.kind == "constant":
            return out + rest
        span = max(1.0, total - warmup)
        rest = min(rest, span)
        return out + 0.5 * (rest + span / math.pi * math.sin(math.pi * rest / span))
