"""Runs that are collapsed or healthy by construction.

A tiny training run's verdict depends on the CPU's floating point (it did, twice, on AMD vs Intel). The tests
that assert a verdict therefore train for the real code paths (checkpoints, encoder export, metrics files) and
then rewrite what decides the verdict:
- `collapse_checkpoints`: the backbone's last BatchNorm gets zero scale but for one channel and a positive
  shift, so every image maps to nearly the same feature vector (rank 1 by construction);
- `rewrite_health`: the health curve replaced by a collapsing or a healthy one.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import torch

from ssl_runtime.run_folder import RunFolder

_BN = re.compile(r"^(?P<prefix>(?:.*\.)?backbone\.model\.features\.(?P<i>\d+))\.running_var$")


def _last_batchnorm(state: dict) -> str:
    found = [(int(m["i"]), m["prefix"]) for k in state if (m := _BN.match(k))]
    assert found, "no BatchNorm in this backbone"
    return max(found)[1]


def collapse_state(state: dict) -> dict:
    """The same weights with the last BatchNorm squashed: features = relu(1 + 1e-3 * one channel's signal)."""
    out = dict(state)
    prefix = _last_batchnorm(state)
    scale = torch.zeros_like(state[f"{prefix}.weight"])
    scale[0] = 1e-3
    out[f"{prefix}.weight"] = scale
    out[f"{prefix}.bias"] = torch.ones_like(state[f"{prefix}.bias"])
    return out


def collapse_checkpoints(run_dir: Path) -> None:
    """Every checkpoint of the run (last.pt and step_*.pt) made rank-1 by construction; teachers too."""
    for path in RunFolder(run_dir).checkpoints.glob("*.pt"):
        ck = torch.load(path, weights_only=False)  # our own file
        model = ck["model"]
        for prefix in {k.split("backbone.model.")[0] for k in model if "backbone.model." in k}:
            part = {k[len(prefix):]: v for k, v in model.items() if k.startswith(prefix + "backbone.model.")}
            model.update({prefix + k: v for k, v in collapse_state(part).items()})
        torch.save(ck, path)


def _curve(first: float, last: float, t: float, geometric: bool = True) -> float:
    return first * (last / first) ** t if geometric else first + (last - first) * t


def rewrite_health(run_dir: Path, kind: str) -> None:
    """Replace the health metrics with a curve that is collapsed or healthy for the run's embedding width.

    collapsed: spread falls from 0.8x to 0.01x isotropic 1/sqrt(d), RankMe from d/3 to 1.1, uniformity to -0.02;
    healthy: spread rises from 0.5x to 0.9x isotropic, RankMe from d/8 to d/2, uniformity to -3.5.
    The loss, lr and step columns stay the run's own.
    """
    folder = RunFolder(run_dir)
    d = json.loads(folder.summary.read_text())["embedding_dim"]
    iso = d ** -0.5
    rows = folder.read_metrics()
    steps = [r["step"] for r in rows if "health/std" in r]
    assert len(steps) >= 3, "the run logged too few health points to rewrite"
    span = {"collapsed": ((0.8 * iso, 0.01 * iso), (d / 3, 1.1), (-2.0, -0.02)),
            "healthy": ((0.5 * iso, 0.9 * iso), (d / 8, d / 2), (-1.5, -3.5))}[kind]
    (std0, std1), (rank0, rank1), (uni0, uni1) = span
    for r in rows:
        if "health/std" in r:
            t = (r["step"] - steps[0]) / max(1, steps[-1] - steps[0])
            r["health/std"] = _curve(std0, std1, t)
            r["health/rank"] = _curve(rank0, rank1, t)
            r["health/uniformity"] = _curve(uni0, uni1, t, geometric=False)
    folder.metrics.write_text("".join(json.dumps(r) + "\n" for r in rows))


def collapse_run(run_dir: Path) -> None:
    """A finished run made collapsed by construction, in its metrics and its checkpoints."""
    rewrite_health(run_dir, "collapsed")
    collapse_checkpoints(run_dir)
