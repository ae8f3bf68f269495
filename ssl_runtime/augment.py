"""Batched, on-device view pipelines with kornia, one recipe per method family.

Every recipe is the published one at `strength=1` and scales towards identity as strength falls:
crop area, jitter magnitudes and the probability of each transform all shrink, and at
`strength=0` the views are identical copies of the input (useful to show a trivial task).
Sizes follow the image: blur kernels are ~10% of the side, DINO's local crops are 96/224 of it,
and blur is off at 32 px and below as in the CIFAR recipes of solo-learn and lightly.
"""

from __future__ import annotations

from dataclasses import dataclass

import kornia.augmentation as K
import torch
from torch import nn

from ssl_runtime.errors import ConfigError


@dataclass(frozen=True)
class ViewRecipe:
    """One view: crop scale at strength 1, colour jitter, and per-transform probabilities."""

    size: int
    min_scale: float = 0.08
    max_scale: float = 1.0
    jitter: tuple[float, float, float, float] = (0.4, 0.4, 0.4, 0.1)
    jitter_p: float = 0.8
    gray_p: float = 0.2
    blur_p: float = 0.5
    solarize_p: float = 0.0
    flip_p: float = 0.5
    colour: bool = True


def _lerp(a: float, b: float, t: float) -> float:
    return a + (b - a) * t


def crop_scale(recipe: ViewRecipe, strength: float) -> tuple[float, float]:
    """The area fraction range of the random resized crop at this strength (whole image at 0)."""
    s = strength
    return _lerp(1.0, recipe.min_scale, s), _lerp(1.0, recipe.max_scale, s) if recipe.max_scale < 1 else 1.0


def build_view(recipe: ViewRecipe, strength: float, crop: bool = True, flip: bool = True) -> nn.Module:
    """The view's kornia ops. crop=False leaves the random resized crop out, flip=False the horizontal flip: the
    image loader made them already, on the stored image (ssl_runtime/data/loader.py)."""
    s = strength
    ops: list[nn.Module] = [K.RandomResizedCrop((recipe.size, recipe.size), scale=crop_scale(recipe, s))] if crop else []
    if flip:
        ops.append(K.RandomHorizontalFlip(p=recipe.flip_p * s))
    if recipe.colour:
        b, c, sat, h = (j * s for j in recipe.jitter)
        ops.append(K.ColorJitter(b, c, sat, h, p=recipe.jitter_p * s))
        ops.append(K.RandomGrayscale(p=recipe.gray_p * s))
    if recipe.blur_p > 0 and recipe.size > 32:
        k = max(3, int(recipe.size * 0.1) | 1)
        sigma_max = max(0.2, 2.0 * recipe.size / 224)
        ops.append(K.RandomGaussianBlur((k, k), (0.1, sigma_max), p=recipe.blur_p * s))
    if recipe.solarize_p > 0:
        ops.append(K.RandomSolarize(thresholds=0.0, additions=0.0, p=recipe.solarize_p * s))
    return K.AugmentationSequential(*ops)


def simclr_views(size: int) -> list[ViewRecipe]:
    """SimCLR (Chen et al. 2020, arXiv 2002.05709), symmetric: also MoCo, SimSiam, Barlow Twins, VICReg."""
    return [ViewRecipe(size), ViewRecipe(size)]


def byol_views(size: int) -> list[ViewRecipe]:
    """BYOL (Grill et al. 2020, arXiv 2006.07733): asymmetric blur and solarisation."""
    j = (0.4, 0.4, 0.2, 0.1)
    return [ViewRecipe(size, jitter=j, blur_p=1.0), ViewRecipe(size, jitter=j, blur_p=0.1, solarize_p=0.2)]


def check_local_crop_size(size: int, local_size: int | None) -> None:
    """Local crops are the small views: none larger than the global ones."""
    if local_size is not None and local_size > size:
        raise ConfigError(f"local crops of {local_size} px are larger than the {size} px global ones",
                          field="augment.local_crop_size", fix=f"use at most {size} (the paper: 96 beside 224), or "
                          "leave it unset")


def dino_views(size: int, n_local: int, local_size: int | None = None) -> list[ViewRecipe]:
    """DINO multi-crop (Caron et al. 2021, arXiv 2104.14294): 2 global (0.4-1) and n local (0.05-0.4) crops, the local
    ones `local_size` px (unset: 96/224 of the global size, the paper's ratio)."""
    j = (0.4, 0.4, 0.2, 0.1)
    check_local_crop_size(size, local_size)
    local = local_size or max(8, round(size * 96 / 224))
    globals_ = [
        ViewRecipe(size, min_scale=0.4, jitter=j, blur_p=1.0),
        ViewRecipe(size, min_scale=0.4, jitter=j, blur_p=0.1, solarize_p=0.2),
    ]
    return globals_ + [ViewRecipe(local, 0.05, 0.4, jitter=j, blur_p=0.5) for _ in range(n_local)]


def mae_views(size: int) -> list[ViewRecipe]:
    """MAE (He et al. 2021, arXiv 2111.06377): a crop (0.2-1) and a flip, no colour changes."""
    return [ViewRecipe(size, min_scale=0.2, colour=False, blur_p=0.0)]


class ViewPipeline(nn.Module):
    """Turns a uint8 batch on the device into normalised float views, all in batched kernels.

    With crop=False (image training) each view's crop is cut beforehand and `augment` does the rest.
    """

    def __init__(self, recipes: list[ViewRecipe], strength: float, mean: torch.Tensor, std: torch.Tensor,
                 crop: bool = True, flip: bool = True):
        super().__init__()
        self.strength = strength
        self.recipes = recipes
        self.sizes = [r.size for r in recipes]
        self.views = nn.ModuleList(build_view(r, strength, crop, flip) for r in recipes) if strength > 0 else None
        self._host_draws()
        self.register_buffer("mean", mean.view(1, -1, 1, 1).float(), persistent=False)
        self.register_buffer("std", std.view(1, -1, 1, 1).float(), persistent=False)

    def _apply(self, fn, *args, **kwargs):
        out = super()._apply(fn, *args, **kwargs)
        self._host_draws()
        return out

    def _host_draws(self) -> None:
        """Keep kornia's random draws on the host, wherever the images are. kornia moves a module's samplers with
        `.to(device)`; its ops then test their device-side factors in Python (ColorJitter's "is this step
        neutral?", the blur's "sigma > 0") and each test is a host sync, several per view per step on a GPU.
        Drawn on the host, the factors reach the device in non-blocking copies (kornia's own path)."""
        for m in self.modules():
            if m is not self and hasattr(m, "set_rng_device_and_dtype"):
                m.set_rng_device_and_dtype(torch.device("cpu"), torch.float32)

    def normalise(self, x: torch.Tensor) -> torch.Tensor:
        return (x - self.mean) / self.std

    @torch.no_grad()
    def augment(self, view: int, x: torch.Tensor) -> torch.Tensor:
        """View `view`'s ops (no crop) on an already cropped float batch in [0, 1], then normalisation."""
        if self.views is not None:
            x = self.views[view](x)
        return self.normalise(x).contiguous()

    @torch.no_grad()
    def forward(self, batch_uint8: torch.Tensor) -> list[torch.Tensor]:
        x = batch_uint8.float().div_(255.0)
        if self.views is None:  # strength 0: identical views (resized for smaller crops)
            outs = [x if s == x.shape[-1] else nn.functional.interpolate(x, size=(s, s), mode="bilinear",
                                                                             antialias=True) for s in self.sizes]
        else:
            outs = [view(x) for view in self.views]
        return [self.normalise(o).contiguous() for o in outs]


def channel_stats(images_uint8: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Per-channel mean and std of a uint8 set in [0, 1] units, for normalisation."""
    x = images_uint8.float().div_(255.0)
    mean = x.mean(dim=(0, 2, 3))
    std = x.std(dim=(0, 2, 3)).clamp_min(1e-3)
    return mean, std
