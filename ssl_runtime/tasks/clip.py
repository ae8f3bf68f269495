"""Image-text pairs (clip): images resident on the device with a mild crop (no flips or colour changes,
which captions describe; boxes drawn on the host as for the vision methods), captions tokenised once. Health for
both towers on fixed held-out pairs."""

from __future__ import annotations

import json

import torch

from ssl_runtime import distributed as dist_utils
from ssl_runtime.augment import ViewPipeline, ViewRecipe, channel_stats, crop_scale
from ssl_runtime.backbones import build_backbone
from ssl_runtime.config import RunConfig
from ssl_runtime.crops import box_corners, centre_boxes, crop_resize, sample_boxes, step_generator
from ssl_runtime.data import default_image_size, measured_sample
from ssl_runtime.data.captions import load_caption_pairs
from ssl_runtime.data.images import split_indices
from ssl_runtime.device import to_device
from ssl_runtime.health import alignment, eval_mode, rankme, std_of_l2_normalized, uniformity
from ssl_runtime.methods.clip import CLIP, CLIPArgs
from ssl_runtime.run_folder import RunFolder
from ssl_runtime.tasks.base import Task, plan_steps
from ssl_runtime.text import build_lm, load_tokenizer, train_tokenizer


def clip_views(size: int) -> list[ViewRecipe]:
    """A crop (0.5-1) only: flips would contradict 'on the left', colour jitter 'a red ...'."""
    return [ViewRecipe(size, min_scale=0.5, flip_p=0.0, colour=False, blur_p=0.0)]


class ClipTask(Task):
    def __init__(self, cfg: RunConfig, folder: RunFolder | None, device: torch.device, precision: str):
        self.cfg, self.device, self.precision = cfg, device, precision
        args = CLIPArgs.model_validate(cfg.method_args)
        self.args = args
        size = default_image_size(cfg.data)
        pairs = load_caption_pairs(cfg.data, size)
        if folder is not None and pairs.skipped and dist_utils.rank() == 0:
            folder.event("warning", f"skipped {len(pairs.skipped)} caption rows", kind="skipped_pairs",
                         count=len(pairs.skipped), rows=pairs.skipped[:20])
        self.pairs = pairs
        train_idx, val_idx = split_indices(len(pairs), cfg.data.val_fraction, cfg.train.seed)
        self.n_train = len(train_idx)
        self.batch_size, self.total_steps, self.steps_per_epoch = plan_steps(cfg, self.n_train, "training pairs")
        if args.text_model:
            self.tokenizer = load_tokenizer(args.text_model)
        else:
            train_captions = [pairs.captions[i] for i in train_idx.tolist()]
            self.tokenizer = train_tokenizer(lambda: iter(train_captions), "wordpiece", args.vocab_size)
        enc = self.tokenizer(pairs.captions, padding="max_length", truncation=True, max_length=args.max_length,
                             return_tensors="pt")
        text_model = build_lm("encoder", self.tokenizer, args.max_length, args.text_hidden_size, args.text_layers,
                              args.text_heads, args.text_model, args.dropout)
        backbone = build_backbone(cfg.backbone, "clip", size)
        self.method = CLIP(backbone, text_model, args).to(device)
        if device.type == "cuda":
            self.method.backbone.to(memory_format=torch.channels_last)
        if cfg.train.compile:
            self.method.backbone.compile()
        images = pairs.images.images
        mean, std = channel_stats(images[train_idx])
        recipe = clip_views(size)[0]
        self.crop = None if cfg.augment.strength == 0 else crop_scale(recipe, cfg.augment.strength)
        self.pipeline = ViewPipeline([recipe], cfg.augment.strength, mean, std, crop=False, flip=False).to(device)
        self.images = images[train_idx].to(device, non_blocking=True)
        self.ids = enc["input_ids"][train_idx].to(device)
        self.mask = enc["attention_mask"][train_idx].to(device)
        held = measured_sample(val_idx if len(val_idx) >= 16 else train_idx, cfg.train.health_samples, cfg.train.seed)
        self.health_images = self.pipeline.normalise(images[held].to(device).float() / 255.0)
        self.health_ids, self.health_mask = enc["input_ids"][held].to(device), enc["attention_mask"][held].to(device)
        self.health_samples = len(held)
        self.embedding_dim = args.embed_dim

    def batch(self, idx: torch.Tensor, step: int) -> dict[str, torch.Tensor]:
        side = self.images.shape[-1]
        crops = crop_resize(self.images[idx], self._corners(step), side, whole=self.crop is None)
        images = self.pipeline.augment(0, crops)
        if self.device.type == "cuda":
            images = images.contiguous(memory_format=torch.channels_last)
        return {"images": images, "input_ids": self.ids[idx], "attention_mask": self.mask[idx]}

    def _corners(self, step: int) -> torch.Tensor:
        """This process's crop boxes at `step`, drawn on the host like the vision tasks' (ssl_runtime/crops.py):
        over the global batch, then sliced, so they do not depend on the number of processes."""
        sizes = torch.full((self.batch_size, 2), self.images.shape[-1])
        boxes = centre_boxes(sizes) if self.crop is None else sample_boxes(sizes, self.crop,
                                                                              step_generator(self.cfg.train.seed, step))
        per = self.batch_size // dist_utils.world_size()
        return to_device(box_corners(boxes[dist_utils.rank() * per:(dist_utils.rank() + 1) * per]), self.device)

    @torch.no_grad()
    def health(self) -> dict[str, torch.Tensor]:
        m = self.method
        with eval_mode(m):
            zi = m.encode_image(self.health_images).float()
            zt = m.encode_text(self.health_ids, self.health_mask).float()
        return {"health/std": std_of_l2_normalized(zi), "health/rank": rankme(zi),
                "health/text_std": std_of_l2_normalized(zt), "health/text_rank": rankme(zt),
                "health/alignment": alignment(zi, zt), "health/uniformity": uniformity(zi),
                "health/logit_scale": m.logit_scale.detach().exp()}

    def export(self, folder: RunFolder) -> None:
        """encoder/image (AutoModel), encoder/text (AutoModel + tokenizer), encoder/clip_head.pt (projections)."""
        out = folder.encoder
        m = self.method
        m.backbone.save(out / "image", preprocess={
            "image_size": self.pairs.images.image_size, "mean": self.pipeline.mean.flatten().tolist(),
            "std": self.pipeline.std.flatten().tolist(), "method": "clip"})
        m.text.save_pretrained(out / "text")
        self.tokenizer.save_pretrained(out / "text")
        torch.save({"image_proj": m.image_proj.state_dict(), "text_proj": m.text_proj.state_dict(),
                    "logit_scale": m.logit_scale.detach().cpu(), "max_length": self.args.max_length},
                   out / "clip_head.pt")
        (out / "preprocess.json").write_text(json.dumps({"method": "clip", "modality": "image_text"}, indent=1))

    def stats(self) -> dict:
        return {"pairs": len(self.pairs), "skipped": len(self.pairs.skipped), "source": self.pairs.images.source,
                "image_size": self.pairs.images.image_size, "unique_captions": len(set(self.pairs.captions))}
