"""SSL losses, each a plain function of embeddings. Every one cites the paper it follows."""

from __future__ import annotations

import torch
import torch.nn.functional as F

from ssl_runtime.distributed import gather_batch, rank


def nt_xent(z1: torch.Tensor, z2: torch.Tensor, temperature: float) -> torch.Tensor:
    """NT-Xent / InfoNCE over 2N views with 2N-2 negatives (SimCLR, Chen et al. 2020, arXiv 2002.05709).

    Under DDP the negatives come from every rank. An untrained or collapsed model scores about log(2N-1).
    """
    z1, z2 = F.normalize(z1, dim=-1), F.normalize(z2, dim=-1)
    local = torch.cat([z1, z2])
    g1, g2 = gather_batch(z1), gather_batch(z2)
    everyone = torch.cat([g1, g2])
    n_local, n_all = z1.shape[0], g1.shape[0]
    logits = local @ everyone.T / temperature
    offset = rank() * n_local
    rows = torch.arange(2 * n_local, device=z1.device)
    own = torch.where(rows < n_local, rows + offset, rows - n_local + offset + n_all)
    positive = torch.where(rows < n_local, rows + offset + n_all, rows - n_local + offset)
    # a mask, not logits[rows, own] = -inf: that index_put copies its -inf to the GPU and syncs at every step
    logits = logits.masked_fill(torch.arange(2 * n_all, device=z1.device) == own[:, None], float("-inf"))
    return F.cross_entropy(logits, positive)


def info_nce(q: torch.Tensor, k: torch.Tensor, temperature: float, queue: torch.Tensor | None = None) -> torch.Tensor:
    """MoCo's InfoNCE: query against its key, negatives from the batch (v3) or a queue (v2).

    He et al. 2020 (arXiv 1911.05722), Chen et al. 2021 (arXiv 2104.02057). We leave out v3's 2*tau
    scale so the loss reads on the same log(N) scale as SimCLR's.
    """
    q, k = F.normalize(q, dim=-1), F.normalize(k, dim=-1)
    if queue is None:
        keys = gather_batch(k)
        logits = q @ keys.T / temperature
        labels = torch.arange(q.shape[0], device=q.device) + rank() * q.shape[0]
    else:
        pos = (q * k).sum(-1, keepdim=True)
        logits = torch.cat([pos, q @ queue.T], dim=1) / temperature
        labels = torch.zeros(q.shape[0], dtype=torch.long, device=q.device)
    return F.cross_entropy(logits, labels)


def negative_cosine(p: torch.Tensor, z: torch.Tensor) -> torch.Tensor:
    """-cos(p, z), -1 at best (SimSiam, Chen & He 2021, arXiv 2011.10566). BYOL's 2-2cos is 2 + 2x this."""
    return -F.cosine_similarity(p, z, dim=-1).mean()


def _off_diagonal(m: torch.Tensor) -> torch.Tensor:
    n = m.shape[0]
    return m.flatten()[:-1].view(n - 1, n + 1)[:, 1:].flatten()


def barlow_twins(z1: torch.Tensor, z2: torch.Tensor, lambda_offdiag: float) -> dict[str, torch.Tensor]:
    """Cross-correlation of batch-standardised embeddings driven to identity (Zbontar et al. 2021, arXiv 2103.03230).

    As the official code (facebookresearch/barlowtwins): each view goes through BatchNorm1d without affine,
    i.e. its own batch mean and *biased* variance with eps 1e-5, over the global batch. lightly's loss
    differs: recent versions standardise both views together (one mean and variance over 2N rows), older
    ones divide by the unbiased std; on the same inputs those give slightly different values.
    """
    z1, z2 = gather_batch(z1), gather_batch(z2)
    n = z1.shape[0]
    z1 = F.batch_norm(z1, None, None, training=True, eps=1e-5)
    z2 = F.batch_norm(z2, None, None, training=True, eps=1e-5)
    c = z1.T @ z2 / n
    on = (torch.diagonal(c) - 1).pow(2).sum()
    off = _off_diagonal(c).pow(2).sum()
    return {"loss": on + lambda_offdiag * off, "loss/on_diag": on.detach(), "loss/off_diag": off.detach()}


def vicreg(z1: torch.Tensor, z2: torch.Tensor, lambda_: float, mu: float, nu: float) -> dict[str, torch.Tensor]:
    """Variance-invariance-covariance (Bardes et al. 2022, arXiv 2105.04906), terms as in facebookresearch/vicreg."""
    invariance = F.mse_loss(z1, z2)
    z1, z2 = gather_batch(z1), gather_batch(z2)
    n, d = z1.shape
    z1, z2 = z1 - z1.mean(0), z2 - z2.mean(0)
    std1, std2 = torch.sqrt(z1.var(0) + 1e-4), torch.sqrt(z2.var(0) + 1e-4)
    variance = F.relu(1 - std1).mean() / 2 + F.relu(1 - std2).mean() / 2
    cov1, cov2 = z1.T @ z1 / (n - 1), z2.T @ z2 / (n - 1)
    covariance = _off_diagonal(cov1).pow(2).sum() / d + _off_diagonal(cov2).pow(2).sum() / d
    loss = lambda_ * invariance + mu * variance + nu * covariance
    return {"loss": loss, "loss/invariance": invariance.detach(), "loss/variance": variance.detach(),
            "loss/covariance": covariance.detach()}


def dino(student: list[torch.Tensor], teacher: list[torch.Tensor], center: torch.Tensor,
         student_temp: float, teacher_temp: float) -> dict[str, torch.Tensor]:
    """Cross-entropy from the centred, sharpened teacher to the student over all view pairs (DINO, arXiv 2104.14294).

    CE(P_t, P_s) = H(P_t) + KL(P_t || P_s): both terms are returned, since a uniform collapse shows as
    H(P_t) near log K with KL near 0 and a one-prototype collapse as both near 0.
    """
    t_probs = [F.softmax((t - center) / teacher_temp, dim=-1).detach() for t in teacher]
    s_logp = [F.log_softmax(s / student_temp, dim=-1) for s in student]
    total, entropy, pairs = 0.0, 0.0, 0
    for ti, pt in enumerate(t_probs):
        h = -(pt * torch.log(pt.clamp_min(1e-12))).sum(-1).mean()
        for si, ls in enumerate(s_logp):
            if si == ti:
                continue
            total = total + (-(pt * ls).sum(-1).mean())
            entropy = entropy + h
            pairs += 1
    loss = total / pairs
    ent = entropy / pairs
    return {"loss": loss, "loss/teacher_entropy": ent.detach(), "loss/kl": (loss - ent).detach()}


def clip_loss(image: torch.Tensor, text: torch.Tensor, logit_scale: torch.Tensor) -> dict[str, torch.Tensor]:
    """Symmetric InfoNCE over image-text pairs with a learned temperature (CLIP, Radford et al. 2021,
    arXiv 2103.00020). Inputs are L2-normalised; negatives come from every rank under DDP. At chance the
    loss is log(global batch)."""
    all_image, all_text = gather_batch(image), gather_batch(text)
    labels = torch.arange(image.shape[0], device=image.device) + rank() * image.shape[0]
    i2t = F.cross_entropy(logit_scale * image @ all_text.T, labels)
    t2i = F.cross_entropy(logit_scale * text @ all_image.T, labels)
    return {"loss": (i2t + t2i) / 2, "loss/image_to_text": i2t.detach(), "loss/text_to_image": t2i.detach()}
