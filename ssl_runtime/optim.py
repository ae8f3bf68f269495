"""Optimisers (AdamW, SGD, LARS) and the warm-up + cosine schedule."""

from __future__ import annotations

import torch
from torch import nn

from ssl_runtime.config import OptimConfig
from ssl_runtime.schedule import lr_factor, warmup_of


class LARS(torch.optim.Optimizer):
    """SGD with momentum and a layer-wise trust ratio (You et al. 2017, arXiv 1708.03888).

    Biases and norm parameters (1-D) skip the trust ratio and weight decay, as in SimCLR/BYOL.
    """

    def __init__(self, params, lr: float, momentum: float = 0.9, weight_decay: float = 0.0, eta: float = 0.02):
        super().__init__(params, dict(lr=lr, momentum=momentum, weight_decay=weight_decay, eta=eta))

    @torch.no_grad()
    def step(self, closure=None):
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is None:
                    continue
                grad = p.grad
                if p.ndim > 1:
                    grad = grad.add(p, alpha=group["weight_decay"])
                    w_norm, g_norm = torch.linalg.vector_norm(p), torch.linalg.vector_norm(grad)
                    trust = torch.where((w_norm > 0) & (g_norm > 0), group["eta"] * w_norm / g_norm, 1.0)
                    grad = grad.mul(trust)
                buf = self.state[p].get("momentum_buffer")
                if buf is None:
                    buf = self.state[p]["momentum_buffer"] = grad.clone()
                else:
                    buf.mul_(group["momentum"]).add_(grad)
                p.add_(buf, alpha=-group["lr"])


def param_groups(model: nn.Module, weight_decay: float) -> list[dict]:
    """No weight decay on biases and norm parameters."""
    decay, no_decay = [], []
    for p in model.parameters():
        if p.requires_grad:
            (no_decay if p.ndim <= 1 else decay).append(p)
    return [{"params": decay, "weight_decay": weight_decay}, {"params": no_decay, "weight_decay": 0.0}]


def build_optimizer(model: nn.Module, cfg: OptimConfig, base_lr: float, default_wd: float,
                    batch_size: int) -> tuple[torch.optim.Optimizer, float]:
    """Returns the optimiser and its peak lr (default: base_lr * batch_size / 256, the linear scaling rule, times
    optim.lr_scale)."""
    name = "adamw" if cfg.name == "auto" else cfg.name
    lr = cfg.lr if cfg.lr is not None else base_lr * batch_size / 256 * cfg.lr_scale
    wd = cfg.weight_decay if cfg.weight_decay is not None else default_wd
    groups = param_groups(model, wd)
    if name == "adamw":
        return torch.optim.AdamW(groups, lr=lr), lr
    if name == "sgd":
        return torch.optim.SGD(groups, lr=lr, momentum=cfg.momentum), lr
    return LARS(groups, lr=lr, momentum=cfg.momentum), lr


def build_schedule(opt: torch.optim.Optimizer, cfg: OptimConfig, total_steps: int) -> torch.optim.lr_scheduler.LambdaLR:
    """Linear warm-up (default 10% of steps) then cosine decay to zero, or constant (ssl_runtime/schedule.py)."""
    warmup = warmup_of(cfg.warmup_steps, total_steps)
    return torch.optim.lr_scheduler.LambdaLR(opt, lambda step: lr_factor(step, total_steps, warmup, cfg.schedule))
