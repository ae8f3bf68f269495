"""Encoders from checkpoints trained elsewhere, for `sslpilot audit`: one callable image -> feature vector.

Read, in this order:
- a transformers folder (`config.json`): `AutoModel.from_pretrained` (sslpilot's exports included);
- a TorchScript file: `torch.jit.load`; a 4-D output is average-pooled;
- a state dict in a `.safetensors`, `.pt`, `.pth` or Lightning `.ckpt`. Lightning keeps the weights under
  `state_dict` with the module's attribute names as prefixes (solo-learn and lightly: `backbone.`), DINO
  under `teacher`/`student`, sslpilot under `model`. The backbone's keys are found by prefix, then read as
  a torchvision/timm ResNet (`conv1`, `layer1.0.conv1`...; depth, width and stem from the shapes) mapped
  onto transformers' ResNetModel, or as one of sslpilot's own backbones.
Pickles run code when loaded, so `torch.load` is called with `weights_only=True`; a file that needs more is
refused with the reason and the opt-in (`allow_pickle`, only for files you trust).
"""

from __future__ import annotations

import json
import pickle
import re
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import torch
from torch import nn

from ssl_runtime.errors import SSLPilotError

ARCHS = ("resnet18", "resnet34", "resnet50", "resnet101", "small_cnn", "vit")
PREFIXES = ("backbone.model.", "backbone.", "model.backbone.", "module.backbone.", "encoder.", "module.encoder.",
            "teacher.backbone.", "student.backbone.", "module.", "model.", "")
def _numpy_arrays() -> list:
    """Plain numpy arrays (data, no code) as the weights-only unpickler may rebuild them: checkpoints that keep
    a numpy RNG state (sslpilot's own, many training scripts) then load without a full unpickle."""
    import numpy as np

    core = getattr(np, "_core", None) or np.core
    return [core.multiarray._reconstruct, np.ndarray, np.dtype, *(type(np.dtype(t)) for t in ("uint32", "float64",
                                                                                              "int64", "float32"))]


NUMPY_ARRAYS = _numpy_arrays()
RESNET_DEPTHS = {(2, 2, 2, 2, "basic"): "resnet18", (3, 4, 6, 3, "basic"): "resnet34",
                 (3, 4, 6, 3, "bottleneck"): "resnet50", (3, 4, 23, 3, "bottleneck"): "resnet101"}


@dataclass
class Encoder:
    """`features(x)` maps normalised images (b, 3, h, w) to (b, d); `random_init()` is the same architecture,
    freshly initialised (seeded), for the baseline a trained encoder must beat."""

    module: nn.Module
    arch: str
    step: int | None
    image_size: int | None  # a hint from the architecture (CIFAR stem: 32) or the export
    preprocess: dict | None
    random_init: Callable[[], nn.Module] | None

    @torch.no_grad()
    def features(self, x: torch.Tensor, module: nn.Module | None = None) -> torch.Tensor:
        return pooled((module or self.module)(x))


def pooled(out) -> torch.Tensor:
    """One vector per image from whatever a model returns."""
    if hasattr(out, "pooler_output") and out.pooler_output is not None:
        out = out.pooler_output
    elif hasattr(out, "last_hidden_state"):
        out = out.last_hidden_state
    elif isinstance(out, (tuple, list)):
        out = out[0]
    if out.dim() == 4:
        return out.mean(dim=(2, 3))
    if out.dim() == 3:  # tokens: the [CLS] token, as DINO and ViT probes use
        return out[:, 0]
    return out.flatten(1)


def load_encoder(path: str | Path, arch: str | None = None, allow_pickle: bool = False) -> Encoder:
    p = Path(path).expanduser()
    if not p.exists():
        raise SSLPilotError(f"{p} does not exist", field="checkpoint")
    if arch is not None and arch not in ARCHS:
        raise SSLPilotError(f"unknown architecture {arch!r}", field="arch", fix=f"use one of {', '.join(ARCHS)}")
    if p.is_dir():
        return _transformers_folder(p)
    if zipfile.is_zipfile(p) and any(n.endswith("constants.pkl") or "/code/" in n for n in zipfile.ZipFile(p).namelist()):
        module = torch.jit.load(str(p), map_location="cpu").eval()
        return Encoder(module, "torchscript", None, None, None, None)
    state, step = _state_dict(p, allow_pickle)
    return from_state_dict(state, step, arch, source=p.name)


def _transformers_folder(p: Path) -> Encoder:
    from transformers import AutoConfig, AutoModel

    import ssl_runtime.backbones.hf_models  # noqa: F401 - registers sslpilot's own model types
    from ssl_runtime.backbones import Backbone, family_of

    if not (p / "config.json").exists():
        raise SSLPilotError(f"{p} is a folder without config.json", field="checkpoint",
                            fix="give a transformers folder (save_pretrained), or a checkpoint file")
    model = AutoModel.from_pretrained(str(p))
    preprocess = json.loads((p / "preprocess.json").read_text()) if (p / "preprocess.json").exists() else None
    backbone = Backbone(model, family_of(model)).eval()
    size = (preprocess or {}).get("image_size") or getattr(model.config, "image_size", None)

    def fresh() -> nn.Module:
        torch.manual_seed(0)
        return Backbone(AutoModel.from_config(AutoConfig.from_pretrained(str(p))), family_of(model)).eval()

    return Encoder(backbone, f"transformers:{model.config.model_type}", None, size, preprocess, fresh)


def _state_dict(p: Path, allow_pickle: bool) -> tuple[dict[str, torch.Tensor], int | None]:
    if p.suffix == ".safetensors":
        from safetensors.torch import load_file

        return load_file(str(p)), None
    with p.open("rb") as f:
        head = f.read(2)
    if not zipfile.is_zipfile(p) and head[:1] != b"\x80":  # neither torch's zip format nor a legacy pickle
        raise SSLPilotError(f"{p.name} is not a readable PyTorch checkpoint (neither a zip archive nor a pickle)",
                            field="checkpoint", fix="give a .ckpt/.pt/.pth/.safetensors file, a TorchScript file "
                                                    "or a transformers folder")
    try:
        with torch.serialization.safe_globals(NUMPY_ARRAYS):
            ckpt = torch.load(str(p), map_location="cpu", weights_only=not allow_pickle)
    except pickle.UnpicklingError as exc:
        first = str(exc).splitlines()[0][:200]
        raise SSLPilotError(f"{p.name} holds objects beyond tensors and plain values, which only a full unpickle "
                            f"could load ({first})", field="checkpoint",
                            fix="pickles can run code: if you trust where this file came from, pass --allow-pickle") from None
    except (RuntimeError, EOFError, OSError) as exc:
        raise SSLPilotError(f"{p.name} is not a readable PyTorch checkpoint ({str(exc).splitlines()[0][:200]})",
                            field="checkpoint") from None
    if not isinstance(ckpt, dict):
        if isinstance(ckpt, nn.Module):  # a whole pickled module (only with allow_pickle)
            return ckpt.state_dict(), None
        raise SSLPilotError(f"{p.name} holds a {type(ckpt).__name__}, not a state dict", field="checkpoint")
    step = next((int(ckpt[k]) for k in ("global_step", "step", "iteration") if isinstance(ckpt.get(k), int)), None)
    if step is None and isinstance(ckpt.get("epoch"), int):
        step = int(ckpt["epoch"])
    for key in ("state_dict", "model", "teacher", "student", "model_state_dict", "module"):
        if isinstance(ckpt.get(key), dict) and any(torch.is_tensor(v) for v in ckpt[key].values()):
            return {k: v for k, v in ckpt[key].items() if torch.is_tensor(v)}, step
    tensors = {k: v for k, v in ckpt.items() if torch.is_tensor(v)}
    if not tensors:
        raise SSLPilotError(f"{p.name} has no tensors under state_dict, model, teacher or at its top level",
                            field="checkpoint")
    return tensors, step


def from_state_dict(state: dict[str, torch.Tensor], step: int | None = None, arch: str | None = None,
                    source: str = "checkpoint") -> Encoder:
    """Try each prefix; the first whose keys read as a known backbone wins."""
    tried = []
    for prefix in PREFIXES:
        sub = {k[len(prefix):]: v for k, v in state.items() if k.startswith(prefix)}
        if not sub:
            continue
        for reader in (_torchvision_resnet, _sslpilot_backbone):
            enc = reader(sub, arch)
            if enc is not None:
                enc.step = step
                return enc
        tried.append(prefix or "(none)")
    sample = ", ".join(sorted(state)[:6])
    raise SSLPilotError(f"the keys of {source} match no encoder sslpilot knows (tried prefixes {', '.join(tried)}; "
                        f"keys start {sample}...)", field="checkpoint",
                        fix="export the encoder with save_pretrained or torch.jit.save and audit that, or pass "
                            f"--arch ({', '.join(ARCHS)}) if it is one of those")


# ---- torchvision / timm ResNets -----------------------------------------------------------------------

def torchvision_to_transformers(key: str) -> str | None:
    """A torchvision/timm ResNet key as transformers' ResNetModel names it (None: the classifier head)."""
    if key.startswith(("fc.", "head.")):
        return None
    m = re.fullmatch(r"conv1\.weight", key)
    if m:
        return "embedder.embedder.convolution.weight"
    m = re.fullmatch(r"bn1\.(.+)", key)
    if m:
        return f"embedder.embedder.normalization.{m.group(1)}"
    m = re.fullmatch(r"layer(\d)\.(\d+)\.(conv|bn)(\d)\.(.+)", key)
    if m:
        kind = "convolution" if m.group(3) == "conv" else "normalization"
        return f"encoder.stages.{int(m.group(1)) - 1}.layers.{m.group(2)}.layer.{int(m.group(4)) - 1}.{kind}.{m.group(5)}"
    m = re.fullmatch(r"layer(\d)\.(\d+)\.downsample\.([01])\.(.+)", key)
    if m:
        kind = "convolution" if m.group(3) == "0" else "normalization"
        return f"encoder.stages.{int(m.group(1)) - 1}.layers.{m.group(2)}.shortcut.{kind}.{m.group(4)}"
    return key  # unknown: kept, so the strict load below refuses it


def _torchvision_resnet(sub: dict[str, torch.Tensor], arch: str | None) -> Encoder | None:
    if "conv1.weight" not in sub or "layer1.0.conv1.weight" not in sub:
        return None
    depths = tuple(1 + max(int(k.split(".")[1]) for k in sub if k.startswith(f"layer{i}.")) for i in range(1, 5))
    kind = "bottleneck" if "layer1.0.conv3.weight" in sub else "basic"
    name = RESNET_DEPTHS.get((*depths, kind))
    if name is None or (arch and arch.startswith("resnet") and arch != name):
        return None
    from transformers import ResNetConfig, ResNetModel

    from ssl_runtime.backbones.hf_models import CifarResNetConfig, CifarResNetModel

    stem = sub["conv1.weight"].shape
    width = stem[0]
    widths = [sub[f"layer{i}.0.conv{2 if kind == 'basic' else 3}.weight"].shape[0] for i in range(1, 5)]
    cifar = stem[-1] == 3  # solo-learn's and lightly's CIFAR stem: 3x3, stride 1, no max-pool
    kwargs = dict(embedding_size=width, hidden_sizes=widths, depths=list(depths), layer_type=kind)
    make = (lambda: CifarResNetModel(CifarResNetConfig(**kwargs))) if cifar else (
        lambda: ResNetModel(ResNetConfig(**kwargs)))
    mapped = {}
    for k, v in sub.items():
        new = torchvision_to_transformers(k)
        if new is not None:
            mapped[new] = v
    model = make()
    missing, unexpected = model.load_state_dict(mapped, strict=False)
    if missing or unexpected:
        return None
    return Encoder(model.eval(), f"{name} ({'CIFAR stem, ' if cifar else ''}torchvision/timm keys)", None,
                   32 if cifar else 224, None, _seeded(make))


# ---- sslpilot's own backbones ---------------------------------------------------------------------------

def _sslpilot_backbone(sub: dict[str, torch.Tensor], arch: str | None) -> Encoder | None:
    from ssl_runtime.backbones import build_model

    candidates = []
    if "features.0.weight" in sub and (arch in (None, "small_cnn")):
        c = sub["features.0.weight"].shape[0]
        candidates.append(("small_cnn", c / 32, 32))
    if "embedder.embedder.convolution.weight" in sub:
        stem = sub["embedder.embedder.convolution.weight"].shape
        bottleneck = any(".layer.2." in k for k in sub)
        name = "resnet50" if bottleneck else "resnet18"
        if arch in (None, name):
            candidates.append((name, stem[0] / 64, 32 if stem[-1] == 3 else 224))
    for name, width, size in candidates:
        try:
            model, family = build_model(name, width, size)
        except Exception:  # noqa: BLE001 - a width this code cannot build: not this candidate
            continue
        missing, unexpected = model.load_state_dict(sub, strict=False)
        if not missing and not unexpected:
            from ssl_runtime.backbones import Backbone

            return Encoder(Backbone(model.eval(), family).eval(), f"{name} x{width:g} (sslpilot)", None, size, None,
                           _seeded(lambda n=name, w=width, s=size: Backbone(build_model(n, w, s)[0], "cnn")))
    return None


def _seeded(make: Callable[[], nn.Module]) -> Callable[[], nn.Module]:
    def fresh() -> nn.Module:
        torch.manual_seed(0)
        return make().eval()

    return fresh
