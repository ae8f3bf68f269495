"""Foreign metric names onto sslpilot's (docs/health-and-evaluation.md), and what a run's logs say about it.

The names are the ones solo-learn (Lightning `self.log`), lightly's examples and benchmarks, dinov2's
`training_metrics.json` and the common trainer loggers write. Every metric not listed keeps its own name,
with a `/` in place of characters that would not survive as a key.
"""

from __future__ import annotations

import re

from ssl_runtime.catalogue import ALIASES, METHODS
from ssl_runtime.config import flatten_dotted as flatten

# exact names (lower-cased) -> sslpilot's
KNOWN: dict[str, str] = {
    # the SSL objective
    **dict.fromkeys(("loss", "train_loss", "train/loss", "train_loss_step", "train_loss_ssl", "loss_ssl",
                     "train/loss_ssl", "total_loss", "train/total_loss", "train_nce_loss", "train_neg_cos_sim",
                     "train_barlow_loss", "train_vicreg_loss", "train_dino_loss", "train_byol_loss",
                     "train_simclr_loss", "train_mocov2plus_loss", "train_mocov3_loss", "train_simsiam_loss",
                     "train_reconstruction_loss", "train_mae_loss", "ssl_loss"), "loss"),
    # the spread of L2-normalised projections (solo-learn's train_z_std; lightly's std_of_l2_normalized)
    **dict.fromkeys(("train_z_std", "z_std", "train/z_std", "std_of_l2_normalized", "debug/std",
                     "embedding_std", "train/embedding_std", "health/std"), "health/std"),
    **dict.fromkeys(("rankme", "effective_rank", "train/rankme", "health/rank"), "health/rank"),
    **dict.fromkeys(("teacher_entropy", "train/teacher_entropy"), "health/teacher_entropy"),
    **dict.fromkeys(("lr", "learning_rate", "train/lr", "lr_abs", "train_lr"), "lr"),
    **dict.fromkeys(("grad_norm", "train/grad_norm", "gradient_norm", "grad_norm_2"), "grad_norm"),
    # evaluation during training
    **dict.fromkeys(("knn_acc", "knn/acc", "val_knn_acc1", "knn_acc1", "val_knn_top1", "knn_top1", "knn_accuracy",
                     "val/knn_acc1"), "knn/acc"),
    **dict.fromkeys(("val_acc1", "val/acc1", "val_online_cls_top1", "online_linear_acc", "linear_acc", "probe_acc",
                     "probe/acc", "val_linear_acc1"), "probe/acc"),
    # dinov2's loss terms
    "dino_local_crops_loss": "loss/dino_local", "dino_global_crops_loss": "loss/dino_global",
    "koleo_loss": "loss/koleo", "ibot_loss": "loss/ibot",
    "samples_per_s": "samples_per_s", "throughput": "samples_per_s",
}
STEP_KEYS = ("step", "_step", "global_step", "trainer/global_step", "iteration", "iter")
SKIP = {"epoch", "_runtime", "_timestamp", "_wandb", "wall_time", "timestamp", "created_at", "time"}

# metric names that give the method away (solo-learn logs one loss name per method)
METHOD_HINTS = {"train_barlow_loss": "barlow_twins", "train_vicreg_loss": "vicreg", "train_dino_loss": "dino",
                "dino_local_crops_loss": "dino", "train_mae_loss": "mae", "train_reconstruction_loss": "mae",
                "train_byol_loss": "byol", "train_simsiam_loss": "simsiam", "train_simclr_loss": "simclr",
                "train_mocov2plus_loss": "moco", "train_mocov3_loss": "moco"}
# a foreign run's method read as the nearest sslpilot method: the catalogue's spellings, and dinov2 as dino
METHOD_ALIASES = {**{a: m for a, m in ALIASES.items() if a != m}, "dinov2": "dino"}
DIM_KEYS = ("proj_output_dim", "proj_dim", "projection_dim", "output_dim", "out_dim", "embedding_dim", "embed_dim",
            "feature_dim", "num_features", "dim")


def sslpilot_name(name: str) -> str:
    """The sslpilot name for a foreign metric, or the metric's own name made safe as a key."""
    low = name.strip().lower()
    if low in KNOWN:
        return KNOWN[low]
    if re.fullmatch(r"lr[-_/].*", low):  # Lightning's LearningRateMonitor: lr-SGD, lr-LARS, lr-AdamW/pg1
        return "lr"
    return re.sub(r"[^\w./@-]+", "_", name.strip())[:200] or "metric"


def map_names(names: list[str]) -> dict[str, str]:
    """{foreign: sslpilot} for every name. Where two foreign names land on one sslpilot name (a run logging
    both `train_loss` and `train_nce_loss`), the first in KNOWN's order wins and the other keeps its name."""
    order = {k: i for i, k in enumerate(KNOWN)}
    out: dict[str, str] = {}
    taken: set[str] = set()
    for name in sorted(names, key=lambda n: (order.get(n.strip().lower(), len(order)), n)):
        target = sslpilot_name(name)
        if target in taken:
            target = re.sub(r"[^\w./@-]+", "_", name.strip())[:200]
        taken.add(target)
        out[name] = target
    return out


def infer_method(params: dict, metric_names: list[str], name: str = "") -> str | None:
    """The SSL method from hyperparameters (`method`, `model`...), metric names, then the run's name."""
    flat = {k.lower(): v for k, v in flatten(params).items()}
    for key in ("method", "ssl_method", "model.method", "algorithm", "model", "model_name", "arch"):
        found = _method_of(str(flat.get(key, "")))
        if found:
            return found
    for metric in metric_names:
        if metric.lower() in METHOD_HINTS:
            return METHOD_HINTS[metric.lower()]
    return _method_of(name)


def _method_of(text: str) -> str | None:
    low = text.lower()
    for alias, method in METHOD_ALIASES.items():
        if re.search(rf"(?<![a-z]){alias}(?![a-z])", low):
            return method
    for method in METHODS:
        if re.search(rf"(?<![a-z]){method.replace('_', '[_ -]?')}(?![a-z])", low):
            return method
    return None


def infer_embedding_dim(params: dict) -> int | None:
    """The projection width d (health/std is read against 1/sqrt(d)), from the usual hyperparameter names."""
    flat = flatten(params)
    for want in DIM_KEYS:
        for key, value in flat.items():
            if key.lower().split(".")[-1] == want:
                try:
                    d = int(float(str(value)))
                except ValueError:
                    continue
                if 2 <= d <= 1_000_000:
                    return d
    return None
