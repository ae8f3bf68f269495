"""Issue 22, part 5: would a small learned classifier beat the rules? A decision tree over trajectory features, fitted
on the failure suite's stored runs and measured against the rules, alone and as a sure-only second opinion.

Measured in session 12 (benchmarks/RESULTS.md): under the override policy below it adds 2 right and 8 wrong
verdicts over 146 runs held out set by set, so the product keeps the rules alone; this script is the experiment.

Each vision scenario's run gives one example: the trajectory features of its finished run and the verdict family
its fault should produce (healthy, collapse, not learning, weak). Data faults, text and image-text scenarios are
left to the rules. `--cv` scores rules, tree and the two combined with each set held out in turn (the tree fitted
on the others); `--save` writes the tree fitted on every given set; `--score SET=DIR` scores a set the tree was
not fitted on.

    python benchmarks/fit_verdict_tree.py --sets dev=/tmp/fs9-dev,heldout=/tmp/fs10-heldout --cv --save
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
from dataclasses import dataclass
from pathlib import Path

os.environ.setdefault("SSLPILOT_INDEX_RUNS", "0")
sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import table  # noqa: E402
from failure_scenarios import SETS  # noqa: E402

from ssl_runtime.catalogue import VISION_METHODS  # noqa: E402

DEPTH, LEAF = 4, 5
OUT = Path("/tmp/verdict_tree.json")

CLASSES = ("healthy", "collapse", "not_learning", "weak_representation")
"""What the tree tells apart. Divergence, failed runs, data problems and thin evidence stay with the rules (they
read NaNs, errors and data statistics exactly); text methods are judged by perplexity, not geometry."""

FAMILY = {"healthy": "healthy", "complete_collapse": "collapse", "dimensional_collapse": "collapse",
          "not_learning": "not_learning", "diverged": "not_learning", "weak_representation": "weak_representation"}
"""The rules' verdicts as the tree's classes; a verdict not here (diverged aside) is never overridden."""
FAILURES = ("collapse", "not_learning")

OVERRIDE_PURITY = 0.8
MIN_LEAF = 5


def _ratio(a: float | None, b: float | None) -> float:
    return a / b if a is not None and b not in (None, 0) else math.nan


FEATURES = ("spread x sqrt(d)", "spread / its best", "RankMe / capacity", "RankMe / its peak", "uniformity",
            "loss change, first to last third", "teacher entropy / ln K", "student KL / ln K",
            "probe gain over random init (points)", "kNN gain over random init (points)")


def features(ev) -> dict[str, float]:
    """Scale-free numbers read from the run's own path (trajectory.path_of: start, best, now), NaN where the run
    has no such series (the tree sends a missing value the way the training runs without it went)."""
    from tools.diagnosis.diagnose import thirds_change
    from tools.diagnosis.trajectory import path_of

    nan = math.nan
    spread, rank = path_of(ev.s("health/std"), smooth=True), path_of(ev.s("health/rank"))
    loss = [v for _, v in ev.s("loss").finite]
    ln_k = math.log(ev.args.get("out_dim", 4096)) if ev.method == "dino" else None
    ent = (ev.s("health/teacher_entropy").last() or ev.s("loss/teacher_entropy").last()) if ln_k else None
    kl = (ev.s("health/kl").last() or ev.s("loss/kl").last()) if ln_k else None
    probe = ev.probe or {}
    base = probe.get("baseline") or {}

    def gain(key: str) -> float:
        return 100 * (probe[key] - base[key]) if probe.get(key) is not None and base.get(key) is not None else nan

    values = (
        spread.now * math.sqrt(ev.embedding_dim) if spread and ev.embedding_dim else nan,
        _ratio(spread.now, spread.best) if spread else nan,
        _ratio(rank.now, ev.rank_capacity) if rank else nan,
        _ratio(rank.now, rank.best) if rank else nan,
        (ev.s("health/uniformity").last() or (None, nan))[1],
        thirds_change(loss) if len(loss) >= 3 else nan,
        ent[1] / ln_k if ent else nan,
        kl[1] / ln_k if kl else nan,
        gain("probe/acc"),
        gain("knn/acc"),
    )
    return dict(zip(FEATURES, values, strict=True))


@dataclass
class Opinion:
    verdict: str  # one of CLASSES
    purity: float  # the share of the leaf's training runs of that class
    support: int  # how many training runs reached the leaf
    path: list[str]  # the tests on the way, with this run's numbers ("RankMe / capacity = 0.061 <= 0.075")

    @property
    def sure(self) -> bool:
        return self.purity >= OVERRIDE_PURITY and self.support >= MIN_LEAF


def overrides(rules_verdict: str, op: Opinion) -> bool:
    """Whether the tree's opinion replaces the rules' verdict: only when it is sure, and only to call a failure the
    rules missed (healthy or weak -> collapse or not learning) or to clear one they raised (-> healthy). A weak
    verdict is the probe's own measurement (no gain over the random init), which the tree does not overrule."""
    if not op.sure or FAMILY.get(rules_verdict) in (None, op.verdict):
        return False
    rules = FAMILY[rules_verdict]
    return (op.verdict in FAILURES and rules in ("healthy", "weak_representation")) or \
        (op.verdict == "healthy" and rules in FAILURES and rules_verdict != "diverged")


def opinion(ev, tree: dict) -> Opinion:
    """The tree's verdict for a run, with the path that led to it."""
    x = features(ev)
    node, path = tree["root"], []
    while "leaf" not in node:
        value = x.get(node["feature"], math.nan)
        if math.isnan(value):
            go_left = node["missing_left"]
            path.append(f"{node['feature']} not measured")
        else:
            go_left = value <= node["threshold"]
            path.append(f"{node['feature']} = {value:.3g} {'<=' if go_left else '>'} {node['threshold']:.3g}")
        node = node["left"] if go_left else node["right"]
    counts = node["leaf"]
    total = sum(counts.values())
    best = max(counts, key=counts.get)
    return Opinion(best, counts[best] / total if total else 0.0, total, path)


def examples(set_name: str, out: Path) -> list[dict]:
    """(features, label, the rules' verdict, accepted verdicts) for each vision scenario of a set with a run."""
    from failure_suite import load

    from tools.diagnosis import diagnose, load_evidence

    rows = load(out / f"{set_name}.jsonl")
    found = []
    for s in SETS[set_name]:
        r = rows.get(s.id)
        run_dir = out / f"home-{set_name}" / "runs" / str((r or {}).get("run_id"))
        if not r or s.method not in VISION_METHODS or s.verdicts[0] not in FAMILY or not run_dir.exists():
            continue  # data faults (data_problem), text and image-text stay with the rules
        ev = load_evidence(run_dir)
        found.append({"id": s.id, "set": set_name, "x": features(ev), "label": FAMILY[s.verdicts[0]],
                      "accepted": {FAMILY.get(v, v) for v in s.verdicts}, "rules": diagnose(ev, []).verdict,
                      "ev": ev})
    return found


def fit(train: list[dict]):
    from sklearn.tree import DecisionTreeClassifier

    x = [[e["x"][f] for f in FEATURES] for e in train]
    y = [e["label"] for e in train]
    return DecisionTreeClassifier(max_depth=DEPTH, min_samples_leaf=LEAF, random_state=0).fit(x, y)


def export(model) -> dict:
    """The fitted tree as nested JSON nodes: feature, threshold, where a missing value goes, and leaf counts."""
    t = model.tree_
    classes = [str(c) for c in model.classes_]

    def node(i: int) -> dict:
        if t.children_left[i] == -1:
            share = t.value[i][0] / t.value[i][0].sum()
            n = int(t.n_node_samples[i])
            return {"leaf": {c: int(round(v * n)) for c, v in zip(classes, share, strict=True) if v > 0}}
        return {"feature": FEATURES[t.feature[i]], "threshold": float(t.threshold[i]),
                "missing_left": bool(t.missing_go_to_left[i]), "left": node(t.children_left[i]),
                "right": node(t.children_right[i])}

    return {"depth": DEPTH, "min_leaf": LEAF, "classes": classes, "root": node(0)}


def score(test: list[dict], tree: dict) -> dict:
    """How often the rules, the tree and the two combined name an accepted verdict family."""
    right = {"rules": 0, "tree": 0, "combined": 0}
    for e in test:
        op, rules = opinion(e["ev"], tree), FAMILY.get(e["rules"], e["rules"])
        combined = op.verdict if overrides(e["rules"], op) else rules
        right["rules"] += rules in e["accepted"]
        right["tree"] += op.verdict in e["accepted"]
        right["combined"] += combined in e["accepted"]
        e["tree"], e["combined"] = op.verdict, combined
    return {k: v / max(1, len(test)) for k, v in right.items()} | {"n": len(test)}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sets", required=True, help="SET=DIR,...: the failure suite's output folders fitted on")
    ap.add_argument("--cv", action="store_true", help="hold each set out in turn")
    ap.add_argument("--save", action="store_true", help=f"write the tree fitted on every set to {OUT}")
    ap.add_argument("--score", default="", help="SET=DIR,...: sets the tree was not fitted on, scored once")
    args = ap.parse_args()
    data = {}
    for item in args.sets.split(","):
        name, out = item.split("=", 1)
        data[name] = examples(name, Path(out))
    everything = [e for v in data.values() for e in v]
    counts = {c: sum(e["label"] == c for e in everything) for c in CLASSES}
    print(f"{len(everything)} runs from {', '.join(f'{k} ({len(v)})' for k, v in data.items())}; labels {counts}")
    if args.cv:
        rows = []
        for held in data:
            train = [e for k, v in data.items() if k != held for e in v]
            s = score(data[held], export(fit(train)))
            rows.append([held, s["n"], f"{s['rules']:.0%}", f"{s['tree']:.0%}", f"{s['combined']:.0%}"])
            for e in data[held]:
                if e["combined"] != FAMILY.get(e["rules"], e["rules"]):
                    print(f"  {held} {e['id']}: rules {e['rules']} -> {e['combined']} (expected "
                          f"{'/'.join(sorted(e['accepted']))})")
        print(table(["held-out set", "runs", "rules", "tree", "rules + sure tree"], rows))
    tree = {**export(fit(everything)), "fitted_on": {k: len(v) for k, v in data.items()}}
    if args.save:
        OUT.write_text(json.dumps(tree, indent=1) + "\n")
        print(f"wrote {OUT}")
    for item in filter(None, args.score.split(",")):
        name, out = item.split("=", 1)
        test = examples(name, Path(out))
        s = score(test, tree)
        print(f"\n{name} (not fitted on): {s['n']} runs; rules {s['rules']:.0%}, tree {s['tree']:.0%}, rules + sure "
              f"tree {s['combined']:.0%}")
        print(table(["scenario", "expected", "rules", "tree", "combined"],
                    [[e["id"], "/".join(sorted(e["accepted"])), e["rules"], e["tree"], e["combined"]] for e in test]))


if __name__ == "__main__":
    main()
