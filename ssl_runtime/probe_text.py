"""Frozen text features for the probe: mean-pooled last hidden states of the exported encoder."""

from __future__ import annotations

from pathlib import Path

import torch

from ssl_runtime.text import mean_pool


@torch.no_grad()
def text_features(encoder_dir: Path, texts: list[str], device: torch.device, random_init: bool = False,
                  max_length: int = 128, batch_size: int = 64) -> torch.Tensor:
    from transformers import AutoConfig, AutoModel, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(encoder_dir)
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    if random_init:
        torch.manual_seed(0)
        model = AutoModel.from_config(AutoConfig.from_pretrained(encoder_dir))
    else:
        model = AutoModel.from_pretrained(encoder_dir)
    model = model.eval().to(device)
    feats = []
    for start in range(0, len(texts), batch_size):
        enc = tokenizer(texts[start:start + batch_size], padding=True, truncation=True, max_length=max_length,
                        return_tensors="pt").to(device)
        hidden = model(input_ids=enc["input_ids"], attention_mask=enc["attention_mask"]).last_hidden_state
        feats.append(mean_pool(hidden, enc["attention_mask"]).float())
    return torch.cat(feats)
