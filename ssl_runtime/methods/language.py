"""Shared parts of the language-model methods (mlm, clm): the model, its knobs, one loss per batch."""

from __future__ import annotations

from typing import ClassVar

import torch
from pydantic import Field
from torch import nn

from ssl_runtime.methods.base import MethodArgs


class LMArgs(MethodArgs):
    block_size: int = Field(128, ge=8, le=8192, description="tokens per packed training block")
    vocab_size: int = Field(8000, ge=100, le=250_000, description="tokenizer size when trained from scratch")
    hidden_size: int = Field(256, ge=16, le=4096, description="model width when built from scratch")
    num_layers: int = Field(4, ge=1, le=48)
    num_heads: int = Field(4, ge=1, le=64)
    dropout: float = Field(0.1, ge=0.0, lt=1.0, description="dropout of a model built from scratch (BERT/GPT-2: 0.1)")


class LanguageModelMethod(nn.Module):
    """A transformers LM trained on packed blocks; `project` gives mean-pooled sentence embeddings."""

    name: ClassVar[str]
    Args: ClassVar[type[LMArgs]] = LMArgs
    base_lr: ClassVar[float] = 5e-4  # AdamW peak lr per 256 blocks, from scratch; continued: see tasks/text.py
    weight_decay: ClassVar[float] = 0.01
    teacher_student: ClassVar[bool] = False

    def __init__(self, model: nn.Module, args: LMArgs):
        super().__init__()
        self.model = model
        self.args = args

    def forward(self, batch: dict[str, torch.Tensor], step: int) -> dict[str, torch.Tensor]:
        return self.training_step(batch, step)

    def training_step(self, batch: dict[str, torch.Tensor], step: int) -> dict[str, torch.Tensor]:
        return {"loss": self.model(**batch).loss}

    def after_step(self, step: int) -> None:
        pass

    @torch.no_grad()
    def project(self, input_ids: torch.Tensor) -> torch.Tensor:
        from ssl_runtime.text import mean_pool

        out = self.model(input_ids=input_ids, output_hidden_states=True)
        return mean_pool(out.hidden_states[-1], None)

    def trainable_parameters(self) -> list[nn.Parameter]:
        return [p for p in self.parameters() if p.requires_grad]
