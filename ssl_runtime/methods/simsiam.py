"""SimSiam: a predictor and a stop-gradient, no negatives, no EMA (Chen & He 2021, arXiv 2011.10566).

Turning off `predictor` or `stop_gradient` is the paper's own collapse experiment.
"""

from __future__ import annotations

from pydantic import Field
from torch import nn

from ssl_runtime import losses
from ssl_runtime.heads import mlp
from ssl_runtime.methods.base import MethodArgs, SSLMethod


class SimSiamArgs(MethodArgs):
    predictor: bool = True
    stop_gradient: bool = True
    proj_hidden_dim: int = Field(2048, ge=8)
    proj_dim: int = Field(2048, ge=8)
    proj_layers: int = Field(3, ge=1, le=6, description="linear layers in the projector")
    pred_hidden_dim: int = Field(512, ge=8)


class SimSiam(SSLMethod):
    name = "simsiam"
    Args = SimSiamArgs
    base_lr = 2e-3

    def __init__(self, backbone, args: SimSiamArgs, total_steps: int):
        super().__init__(backbone, args, total_steps)
        self.projector = mlp(backbone.dim, args.proj_hidden_dim, args.proj_dim, num_layers=args.proj_layers, last_bn=True)
        self.predictor = mlp(args.proj_dim, args.pred_hidden_dim, args.proj_dim) if args.predictor else nn.Identity()

    def training_step(self, views, step):
        z1, z2 = (self.project(v) for v in views[:2])
        p1, p2 = self.predictor(z1), self.predictor(z2)
        if self.args.stop_gradient:
            z1, z2 = z1.detach(), z2.detach()
        return {"loss": (losses.negative_cosine(p1, z2) + losses.negative_cosine(p2, z1)) / 2}
