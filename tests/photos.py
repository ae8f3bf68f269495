"""Generated photo folders for the data-engine tests: JPEGs of varied sizes and aspect ratios in class folders."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image


def make_photos(root: Path, n: int = 96, sizes: tuple[int, int] = (40, 96), seed: int = 0, fmt: str = "jpg") -> Path:
    """`n` labelled images (the generated shapes, resized to random sides in `sizes`) under root/<shape>/."""
    from ssl_runtime.data.builtin import SHAPES, load_shapes

    rng = np.random.default_rng(seed)
    data = load_shapes(n, 96, seed=seed)
    for i in range(n):
        arr = data.images[i].permute(1, 2, 0).numpy()
        w, h = (int(v) for v in rng.integers(sizes[0], sizes[1] + 1, 2))
        folder = root / SHAPES[int(data.labels[i])]
        folder.mkdir(parents=True, exist_ok=True)
        Image.fromarray(arr).resize((w, h), Image.Resampling.BICUBIC).save(folder / f"{i:05d}.{fmt}", quality=92)
    return root
