"""SimCLR: two augmented views, a projector, NT-Xent with in-batch negatives (Chen et al. 2020, arXiv 2002.05709)."""

from __future__ import annotations

from pydantic import Field

from ssl_runtime import losses
from ssl_runtime.heads import mlp
from ssl_runtime.methods.base import MethodArgs, SSLMethod


class SimCLRArgs(MethodArgs):
    temperature: float = Field(0.2, gt=0.0, le=10.0)  # solo-learn CIFAR config; lightly uses 0.5
    proj_hidden_dim: int = Field(2048, ge=8)
    proj_dim: int = Field(256, ge=8)
    proj_layers: int = Field(2, ge=1, le=6, description="linear layers in the projector")


class SimCLR(SSLMethod):
    name = "simclr"
    Args = SimCLRArgs

    def __init__(self, backbone, args: SimCLRArgs, total_steps: int):
        super().__init__(backbone, args, total_steps)
        self.projector = mlp(backbone.dim, args.proj_hidden_dim, args.proj_dim, num_layers=args.proj_layers)

    def training_step(self, views, step):
        z1, z2 = (self.project(v) for v in views[:2])
        return {"loss": losses.nt_xent(z1, z2, self.args.temperature)}
