"""VICReg: invariance + variance + covariance regularisation (Bardes, Ponce & LeCun 2022, arXiv 2105.04906)."""

from __future__ import annotations

from pydantic import Field

from ssl_runtime import losses
from ssl_runtime.heads import mlp
from ssl_runtime.methods.base import MethodArgs, SSLMethod


class VICRegArgs(MethodArgs):
    lambda_: float = Field(25.0, ge=0.0, description="invariance weight")
    mu: float = Field(25.0, ge=0.0, description="variance weight")
    nu: float = Field(1.0, ge=0.0, description="covariance weight")
    proj_hidden_dim: int = Field(2048, ge=8)  # paper 8192 on ImageNet; solo-learn CIFAR 2048
    proj_dim: int = Field(2048, ge=8)
    proj_layers: int = Field(3, ge=1, le=6, description="linear layers in the projector")


class VICReg(SSLMethod):
    name = "vicreg"
    Args = VICRegArgs

    def __init__(self, backbone, args: VICRegArgs, total_steps: int):
        super().__init__(backbone, args, total_steps)
        self.projector = mlp(backbone.dim, args.proj_hidden_dim, args.proj_dim, num_layers=args.proj_layers)

    def training_step(self, views, step):
        z1, z2 = (self.project(v) for v in views[:2])
        return losses.vicreg(z1, z2, self.args.lambda_, self.args.mu, self.args.nu)
