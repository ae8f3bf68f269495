"""Barlow Twins: make the views' cross-correlation matrix the identity (Zbontar et al. 2021, arXiv 2103.03230)."""

from __future__ import annotations

from pydantic import Field

from ssl_runtime import losses
from ssl_runtime.heads import mlp
from ssl_runtime.methods.base import MethodArgs, SSLMethod


class BarlowTwinsArgs(MethodArgs):
    lambda_offdiag: float = Field(0.0051, ge=0.0)
    proj_hidden_dim: int = Field(2048, ge=8)  # paper 8192 on ImageNet; solo-learn CIFAR 2048
    proj_dim: int = Field(2048, ge=8)
    proj_layers: int = Field(3, ge=1, le=6, description="linear layers in the projector")


class BarlowTwins(SSLMethod):
    name = "barlow_twins"
    Args = BarlowTwinsArgs

    def __init__(self, backbone, args: BarlowTwinsArgs, total_steps: int):
        super().__init__(backbone, args, total_steps)
        self.projector = mlp(backbone.dim, args.proj_hidden_dim, args.proj_dim, num_layers=args.proj_layers)

    def training_step(self, views, step):
        z1, z2 = (self.project(v) for v in views[:2])
        return losses.barlow_twins(z1, z2, self.args.lambda_offdiag)
