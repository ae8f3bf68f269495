"""The SSL methods, one small module each; `ssl_runtime/catalogue.py` lists them and names each class."""

from __future__ import annotations

from ssl_runtime.catalogue import method_class
from ssl_runtime.config import RunConfig
from ssl_runtime.methods.base import SSLMethod

__all__ = ["SSLMethod", "build_method", "method_class"]


def build_method(cfg: RunConfig, image_size: int, total_steps: int) -> SSLMethod:
    """Vision methods; text and image-text methods are built by their task (ssl_runtime/tasks/)."""
    return method_class(cfg.method).build(cfg, image_size, total_steps)
