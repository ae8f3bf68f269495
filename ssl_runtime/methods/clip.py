"""CLIP-style image-text alignment (Radford et al. 2021, arXiv 2103.00020): an image tower (the runtime's
backbones) and a text tower (a small BERT, or any transformers encoder by path), linear projections to a
shared space, and a symmetric InfoNCE with a learned temperature whose logit scale is clamped at 100."""

from __future__ import annotations

import math
from typing import ClassVar

import torch
import torch.nn.functional as F
from pydantic import Field
from torch import nn

from ssl_runtime.backbones import Backbone
from ssl_runtime.losses import clip_loss
from ssl_runtime.methods.base import MethodArgs
from ssl_runtime.text import mean_pool


class CLIPArgs(MethodArgs):
    embed_dim: int = Field(128, ge=8, le=4096, description="shared embedding size")
    temperature: float = Field(0.07, gt=0.0, le=1.0, description="initial temperature (logit scale 1/T)")
    learn_temperature: bool = True
    max_logit_scale: float = Field(100.0, gt=1.0, description="clamp on exp(logit_scale), as in the paper")
    text_model: str | None = Field(None, description="local path or hub id of a text encoder (from_pretrained)")
    max_length: int = Field(32, ge=4, le=512, description="caption tokens")
    vocab_size: int = Field(2000, ge=100, le=250_000, description="caption tokenizer size when trained")
    text_hidden_size: int = Field(128, ge=16, le=4096)
    text_layers: int = Field(2, ge=1, le=48)
    text_heads: int = Field(2, ge=1, le=64)
    dropout: float = Field(0.1, ge=0.0, lt=1.0, description="dropout of a text tower built from scratch")


class CLIP(nn.Module):
    name: ClassVar[str] = "clip"
    Args: ClassVar[type[CLIPArgs]] = CLIPArgs
    base_lr: ClassVar[float] = 1e-3
    weight_decay: ClassVar[float] = 0.1
    teacher_student: ClassVar[bool] = False

    def __init__(self, backbone: Backbone, text_model: nn.Module, args: CLIPArgs):
        super().__init__()
        self.backbone = backbone
        self.text = text_model
        self.args = args
        self.image_proj = nn.Linear(backbone.dim, args.embed_dim, bias=False)
        self.text_proj = nn.Linear(text_model.config.hidden_size, args.embed_dim, bias=False)
        self.logit_scale = nn.Parameter(torch.tensor(math.log(1 / args.temperature)),
                                        requires_grad=args.learn_temperature)

    def encode_image(self, images: torch.Tensor) -> torch.Tensor:
        return F.normalize(self.image_proj(self.backbone(images)), dim=-1)

    def encode_text(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        hidden = self.text(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state
        return F.normalize(self.text_proj(mean_pool(hidden, attention_mask)), dim=-1)

    def forward(self, batch: dict[str, torch.Tensor], step: int) -> dict[str, torch.Tensor]:
        return self.training_step(batch, step)

    def training_step(self, batch: dict[str, torch.Tensor], step: int) -> dict[str, torch.Tensor]:
        zi = self.encode_image(batch["images"])
        zt = self.encode_text(batch["input_ids"], batch["attention_mask"])
        out = clip_loss(zi.float(), zt.float(), self.logit_scale.exp())
        out["logit_scale"] = self.logit_scale.detach().exp()
        return out

    @torch.no_grad()
    def after_step(self, step: int) -> None:
        self.logit_scale.clamp_(0, math.log(self.args.max_logit_scale))

    def trainable_parameters(self) -> list[nn.Parameter]:
        return [p for p in self.parameters() if p.requires_grad]
