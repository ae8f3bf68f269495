"""A metric named in words ("the effective rank", "embedding std", "grad norm") onto the key a run logs
("health/rank", "health/std", "grad_norm"): one table for the stop rules and the lookups of a run's metrics. Names
other tools write (train_z_std, rankme, knn_acc1) go through the import names (tools/imports/names.py)."""

from __future__ import annotations

import re

from ssl_runtime.run_folder import KNN_ACC
from tools.imports.names import sslpilot_name

PLAIN = {**dict.fromkeys(("training loss", "train loss", "pretraining loss", "ssl loss"), "loss"),
         **dict.fromkeys(("rank", "effective rank", "effective-rank", "erank", "embedding rank"), "health/rank"),
         **dict.fromkeys(("std", "embedding std", "spread", "embedding spread", "feature std"), "health/std"),
         "lidar": "health/lidar", "alpha": "health/alpha_req", "alpha-req": "health/alpha_req",
         "alignment": "health/alignment", "uniformity": "health/uniformity",
         **dict.fromkeys(("perplexity", "ppl", "val perplexity", "held-out perplexity"), "val/perplexity"),
         **dict.fromkeys(("learning rate", "learning-rate", "lr"), "lr"), **dict.fromkeys(("grad norm", "gradient norm"), "grad_norm"),
         "teacher entropy": "health/teacher_entropy", "throughput": "samples_per_s", "steps": "step",
         "epochs": "epoch", **dict.fromkeys(("knn accuracy", "knn acc", "knn"), "knn/acc"),

         **dict.fromkeys(("probe accuracy", "linear probe", "probe"), "probe/acc")}
"""Words for a metric, onto the key a run logs; anything else goes through the import names (tools/imports)."""
EVERY_RUN_LOGS = ("loss", "lr", "grad_norm", "samples_per_s")


def logged_by_every_run(key: str) -> bool:
    """A metric a run will log, before it has logged any: the loss and its terms, the rate, the health metrics."""
    return key in EVERY_RUN_LOGS or key.startswith(("health/", "val/", "loss/"))


KNN_WHILE_TRAINING = re.compile(r"\bk-?nn\b.*\b(?:during|over|while|through(?:out)?|monitor(?:ed|ing)?|online|curve|"
                                r"training)\b|\b(?:online|monitor(?:ed)?|training)\s+k-?nn\b")
"""kNN accuracy as the run went ("the knn monitor", "knn accuracy during training"): monitor/knn_acc, logged at each
health step; "knn accuracy" alone is the end-of-run kNN (knn/acc)."""


def metric_key(words: str) -> str:
    low = " ".join(words.strip().lower().replace("_", " ").split())
    if KNN_WHILE_TRAINING.search(low):
        return KNN_ACC
    return PLAIN.get(low) or PLAIN.get(low.removeprefix("the ")) or sslpilot_name(words.strip())
