"""What every SSL method provides to the trainer. A method is a small nn.Module built from shared parts."""

from __future__ import annotations

from typing import ClassVar

import torch
from pydantic import BaseModel, ConfigDict, model_validator
from torch import nn

from ssl_runtime import ema
from ssl_runtime.augment import ViewRecipe, simclr_views
from ssl_runtime.backbones import Backbone
from ssl_runtime.config import EPOCHS_SUFFIX, AugmentConfig


class MethodArgs(BaseModel):
    """Knobs under `method_args`; unknown keys are errors so typos never fall back to defaults."""

    model_config = ConfigDict(extra="forbid")

    @model_validator(mode="after")
    def _steps_or_epochs(self) -> MethodArgs:
        """A setting that may be said in steps or in epochs (`X_steps`, `X_epochs`) is said one way."""
        for name in self.model_fields_set:
            twin = name.removesuffix(EPOCHS_SUFFIX) + "_steps"
            if name.endswith(EPOCHS_SUFFIX) and getattr(self, name) is not None and twin in self.model_fields_set:
                raise ValueError(f"give method_args.{name} or method_args.{twin}, not both")
        return self

    def settings(self) -> dict:
        """Every knob with its value, each length in the one unit it was said in (a `X_epochs` left unset is not
        shown; one set hides its `X_steps`, which the run fills in once an epoch's steps are known)."""
        out = self.model_dump()
        for name in [k for k in out if k.endswith(EPOCHS_SUFFIX)]:
            out.pop(name.removesuffix(EPOCHS_SUFFIX) + "_steps" if out[name] is not None else name)
        return out


class SSLMethod(nn.Module):
    name: ClassVar[str]
    Args: ClassVar[type[MethodArgs]] = MethodArgs
    base_lr: ClassVar[float] = 1e-3  # AdamW peak lr per 256 images
    weight_decay: ClassVar[float] = 1e-4
    teacher_student: ClassVar[bool] = False
    local_crops: ClassVar[bool] = False  # multi-crop: trains on augment.n_local_crops small views too

    def __init__(self, backbone: Backbone, args: MethodArgs, total_steps: int):
        super().__init__()
        self.backbone = backbone
        self.args = args
        self.total_steps = total_steps

    @classmethod
    def build(cls, cfg, image_size: int, total_steps: int) -> SSLMethod:
        """Backbone from `cfg.backbone`, knobs from `cfg.method_args`."""
        from ssl_runtime.backbones import build_backbone

        return cls(build_backbone(cfg.backbone, cfg.method, image_size), cls.Args.model_validate(cfg.method_args),
                   total_steps)

    @classmethod
    def args_from_weights(cls, keys: set[str]) -> dict:
        """`method_args` that a checkpoint's state-dict keys show it was built with (checkpoint.layout_of)."""
        return {}

    def resolved_args(self) -> dict:
        """`method_args` left to auto, as this method fixed them (summary.json's `resolved`)."""
        return {}

    def view_recipes(self, image_size: int, augment: AugmentConfig) -> list[ViewRecipe]:
        """The views a step trains on, at the run's image size; `augment` is the config's (DINO's local crops)."""
        return simclr_views(image_size)

    def training_step(self, views: list[torch.Tensor], step: int) -> dict[str, torch.Tensor]:
        """Return {'loss': scalar, 'loss/<term>': detached scalars...} for one batch of views."""
        raise NotImplementedError

    def forward(self, views: list[torch.Tensor], step: int) -> dict[str, torch.Tensor]:
        """DDP wraps forward, so the training step is the forward."""
        return self.training_step(views, step)

    def after_step(self, step: int) -> None:
        """Called after each optimiser step (EMA teachers, centres)."""

    def embed(self, x: torch.Tensor) -> torch.Tensor:
        """Backbone features: what probes and users get."""
        return self.backbone(x)

    def project(self, x: torch.Tensor) -> torch.Tensor:
        """The embedding the loss sees (the projector's output when the method has one); health is measured on it."""
        projector = getattr(self, "projector", None)
        return projector(self.backbone(x)) if projector is not None else self.backbone(x)

    def health_extras(self, views: list[torch.Tensor]) -> dict[str, torch.Tensor]:
        """Extra health metrics on the held-out views (teacher entropy and KL for DINO)."""
        return {}

    def trainable_parameters(self) -> list[nn.Parameter]:
        return [p for p in self.parameters() if p.requires_grad]


class MomentumMethod(SSLMethod):
    """A student and its EMA teacher (BYOL, MoCo, DINO), as solo-learn's BaseMomentumMethod: the subclass builds
    its head, then calls `make_teacher("projector")` with the head's attribute name; after every optimiser step
    the teacher follows the student's backbone + head with a momentum that rises from `args.ema_momentum` to 1
    along a half cosine."""

    teacher_student = True
    head_name: str  # a name, not a second reference: the head's weights appear once in the state dict

    def make_teacher(self, head_name: str) -> None:
        self.head_name = head_name
        self.teacher = ema.make_teacher(self.student())

    def student(self) -> nn.Sequential:
        return nn.Sequential(self.backbone, getattr(self, self.head_name))

    def after_step(self, step: int) -> None:
        momentum = ema.cosine_momentum(step, self.total_steps, self.args.ema_momentum)
        ema.ema_update(self.teacher, self.student(), momentum)
