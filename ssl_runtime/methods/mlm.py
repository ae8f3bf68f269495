"""Masked language modelling (Devlin et al. 2019, BERT, arXiv:1810.04805): 15% of tokens are chosen; of
those 80% become [MASK], 10% a random token, 10% stay, and the model predicts the originals. The masking is
transformers' DataCollatorForLanguageModeling, applied per batch in tasks/text.py."""

from __future__ import annotations

from pydantic import Field

from ssl_runtime.methods.language import LanguageModelMethod, LMArgs


class MLMArgs(LMArgs):
    mlm_probability: float = Field(0.15, gt=0.0, lt=1.0, description="share of tokens chosen for prediction")


class MLM(LanguageModelMethod):
    name = "mlm"
    Args = MLMArgs
