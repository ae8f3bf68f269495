"""A sweep told to stop its weak runs early ("with hyperband", "successive halving", "stop the bad ones early"):
`launch_sweep(prune=True)`, with the metric and the reduction factor when the message names them (tools/pruning.py).

"With early stopping" on a sweep is this too (W&B's sweeps call it `early_terminate`); on a single launch it stays
the run's own plateau stop (agent/stop_words.py).
"""

from __future__ import annotations

import re

from tools.metric_words import KNN_ACC, logged_by_every_run, metric_key

_WEAK = r"(?:worst|weakest|weak|bad|poor|losing|slow(?:est)?|under-?performing)"
PRUNE = re.compile(
    r"\b(?:hyper-?band|successive\s+halving|asha|early[- ]terminat(?:e|ion)|early[- ]?stopping)\b"
    rf"|\b(?:stop|kill|drop|prune|cut|terminate|end|cull)\s+(?:the\s+|my\s+)?(?:{_WEAK}\s+)?(?:ones|runs|trials|"
    rf"losers|performers|configs?)(?:\s+(?:ones|runs))?\s+(?:early|halfway|part-?way|as\s+(?:it|they)\s+go(?:es)?)\b"
    rf"|\b(?:stop|kill|drop|prune|cut|terminate|end|cull)\s+(?:the\s+)?{_WEAK}\s+(?:ones|runs|trials)\b"
    rf"|\bprun(?:e|ing)\s+(?:the\s+)?(?:{_WEAK}\s+)?(?:runs|ones|trials)\b|\bprun(?:e|ing)\b(?=\s+(?:by|on)\b)"
    rf"|\b(?:kill|stop|drop)\s+the\s+losers\s+early\b", re.I)
BY_METRIC = re.compile(r"\b(?:by|on|using)\s+(?:the\s+|their\s+|its\s+)?(?P<metric>[a-z][\w/@.-]*(?:\s+[a-z][\w/@.-]*)?)",
                       re.I)
ETA = re.compile(r"\b(?:eta|reduction\s+factor|halving\s+factor)\s*(?:=|of|:)?\s*(?P<eta>\d+)\b|\bkeep(?:ing)?\s+the\s+"
                 r"(?:best|top)\s+(?P<part>half|third|quarter)\b", re.I)
PARTS = {"half": 2, "third": 3, "quarter": 4}
AT_THE_END = ("probe/acc", "knn/acc")
"""Measured once a run has ended, so no run has them at a rung: asked about, with the kNN monitor offered."""


def read_prune(text: str) -> tuple[dict, str]:
    """The sweep's early stopping the message asks for (`prune`, `prune_metric`, `prune_eta`), and the message
    without those words, so the rest is read as the sweep it describes (not "drop ... runs" as a delete, not "by
    knn accuracy" as a sort, not "eta 2" as a setting). ({}, text) when it asks for none."""
    m = PRUNE.search(text)
    if m is None:
        return {}, text
    args: dict = {"prune": True}
    before = re.sub(r",?\s*\b(?:with|using|via|and|plus|then)\s+(?:an?\s+)?$", " ", text[:m.start()], flags=re.I)
    rest = before + " " + text[m.end():]
    by = BY_METRIC.match(text[m.end():].lstrip(" ,"))
    key = metric_key(by.group("metric")) if by else ""
    key = KNN_ACC if key == "knn/acc" else key  # while training, kNN is the monitor's
    if key == KNN_ACC or logged_by_every_run(key) or key in AT_THE_END:  # a metric; other words stay in the rest
        args["prune_metric"] = key
        rest = rest.replace(by.group(0), " ", 1)
    eta = ETA.search(rest)
    if eta:
        args["prune_eta"] = int(eta.group("eta")) if eta.group("eta") else PARTS[eta.group("part").lower()]
        before = re.sub(r",?\s*\b(?:with|using|and)\s+(?:an?\s+)?$", " ", rest[:eta.start()], flags=re.I)
        rest = before + " " + rest[eta.end():]
    return args, re.sub(r"\s+", " ", rest).strip(" ,")


def only_early_stopping(text: str) -> bool:
    """Whether the only pruning words are "early stopping", which on a single launch is its own plateau stop."""
    m = PRUNE.search(text)
    return m is not None and re.fullmatch(r"early[- ]?stopping", m.group(0), re.I) is not None
