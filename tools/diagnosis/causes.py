"""Causes read from a run's config: what in its settings explains the verdict its metrics gave (a guard against
collapse removed, a rate far from the recipe's, a hot teacher). diagnose.py decides the verdict and asks here why;
recommend.py turns each cause into a change. The data's own causes (duplicates, unreadable files) are read from
its statistics, in diagnose.data_findings."""

from __future__ import annotations

from dataclasses import dataclass

from ssl_runtime.catalogue import BY_NAME, VISION_METHODS
from tools.diagnosis import thresholds as T
from tools.diagnosis.evidence import RunEvidence


@dataclass
class Cause:
    id: str
    description: str
    score: float  # 0..1, higher = more likely


EXPLAIN_FLAT_LOSS = ("lr_high", "lr_tiny", "sgd_high_lr", "fp16", "temperature_high", "temperature_low")


def optimisation_causes(ev: RunEvidence) -> list[Cause]:
    cfg, out = ev.config, []
    train, optim = cfg.get("train", {}), cfg.get("optim", {})
    lr = ev.peak_lr
    if lr is not None:
        if lr > T.LR_HIGH_FACTOR * ev.default_lr:
            out.append(Cause("lr_high", f"peak lr {lr:.3g} is {lr / ev.default_lr:.0f}x the default "
                             f"{ev.default_lr:.3g} for {ev.method} at batch {ev.batch_size}", 0.9))
        elif lr < T.LR_TINY_FACTOR * ev.default_lr:
            out.append(Cause("lr_tiny", f"peak lr {lr:.3g} is {ev.default_lr / lr:.0f}x below the default "
                             f"{ev.default_lr:.3g}", 0.9))
    if optim.get("name") == "sgd" and lr is not None and lr > 1.0:
        out.append(Cause("sgd_high_lr", "plain SGD with a learning rate above 1", 0.6))
    if train.get("precision") == "fp16":
        out.append(Cause("fp16", "fp16 autocast (bf16 or fp32 is safer; dino #58)", 0.6))
    if not train.get("grad_clip") and ev.status == "diverged":
        out.append(Cause("no_grad_clip", "no gradient clipping", 0.4))
    if optim.get("warmup_steps") == 0 or optim.get("warmup_epochs") == 0:
        out.append(Cause("no_warmup", "no learning-rate warm-up", 0.3))
    temp = ev.args.get("temperature")
    if temp is not None and temp > 1.0:
        out.append(Cause("temperature_high", f"temperature {temp} flattens the contrastive softmax", 0.7))
    if temp is not None and temp <= 0.01:
        out.append(Cause("temperature_low", f"temperature {temp} makes logits explode", 0.6))
    return out


def guard_causes(ev: RunEvidence) -> list[Cause]:
    """Config settings that remove what keeps the method from collapsing (a predictor, a stop-gradient, a slow
    teacher, centring, a cool teacher, VICReg's and Barlow's regularisers)."""
    a, out = ev.args, []
    title = BY_NAME[ev.method].title if ev.method in BY_NAME else ev.method
    if a.get("predictor") is False:  # only methods with a predictor have the knob
        out.append(Cause("no_predictor", f"{title} runs without its predictor", 0.95))
    if ev.method == "simsiam" and a.get("stop_gradient") is False:
        # ranked above a missing predictor: its change restores both (the paper needs both)
        out.append(Cause("no_stop_gradient", "SimSiam runs without its stop-gradient", 0.97))
    if a.get("ema_momentum", 1) < 0.9:  # only EMA-teacher methods have the knob
        out.append(Cause("ema_too_fast", f"EMA momentum {a['ema_momentum']} lets the teacher follow the student "
                         "step by step", 0.8))
    if ev.method == "dino":
        if a.get("teacher_temp", 0.04) > 0.07:
            out.append(Cause("teacher_temp_high", f"teacher_temp {a['teacher_temp']} > 0.07 (unstable per DINO)", 0.9))
        if a.get("center_momentum", 0.9) >= 1.0:
            out.append(Cause("no_centering", "center_momentum 1.0 keeps the centre at zero: no centring", 0.85))
        if _dino_head_without_bn_on_a_cnn(ev):
            out.append(Cause("dino_head_no_bn", "DINO's head has no BatchNorm on a CNN backbone, whose features start "
                             "nearly parallel: once centred, the teacher's targets are uniform", 0.75))
    if ev.method == "vicreg" and (a.get("mu") == 0 or a.get("nu") == 0):
        out.append(Cause("vicreg_no_regulariser", "VICReg's variance or covariance weight is 0", 0.9))
    if ev.method == "barlow_twins" and a.get("lambda_offdiag") == 0:
        out.append(Cause("barlow_no_offdiag", "Barlow Twins' off-diagonal weight is 0", 0.7))
    return out


def _dino_head_without_bn_on_a_cnn(ev: RunEvidence) -> bool:
    """A DINO head without BatchNorm (set so, or a run from before the setting existed, which had none) on a
    backbone known to be convolutional."""
    backbone = ev.started_with.get("backbone.name") or ev.config.get("backbone", {}).get("name")
    if not backbone or backbone == "auto" or str(backbone).startswith("vit"):
        return False
    return not ev.started_with.get("method_args.head_batch_norm", ev.args.get("head_batch_norm"))


def collapse_causes(ev: RunEvidence) -> list[Cause]:
    out = guard_causes(ev)
    if ev.batch_size < 64 and ev.method in VISION_METHODS and ev.method != "mae":  # MAE has no cross-sample term
        out.append(Cause("batch_small", f"batch size {ev.batch_size} is small for {ev.method}", 0.4))
    out += [c for c in optimisation_causes(ev) if c.id in ("lr_high", "temperature_high", "fp16")]
    return out


def dimensional_causes(ev: RunEvidence) -> list[Cause]:
    out = []
    strength = ev.config.get("augment", {}).get("strength", 1.0)
    if strength >= 0.9:
        out.append(Cause("strong_augmentation", "strong augmentation noise can wipe out feature directions "
                         "(Jing et al. 2022)", 0.5))
    proj = ev.args.get("proj_dim")
    if proj and ev.embedding_dim and proj >= 1024:
        out.append(Cause("projector_large", f"a {proj}-d projector on a small backbone", 0.4))
    temp = ev.args.get("temperature")
    if temp is not None and temp < 0.1:
        out.append(Cause("temperature_low", f"temperature {temp} concentrates on the hardest negatives", 0.4))
    return out + collapse_causes(ev)


def weak_causes(ev: RunEvidence) -> list[Cause]:
    out = []
    strength = ev.config.get("augment", {}).get("strength", 1.0)
    if 0 < strength < 0.5:
        out.append(Cause("weak_augmentation", f"augment.strength {strength}: views too similar", 0.7))
    if ev.method == "mae":
        out.append(Cause("mae_probe_expected", "MAE features are known to probe poorly; judge by kNN or fine-tuning",
                         0.6))
    epochs = (ev.summary or {}).get("epochs")
    if epochs is not None and epochs < 20:
        out.append(Cause("too_short", f"only {epochs:.0f} epochs", 0.5))
    return out


SURVIVABLE = ("sgd_high_lr", "temperature_high", "temperature_low")
"""Settings outside every published recipe that a run can survive (scale-invariant layers absorb a huge SGD rate,
a hot contrastive softmax still learns a little) yet end worse for: the failure suite's SimCLR under SGD at lr 50
learned (+10 probe points over its random init) with a RankMe a fifth of its control's. An AdamW rate far above the
default is left out: the default is AdamW's, and published SGD and LARS rates sit 100x above it."""


def survived_settings(ev: RunEvidence) -> list[Cause]:
    """The config's SURVIVABLE settings: outside every published recipe, yet a run may live through them."""
    return [c for c in optimisation_causes(ev) if c.id in SURVIVABLE]
