"""MAE: mask 75% of patches, reconstruct their pixels (He et al. 2021, arXiv 2111.06377), via transformers' ViTMAE.

A weak linear probe is expected for MAE (the paper's ViT-B: 68.0 linear vs 83.6 fine-tuned).
"""

from __future__ import annotations

from pydantic import Field

from ssl_runtime.augment import mae_views
from ssl_runtime.backbones import Backbone, build_mae_model
from ssl_runtime.methods.base import MethodArgs, SSLMethod


class MAEArgs(MethodArgs):
    mask_ratio: float = Field(0.75, gt=0.0, lt=1.0)
    norm_pix_loss: bool = True
    # The decoder is thrown away after pretraining, but its size still shapes the encoder: in the paper's ablation
    # (ViT-L, Table 1a-b) a 1-block decoder fine-tunes as well as 8 blocks yet probes linearly 8 points worse.
    decoder_depth: int = Field(4, ge=1, le=24, description="transformer blocks in the pixel decoder (paper: 8)")
    decoder_dim: int | None = Field(None, ge=16, le=4096, description="the decoder's width; unset: half the "
                                    "encoder's (paper: 512)")


class MAE(SSLMethod):
    name = "mae"
    Args = MAEArgs
    base_lr = 1.5e-4
    weight_decay = 0.05

    @classmethod
    def build(cls, cfg, image_size: int, total_steps: int) -> MAE:
        args = cls.Args.model_validate(cfg.method_args)
        full = build_mae_model(cfg.backbone, image_size, args.mask_ratio, args.norm_pix_loss, args.decoder_depth,
                               args.decoder_dim)
        return cls(Backbone(full.vit, "vit_mae"), args, total_steps, full)

    def __init__(self, backbone, args: MAEArgs, total_steps: int, full_model=None):
        super().__init__(backbone, args, total_steps)
        # The full model shares its encoder with self.backbone; torch.save stores shared tensors once.
        self.mae = full_model

    def view_recipes(self, image_size, augment):
        return mae_views(image_size)

    def training_step(self, views, step):
        return {"loss": self.mae(pixel_values=views[0]).loss}
