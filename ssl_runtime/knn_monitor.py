"""kNN accuracy while a run trains: the curve lightly's BenchmarkModule and solo-learn's online kNN draw.

At each health step the backbone embeds a fixed labelled bank of training images and the held-out images of the
health batch (their largest centred squares, no augmentation, as the end-of-run probe reads them), and each held-out
image takes the class its k nearest bank images vote for. Only where the data has labels. The accuracy stays a
tensor on the device, so the step that logs it adds no host sync of its own.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
import torch.nn.functional as F
from torch import nn

from ssl_runtime.probe import knn_predict
from ssl_runtime.run_folder import KNN_ACC


class KnnMonitor:
    """`images` makes (bank uint8, bank labels, query uint8, query labels) on first use, on the device (at the first
    health step, not on the way to the first step); `normalise` turns a uint8 batch into the backbone's input;
    `n_classes` comes from the data's class names, so no label is read back to the host."""

    def __init__(self, images: Callable[[], tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]],
                 normalise: Callable[[torch.Tensor], torch.Tensor], n_classes: int, k: int = 20,
                 temperature: float = 0.07, batch_size: int = 256):
        self._images, self._made = images, None
        self.normalise, self.n_classes = normalise, n_classes
        self.k, self.temperature, self.batch_size = k, temperature, batch_size

    @property
    def images(self) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
        if self._made is None:
            self._made = self._images()
        return self._made

    @torch.no_grad()
    def _embed(self, backbone: nn.Module, images: torch.Tensor) -> torch.Tensor:
        return F.normalize(torch.cat([backbone(self.normalise(chunk)).float()
                                      for chunk in images.split(self.batch_size)]), dim=1)

    @torch.no_grad()
    def measure(self, backbone: nn.Module) -> dict[str, torch.Tensor]:
        bank, bank_y, query, query_y = self.images
        predicted, _ = knn_predict(self._embed(backbone, bank), bank_y, self._embed(backbone, query), self.n_classes,
                                   self.k, self.temperature)
        return {KNN_ACC: (predicted == query_y).float().mean()}
