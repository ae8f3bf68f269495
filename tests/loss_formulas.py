"""The published SSL loss formulas, written again in NumPy (float64, loops where the paper writes sums).

Independent of ssl_runtime.losses on purpose: the parity test and `benchmarks/loss_parity.py` compare the
runtime's torch losses against these. Each function names the paper and equation it follows.
"""

from __future__ import annotations

import numpy as np


def _l2n(x: np.ndarray) -> np.ndarray:
    return x / np.linalg.norm(x, axis=1, keepdims=True)


def _logsumexp(x: np.ndarray) -> float:
    m = x.max()
    return float(m + np.log(np.exp(x - m).sum()))


def nt_xent(z1: np.ndarray, z2: np.ndarray, tau: float) -> float:
    """SimCLR (arXiv 2002.05709, eq. 1): l(i,j) = -log exp(s_ij/t) / sum_{k != i} exp(s_ik/t), averaged over
    all 2N anchors (each view is once the anchor of its positive pair)."""
    z = _l2n(np.concatenate([z1, z2]))
    n = len(z1)
    total = 0.0
    for i in range(2 * n):
        j = i + n if i < n else i - n
        sims = z @ z[i] / tau
        others = np.delete(sims, i)
        total += -(sims[j] - _logsumexp(others))
    return total / (2 * n)


def info_nce(q: np.ndarray, k: np.ndarray, tau: float, queue: np.ndarray | None = None) -> float:
    """MoCo (arXiv 1911.05722, eq. 1): -log exp(q.k+/t) / (exp(q.k+/t) + sum_neg exp(q.k-/t)); negatives are the
    other keys of the batch (v3, arXiv 2104.02057) or a queue (v1/v2)."""
    q, k = _l2n(q), _l2n(k)
    total = 0.0
    for i in range(len(q)):
        negatives = np.delete(k, i, axis=0) if queue is None else queue
        logits = np.concatenate([[q[i] @ k[i]], negatives @ q[i]]) / tau
        total += -(logits[0] - _logsumexp(logits))
    return total / len(q)


def negative_cosine(p: np.ndarray, z: np.ndarray) -> float:
    """SimSiam (arXiv 2011.10566, eq. 1): D(p, z) = -p/|p| . z/|z|, averaged over the batch."""
    return float(-(_l2n(p) * _l2n(z)).sum(1).mean())


def barlow_twins(z1: np.ndarray, z2: np.ndarray, lam: float) -> float:
    """Barlow Twins (arXiv 2103.03230, eq. 1-2, official code): standardise each view over the batch with its
    biased variance (BatchNorm1d without affine, eps 1e-5); C = z1n^T z2n / N;
    L = sum_i (1 - C_ii)^2 + lambda sum_{i != j} C_ij^2."""
    def bn(z):
        return (z - z.mean(0)) / np.sqrt(z.var(0) + 1e-5)  # numpy's var is the biased one

    c = bn(z1).T @ bn(z2) / len(z1)
    on = sum((1 - c[i, i]) ** 2 for i in range(len(c)))
    off = sum(c[i, j] ** 2 for i in range(len(c)) for j in range(len(c)) if i != j)
    return float(on + lam * off)


def vicreg(z1: np.ndarray, z2: np.ndarray, lam: float, mu: float, nu: float) -> float:
    """VICReg (arXiv 2105.04906, eq. 1-6, official code): invariance = mean squared distance per element;
    variance = mean_j max(0, 1 - sqrt(Var(z_j) + 1e-4)) per view (unbiased variance), halved and summed over
    the two views; covariance = sum of squared off-diagonal covariances / d per view, summed."""
    n, d = z1.shape
    invariance = ((z1 - z2) ** 2).mean()

    def var_term(z):
        return np.maximum(0.0, 1 - np.sqrt(z.var(0, ddof=1) + 1e-4)).mean()

    def cov_term(z):
        zc = z - z.mean(0)
        cov = zc.T @ zc / (n - 1)
        return (cov ** 2).sum() - (np.diag(cov) ** 2).sum()

    variance = var_term(z1) / 2 + var_term(z2) / 2
    covariance = cov_term(z1) / d + cov_term(z2) / d
    return float(lam * invariance + mu * variance + nu * covariance)


def _softmax(x: np.ndarray) -> np.ndarray:
    e = np.exp(x - x.max(1, keepdims=True))
    return e / e.sum(1, keepdims=True)


def dino(student: list[np.ndarray], teacher: list[np.ndarray], center: np.ndarray, tau_s: float,
         tau_t: float) -> float:
    """DINO (arXiv 2104.14294, eq. 2-3): P_t = softmax((g_t - c)/tau_t), P_s = softmax(g_s/tau_s);
    L = mean over pairs (teacher view t, student view s != t) of -sum P_t log P_s, batch-averaged."""
    total, pairs = 0.0, 0
    for ti, t in enumerate(teacher):
        pt = _softmax((t - center) / tau_t)
        for si, s in enumerate(student):
            if si == ti:
                continue
            log_ps = np.log(_softmax(s / tau_s))
            total += float(-(pt * log_ps).sum(1).mean())
            pairs += 1
    return total / pairs


def clip(image: np.ndarray, text: np.ndarray, scale: float) -> float:
    """CLIP (arXiv 2103.00020, Figure 3): logits = scale * I T^T; (CE over rows + CE over columns) / 2 with
    the matching pair as the label."""
    logits = scale * image @ text.T
    n = len(image)
    i2t = np.mean([-(logits[i, i] - _logsumexp(logits[i])) for i in range(n)])
    t2i = np.mean([-(logits[i, i] - _logsumexp(logits[:, i])) for i in range(n)])
    return float((i2t + t2i) / 2)


def parity_rows(seed: int = 0, n: int = 24, d: int = 16) -> list[tuple[str, float, float]]:
    """(loss, ssl_runtime value, formula value) on seeded float64 inputs, for the test and the benchmark table."""
    import torch

    from ssl_runtime import losses

    rng = np.random.default_rng(seed)
    a, b, p = (rng.normal(size=(n, d)) for _ in range(3))
    queue = _l2n(rng.normal(size=(40, d)))
    teacher = [rng.normal(size=(n, 32)) for _ in range(2)]
    student = [*(t + 0.5 * rng.normal(size=t.shape) for t in teacher), rng.normal(size=(n, 32))]
    center = 0.1 * rng.normal(size=(1, 32))
    image, text = _l2n(a), _l2n(b + 0.5 * a)

    def t(x):
        return torch.from_numpy(x)

    def value(x) -> float:
        return float((x["loss"] if isinstance(x, dict) else x).item())

    return [
        ("NT-Xent (SimCLR), t=0.5", value(losses.nt_xent(t(a), t(b), 0.5)), nt_xent(a, b, 0.5)),
        ("InfoNCE, batch negatives (MoCo v3), t=0.2", value(losses.info_nce(t(a), t(b), 0.2)),
         info_nce(a, b, 0.2)),
        ("InfoNCE, queue negatives (MoCo v2), t=0.2", value(losses.info_nce(t(a), t(b), 0.2, t(queue))),
         info_nce(a, b, 0.2, queue)),
        ("negative cosine (SimSiam/BYOL)", value(losses.negative_cosine(t(p), t(a))), negative_cosine(p, a)),
        ("Barlow Twins, lambda=0.0051", value(losses.barlow_twins(t(a), t(b), 0.0051)), barlow_twins(a, b, 0.0051)),
        ("VICReg, 25/25/1", value(losses.vicreg(t(a), t(b), 25.0, 25.0, 1.0)), vicreg(a, b, 25.0, 25.0, 1.0)),
        ("DINO, 2 global + 1 local, t_s=0.1 t_t=0.04",
         value(losses.dino([t(s) for s in student], [t(x) for x in teacher], t(center), 0.1, 0.04)),
         dino(student, teacher, center, 0.1, 0.04)),
        ("CLIP, scale 14.3", value(losses.clip_loss(t(image), t(text), torch.tensor(14.3, dtype=torch.float64))),
         clip(image, text, 14.3)),
    ]
