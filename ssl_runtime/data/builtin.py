"""Bundled data that needs no download: scikit-learn's digits and a generated shapes set."""

from __future__ import annotations

import math

import numpy as np
import torch

from ssl_runtime.data.images import ImageSet, resize_uint8

SHAPES = ("circle", "square", "triangle", "cross")
COLOURS = {
    "red": (220, 40, 40), "green": (40, 180, 60), "blue": (40, 80, 220),
    "yellow": (230, 200, 40), "purple": (150, 60, 200), "orange": (240, 130, 30),
}


def load_digits(image_size: int = 16) -> ImageSet:
    """scikit-learn's 1,797 labelled 8x8 digits, as 3-channel uint8 images."""
    from sklearn.datasets import load_digits as sk_digits

    bunch = sk_digits()
    pixels = torch.from_numpy((bunch.images * (255.0 / 16.0)).round().astype(np.uint8))
    images = pixels[:, None].expand(-1, 3, -1, -1).contiguous()
    labels = torch.from_numpy(bunch.target.astype(np.int64))
    return ImageSet(resize_uint8(images, image_size), labels, [str(i) for i in range(10)], source="digits")


def shape_attributes(n: int, seed: int = 0) -> list[dict]:
    """The deterministic recipe of each generated image (also the source of its caption)."""
    rng = np.random.default_rng(seed)
    names = list(COLOURS)
    out = []
    for i in range(n):
        out.append({
            "shape": SHAPES[i % len(SHAPES)],
            "colour": names[int(rng.integers(len(names)))],
            "scale": float(rng.uniform(0.35, 0.8)),
            "cx": float(rng.uniform(0.3, 0.7)),
            "cy": float(rng.uniform(0.3, 0.7)),
            "angle": float(rng.uniform(0, 2 * math.pi)),
            "bg": int(rng.integers(0, 60)),
            "noise_seed": int(rng.integers(2**31)),
        })
    return out


def _mask(kind: str, size: int, a: dict) -> np.ndarray:
    yy, xx = np.mgrid[0:size, 0:size].astype(np.float32) / size
    x, y = xx - a["cx"], yy - a["cy"]
    c, s = math.cos(a["angle"]), math.sin(a["angle"])
    u, v = c * x + s * y, -s * x + c * y
    r = a["scale"] / 2
    if kind == "circle":
        return x * x + y * y <= r * r
    if kind == "square":
        return (np.abs(u) <= r * 0.8) & (np.abs(v) <= r * 0.8)
    if kind == "triangle":
        return (v <= r * 0.6) & (v >= -r) & (np.abs(u) <= (r * 0.6 - v) * 0.6)
    return ((np.abs(u) <= r * 0.25) & (np.abs(v) <= r)) | ((np.abs(v) <= r * 0.25) & (np.abs(u) <= r))


def load_shapes(num_samples: int = 2000, image_size: int = 32, seed: int = 0) -> ImageSet:
    """Coloured circles, squares, triangles and crosses on noisy backgrounds; label = shape."""
    attrs = shape_attributes(num_samples, seed)
    images = np.empty((num_samples, image_size, image_size, 3), dtype=np.uint8)
    for i, a in enumerate(attrs):
        noise = np.random.default_rng(a["noise_seed"]).integers(0, 30, (image_size, image_size, 1))
        img = np.full((image_size, image_size, 3), a["bg"], dtype=np.int64) + noise
        img[_mask(a["shape"], image_size, a)] = COLOURS[a["colour"]]
        images[i] = np.clip(img, 0, 255)
    labels = torch.tensor([SHAPES.index(a["shape"]) for a in attrs], dtype=torch.int64)
    tensor = torch.from_numpy(images).permute(0, 3, 1, 2).contiguous()
    return ImageSet(tensor, labels, list(SHAPES), source=f"shapes(n={num_samples},seed={seed})")
