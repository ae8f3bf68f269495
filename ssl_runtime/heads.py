"""Projection, prediction and DINO heads shared by every method."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


def mlp(in_dim: int, hidden_dim: int, out_dim: int, num_layers: int = 2, batch_norm: bool = True,
        last_bn: bool = False, activation: type[nn.Module] = nn.ReLU) -> nn.Sequential:
    """Linear-BN-act blocks then a final Linear (optionally BN without affine, as SimSiam's projector)."""
    layers: list[nn.Module] = []
    dim = in_dim
    for _ in range(num_layers - 1):
        layers.append(nn.Linear(dim, hidden_dim, bias=not batch_norm))
        if batch_norm:
            layers.append(nn.BatchNorm1d(hidden_dim))
        layers.append(activation())
        dim = hidden_dim
    layers.append(nn.Linear(dim, out_dim, bias=not last_bn))
    if last_bn:
        layers.append(nn.BatchNorm1d(out_dim, affine=False))
    return nn.Sequential(*layers)


class DINOHead(nn.Module):
    """3-layer GELU MLP (BatchNorm optional) -> L2-normalised bottleneck -> weight-normalised prototypes
    (Caron et al. 2021; DINO's `use_bn_in_head`).

    The prototype weights are normalised at every forward, i.e. weight norm with g fixed to 1
    (DINO's `norm_last_layer=True`).
    """

    def __init__(self, in_dim: int, hidden_dim: int = 2048, bottleneck_dim: int = 256, out_dim: int = 4096,
                 batch_norm: bool = False):
        super().__init__()
        self.mlp = mlp(in_dim, hidden_dim, bottleneck_dim, num_layers=3, batch_norm=batch_norm, activation=nn.GELU)
        self.prototypes = nn.Linear(bottleneck_dim, out_dim, bias=False)
        nn.init.trunc_normal_(self.prototypes.weight, std=0.02)

    def bottleneck(self, x: torch.Tensor) -> torch.Tensor:
        return F.normalize(self.mlp(x), dim=-1)

    def forward(self, x: torch.Tensor, prototypes_learn: bool = True) -> torch.Tensor:
        """Logits against the prototypes. Frozen (`prototypes_learn=False`), they still take a gradient, of zeros,
        so that every rank's DDP reduction sees the same parameters and AdamW's moments stay at zero."""
        weight = F.normalize(self.prototypes.weight, dim=-1)
        if not prototypes_learn:
            weight = weight.detach() + 0.0 * weight
        return F.linear(self.bottleneck(x), weight)
