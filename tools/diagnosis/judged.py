"""A setting of a run judged ("is the lr of run 4 too high?", "was run 2's temperature ok?"): the value it trained
with and where it came from, the method's default beside it, and whether the run's own diagnosis and its
recommended change point at that setting. The diagnosis decides; nothing here is a second rule about settings."""

from __future__ import annotations

from ssl_runtime.catalogue import BY_NAME, method_class
from tools.diagnosis.evidence import RunEvidence
from tools.run_settings import setting


def judged_settings(info: dict, keys: list[str], ev: RunEvidence, diagnosis: dict, recommendation: dict) -> list[dict]:
    """One entry per asked key: `setting` (tools/run_settings.py), `default` (the method's, None when it has none),
    `changed_to` (the recommended value when the recommendation changes it) and `named` (the diagnosis's causes that
    name it, by the words of its key)."""
    change = recommendation.get("change") or {}
    return [{"setting": setting(info, key), "default": _default(key, ev), "verdict": diagnosis["verdict"],
             "changes": key in change, "changed_to": change.get(key), "category": recommendation.get("category"),
             "named": [c["description"] for c in diagnosis.get("causes", []) if _names(c, key)]} for key in keys]


CAUSE_WORDS = {"optim.lr": ("lr_", "sgd_high_lr"), "train.batch_size": ("batch_",), "train.precision": ("fp16",),
               "optim.warmup_steps": ("no_warmup",), "train.grad_clip": ("no_grad_clip",),
               "augment.strength": ("augmentation", "identical_views"), "train.epochs": ("too_short",),
               "train.steps": ("too_short",)}
"""The diagnosis's causes that are about a setting, by their ids; a method knob's causes carry its name
(temperature_high, ema_too_fast, teacher_temp_high)."""


def _names(cause: dict, key: str) -> bool:
    knob = key.removeprefix("method_args.")
    words = CAUSE_WORDS.get(key) or ((knob.split("_")[0],) if key.startswith("method_args.") else ())
    return any(w in cause["id"] for w in words)


def _default(key: str, ev: RunEvidence):
    """The method's default for a knob or the rate (its base rate x batch/256); None for the other settings, whose
    defaults the launch's confirmation shows."""
    if key == "optim.lr":
        return ev.default_lr
    if key.startswith("method_args.") and ev.method in BY_NAME:
        fields = method_class(ev.method).Args.model_fields
        knob = fields.get(key.removeprefix("method_args."))
        return knob.default if knob is not None else None
    return None
