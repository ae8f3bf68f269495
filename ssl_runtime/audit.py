"""Measuring any encoder on held-out images: the health metrics, kNN and a linear probe, plus the same
architecture at random initialisation as the baseline. The torch half of `sslpilot audit`."""

from __future__ import annotations

import torch

from ssl_runtime.augment import ViewPipeline, simclr_views
from ssl_runtime.encoders import Encoder
from ssl_runtime.health import (
    alpha_req,
    cluster_consistency,
    lidar,
    rankme,
    std_of_l2_normalized,
    uniformity,
    view_retrieval,
)
from ssl_runtime.probe import evaluate_features, with_gain_se

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
def view_features(encoder: Encoder, images_uint8: torch.Tensor, device: torch.device, views: int = 4,
                  seed: int = 12345, batch_size: int = 256, module=None) -> list[torch.Tensor]:
    """The encoder's features of `views` augmented views of each image (SimCLR's two recipes, drawn in turn, at a
    fixed seed, so runs and checkpoints are compared on the same views). An audited checkpoint has no training
    pipeline of its own, and runs of a sweep may train at different strengths, so the views are the standard ones."""
    pre = encoder.preprocess or IMAGENET
    pipeline = ViewPipeline(simclr_views(images_uint8.shape[-1]), 1.0, torch.tensor(pre["mean"]),
                            torch.tensor(pre["std"])).to(device)
    model = (module or encoder.module).to(device).eval()
    per_view: list[list[torch.Tensor]] = [[] for _ in range(views)]
    devices = [device] if device.type == "cuda" else []
    with torch.random.fork_rng(devices=devices):
        torch.manual_seed(seed)
        for chunk in images_uint8.split(batch_size):
            for v in range(0, views, 2):
                for k, x in enumerate(pipeline(chunk.to(device))[: views - v]):
                    per_view[v + k].append(encoder.features(x, model).float())
    return [torch.cat(f) for f in per_view]


def view_health(encoder: Encoder, images_uint8: torch.Tensor, device: torch.device, views: int = 4) -> dict:
    """LiDAR and view retrieval over the same augmented views of each image."""
    return health_of_views(view_features(encoder, images_uint8, device, views))


def health_of_views(feats: list[torch.Tensor]) -> dict:
    return {"health/lidar": float(lidar(feats)), "health/view_retrieval": float(view_retrieval(feats))}


def measure(encoder: Encoder, images: torch.Tensor, labels: torch.Tensor | None, train_rows: torch.Tensor,
            val_rows: torch.Tensor, device: torch.device, health_samples: int, baseline: bool) -> dict:
    """Health on up to `health_samples` held-out images (LiDAR over their augmented views); kNN and linear probe
    when there are labels."""
    from ssl_runtime.data import measured_sample

    feats = embed(encoder, images, device)
    held_out = measured_sample(val_rows if len(val_rows) >= 16 else torch.arange(len(feats)), health_samples, 0)
    out: dict = {"embedding_dim": int(feats.shape[1]), "health_samples": int(len(held_out)),
                 **health_of(feats[held_out]), **view_health(encoder, images[held_out], device)}
    if labels is not None:
        y = labels.to(device)
        out.update(evaluate_features(feats[train_rows], y[train_rows], feats[val_rows], y[val_rows]))
        if baseline and encoder.random_init is not None:
            base = embed(encoder, images, device, module=encoder.random_init())
            out["baseline"] = evaluate_features(base[train_rows], y[train_rows], base[val_rows], y[val_rows])
        with_gain_se(out)
    return out


def _kept_checkpoint_preprocess(folder) -> dict:
    """How a run's kept checkpoints read images: written beside them when the run starts, else by its export."""
    import json

    kept = folder.checkpoint_preprocess
    return json.loads((kept if kept.exists() else folder.encoder / "preprocess.json").read_text())


def _run_encoder_images(run_dir, images: int, checkpoint=None):
    """A finished run's exported encoder, or one of its kept checkpoints (`checkpoint`: a step_<n>.pt, read with the
    run's preprocessing), and up to `images` of its own held-out images (the split its probe scores; its training
    images when it has none), as uint8."""
    from ssl_runtime.configure import load_run_config
    from ssl_runtime.data import eval_images, measured_sample, open_store, split_ids
    from ssl_runtime.encoders import load_encoder
    from ssl_runtime.run_folder import RunFolder

    folder = RunFolder(run_dir)
    cfg = load_run_config(folder.config)
    if checkpoint is None:
        encoder = load_encoder(folder.encoder)
    else:
        encoder = load_encoder(checkpoint)
        encoder.preprocess = _kept_checkpoint_preprocess(folder)
    size = encoder.preprocess["image_size"]
    store = open_store(cfg.data, size, run_dir=folder.path)
    train_ids, val_ids = split_ids(store, cfg.data, cfg.train.seed)
    ids = measured_sample(val_ids if len(val_ids) >= 16 else train_ids, images, cfg.train.seed)
    return encoder, eval_images(store, ids, size)


def run_view_features(run_dir, images: int = 256, views: int = 4, device: str = "cpu",
                      checkpoint=None, random_init: bool = False) -> list[torch.Tensor]:
    """view_features of a finished run's exported encoder, or of one of its kept checkpoints, or of the same
    architecture at random init (the probe's baseline), on up to `images` of its own held-out images."""
    from ssl_runtime.device import pick_device

    encoder, imgs = _run_encoder_images(run_dir, images, checkpoint)
    module = encoder.random_init() if random_init else None
    return view_features(encoder, imgs, pick_device(device), views, module=module)


def run_view_health(run_dir, images: int = 256, views: int = 4, device: str = "cpu", checkpoint=None,
                    random_init: bool = False) -> dict:
    """LiDAR, view retrieval and cluster consistency of a run's exported encoder, kept checkpoint or random init, on
    the same augmented views of its held-out images (and those images unaugmented): how `sslpilot rank` measures
    runs and checkpoints."""
    from ssl_runtime.device import pick_device

    encoder, imgs = _run_encoder_images(run_dir, images, checkpoint)
    module, dev = (encoder.random_init() if random_init else None), pick_device(device)
    feats = view_features(encoder, imgs, dev, views, module=module)
    return {**health_of_views(feats),
            "health/cluster_consistency": cluster_consistency(embed(encoder, imgs, dev, module=module), feats)}


def probe_kept_checkpoints(run_dir, device: str = "auto") -> list[dict]:
    """The linear probe of each kept checkpoint (step_<n>.pt) of a run on its own labelled data and split, as
    `measure` scores it (up to eval.max_images images, the split kept): [{"step", "probe/acc"}], oldest first. Kept
    in the run folder (checkpoint_probes.jsonl) so a checkpoint is probed once. Why: where labels exist, the probe's
    curve over the run is what a forecast of "train longer?" should read (tools/diagnosis/forecast.py)."""
    import json

    from ssl_runtime.configure import load_run_config
    from ssl_runtime.data import capped, eval_images, open_store, split_ids
    from ssl_runtime.device import pick_device
    from ssl_runtime.encoders import load_encoder
    from ssl_runtime.errors import DataError
    from ssl_runtime.run_folder import RunFolder, read_jsonl

    folder = RunFolder(run_dir)
    kept = folder.kept_checkpoints()
    done = {r["step"]: r for r in read_jsonl(folder.checkpoint_probes) if isinstance(r.get("probe/acc"), float)}
    todo = [(step, path) for step, path in kept if step not in done]
    if todo:
        cfg = load_run_config(folder.config)
        preprocess = _kept_checkpoint_preprocess(folder)
        size = preprocess["image_size"]
        store = open_store(cfg.data, size, run_dir=folder.path)
        if store.labels is None:
            raise DataError(f"run {folder.run_id}'s data has no labels to probe its checkpoints with", field="probe",
                            fix="forecast without --probe (label-free LiDAR), or give the data labels "
                                "(class subfolders or data.labels_path)")
        train_ids, val_ids = split_ids(store, cfg.data, cfg.train.seed)
        share = len(train_ids) / (len(train_ids) + len(val_ids))
        train_ids = capped(train_ids, round(cfg.eval.max_images * share), 0)
        val_ids = capped(val_ids, cfg.eval.max_images - len(train_ids), 1)
        ids = torch.cat([train_ids, val_ids])
        images, labels = eval_images(store, ids, size), store.labels[ids]
        rows = torch.arange(len(ids))
        dev = pick_device(device)
        for step, path in todo:
            encoder = load_encoder(path)
            encoder.preprocess = preprocess
            scores = measure(encoder, images, labels, rows[: len(train_ids)], rows[len(train_ids):], dev, 256,
                             baseline=False)
            done[step] = {"step": step, "probe/acc": float(scores["probe/acc"]), "images": len(ids)}
            with folder.checkpoint_probes.open("a") as f:
                f.write(json.dumps(done[step]) + "\n")
    return [done[step] for step, _ in kept]
