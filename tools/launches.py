"""A launch's config and its cost, built one way for the CLI, the chat and the UI.

Order of precedence, later wins: a config file or the parent run's config, the named fields (method, data,
length, batch, lr, device), then dotted overrides (`--set k=v`, "set method_args.predictor=false", a
recommendation's change).
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

from ssl_runtime.catalogue import data_fields


def launch_config(*, method: str | None = None, data: str | None = None, epochs: int | None = None,
                  steps: int | None = None, batch_size: int | None = None, lr: float | None = None,
                  device: str | None = None, num_gpus: int | None = None, overrides: dict[str, Any] | None = None,
                  sets: list[str] | None = None, base: dict | None = None,
                  config_file: str | Path | None = None) -> dict:
    """The validated config tree (JSON-able). `base` is a parent run's config for a follow-up."""
    from ssl_runtime.config import deep_merge, load_config_file, parse_overrides, set_dotted
    from ssl_runtime.configure import build_config

    tree: dict[str, Any] = dict(base or {}) if base else (load_config_file(config_file) if config_file else {})
    tree.pop("name", None)
    if method:
        tree["method"] = method
    if data:
        tree["data"] = data_fields(data)
    if epochs:
        set_dotted(tree, "train.epochs", epochs)
        set_dotted(tree, "train.steps", None)
    if steps:
        set_dotted(tree, "train.steps", steps)
        set_dotted(tree, "train.epochs", None)
    for key, value in (("train.batch_size", batch_size), ("optim.lr", lr), ("train.device", device),
                       ("train.num_gpus", num_gpus)):
        if value is not None:
            set_dotted(tree, key, value)
    for key, value in (overrides or {}).items():
        set_dotted(tree, key, value)
    tree = deep_merge(tree, parse_overrides(sets or []))
    return build_config(tree).model_dump(mode="json")


@functools.cache
def setting_names() -> frozenset[str]:
    """Every config key's own name and dotted path ("knn_k", "eval.knn_k", "lr", "optim.lr"): what a `key=value`
    in a message must look like to be a setting rather than a description ("loss=nan")."""
    from pydantic import BaseModel

    from ssl_runtime.config import RunConfig

    names: set[str] = set()

    def walk(model: type[BaseModel], prefix: str) -> None:
        for name, field in model.model_fields.items():
            names.update({name, prefix + name})
            kind = field.annotation
            if isinstance(kind, type) and issubclass(kind, BaseModel):
                walk(kind, f"{prefix}{name}.")

    walk(RunConfig, "")
    return frozenset(names)


def estimate_cost(config: dict) -> dict:
    """Steps, batch and devices, from the config and the data size when it is cheap to know."""
    from ssl_runtime.config import DEFAULT_BATCH_SIZE, TrainConfig

    train = config["train"]
    data = config["data"]
    n = {"digits": 1797, "shapes": data.get("num_samples") or 2000}.get(data.get("name") or "")
    n_train = int(n * (1 - data.get("val_fraction", 0.2))) if n else None
    batch = train.get("batch_size")
    if n_train:
        batch = TrainConfig.model_validate(train).fit_batch_size(n_train)
    if train.get("batch_size"):
        batch_note = "set in the config"
    elif batch is None:
        batch_note = f"auto: {DEFAULT_BATCH_SIZE}, lowered if the data is small"
    else:
        batch_note = "auto: lowered to fit the data" if batch < DEFAULT_BATCH_SIZE else "default"
    steps = train.get("steps")
    if steps is None and n_train:
        steps = n_train // batch * train["epochs"]
    return {"steps": steps, "epochs": train.get("epochs"), "batch_size": batch or "auto", "batch_note": batch_note,
            "devices": f"{train.get('num_gpus', 1)} x {train.get('device', 'auto')}"}
