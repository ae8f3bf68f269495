"""A launch's config and its cost, built one way for the CLI, the chat and the UI.

Order of precedence, later wins: a config file or the parent run's config, the named fields (method, data,
length, batch, lr, device), then dotted overrides (`--set k=v`, "set method_args.predictor=false", a
recommendation's change).
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

from ssl_runtime.catalogue import VISION_METHODS, data_fields

# a launch's named fields and the config key each one sets (epochs and steps also clear each other)
FIELD_KEYS = {"epochs": "train.epochs", "steps": "train.steps", "batch_size": "train.batch_size", "lr": "optim.lr",
              "device": "train.device", "num_gpus": "train.num_gpus"}
RUN_LENGTH = ("train.epochs", "train.steps")


UNITS = ("epochs", "steps")  # a length said in one replaces the same length said in the other


def other_unit(key: str) -> str | None:
    """The same length in the other unit: train.epochs <-> train.steps, optim.warmup_epochs <-> optim.warmup_steps,
    method_args.X_epochs <-> method_args.X_steps; None for a key that is no length."""
    for unit, other in (UNITS, UNITS[::-1]):
        if key.endswith(unit):
            return key.removesuffix(unit) + other
    return None


def set_length(tree: dict, key: str, value: Any, given: set[str] | frozenset[str] = frozenset()) -> None:
    """Set `key`; a length given in one unit replaces the same length in the other (a parent's `train.steps: 300`
    and a change `train.epochs: 120`, or `optim.warmup_epochs: 0` and `optim.warmup_steps: 500`, would else be both,
    which the config refuses), unless `given` also names it."""
    from ssl_runtime.config import flatten_dotted, set_dotted

    set_dotted(tree, key, value)
    other = other_unit(key)
    if value is not None and other and other not in given and flatten_dotted(tree).get(other) is not None:
        set_dotted(tree, other, None)


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
        set_length(tree, "train.epochs", epochs)
    if steps:
        set_length(tree, "train.steps", steps)
    for name, value in (("batch_size", batch_size), ("lr", lr), ("device", device), ("num_gpus", num_gpus)):
        if value is not None:
            set_dotted(tree, FIELD_KEYS[name], value)
    for key, value in (overrides or {}).items():
        set_length(tree, key, value, given=set(overrides or {}))
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


def dotted_setting(name: str) -> str:
    """The config key a bare `name=value` sets: itself when dotted, the one section's field of that name
    ("warmup_epochs" -> "optim.warmup_epochs", "knn_k" -> "eval.knn_k"), else the method's own setting
    ("temperature" -> "method_args.temperature")."""
    if "." in name:
        return name
    paths = [p for p in setting_names() if p.endswith("." + name) and p.count(".") == 1]
    return paths[0] if len(paths) == 1 else f"method_args.{name}"


def estimate_cost(config: dict, home=None, here: bool = True) -> dict:
    """Steps, batch and devices, from the config and the data size when it is cheap to know (a folder is listed, not
    read); for images also the train size and backbone the run will use, and, with a `home`, how long it should
    take at the speed an earlier run of the same method, backbone, size and device measured there (`here`: the run
    trains on this machine, not on a cluster backend)."""
    from ssl_runtime.config import DEFAULT_BATCH_SIZE, TrainConfig

    train = config["train"]
    data = config["data"]
    n = {"digits": 1797, "shapes": data.get("num_samples") or 2000}.get(data.get("name") or "")
    vision = config.get("method") in VISION_METHODS
    if n is None and vision and data.get("path"):
        n = _images_in(data["path"])
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
    out = {"steps": steps, "epochs": train.get("epochs"), "batch_size": batch or "auto", "batch_note": batch_note,
           "devices": f"{train.get('num_gpus', 1)} x {train.get('device', 'auto')}", "gpus": train.get("num_gpus", 1)}
    if vision:
        out.update(_speed(config, steps, batch, home, here))
    return out


def steps_for_time(config: dict, est: dict) -> int | None:
    """The steps that fill the run's time limit (train.max_minutes) at the speed an earlier run of the same kind
    measured here, so that its schedule ends when its time does; None without a limit or a measured speed."""
    minutes = (config.get("train") or {}).get("max_minutes")
    if not minutes or not est.get("img_per_s") or not isinstance(est.get("batch_size"), int):
        return None
    return max(1, int(minutes * 60 * est["img_per_s"] / est["batch_size"]))


def time_limit_note(config: dict, fitted: bool, length_given: bool) -> str | None:
    minutes = (config.get("train") or {}).get("max_minutes")
    if not minutes:
        return None
    if fitted:
        return f"its length fills {minutes:g} min at the measured speed, and it stops at {minutes:g} min if slower"
    if length_given:
        return f"it stops at {minutes:g} min if it has not finished its steps by then"
    return (f"it stops at {minutes:g} min if it has not finished; no earlier run of this kind here measured a speed "
            "to fit its length (and its learning-rate schedule) to that time, so the length is as shown")


def _images_in(path: str) -> int | None:
    """How many images a data source holds, from its listing (no image is opened); None when it cannot be listed."""
    from ssl_runtime.data.sources import scan
    from ssl_runtime.errors import SSLPilotError

    try:
        return len(scan(Path(path).expanduser()).items) or None
    except (SSLPilotError, OSError):
        return None


SLOW_ON_CPU_PX = 128  # a ResNet or ViT at this size and up trains at images a second, not hundreds, on a CPU


def _speed(config: dict, steps: int | None, batch: int | None, home, here: bool) -> dict:
    """The train size and backbone the run will use; the time an earlier run's measured speed gives; and on a
    machine without a GPU, a warning when large images go through a large backbone."""
    from ssl_runtime.backbones import resolve_name
    from ssl_runtime.configure import build_config
    from ssl_runtime.data import default_image_size
    from ssl_runtime.device import pick_device

    cfg = build_config(config)
    size = default_image_size(cfg.data, cfg.backbone.name)
    backbone = resolve_name(cfg.backbone, cfg.method, size)
    out: dict = {"image_size": size, "backbone": backbone}
    if not here:
        return out
    kind = pick_device(cfg.train.device).type
    measured = _measured_speed(home, cfg.method, backbone, size, kind) if home is not None else None
    if measured and steps and batch:
        run_ids, per_s = measured
        out["img_per_s"] = per_s
        which = (f"the {per_s:.0f} img/s run {run_ids[0]} measured" if len(run_ids) == 1 else
                 f"{per_s:.0f} img/s (the median of what runs {', '.join(run_ids[:-1])} and {run_ids[-1]} measured)")
        out["time"] = f"{_duration(steps * batch / per_s)} at {which}"
    if kind == "cpu" and size >= SLOW_ON_CPU_PX and backbone != "small_cnn":
        out["warning"] = (f"no GPU here: a {backbone} at {size} px trains slowly on a CPU; `data.image_size=64` "
                          f"has {(size / 64) ** 2:.0f}x fewer pixels a view, and `backbone.name=small_cnn` is smaller "
                          "still")
    return out


MEASURED_RUNS = 3
"""How many of the newest runs of the same kind the speed is the median of: one run trained beside other work (a
sweep's neighbour, a benchmark) measures a fraction of the machine's speed, and one such run should not set it."""


def _measured_speed(home, method: str, backbone: str, size: int, device: str) -> tuple[list[str], float] | None:
    """The newest finished runs (up to MEASURED_RUNS) in the home with the same method, backbone, train size and kind
    of device, and the median of the images a second they trained at."""
    import json
    import statistics

    from ssl_runtime.backbones import resolve_name
    from ssl_runtime.config import BackboneConfig
    from ssl_runtime.run_folder import RunFolder, read_json
    from tools.registry import Registry

    found: list[tuple[str, float]] = []
    for run in Registry(home).list(status="succeeded", method=method, limit=200):
        try:
            summary = read_json(RunFolder(run.run_dir).summary)
            tree = json.loads(run.config_json)
            ran = resolve_name(BackboneConfig.model_validate(tree.get("backbone") or {}), method,
                               summary["data"]["image_size"])
        except (OSError, ValueError, KeyError, TypeError):
            continue
        same = (ran, summary["data"]["image_size"], str(summary.get("device", "")).split(":")[0]) == (
            backbone, size, device)
        if same and summary.get("samples_per_s"):
            found.append((run.id, float(summary["samples_per_s"])))
            if len(found) == MEASURED_RUNS:
                break
    if not found:
        return None
    return [rid for rid, _ in found], statistics.median(v for _, v in found)


def device_hours(estimate: dict, runs: int = 1) -> float:
    """The device-hours a launch's estimate comes to, for the chat's per-conversation budget: its steps x batch at
    the speed an earlier run of the same kind measured here, else at SSLPILOT_ASSUMED_IMG_PER_S; times its GPUs and
    its runs (a sweep). 0 where the length is unknown (a folder that could not be listed)."""
    from ssl_runtime import settings

    steps, batch = estimate.get("steps"), estimate.get("batch_size")
    if not isinstance(steps, int) or not isinstance(batch, int):
        return 0.0
    per_s = estimate.get("img_per_s") or settings.get_float("SSLPILOT_ASSUMED_IMG_PER_S")
    return runs * (estimate.get("gpus") or 1) * steps * batch / per_s / 3600


def _duration(seconds: float) -> str:
    if seconds < 90:
        return f"about {seconds:.0f} s"
    if seconds < 5400:
        return f"about {seconds / 60:.0f} min"
    return f"about {seconds / 3600:.1f} h"
