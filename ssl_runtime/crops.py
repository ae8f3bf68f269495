"""Random resized crops that are true to the stored resolution.

Boxes are drawn on each image's own stored size (a 256-px photo, not a copy shrunk to the train size)
with torchvision's RandomResizedCrop rule, then every box of a batch is cut and resized to the train
size in one batched grid_sample on the device. Images travel as uint8 canvases (the stored image in the
top-left corner of a max_side x max_side tensor) with their sizes, so the resident path and the
streaming path hand the same tensors to the same call.

Boxes come from a generator seeded by (seed, step, view) over the whole global batch; each process takes
its slice, so the crops at a given step do not depend on the number of processes.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F

RATIO = (3 / 4, 4 / 3)
ATTEMPTS = 10


def step_generator(seed: int, step: int, stream: int = 0) -> torch.Generator:
    """A CPU generator for one purpose at one step (stream 0: crop boxes; 1+: other draws)."""
    return torch.Generator().manual_seed((seed * 1_000_003 + step) * 16 + stream)


def sample_boxes(sizes: torch.Tensor, scale: tuple[float, float], generator: torch.Generator,
                 ratio: tuple[float, float] = RATIO) -> torch.Tensor:
    """(B, 4) boxes x0, y0, x1, y1 (exclusive) inside each image of `sizes` (B, 2: height, width).

    torchvision's rule, vectorised: up to 10 draws of an area fraction in `scale` and a log-uniform aspect
    ratio; the first draw that fits is used, else a centre crop with the ratio clamped to the image's.
    """
    sizes = sizes.to(torch.float64)
    h, w = sizes[:, 0:1], sizes[:, 1:2]
    b = sizes.shape[0]
    area = h * w * torch.empty(b, ATTEMPTS, dtype=torch.float64).uniform_(scale[0], scale[1], generator=generator)
    log_r = torch.empty(b, ATTEMPTS, dtype=torch.float64).uniform_(math.log(ratio[0]), math.log(ratio[1]),
                                                                     generator=generator)
    r = log_r.exp()
    cw, ch = (area * r).sqrt().round(), (area / r).sqrt().round()
    fits = (cw >= 1) & (ch >= 1) & (cw <= w) & (ch <= h)
    u = torch.rand(b, ATTEMPTS, 2, dtype=torch.float64, generator=generator)
    first = torch.where(fits.any(1), fits.to(torch.int8).argmax(1), -1)
    rows = torch.arange(b)
    pick = first.clamp_min(0)
    bw, bh = cw[rows, pick], ch[rows, pick]
    x0 = (u[rows, pick, 0] * (w[:, 0] - bw + 1)).floor()
    y0 = (u[rows, pick, 1] * (h[:, 0] - bh + 1)).floor()
    # fallback: the largest centre crop whose ratio lies in the allowed range
    img_r = w[:, 0] / h[:, 0]
    fw = torch.where(img_r < ratio[0], w[:, 0], torch.where(img_r > ratio[1], (h[:, 0] * ratio[1]).round(), w[:, 0]))
    fh = torch.where(img_r < ratio[0], (w[:, 0] / ratio[0]).round(), h[:, 0])
    miss = first < 0
    bw, bh = torch.where(miss, fw, bw), torch.where(miss, fh, bh)
    x0 = torch.where(miss, ((w[:, 0] - bw) / 2).floor(), x0)
    y0 = torch.where(miss, ((h[:, 0] - bh) / 2).floor(), y0)
    return torch.stack([x0, y0, x0 + bw, y0 + bh], 1).to(torch.int64)


def centre_boxes(sizes: torch.Tensor) -> torch.Tensor:
    """The largest centred square of each image: what evaluation and the probes look at."""
    h, w = sizes[:, 0], sizes[:, 1]
    side = torch.minimum(h, w)
    x0, y0 = (w - side) // 2, (h - side) // 2
    return torch.stack([x0, y0, x0 + side, y0 + side], 1)


def box_corners(boxes: torch.Tensor) -> torch.Tensor:
    """(B, 4) boxes -> (B, 4, 2) float corners as kornia wants them (clockwise from top-left, inclusive)."""
    b = boxes.to(torch.float32)
    x0, y0, x1, y1 = b[:, 0], b[:, 1], b[:, 2] - 1, b[:, 3] - 1
    return torch.stack([torch.stack([x0, y0], 1), torch.stack([x1, y0], 1), torch.stack([x1, y1], 1),
                        torch.stack([x0, y1], 1)], 1)


def covers_canvas(boxes: torch.Tensor, canvas_side: int, size: int) -> bool:
    """True when every box is the whole canvas and that is already the train size: nothing to resample."""
    return canvas_side == size and bool((boxes == torch.tensor([0, 0, size, size])).all())


def crop_resize(canvas_uint8: torch.Tensor, corners: torch.Tensor, size: int, whole: bool = False) -> torch.Tensor:
    """Cut each box (corners on the canvas's device) out of its canvas (B, 3, M, M) and resize it to
    size x size: float in [0, 1]. `whole` (see covers_canvas) skips the resampling.

    The same bilinear sampling as kornia's crop_and_resize (align_corners=True: the box's corner pixels land on the
    output's corner pixels), written as one affine grid from the corners: kornia builds its constants with
    torch.tensor(..., device=), a blocking copy, which on a GPU is a host sync at every step."""
    x = canvas_uint8.float().div_(255.0)
    if whole:
        return x
    c = corners.to(x.dtype)
    x0, y0, x1, y1 = c[:, 0, 0], c[:, 0, 1], c[:, 2, 0], c[:, 2, 1]
    w, h = x.shape[-1] - 1, x.shape[-2] - 1
    zero = torch.zeros_like(x0)
    theta = torch.stack([torch.stack([(x1 - x0) / w, zero, (x0 + x1) / w - 1], 1),
                         torch.stack([zero, (y1 - y0) / h, (y0 + y1) / h - 1], 1)], 1)
    grid = F.affine_grid(theta, [x.shape[0], x.shape[1], size, size], align_corners=True)
    return F.grid_sample(x, grid, mode="bilinear", padding_mode="zeros", align_corners=True)
