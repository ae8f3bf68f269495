"""Backbones built from transformers configs: small CNN, ResNet-18/50 and ViT-tiny/small.

Nothing downloads: models are built from config unless `backbone.pretrained` names a local path
or hub id, which is loaded with `AutoModel.from_pretrained` (the online path for users who have one).
"""

from __future__ import annotations

import contextlib
import json
from pathlib import Path

import torch
from torch import nn

from ssl_runtime.config import BackboneConfig
from ssl_runtime.errors import ConfigError

VIT_SIZES = {"vit_tiny": (192, 3), "vit_small": (384, 6)}  # hidden size, heads (12 layers, MLP 4x)


class Backbone(nn.Module):
    """A transformers model plus how to pool it to one feature vector per image."""

    def __init__(self, model: nn.Module, family: str, pooling: str = "auto"):
        super().__init__()
        self.model = model
        self.family = family  # "cnn", "vit" or "vit_mae"
        self.pool = pooling  # auto, cls or mean (ViTs only)
        cfg = model.config
        self.dim = cfg.hidden_size if family.startswith("vit") else cfg.hidden_sizes[-1]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.family.startswith("vit"):
            with no_masking(self.model) if self.family == "vit_mae" else contextlib.nullcontext():
                hidden = self.model(pixel_values=x, interpolate_pos_encoding=True).last_hidden_state
            if self.pooling == "cls":
                return hidden[:, 0]
            return hidden[:, 1:].mean(dim=1)
        return self.model(pixel_values=x).pooler_output.flatten(1)

    def save(self, out_dir: Path, preprocess: dict) -> None:
        """Export with save_pretrained (loadable by AutoModel) plus the preprocessing it expects."""
        out_dir.mkdir(parents=True, exist_ok=True)
        with no_masking(self.model) if self.family == "vit_mae" else contextlib.nullcontext():
            self.model.save_pretrained(out_dir)
        (out_dir / "preprocess.json").write_text(json.dumps({**preprocess, "pooling": self.pooling}, indent=1))

    @property
    def pooling(self) -> str:
        if not self.family.startswith("vit"):
            return "avg"
        if self.pool != "auto":
            return self.pool
        return "cls" if self.family == "vit" else "mean"


@contextlib.contextmanager
def no_masking(model: nn.Module):
    """ViT-MAE masks inputs from config.mask_ratio; features for probes need every patch."""
    old = model.config.mask_ratio
    model.config.mask_ratio = 0.0
    try:
        yield
    finally:
        model.config.mask_ratio = old


def resolve_name(cfg: BackboneConfig, method: str, image_size: int) -> str:
    if cfg.name != "auto":
        return cfg.name
    if method == "mae":
        return "vit_tiny"
    return "small_cnn" if image_size <= 32 else "resnet18"


def vit_patch_size(image_size: int) -> int:
    """16 px patches at 128 px and up; smaller images get about 8x8 patches."""
    if image_size >= 128 and image_size % 16 == 0:
        return 16
    for p in (image_size // 8, 4, 2):
        if p >= 2 and image_size % p == 0:
            return p
    raise ConfigError(f"image size {image_size} cannot be cut into ViT patches", field="data.image_size",
                      fix="use a multiple of 8")


def _scale(n: int, width: float, multiple: int = 1) -> int:
    return max(multiple, int(round(n * width / multiple)) * multiple)


def vit_config_kwargs(name: str, width: float, image_size: int, patch_size: int | None = None) -> dict:
    hidden, heads = VIT_SIZES[name]
    hidden = _scale(hidden, width, heads * 2)
    if patch_size is not None and image_size % patch_size:
        raise ConfigError(f"a patch of {patch_size} px does not divide the {image_size} px images",
                          field="backbone.patch_size", fix=f"use a divisor of {image_size} (e.g. "
                          f"{vit_patch_size(image_size)}), or leave it unset")
    return dict(image_size=image_size, patch_size=patch_size or vit_patch_size(image_size), num_channels=3,
                hidden_size=hidden, num_hidden_layers=12, num_attention_heads=heads, intermediate_size=4 * hidden)


def build_model(name: str, width: float, image_size: int, patch_size: int | None = None) -> tuple[nn.Module, str]:
    """A fresh, randomly initialised transformers model and its family."""
    # transformers is imported where a model is built: validating a config (the CLI, the chat) needs only the
    # methods' settings, and importing transformers costs seconds on every command
    from transformers import ResNetConfig, ResNetModel, ViTConfig, ViTModel

    from ssl_runtime.backbones.hf_models import (
        CifarResNetConfig,
        CifarResNetModel,
        SmallCNNConfig,
        SmallCNNModel,
    )

    if patch_size is not None and name not in VIT_SIZES:
        raise ConfigError(f"backbone.patch_size is a ViT's; {name} has no patches", field="backbone.patch_size",
                          fix="leave it unset, or use backbone.name=vit_tiny or vit_small")
    if name == "small_cnn":
        return SmallCNNModel(SmallCNNConfig(hidden_sizes=[_scale(c, width) for c in (32, 64, 128)])), "cnn"
    if name in ("resnet18", "resnet50"):
        basic = name == "resnet18"
        kwargs = dict(
            embedding_size=_scale(64, width),
            hidden_sizes=[_scale(c, width) for c in ((64, 128, 256, 512) if basic else (256, 512, 1024, 2048))],
            depths=[2, 2, 2, 2] if basic else [3, 4, 6, 3],
            layer_type="basic" if basic else "bottleneck",
        )
        if image_size <= 64:
            return CifarResNetModel(CifarResNetConfig(**kwargs)), "cnn"
        return ResNetModel(ResNetConfig(**kwargs)), "cnn"
    if name in VIT_SIZES:
        return ViTModel(ViTConfig(**vit_config_kwargs(name, width, image_size, patch_size)),
                        add_pooling_layer=False), "vit"
    raise ConfigError(f"unknown backbone {name!r}", field="backbone.name")


def load_hints(encoder_dir: Path) -> dict[str, str]:
    """How to load each exported model in `encoder_dir` (one line each), for summary.json and the README.

    transformers' own architectures (ResNet with the standard stem, ViT, ViT-MAE, BERT, GPT-2) load with a
    plain AutoModel. The small CNN and the CIFAR-stem ResNet have no transformers class, so their folder
    carries its model code and the line needs trust_remote_code=True (the code is hf_models.py, which
    imports only torch and transformers).
    """
    folders = [encoder_dir] if (encoder_dir / "config.json").exists() else sorted(
        p for p in encoder_dir.iterdir() if (p / "config.json").exists()) if encoder_dir.is_dir() else []
    hints = {}
    for folder in folders:
        config = json.loads((folder / "config.json").read_text())
        remote = ", trust_remote_code=True" if "auto_map" in config else ""
        key = "encoder" if folder == encoder_dir else f"encoder/{folder.name}"
        hints[key] = f"AutoModel.from_pretrained('{folder.resolve()}'{remote})  # from transformers import AutoModel"
    return hints


def family_of(model: nn.Module) -> str:
    model_type = getattr(model.config, "model_type", "")
    if model_type == "vit_mae":
        return "vit_mae"
    return "vit" if model_type.startswith("vit") or hasattr(model.config, "patch_size") else "cnn"


def load_pretrained(ref: str) -> nn.Module:
    """A local folder or a hub id; a hub id needs network access and is the user's explicit choice."""
    from transformers import AutoModel

    import ssl_runtime.backbones.hf_models  # noqa: F401 - registers sslpilot's own model types with AutoModel

    is_local = Path(ref).expanduser().exists()
    try:
        return AutoModel.from_pretrained(str(Path(ref).expanduser()) if is_local else ref, trust_remote_code=is_local)
    except OSError as exc:
        raise ConfigError(
            f"cannot load {ref!r}: {str(exc).splitlines()[0]}", field="backbone.pretrained",
            fix="give a local folder saved with save_pretrained, or a hub id on a machine that is online",
        ) from None


def build_backbone(cfg: BackboneConfig, method: str, image_size: int) -> Backbone:
    if cfg.pretrained:
        model = load_pretrained(cfg.pretrained)
        return Backbone(model, family_of(model))
    name = resolve_name(cfg, method, image_size)
    model, family = build_model(name, cfg.width, image_size, cfg.patch_size)
    return Backbone(model, family)


def build_mae_model(cfg: BackboneConfig, image_size: int, mask_ratio: float, norm_pix_loss: bool,
                    decoder_depth: int = 4, decoder_dim: int | None = None) -> nn.Module:
    """ViTMAEForPreTraining sized like the ViT backbones; its decoder `decoder_depth` blocks deep and, unset, half the
    encoder's width (the paper's ViT-B: 8 blocks of 512, and a 1-block decoder nearly as good for fine-tuning)."""
    from transformers import ViTMAEConfig, ViTMAEForPreTraining

    name = resolve_name(cfg, "mae", image_size)
    if name not in VIT_SIZES:
        raise ConfigError(f"mae needs a ViT backbone, not {name!r}", field="backbone.name", fix="use vit_tiny or vit_small")
    kw = vit_config_kwargs(name, cfg.width, image_size, cfg.patch_size)
    heads = kw["num_attention_heads"]
    dec = decoder_dim or max(heads * 8, kw["hidden_size"] // 2)
    if dec % heads:
        raise ConfigError(f"a decoder {dec} wide does not split over its {heads} attention heads",
                          field="method_args.decoder_dim", fix=f"use a multiple of {heads}, or leave it unset")
    config = ViTMAEConfig(**kw, decoder_hidden_size=dec, decoder_num_hidden_layers=decoder_depth,
                          decoder_num_attention_heads=kw["num_attention_heads"], decoder_intermediate_size=4 * dec,
                          mask_ratio=mask_ratio, norm_pix_loss=norm_pix_loss)
    if cfg.pretrained:
        return ViTMAEForPreTraining.from_pretrained(cfg.pretrained, mask_ratio=mask_ratio)
    return ViTMAEForPreTraining(config)
