"""CLIP evaluation on held-out pairs: image->text and text->image recall@1/5/10, against chance.

Identical captions (two "a red circle in the middle") are all correct answers, so a hit is any retrieved
caption (or image) whose caption equals the query's; chance is computed the same way.
"""

from __future__ import annotations

import math
from pathlib import Path

import torch
import torch.nn.functional as F

from ssl_runtime.backbones import Backbone, family_of

KS = (1, 5, 10)


def load_towers(encoder_dir: Path, device: torch.device):
    """(image encoder fn, text encoder fn) from encoder/image, encoder/text and clip_head.pt."""
    from transformers import AutoModel, AutoTokenizer

    import ssl_runtime.backbones.hf_models  # noqa: F401 - registers the custom image models
    from ssl_runtime.text import mean_pool

    image_model = AutoModel.from_pretrained(encoder_dir / "image")
    image = Backbone(image_model, family_of(image_model)).eval().to(device)
    text = AutoModel.from_pretrained(encoder_dir / "text").eval().to(device)
    tokenizer = AutoTokenizer.from_pretrained(encoder_dir / "text")
    head = torch.load(encoder_dir / "clip_head.pt", map_location=device)
    image_proj = torch.nn.Linear(image.dim, head["image_proj"]["weight"].shape[0], bias=False).to(device)
    image_proj.load_state_dict(head["image_proj"])
    text_proj = torch.nn.Linear(text.config.hidden_size, head["text_proj"]["weight"].shape[0], bias=False).to(device)
    text_proj.load_state_dict(head["text_proj"])

    @torch.no_grad()
    def encode_images(x: torch.Tensor) -> torch.Tensor:
        return F.normalize(image_proj(image(x)), dim=-1)

    @torch.no_grad()
    def encode_texts(captions: list[str]) -> torch.Tensor:
        enc = tokenizer(captions, padding="max_length", truncation=True, max_length=head["max_length"],
                        return_tensors="pt").to(device)
        hidden = text(input_ids=enc["input_ids"], attention_mask=enc["attention_mask"]).last_hidden_state
        return F.normalize(text_proj(mean_pool(hidden, enc["attention_mask"])), dim=-1)

    return image, encode_images, encode_texts


def recall_at_k(sims: torch.Tensor, same: torch.Tensor, ks=KS) -> dict[int, float]:
    """sims[q, c]: query-candidate similarity; same[q, c]: c is a correct answer for q."""
    order = sims.topk(max(ks), dim=1).indices
    hits = same.gather(1, order)
    return {k: float(hits[:, :k].any(1).float().mean()) for k in ks}


def chance_recall(same: torch.Tensor, ks=KS) -> dict[int, float]:
    """Expected recall@k of a random ranking: 1 - C(N-m, k) / C(N, k) per query, averaged."""
    n = same.shape[1]
    m = same.sum(1).tolist()
    out = {}
    for k in ks:
        vals = [1.0 - (math.comb(n - mi, k) / math.comb(n, k) if n - mi >= k else 0.0) for mi in m]
        out[k] = sum(vals) / len(vals)
    return out


def retrieval_eval(encode_images, encode_texts, images: torch.Tensor, captions: list[str]) -> dict:
    zi = torch.cat([encode_images(chunk) for chunk in images.split(256)])
    zt = torch.cat([encode_texts(captions[i:i + 256]) for i in range(0, len(captions), 256)])
    ids = {c: i for i, c in enumerate(dict.fromkeys(captions))}
    cid = torch.tensor([ids[c] for c in captions], device=zi.device)
    same = cid[:, None] == cid[None, :]
    sims = zi @ zt.T
    i2t, t2i, chance = recall_at_k(sims, same), recall_at_k(sims.T, same), chance_recall(same)
    out = {}
    for k in KS:
        out[f"clip/i2t_recall@{k}"] = i2t[k]
        out[f"clip/t2i_recall@{k}"] = t2i[k]
        out[f"clip/chance_recall@{k}"] = chance[k]
    return out
