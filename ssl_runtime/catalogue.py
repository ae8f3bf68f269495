"""The catalogue of SSL methods and built-in datasets: the one list every other list derives from.

Adding a method = its module under `ssl_runtime/methods/` plus one `MethodInfo` row here. The config's method
lists, the import name map, the chat's aliases and prose, the CLI help and the test size tables all read
this table (tests/test_catalogue.py checks that nothing keeps a second list).

Why a table and not attributes on the method classes: the chat, the CLI's help and the importers need the
names in a cold process, and the classes live in torch modules (importing torch costs seconds). The class is
named here by import path and loaded only when a run is built; a test checks that each class agrees with its row.
"""

from __future__ import annotations

import functools
import importlib
from dataclasses import dataclass
from typing import Literal

Modality = Literal["vision", "text", "image_text"]


@dataclass(frozen=True)
class MethodInfo:
    name: str  # the config's `method` value
    title: str  # as papers write it
    modality: Modality
    summary: str  # one line, for help texts and the chat
    cls: str  # "module:Class" under ssl_runtime.methods
    aliases: tuple[str, ...] = ()  # other spellings people and loggers use, lower-case, without spaces or dashes
    ranked_across: bool = False  # view retrieval ordered its runs together with the other such methods' like a probe


CATALOGUE: tuple[MethodInfo, ...] = (
    MethodInfo("simclr", "SimCLR", "vision", "contrastive, in-batch negatives (InfoNCE)", "simclr:SimCLR",
               ("simclrv1",), ranked_across=True),
    MethodInfo("moco", "MoCo", "vision", "momentum key encoder (v3; v2 with a queue)", "moco:MoCo",
               ("mocov2", "mocov2plus", "mocov3")),
    MethodInfo("byol", "BYOL", "vision", "online network + predictor regresses an EMA target", "byol:BYOL",
               ranked_across=True),
    MethodInfo("simsiam", "SimSiam", "vision", "predictor + stop-gradient, no negatives, no EMA", "simsiam:SimSiam"),
    MethodInfo("dino", "DINO", "vision", "self-distillation with a centred, sharpened EMA teacher", "dino:DINO"),
    MethodInfo("barlow_twins", "Barlow Twins", "vision", "cross-correlation towards the identity",
               "barlow_twins:BarlowTwins", ("barlowtwins", "barlow")),
    MethodInfo("vicreg", "VICReg", "vision", "variance, invariance and covariance terms", "vicreg:VICReg",
               ranked_across=True),
    MethodInfo("mae", "MAE", "vision", "masked autoencoder (ViT)", "mae:MAE",
               ("maskedautoencoder", "maskedautoencoders")),
    MethodInfo("mlm", "masked LM", "text", "masked-language modelling (BERT-style)", "mlm:MLM",
               ("maskedlm", "maskedlanguagemodel", "maskedlanguagemodelling", "maskedlanguagemodeling", "bertstyle")),
    MethodInfo("clm", "next-token LM", "text", "causal (next-token) language modelling", "clm:CLM",
               ("causallm", "nexttoken", "nexttokenlm", "nexttokenlanguagemodel", "gptstyle")),
    MethodInfo("clip", "CLIP", "image_text", "image-text contrastive alignment", "clip:CLIP", ("imagetext",)),
)

BUILTIN_DATASETS = ("digits", "shapes")
"""Bundled (scikit-learn's 8x8 digits, labelled) and generated (shapes, deterministic, labelled, with captions)."""
DEFAULT_DATA = {"vision": "digits", "text": "shapes", "image_text": "shapes"}
"""The built-in a run trains on when its config names no data, by the method's modality (digits has no text)."""
BACKBONES = ("small_cnn", "resnet18", "resnet50", "vit_tiny", "vit_small")  # built from config (`backbone.name`)
OPTIMIZERS = ("adamw", "sgd", "lars")  # `optim.name` besides auto (the method's own)
SCHEDULES = ("cosine", "constant")  # `optim.schedule`

BY_NAME: dict[str, MethodInfo] = {m.name: m for m in CATALOGUE}
METHODS: tuple[str, ...] = tuple(BY_NAME)
VISION_METHODS = tuple(m.name for m in CATALOGUE if m.modality == "vision")
TEXT_METHODS = tuple(m.name for m in CATALOGUE if m.modality == "text")
IMAGE_TEXT_METHODS = tuple(m.name for m in CATALOGUE if m.modality == "image_text")
RANKED_ACROSS = tuple(m.name for m in CATALOGUE if m.ranked_across)
"""Methods whose finished runs `sslpilot rank` orders together by view retrieval (with cluster consistency): on the
five held-out draws of the textures measured since session 19 it ordered their runs across methods with Kendall tau
0.79-0.90, but its first pick across methods lost up to 1.22 probe points (tools/ranking.ACROSS_LOST), so the ranking
also names each method's leader (benchmarks/RESULTS.md). Others are compared within one method only."""
RANKED_ACROSS_TITLES = ", ".join(BY_NAME[m].title for m in RANKED_ACROSS)  # "SimCLR, BYOL, VICReg", for answers


def ranked_together(methods: set[str]) -> bool:
    """Whether label-free signals may order runs of these methods together: one method, or only RANKED_ACROSS ones
    (which `sslpilot rank` also measures before it mixes them)."""
    return len(methods) <= 1 or methods <= set(RANKED_ACROSS)


ALIASES: dict[str, str] = {a: m.name for m in CATALOGUE for a in (m.name.replace("_", ""), *m.aliases)}
"""Every spelling (lower-case, no spaces, dashes or underscores) -> the method's name."""


def canonical(word: str) -> str | None:
    """The method a spelling names ("MoCo v3", "barlow-twins", "masked LM"), or None."""
    key = "".join(ch for ch in word.lower() if ch.isalnum())
    return ALIASES.get(key)


def check_method(name: str, field: str = "method") -> str:
    """`name` if the catalogue has it, else a clear error naming the field and the choices."""
    from ssl_runtime.errors import ConfigError

    if name not in BY_NAME:
        raise ConfigError(f"unknown method {name!r}", field=field, fix=f"use one of {', '.join(METHODS)}")
    return name


def data_fields(ref: str) -> dict[str, str]:
    """A user's data reference as config fields: a built-in name, else a path."""
    return {"name": ref} if ref in BUILTIN_DATASETS else {"path": ref}


def item_unit(method: str | None) -> str:
    """What one training item is called in throughput lines: img, blocks (text) or pairs (image-text)."""
    info = BY_NAME.get(method or "")
    return {"text": "blocks", "image_text": "pairs"}.get(info.modality, "img") if info else "img"


def method_class(name: str) -> type:
    """The method's class, imported on first use (it pulls in torch)."""
    module, cls = BY_NAME[name].cls.split(":")
    return getattr(importlib.import_module(f"ssl_runtime.methods.{module}"), cls)


@functools.cache
def method_settings(name: str) -> frozenset[str]:
    """The method's own settings (its `method_args` keys), read off its Args class: the one list of them."""
    return frozenset(method_class(name).Args.model_fields)


def prose() -> str:
    """'simclr, moco, ... or mae (images), mlm or clm (text), and clip (image-text)' for help and questions."""
    def join(names: tuple[str, ...]) -> str:
        return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " or " + names[-1]

    return f"{join(VISION_METHODS)} (images), {join(TEXT_METHODS)} (text), and {join(IMAGE_TEXT_METHODS)} (image-text)"
