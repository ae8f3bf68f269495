"""BYOL: online network with a predictor regresses an EMA target network (Grill et al. 2020, arXiv 2006.07733)."""

from __future__ import annotations

import torch
from pydantic import Field
from torch import nn

from ssl_runtime import losses
from ssl_runtime.augment import byol_views
from ssl_runtime.heads import mlp
from ssl_runtime.methods.base import MethodArgs, MomentumMethod


class BYOLArgs(MethodArgs):
    ema_momentum: float = Field(0.99, ge=0.0, le=1.0)  # paper 0.996 at batch 4096; solo-learn CIFAR 0.99
    predictor: bool = True
    proj_hidden_dim: int = Field(4096, ge=8)
    proj_dim: int = Field(256, ge=8)
    proj_layers: int = Field(2, ge=1, le=6, description="linear layers in the projector")
    pred_hidden_dim: int = Field(4096, ge=8)


class BYOL(MomentumMethod):
    name = "byol"
    Args = BYOLArgs

    def __init__(self, backbone, args: BYOLArgs, total_steps: int):
        super().__init__(backbone, args, total_steps)
        self.projector = mlp(backbone.dim, args.proj_hidden_dim, args.proj_dim, num_layers=args.proj_layers)
        self.predictor = mlp(args.proj_dim, args.pred_hidden_dim, args.proj_dim) if args.predictor else nn.Identity()
        self.make_teacher("projector")

    def view_recipes(self, image_size, augment):
        return byol_views(image_size)

    def training_step(self, views, step):
        p1, p2 = (self.predictor(self.project(v)) for v in views[:2])
        with torch.no_grad():
            t1, t2 = (self.teacher(v) for v in views[:2])
        cos = (losses.negative_cosine(p1, t2) + losses.negative_cosine(p2, t1)) / 2
        return {"loss": 2 + 2 * cos}
