"""MoCo: a momentum key encoder. v3 style (predictor, in-batch keys) by default; v2 with a queue when queue_size > 0.

He et al. 2020 (arXiv 1911.05722), Chen et al. 2020 (arXiv 2003.04297), Chen, Xie & He 2021 (arXiv 2104.02057).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from pydantic import Field
from torch import nn

from ssl_runtime import losses
from ssl_runtime.distributed import gather_batch
from ssl_runtime.heads import mlp
from ssl_runtime.methods.base import MethodArgs, MomentumMethod


class MoCoArgs(MethodArgs):
    temperature: float = Field(0.2, gt=0.0, le=10.0)
    ema_momentum: float = Field(0.99, ge=0.0, le=1.0)  # solo-learn CIFAR mocov3; v2 paper uses 0.999
    queue_size: int = Field(0, ge=0, description="0 = MoCo v3 (in-batch keys); > 0 = MoCo v2 queue")
    predictor: bool = True
    proj_hidden_dim: int = Field(4096, ge=8)
    proj_dim: int = Field(256, ge=8)
    proj_layers: int = Field(2, ge=1, le=6, description="linear layers in the projector")
    pred_hidden_dim: int = Field(4096, ge=8)


class MoCo(MomentumMethod):
    name = "moco"
    Args = MoCoArgs

    def __init__(self, backbone, args: MoCoArgs, total_steps: int):
        super().__init__(backbone, args, total_steps)
        self.projector = mlp(backbone.dim, args.proj_hidden_dim, args.proj_dim, num_layers=args.proj_layers)
        use_pred = args.predictor and args.queue_size == 0
        self.predictor = mlp(args.proj_dim, args.pred_hidden_dim, args.proj_dim) if use_pred else nn.Identity()
        self.make_teacher("projector")
        queue = F.normalize(torch.randn(args.queue_size, args.proj_dim), dim=1) if args.queue_size else torch.empty(0)
        self.register_buffer("queue", queue)
        self.register_buffer("queue_ptr", torch.zeros((), dtype=torch.long))

    def training_step(self, views, step):
        q1, q2 = (self.predictor(self.project(v)) for v in views[:2])
        with torch.no_grad():
            k1, k2 = (self.teacher(v) for v in views[:2])
        queue = self.queue.clone() if self.args.queue_size else None
        loss = (losses.info_nce(q1, k2, self.args.temperature, queue)
                + losses.info_nce(q2, k1, self.args.temperature, queue)) / 2
        if self.args.queue_size:
            self._enqueue(F.normalize(torch.cat([k1, k2]), dim=1))
        return {"loss": loss}

    @torch.no_grad()
    def _enqueue(self, keys: torch.Tensor) -> None:
        """Ring buffer without a host sync: the pointer stays on the device."""
        keys = gather_batch(keys)
        n = keys.shape[0]
        idx = (self.queue_ptr + torch.arange(n, device=keys.device)) % self.queue.shape[0]
        self.queue[idx] = keys.to(self.queue.dtype)
        self.queue_ptr.copy_((self.queue_ptr + n) % self.queue.shape[0])
