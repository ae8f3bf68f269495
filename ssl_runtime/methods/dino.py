"""DINO: self-distillation with a centred, sharpened EMA teacher and multi-crop (Caron et al. 2021, arXiv 2104.14294)."""

from __future__ import annotations

import torch
from pydantic import Field

from ssl_runtime import losses
from ssl_runtime.augment import dino_views
from ssl_runtime.distributed import mean_across_ranks
from ssl_runtime.heads import DINOHead
from ssl_runtime.methods.base import MethodArgs, MomentumMethod


class DINOArgs(MethodArgs):
    out_dim: int = Field(4096, ge=2, description="prototypes K; paper 65536, solo-learn CIFAR 4096")
    proj_hidden_dim: int = Field(2048, ge=8)
    bottleneck_dim: int = Field(256, ge=8)
    teacher_temp: float = Field(0.04, gt=0.0, le=1.0)
    warmup_teacher_temp: float = Field(0.04, gt=0.0, le=1.0)
    teacher_temp_warmup_steps: int = Field(0, ge=0)
    teacher_temp_warmup_epochs: float | None = Field(None, ge=0.0, description="the teacher's warm-up in epochs "
                                                     "instead (DINO's --warmup_teacher_temp_epochs)")
    student_temp: float = Field(0.1, gt=0.0, le=1.0)
    center_momentum: float = Field(0.9, ge=0.0, le=1.0)
    ema_momentum: float = Field(0.996, ge=0.0, le=1.0)
    freeze_last_layer_steps: int = Field(0, ge=0, description="steps at the start during which the prototypes do "
                                         "not learn (DINO's --freeze_last_layer, one epoch there)")
    freeze_last_layer_epochs: float | None = Field(None, ge=0.0, description="the same in epochs instead")
    head_batch_norm: bool | None = Field(
        None, description="BatchNorm in the head's MLP; None (auto): on for CNN backbones, as lightly's ResNet "
        "benchmarks, off for ViTs, as DINO's paper. A small CNN's features start nearly parallel, so without it "
        "the centred teacher is uniform from the first steps and the run never leaves ln K")


class DINO(MomentumMethod):
    name = "dino"
    Args = DINOArgs
    local_crops = True
    base_lr = 5e-4
    weight_decay = 0.04

    def __init__(self, backbone, args: DINOArgs, total_steps: int):
        super().__init__(backbone, args, total_steps)
        self.head_batch_norm = backbone.family == "cnn" if args.head_batch_norm is None else args.head_batch_norm
        self.head = DINOHead(backbone.dim, args.proj_hidden_dim, args.bottleneck_dim, args.out_dim,
                             self.head_batch_norm)
        self.make_teacher("head")
        self.register_buffer("center", torch.zeros(1, args.out_dim))
        self._batch_center: torch.Tensor | None = None

    @classmethod
    def args_from_weights(cls, keys: set[str]) -> dict:
        heads = [k for k in keys if k.startswith("head.mlp.")]
        return {"head_batch_norm": any(k.endswith(".running_mean") for k in heads)} if heads else {}

    def resolved_args(self) -> dict:
        return {"method_args.head_batch_norm": self.head_batch_norm}

    def view_recipes(self, image_size, augment):
        n_local = 6 if augment.n_local_crops is None else augment.n_local_crops
        return dino_views(image_size, n_local, augment.local_crop_size)

    def teacher_temp(self, step: int) -> float:
        a = self.args
        if step < a.teacher_temp_warmup_steps:
            return a.warmup_teacher_temp + (a.teacher_temp - a.warmup_teacher_temp) * step / a.teacher_temp_warmup_steps
        return a.teacher_temp

    def project(self, x):
        return self.head.bottleneck(self.backbone(x))

    def _student(self, views: list[torch.Tensor], step: int) -> list[torch.Tensor]:
        """One forward per resolution, as DINO's MultiCropWrapper does; the prototypes take no gradient while the
        last layer is frozen."""
        prototypes_learn = step >= self.args.freeze_last_layer_steps
        out: list[torch.Tensor] = []
        i = 0
        while i < len(views):
            j = i
            while j < len(views) and views[j].shape[-1] == views[i].shape[-1]:
                j += 1
            logits = self.head(self.backbone(torch.cat(views[i:j])), prototypes_learn)
            out.extend(logits.chunk(j - i))
            i = j
        return out

    def _loss(self, views, step):
        student = self._student(views, step)
        with torch.no_grad():
            teacher = list(self.teacher(torch.cat(views[:2])).chunk(2))
        terms = losses.dino(student, teacher, self.center, self.args.student_temp, self.teacher_temp(step))
        return terms, teacher

    def training_step(self, views, step):
        terms, teacher = self._loss(views, step)
        self._batch_center = torch.cat(teacher).mean(0, keepdim=True)
        return terms

    def after_step(self, step):
        super().after_step(step)  # the EMA teacher
        if self._batch_center is not None:
            m = self.args.center_momentum
            self.center.mul_(m).add_(mean_across_ranks(self._batch_center), alpha=1 - m)
            self._batch_center = None

    @torch.no_grad()
    def health_extras(self, views):
        terms, _ = self._loss(views[:2], self.total_steps)
        return {"health/teacher_entropy": terms["loss/teacher_entropy"], "health/kl": terms["loss/kl"]}
