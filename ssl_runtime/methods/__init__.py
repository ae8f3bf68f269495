"""The SSL methods, one small module each. `METHOD_CLASSES` is where a method name becomes code."""

from __future__ import annotations

from ssl_runtime.config import RunConfig
from ssl_runtime.methods.barlow_twins import BarlowTwins
from ssl_runtime.methods.base import SSLMethod
from ssl_runtime.methods.byol import BYOL
from ssl_runtime.methods.clip import CLIP
from ssl_runtime.methods.clm import CLM
from ssl_runtime.methods.dino import DINO
from ssl_runtime.methods.mae import MAE
from ssl_runtime.methods.mlm import MLM
from ssl_runtime.methods.moco import MoCo
from ssl_runtime.methods.simclr import SimCLR
from ssl_runtime.methods.simsiam import SimSiam
from ssl_runtime.methods.vicreg import VICReg

METHOD_CLASSES: dict[str, type] = {
    cls.name: cls for cls in (SimCLR, MoCo, BYOL, SimSiam, DINO, BarlowTwins, VICReg, MAE, MLM, CLM, CLIP)
}

__all__ = ["METHOD_CLASSES", "SSLMethod", "build_method", "method_class"]


def method_class(name: str) -> type:
    return METHOD_CLASSES[name]


def build_method(cfg: RunConfig, image_size: int, total_steps: int) -> SSLMethod:
    """Vision methods; text and image-text methods are built by their task (ssl_runtime/tasks/)."""
    return method_class(cfg.method).build(cfg, image_size, total_steps)
