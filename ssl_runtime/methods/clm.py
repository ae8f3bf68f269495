"""Causal (next-token) language modelling (Radford et al. 2019, GPT-2): predict each token from the ones
before it; the labels are the inputs, shifted inside the transformers model."""

from __future__ import annotations

from ssl_runtime.methods.language import LanguageModelMethod, LMArgs


class CLM(LanguageModelMethod):
    name = "clm"
    Args = LMArgs
