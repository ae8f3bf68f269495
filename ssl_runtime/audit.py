"""Measuring any encoder on held-out images: the health metrics, kNN and a linear probe, plus the same
architecture at random initialisation as the baseline. The torch half of `sslpilot audit`."""

from __future__ import annotations

import torch

from ssl_runtime.augment import ViewPipeline, simclr_views
from ssl_runtime.encoders import Encoder
from ssl_runtime.health import alpha_req, lidar, rankme, std_of_l2_normalized, uniformity
from ssl_runtime.probe import evaluate_features

IMAGENET = {"mean": [0.485, 0.456, 0.406], "std": [0.229, 0.224, 0.225]}


@torch.no_grad()
def embed(encoder: Encoder, images_uint8: torch.Tensor, device: torch.device, module=None,
          batch_size: int = 256) -> torch.Tensor:
    pre = encoder.preprocess or IMAGENET
    mean = torch.tensor(pre["mean"], device=device).view(1, -1, 1, 1)
    std = torch.tensor(pre["std"], device=device).view(1, -1, 1, 1)
    model = (module or encoder.module).to(device).eval()
    out = []
    for chunk in images_uint8.split(batch_size):
        x = (chunk.to(device).float() / 255.0 - mean) / std
        out.append(encoder.features(x, model).float())
    return torch.cat(out)


def health_of(features: torch.Tensor) -> dict[str, float]:
    """The same numbers the trainer logs on its health batch (ssl_runtime/health.py), on these features."""
    return {"health/std": float(std_of_l2_normalized(features)), "health/rank": float(rankme(features)),
            "health/uniformity": float(uniformity(features)), "health/alpha_req": float(alpha_req(features))}


@torch.no_grad()
def view_lidar(encoder: Encoder, images_uint8: torch.Tensor, device: torch.device, views: int = 4,
               seed: int = 12345, batch_size: int = 256) -> float:
    """LiDAR of the encoder's features over `views` augmented views of each image (SimCLR's two recipes, drawn in
    turn, at a fixed seed so checkpoints are compared on the same views). An audited checkpoint has no training
    pipeline of its own, so the views are the standard ones."""
    pre = encoder.preprocess or IMAGENET
    pipeline = ViewPipeline(simclr_views(images_uint8.shape[-1]), 1.0, torch.tensor(pre["mean"]),
                            torch.tensor(pre["std"])).to(device)
    model = encoder.module.to(device).eval()
    per_view: list[list[torch.Tensor]] = [[] for _ in range(views)]
    devices = [device] if device.type == "cuda" else []
    with torch.random.fork_rng(devices=devices):
        torch.manual_seed(seed)
        for chunk in images_uint8.split(batch_size):
            for v in range(0, views, 2):
                for k, x in enumerate(pipeline(chunk.to(device))[: views - v]):
                    per_view[v + k].append(encoder.features(x, model).float())
    return float(lidar([torch.cat(f) for f in per_view]))


def measure(encoder: Encoder, images: torch.Tensor, labels: torch.Tensor | None, train_rows: torch.Tensor,
            val_rows: torch.Tensor, device: torch.device, health_samples: int, baseline: bool) -> dict:
    """Health on up to `health_samples` held-out images (LiDAR over their augmented views); kNN and linear probe
    when there are labels."""
    feats = embed(encoder, images, device)
    held_out = val_rows[:health_samples] if len(val_rows) >= 16 else torch.arange(min(len(feats), health_samples))
    out: dict = {"embedding_dim": int(feats.shape[1]), "health_samples": int(len(held_out)),
                 **health_of(feats[held_out]), "health/lidar": view_lidar(encoder, images[held_out], device)}
    if labels is not None:
        y = labels.to(device)
        out.update(evaluate_features(feats[train_rows], y[train_rows], feats[val_rows], y[val_rows]))
        if baseline and encoder.random_init is not None:
            base = embed(encoder, images, device, module=encoder.random_init())
            out["baseline"] = evaluate_features(base[train_rows], y[train_rows], base[val_rows], y[val_rows])
    return out
