"""Representation health on a fixed held-out batch: the numbers that reveal collapse before a probe does.

- std: mean per-dimension std of L2-normalised embeddings (SimSiam, arXiv 2011.10566); ~1/sqrt(d) when
  healthy, 0 when every input maps to one vector.
- rank: RankMe, exp of the entropy of the normalised singular values (Garrido et al. 2023, arXiv 2210.02885).
- alignment / uniformity: Wang & Isola 2020 (arXiv 2005.10242); uniformity is 0 at complete collapse.
"""

from __future__ import annotations

import contextlib

import torch
import torch.nn.functional as F
from torch import nn


def std_of_l2_normalized(z: torch.Tensor) -> torch.Tensor:
    return F.normalize(z.float(), dim=1).std(dim=0).mean()


def rankme(z: torch.Tensor, eps: float = 1e-7) -> torch.Tensor:
    if not bool(torch.isfinite(z).all()):
        return torch.tensor(float("nan"), device=z.device)
    s = torch.linalg.svdvals(z.float())
    p = s / s.sum().clamp_min(1e-12) + eps
    return torch.exp(-(p * torch.log(p)).sum())


def alignment(z1: torch.Tensor, z2: torch.Tensor) -> torch.Tensor:
    return (F.normalize(z1.float(), dim=1) - F.normalize(z2.float(), dim=1)).norm(dim=1).pow(2).mean()


def uniformity(z: torch.Tensor, t: float = 2.0) -> torch.Tensor:
    z = F.normalize(z.float(), dim=1)
    return torch.pdist(z).pow(2).mul(-t).exp().mean().log()


def singular_spectrum(z: torch.Tensor) -> torch.Tensor:
    """Singular values of the centred embedding matrix, largest first (for spectrum plots)."""
    z = z.float()
    return torch.linalg.svdvals(z - z.mean(0))


@contextlib.contextmanager
def eval_mode(module: nn.Module):
    """Evaluate in eval mode, then restore whatever mode the module was in."""
    was_training = module.training
    module.eval()
    try:
        yield module
    finally:
        module.train(was_training)


class HealthMonitor:
    """Holds two fixed augmented views of held-out images and measures a method on them."""

    def __init__(self, views: list[torch.Tensor]):
        self.views = views

    @torch.no_grad()
    def embedding_dim(self, method: nn.Module) -> int:
        with eval_mode(method):
            return int(method.project(self.views[0][:2]).shape[-1])

    @torch.no_grad()
    def measure(self, method: nn.Module) -> dict[str, torch.Tensor]:
        with eval_mode(method):
            z1 = method.project(self.views[0])
            z2 = method.project(self.views[1])
            out = {
                "health/std": std_of_l2_normalized(z1),
                "health/rank": rankme(z1),
                "health/alignment": alignment(z1, z2),
                "health/uniformity": uniformity(z1),
            }
            out.update(method.health_extras(self.views))
        return out
