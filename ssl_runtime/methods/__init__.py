"""The SSL methods, one small module each. `METHOD_CLASSES` is where a method name becomes code."""

from __future__ import annotations

from ssl_runtime.config import RunConfig
from ssl_runtime.methods.barlow_twins import BarlowTwins
from ssl_runtime.methods.base import SSLMethod
from ssl_runtime.methods.byol import BYOL
from ssl_runtime.methods.dino import DINO
from ssl_runtime.methods.mae import MAE
from ssl_runtime.methods.moco import MoCo
from ssl_runtime.methods.simclr import SimCLR
from ssl_runtime.methods.simsiam import SimSiam
from ssl_runtime.methods.vicreg import VICReg

METHOD_CLASSES: dict[str, type[SSLMethod]] = {
    cls.name: cls for cls in (SimCLR, MoCo, BYOL, SimSiam, DINO, BarlowTwins, VICReg, MAE)
}

__all__ = ["METHOD_CLASSES", "SSLMethod", "build_method", "method_class"]


def method_class(name: str) -> type[SSLMethod]:
    return METHOD_CLASSES[name]


def build_method(cfg: RunConfig, image_size: int, total_steps: int) -> SSLMethod:
    return method_class(cfg.method).build(cfg, image_size, total_steps)
