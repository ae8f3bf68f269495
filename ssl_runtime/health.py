"""Representation health on a fixed held-out batch: the numbers that reveal collapse before a probe does.

- std: mean per-dimension std of L2-normalised embeddings (SimSiam, arXiv 2011.10566); ~1/sqrt(d) when
  healthy, 0 when every input maps to one vector.
- rank: RankMe, exp of the entropy of the normalised singular values (Garrido et al. 2023, arXiv 2210.02885).
- alignment / uniformity: Wang & Isola 2020 (arXiv 2005.10242); uniformity is 0 at complete collapse.
- lidar: LiDAR, the effective rank of the LDA matrix whose classes are each image's augmented views (Thilak
  et al. 2023, arXiv 2312.04000): how many directions separate images more than their own views differ.
- alpha_req: the decay exponent of the embedding covariance's eigenvalues, lambda_k ~ k^-alpha (Agrawal et
  al. 2022, alpha-ReQ); near 1 is the reported sweet spot, large means few directions carry the variance.
- weight_drift: how far the trainable weights moved from where this process started, relative to their size
  (WeightDrift): the one reading that tells a run whose weights stand still from one whose loss or BatchNorm
  statistics move for other reasons.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable

import numpy as np
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


def _effective_rank(eigenvalues: torch.Tensor, eps: float = 1e-7) -> torch.Tensor:
    lam = eigenvalues.clamp_min(0)
    p = lam / lam.sum().clamp_min(1e-12) + eps
    return torch.exp(-(p * torch.log(p)).sum())


def lidar(views: list[torch.Tensor], delta: float = 1e-4) -> torch.Tensor:
    """LiDAR over q >= 2 views (each (n, d), row i the same image): effective rank of
    S_w^-1/2 S_b S_w^-1/2, S_b the scatter of the per-image means, S_w the scatter of views around their image's
    mean plus delta * I (the paper's regulariser). Computed in float64; NaN when an input is not finite."""
    e = torch.stack([v.double() for v in views], dim=1)  # (n, q, d)
    if not bool(torch.isfinite(e).all()) or e.shape[1] < 2 or e.shape[0] < 2:
        return torch.tensor(float("nan"), device=e.device)
    n, q, d = e.shape
    if d > n * q:  # wide heads (VICReg's 8192): the problem lives in the span of the views; solve it there, exactly
        basis = torch.linalg.qr(e.reshape(n * q, d).T).Q  # (d, n*q), orthonormal
        e, d = e @ basis, basis.shape[1]
    means = e.mean(dim=1)  # (n, d)
    between = means - means.mean(dim=0)
    s_b = between.T @ between / (n - 1)
    within = (e - means[:, None]).reshape(n * q, d)
    s_w = within.T @ within / (n * (q - 1)) + delta * torch.eye(d, dtype=e.dtype, device=e.device)
    # S_w^-1/2 S_b S_w^-1/2 has the eigenvalues of L^-1 S_b L^-T for S_w = L L^T: one Cholesky, no second eigh
    chol, info = torch.linalg.cholesky_ex(s_w)
    if int(info) == 0:
        half = torch.linalg.solve_triangular(chol, s_b, upper=False)
        lam = torch.linalg.eigvalsh(torch.linalg.solve_triangular(chol, half.T, upper=False))
    else:  # embeddings so large (a diverging run) that delta is lost in rounding: S_w^-1/2 from its eigenvalues
        w, v = torch.linalg.eigh(s_w)
        root = v / w.clamp_min(delta).sqrt()  # V diag(w)^-1/2, w held at least delta as the regulariser meant
        lam = torch.linalg.eigvalsh(root.T @ s_b @ root)
    return _effective_rank(lam).float()


def matching_ranks(views: list[torch.Tensor]) -> torch.Tensor:
    """For every ordered pair (i, j) of the q >= 2 views (each (n, d), row k the same image) and every image: how
    many other images' view j sit at least as near (cosine) to its view i as its own view j does. 0: it finds its
    own image first. Ties count against it, so embeddings collapsed to one point find nothing."""
    z = [F.normalize(v.float(), dim=1) for v in views]
    ranks = []
    for i in range(len(z)):
        for j in range(len(z)):
            if i != j:
                sim = z[i] @ z[j].T
                ranks.append((sim >= sim.diag()[:, None]).sum(dim=1) - 1)
    return torch.cat(ranks)


def standardise(views: list[torch.Tensor]) -> list[torch.Tensor]:
    """Each feature less its mean over all the views, over its spread there: a few high-variance dimensions no longer
    decide every neighbour (a constant feature becomes 0, so it says nothing rather than everything)."""
    pooled = torch.cat([v.float() for v in views])
    mean, std = pooled.mean(dim=0), pooled.std(dim=0) + 1e-6
    return [(v.float() - mean) / std for v in views]


def mean_reciprocal_rank(views: list[torch.Tensor]) -> torch.Tensor:
    """The mean over every view of 1 / (1 + matching_ranks): 1 when each view finds its image first, 1/n when last."""
    return (1.0 / (matching_ranks(views) + 1).float()).mean()


def view_retrieval(views: list[torch.Tensor]) -> torch.Tensor:
    """How readily a view of an image finds another view of the same image among the other view's images: the mean
    reciprocal rank of the match (1: always first; 1/n: last) over every ordered pair of views, on features
    standardised over the views. It rewards what a linear probe rewards, invariance to the augmentations *and*
    images told apart; on sslpilot's held-out sweeps it tracked the probe where RankMe and LiDAR did not, the
    reciprocal rank agreed with itself across image sets better than the top-1 rate, and standardising lifted BYOL's
    runs, whose few widest features had decided the cosine (benchmarks/RESULTS.md, sessions 14, 15 and 18)."""
    if len(views) < 2 or views[0].shape[0] < 2 or not all(bool(torch.isfinite(v).all()) for v in views):
        return torch.tensor(float("nan"), device=views[0].device if views else None)
    return mean_reciprocal_rank(standardise(views))


def cluster_consistency(clean: torch.Tensor, views: list[torch.Tensor], k: int = 10, seed: int = 0) -> float:
    """How often an augmented view lands in its clean image's cluster: k-means (k clusters, a fixed seed) on the clean
    images' features, each view's features assigned to the nearest centre, all standardised together (as
    view_retrieval). Where view retrieval asks a view to find its own image among all of them, this asks only that it
    keep its image's coarse group: invariance at the grain a linear probe's classes live at."""
    from sklearn.cluster import KMeans

    if clean.shape[0] <= k or not all(bool(torch.isfinite(v).all()) for v in (clean, *views)):
        return float("nan")
    z = [v.cpu().numpy() for v in standardise([clean, *views])]
    km = KMeans(k, n_init=2, random_state=seed).fit(z[0])
    return float(np.mean([(km.predict(v) == km.labels_).mean() for v in z[1:]]))


def alpha_req(z: torch.Tensor, floor: float = 1e-6) -> torch.Tensor:
    """alpha-ReQ: minus the slope of log(eigenvalue) against log(rank) for the covariance of z, fitted by least
    squares over the eigenvalues above `floor` times the largest (the numerical tail says nothing)."""
    z = z.double()
    if not bool(torch.isfinite(z).all()) or z.shape[0] < 3:
        return torch.tensor(float("nan"), device=z.device)
    zc = z - z.mean(dim=0)
    gram = zc.T @ zc if zc.shape[1] <= zc.shape[0] else zc @ zc.T  # same nonzero eigenvalues: the smaller one
    lam = torch.linalg.eigvalsh(gram / (z.shape[0] - 1)).flip(0)
    keep = lam > floor * lam[0].clamp_min(1e-300)
    lam = lam[keep]
    if lam.numel() < 3:
        return torch.tensor(float("nan"), device=z.device)
    x = torch.log(torch.arange(1, lam.numel() + 1, dtype=z.dtype, device=z.device))
    y = torch.log(lam)
    slope = ((x - x.mean()) * (y - y.mean())).sum() / ((x - x.mean()) ** 2).sum()
    return (-slope).float()


def singular_spectrum(z: torch.Tensor) -> torch.Tensor:
    """Singular values of the centred embedding matrix, largest first (for spectrum plots)."""
    z = z.float()
    return torch.linalg.svdvals(z - z.mean(0))


class WeightDrift:
    """||w - w0|| / ||w0|| over a fixed sample of each trainable tensor's entries (evenly spaced, at most SAMPLE
    per tensor, so the copy stays small for any model), as a device scalar: no host sync. A rate of 1e-9 or
    parameters frozen by mistake leave it near 1e-7 while the loss can still wander (batch statistics, data
    order) and a probe can still gain over a random init (BatchNorm's running statistics adapt to the data)."""

    SAMPLE = 4096

    def __init__(self, params: list[torch.Tensor]):
        self.params = [p for p in params if p.numel()]
        self.index = [torch.linspace(0, p.numel() - 1, min(p.numel(), self.SAMPLE), device=p.device).long()
                      for p in self.params]
        self.start = torch.cat([self._sample(p, i) for p, i in zip(self.params, self.index, strict=True)]).clone()

    @staticmethod
    def _sample(p: torch.Tensor, index: torch.Tensor) -> torch.Tensor:
        return p.detach().reshape(-1)[index].float()

    @torch.no_grad()
    def measure(self) -> torch.Tensor:
        now = torch.cat([self._sample(p, i) for p, i in zip(self.params, self.index, strict=True)])
        return (now - self.start).norm() / self.start.norm().clamp_min(1e-12)


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
    """Holds two fixed augmented views of held-out images and measures a method on them. The views may be
    given as a function that makes them on first use: making them (decode, crop, colour jitter) then happens
    at the first health measurement, after the first step, not on the way to it."""

    def __init__(self, views: list[torch.Tensor] | Callable[[], list[torch.Tensor]]):
        self._views = views

    @property
    def views(self) -> list[torch.Tensor]:
        if callable(self._views):
            self._views = self._views()
        return self._views

    @staticmethod
    @torch.no_grad()
    def embedding_dim(method: nn.Module, example: torch.Tensor) -> int:
        """The projection's width, on `example` (any input of the views' shape: the views need not exist yet)."""
        with eval_mode(method):
            return int(method.project(example).shape[-1])

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
                "health/lidar": lidar([z1, z2]),  # label-free quality (issue 24): the two views as classes
                "health/alpha_req": alpha_req(z1),
            }
            out.update(method.health_extras(self.views))
        return out
