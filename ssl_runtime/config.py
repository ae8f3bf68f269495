"""The one run config: a pydantic model loadable from YAML/JSON and overridable with dotted keys.

Method knobs live under `method_args` with their published names; each method validates them
with its own `Args` model so a typo ("temprature") is an error, not a silent default.
"""

from __future__ import annotations

import difflib
import json
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    ValidationError,
    field_validator,
    model_validator,
)

from ssl_runtime.catalogue import (  # noqa: F401
    BACKBONES,
    BUILTIN_DATASETS,
    METHODS,
    OPTIMIZERS,
    SCHEDULES,
    TEXT_METHODS,
    VISION_METHODS,
    canonical,
)
from ssl_runtime.errors import ConfigError, DataError

DEFAULT_BATCH_SIZE = 256
MIN_STEPS_PER_EPOCH = 4  # an automatic batch leaves at least this many steps in an epoch
EPOCHS_SUFFIX = "_epochs"  # a method setting `X_epochs` is its `X_steps` said in epochs (RunConfig.settle_epochs)


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_assignment=True)


class DataConfig(_Strict):
    name: str | None = Field(None, description="built-in dataset: digits or shapes")
    path: str | None = Field(None, description="image folder, datasets folder, .tar shards or a .csv/.jsonl of paths")
    kind: Literal["auto", "builtin", "image_folder", "hf_dataset", "tar_shards", "path_list", "text_folder",
                  "captions"] = "auto"
    image_size: int | None = Field(None, ge=8, le=1024, description="train side in pixels; unset: 16 digits, "
                                   "32 shapes, 224 for your images (64 with small_cnn)")
    val_fraction: float = Field(0.2, ge=0.0, lt=1.0)
    num_samples: int | None = Field(None, ge=16, description="size of the generated shapes set")
    max_samples: int | None = Field(None, ge=1, description="use at most this many images: a fixed choice spread "
                                    "over the whole data (the same for every run of it), not its first ones")
    dedup: bool = Field(False, description="drop exact duplicate images before the split")
    cache_dir: str | None = Field(None, description="where dataset caches live; unset: $SSLPILOT_HOME/datasets")
    max_side: int | None = Field(None, ge=8, le=4096, description="longest side images are cached at; unset: "
                                 "max(256, image_size)")
    cache_format: Literal["auto", "raw", "jpeg"] = Field("auto", description="auto: raw up to 64 px, else JPEG")
    loader: Literal["auto", "resident", "stream"] = Field(
        "auto", description="auto: resident when the decoded images fit memory_budget_gb, else streamed")
    memory_budget_gb: float | None = Field(None, gt=0, description="resident data limit; unset: half the free "
                                           "GPU memory, a quarter of the available host memory on CPU")
    workers: int | None = Field(None, ge=0, le=64, description="loader processes when streaming; unset: "
                                "cores - 1, at most 8")
    text_field: str = Field("text", description="text column of .jsonl/datasets/labelled files (mlm, clm)")
    label_field: str = Field("label", description="label column of data.labels_path")
    labels_path: str | None = Field(None, description="CSV/JSONL of (text, label) for the text probe")
    image_field: str = Field("image", description="image path column of a captions file (clip)")
    caption_field: str = Field("caption", description="caption column of a captions file (clip)")

    @model_validator(mode="after")
    def _one_source(self) -> DataConfig:
        if self.name is None and self.path is None:
            self.name = "digits"
        if self.name is not None and self.path is not None:
            raise ValueError("give data.name (built-in) or data.path (your folder), not both")
        if self.name is not None and self.name not in BUILTIN_DATASETS:
            raise ValueError(
                f"unknown built-in dataset {self.name!r}; choose one of {', '.join(BUILTIN_DATASETS)} "
                "or set data.path to your image folder"
            )
        return self


class BackboneConfig(_Strict):
    name: Literal[("auto", *BACKBONES)] = "auto"
    pretrained: str | None = Field(None, description="local path or hub id loaded with from_pretrained")
    width: float = Field(1.0, gt=0.0, le=4.0, description="channel multiplier; 1.0 is the published size")
    patch_size: int | None = Field(None, ge=1, le=64, description="a ViT's patch side in pixels; unset: 16 at 128 px "
                                   "and up, else about 8x8 patches per image (it must divide data.image_size)")


class AugmentConfig(_Strict):
    strength: float = Field(1.0, ge=0.0, le=1.0, description="0 = identical views, 1 = published pipeline")
    n_local_crops: int | None = Field(None, ge=0, le=16, description="DINO local crops (default 6)")
    local_crop_size: int | None = Field(None, ge=8, le=512, description="DINO local crops' side in px; unset: 96/224 "
                                        "of the global crops' (the paper's 96 beside 224)")


class OptimConfig(_Strict):
    name: Literal[("auto", *OPTIMIZERS)] = "auto"
    lr: float | None = Field(None, gt=0.0, description="peak learning rate; default base_lr * batch/256")
    lr_scale: float = Field(1.0, gt=0.0, le=1000.0, description="multiplies the default peak lr (base_lr * "
                            "batch/256) when lr is unset: a multiple of a rate the run chooses at its start ('twice "
                            "run 4's lr' before run 4 has started); ignored when lr is set")
    weight_decay: float | None = Field(None, ge=0.0)
    momentum: float = Field(0.9, ge=0.0, lt=1.0)
    warmup_steps: int | None = Field(None, ge=0, description="linear warm-up; default 10% of steps")
    warmup_epochs: float | None = Field(None, ge=0.0, description="the warm-up in epochs instead (solo-learn's "
                                        "warmup_epochs), turned into steps once the data's size is known")
    schedule: Literal[SCHEDULES] = "cosine"

    @model_validator(mode="after")
    def _one_warmup(self) -> OptimConfig:
        if self.warmup_epochs is not None and self.warmup_steps is not None:
            raise ValueError("give optim.warmup_epochs or optim.warmup_steps, not both")
        return self


class TrainConfig(_Strict):
    epochs: int | None = Field(None, ge=1)
    steps: int | None = Field(None, ge=1)
    batch_size: int | None = Field(None, ge=2, description="items per step (global); unset: 256, lowered to fit "
                                   "small data (see fit_batch_size)")
    precision: Literal["auto", "32", "bf16", "fp16"] = "auto"
    grad_clip: float | None = Field(None, gt=0.0)
    seed: int = 0
    checkpoint_every: int | None = Field(None, ge=1, description="steps between checkpoints; unset: about a "
                                         "tenth of the run (at most 500) on a multiple of health_every")
    keep_checkpoints: int = Field(5, ge=0, description="step_<n>.pt files kept besides last.pt, spread over the "
                                  "run (first and newest kept) so its trajectory can be ranked; 0 keeps none")
    log_every: int = Field(10, ge=1)
    health_every: int = Field(50, ge=1)
    health_samples: int = Field(512, ge=16)
    device: str = Field("auto", description="auto, cpu, cuda, cuda:N or mps")
    compile: bool = False
    deterministic: bool = False
    num_gpus: int = Field(1, ge=1, le=64, description="GPUs for one run (torchrun DDP when > 1)")
    tensorboard: bool = Field(True, description="mirror metrics to event files in <run>/tensorboard/ (when the "
                                                "tensorboard package is installed)")
    mlflow_uri: str | None = Field(None, description="mirror metrics to this MLflow tracking URI (default: "
                                                     "MLFLOW_TRACKING_URI when set)")
    mlflow_experiment: str = "sslpilot"
    max_minutes: float | None = Field(None, gt=0, description="stop with a checkpoint once the run has trained this "
                                      "long (it then ends as succeeded, short of its planned steps)")
    init_from: str | None = Field(None, description="a checkpoint (a run's checkpoints/last.pt or step_<n>.pt) whose "
                                  "weights start this run: continued pretraining, with a fresh optimiser and schedule")

    @model_validator(mode="after")
    def _length(self) -> TrainConfig:
        if self.epochs is not None and self.steps is not None:
            raise ValueError("give train.epochs or train.steps, not both")
        if self.epochs is None and self.steps is None:
            self.epochs = 10
        return self

    def fit_batch_size(self, n_train: int, world_size: int = 1, what: str = "training images") -> int:
        """The global batch for `n_train` items. A batch the user set is used as given (and refused when larger
        than the data); unset, it is 256 or, for small data, the largest power of two that leaves at least
        MIN_STEPS_PER_EPOCH steps per epoch, rounded to a multiple of the number of processes."""
        if self.batch_size is not None:
            if self.batch_size > n_train:
                raise DataError(f"batch size {self.batch_size} is larger than the {n_train} {what}",
                                field="train.batch_size", fix=f"use at most {n_train}, leave it unset, or add data")
            return self.batch_size
        cap = min(DEFAULT_BATCH_SIZE, n_train // MIN_STEPS_PER_EPOCH)
        batch = 1 << max(cap, 1).bit_length() - 1
        batch -= batch % world_size
        if batch < max(2, world_size):
            raise DataError(f"only {n_train} {what}: too few for a batch of 2 per process", field="data",
                            fix="add data (a few hundred items at least)")
        return batch


class EvalConfig(_Strict):
    """How frozen features are compared in the kNN / retrieval evaluation."""

    knn_k: int = Field(20, ge=1, le=1000)
    knn_temperature: float = Field(0.07, gt=0.0, le=10.0)
    feature_norm: Literal["l2", "standardize"] = "l2"  # standardize = per-dimension z-score, then L2
    pooling: Literal["auto", "cls", "mean"] = "auto"  # ViTs: CLS token or mean of patch tokens
    max_images: int = Field(20000, ge=50, description="probe/kNN use at most this many images (split kept)")
    label_fraction: float = Field(1.0, gt=0.0, le=1.0, description="share of the training split's labels the probe "
                                  "and kNN learn from, the same share of each class (semi-supervised: 0.01, 0.1)")
    time_budget_s: float | None = Field(None, gt=0, description="the probe embeds a seeded sample sized to take "
                                        "about this long; unset: a quarter of the run's training time, 10 to 300 s")
    knn_monitor_images: int = Field(1024, ge=0, description="while training, at each health step: kNN accuracy of "
                                    "the health batch's held-out images against this many labelled training images "
                                    "(monitor/knn_acc; images with labels only); 0 turns it off")


class MonitorConfig(_Strict):
    on_failure: Literal["warn", "stop"] = Field("warn", description="what the queue's live monitor does when this "
                                                "run collapses, diverges or stops learning: warn (an alert event) "
                                                "or stop (checkpoint, stop, and record the recommendation)")
    stop_when: list[str] = Field(default_factory=list, description="end the run early, as succeeded, when one of "
                                 "these is met at a logging step: METRIC OP VALUE over a logged metric or step, "
                                 "epoch, minutes, or METRIC stops falling|rising for N steps (no new best by 1%), "
                                 "e.g. ['loss<0.5', 'minutes>=30', 'loss stops falling for 500 steps'] "
                                 "(docs/operations.md)")

    prune_metric: str | None = Field(None, pattern=r"^[A-Za-z_][\w/@.-]*$", description="in a sweep: stop this "
                                     "run at a rung of successive halving (ASHA) when this logged metric is below "
                                     "the best 1/prune_eta of the sweep's runs there (above, for the loss), e.g. "
                                     "'monitor/knn_acc'; unset: never pruned (the queue decides: tools/pruning.py)")
    prune_eta: int = Field(3, ge=2, le=10, description="successive halving's reduction factor: a run continues past a "
                           "rung when in the best 1/eta there, and rungs are eta times apart")
    prune_min_steps: int | None = Field(None, ge=1, description="the first rung's step; unset: the run's steps / "
                                        "eta^2, so a run meets two rungs before its end")

    @field_validator("stop_when")
    @classmethod
    def _rules(cls, v: list[str]) -> list[str]:
        from ssl_runtime.stop_rules import parse

        return [str(parse(r)) for r in v]


class RunConfig(_Strict):
    method: str = "simclr"
    name: str | None = None
    data: DataConfig = Field(default_factory=DataConfig)
    backbone: BackboneConfig = Field(default_factory=BackboneConfig)
    augment: AugmentConfig = Field(default_factory=AugmentConfig)
    optim: OptimConfig = Field(default_factory=OptimConfig)
    train: TrainConfig = Field(default_factory=TrainConfig)
    eval: EvalConfig = Field(default_factory=EvalConfig)
    monitor: MonitorConfig = Field(default_factory=MonitorConfig)
    method_args: dict[str, Any] = Field(default_factory=dict)
    _from_epochs: dict[str, int] = PrivateAttr(default_factory=dict)

    @property
    def from_epochs(self) -> dict[str, int]:
        """The settings said in epochs, as the steps `settle_epochs` made of them (the run's `resolved` shows them)."""
        return dict(self._from_epochs)

    def settle_epochs(self, steps_per_epoch: int) -> None:
        """Settings said in epochs (`optim.warmup_epochs`, a method's `X_epochs` beside its `X_steps`) become steps,
        now that the data's size fixes an epoch: everything after this reads steps only. A share of an epoch above
        zero is at least one step."""
        def steps(epochs: float) -> int:
            return max(1, round(epochs * steps_per_epoch)) if epochs > 0 else 0

        if self.optim.warmup_epochs is not None:
            warmup = steps(self.optim.warmup_epochs)
            self.optim.warmup_epochs = None
            self.optim.warmup_steps = warmup
            self._from_epochs["optim.warmup_steps"] = warmup
        for key in [k for k, v in self.method_args.items() if k.endswith(EPOCHS_SUFFIX) and v is not None]:
            twin = key.removesuffix(EPOCHS_SUFFIX) + "_steps"
            self.method_args[twin] = steps(float(self.method_args.pop(key)))
            self._from_epochs[f"method_args.{twin}"] = self.method_args[twin]

    @field_validator("method")
    @classmethod
    def _method(cls, v: str) -> str:
        v = canonical(v) or v.strip().lower()
        if v not in METHODS:
            raise ValueError(f"unknown method {v!r}; choose one of {', '.join(METHODS)}")
        return v


def format_validation_error(err: ValidationError, within: str = "") -> str:
    """The first error as one line naming its field; `within` is the section the model validated sits in
    ("method_args"), so a rule over several of its keys is named by the section."""
    return error_line(err.errors()[0], within)


def error_line(first: dict, within: str = "") -> str:
    """One pydantic error (an item of `ValidationError.errors()`) as `field: what it must be (got value).`"""
    field = ".".join([within] * bool(within) + [str(p) for p in first["loc"]]) or "config"
    msg = first["msg"].removeprefix("Value error, ")
    got = first.get("input")
    got_txt = f" (got {got!r})" if first["type"] not in ("value_error", "missing") and got is not None else ""
    if first["type"] == "extra_forbidden":
        near = [] if within else difflib.get_close_matches(str(first["loc"][-1]), _section_keys(first["loc"][:-1]), 1)
        prefix = "".join(f"{p}." for p in first["loc"][:-1])
        fix = f"did you mean `{prefix}{near[0]}`?" if near else \
            "remove it or check its spelling against `sslpilot pretrain --help`."
        return f"{field}: unknown key. Fix: {fix}"
    return f"{field}: {msg}{got_txt}."


def _section_keys(loc) -> list[str]:
    """The keys of the config section at `loc` (() for the top), so a misspelt key can be matched to one."""
    model: type[BaseModel] = RunConfig
    for part in loc:
        kind = model.model_fields[str(part)].annotation if str(part) in model.model_fields else None
        if not (isinstance(kind, type) and issubclass(kind, BaseModel)):
            return []
        model = kind
    return list(model.model_fields)


def parse_value(text: str) -> Any:
    """A `--set` value: YAML scalars (1e-3, true, null, [1, 2]) else the raw string."""
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError:
        return text


def flatten_dotted(tree: dict, prefix: str = "") -> dict[str, Any]:
    """{"a": {"b": 1}} -> {"a.b": 1}: the dotted keys that `--set`, recommendations and trackers' params use."""
    out: dict[str, Any] = {}
    for k, v in tree.items():
        key = f"{prefix}{k}"
        if isinstance(v, dict):
            out.update(flatten_dotted(v, key + "."))
        else:
            out[key] = v
    return out


def set_dotted(tree: dict[str, Any], key: str, value: Any) -> None:
    parts = key.split(".")
    node = tree
    for p in parts[:-1]:
        nxt = node.setdefault(p, {})
        if not isinstance(nxt, dict):
            raise ConfigError(f"cannot set a sub-key of a non-mapping value ({p}={nxt!r})", field=key)
        node = nxt
    node[parts[-1]] = value


def parse_overrides(pairs: list[str]) -> dict[str, Any]:
    tree: dict[str, Any] = {}
    for pair in pairs:
        if "=" not in pair:
            raise ConfigError(f"override {pair!r} is not key=value", field="--set", fix="write e.g. --set optim.lr=0.001")
        key, text = pair.split("=", 1)
        set_dotted(tree, key.strip(), parse_value(text.strip()))
    return tree


def deep_merge(base: dict[str, Any], extra: dict[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for k, v in extra.items():
        out[k] = deep_merge(out[k], v) if isinstance(v, dict) and isinstance(out.get(k), dict) else v
    return out


def load_config_file(path: str | Path) -> dict[str, Any]:
    p = Path(path)
    if not p.is_file():
        raise ConfigError(f"config file {str(p)!r} does not exist", field="--config")
    try:
        data = json.loads(p.read_text()) if p.suffix == ".json" else yaml.safe_load(p.read_text())
    except (json.JSONDecodeError, yaml.YAMLError) as exc:
        raise ConfigError(f"cannot parse {p.name}: {str(exc).splitlines()[0]}", field="--config") from None
    if not isinstance(data, dict):
        raise ConfigError(f"{p.name} must hold a mapping at the top level", field="--config")
    return data


def save_config(cfg: RunConfig, path: Path) -> None:
    path.write_text(yaml.safe_dump(cfg.model_dump(mode="json"), sort_keys=False))
