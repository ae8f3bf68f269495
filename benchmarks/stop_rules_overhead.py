"""What stop rules cost a training run: none against rules that never meet (a plateau among them), from the config and from the run's
folder (read at each logging step from its file stamp). Runs alternate, so drift in the machine's speed falls on
both; the ratio is against the run without rules.
    python benchmarks/stop_rules_overhead.py [--steps 150] [--repeats 2] [--log-every 1]
"""

from __future__ import annotations

import argparse

from _common import machine, make_run, table

NEVER = ["loss<-1e9", "health/rank<-1", "minutes>=600", "loss stops falling for 1000000 steps"]
"""Bars no value meets, and a plateau whose wait outlasts the run (it still tracks the loss's best at every row)."""


def run(steps: int, log_every: int, kind: str, i: int) -> float:
    from ssl_runtime.run_folder import RunFolder
    from ssl_runtime.stop_rules import add, parse
    from ssl_runtime.trainer import train

    tree = {"method": "simclr", "data": {"name": "digits"},
            "train": {"steps": steps, "batch_size": 128, "log_every": log_every, "checkpoint_every": 10**9,
                      "device": "cpu"},
            "monitor": {"stop_when": NEVER if kind == "config" else []}}
    path = make_run(tree, f"{kind}{i}")
    if kind == "folder":
        for rule in NEVER:
            add(RunFolder(path), parse(rule), by="bench")
    summary = train(path)
    assert summary["steps"] == steps, summary["message"]  # no rule may stop it
    return summary["samples_per_s"]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--steps", type=int, default=150)
    ap.add_argument("--repeats", type=int, default=2)
    ap.add_argument("--log-every", type=int, default=1, help="1 reads the rules at every step: the worst case")
    args = ap.parse_args()
    kinds = ("none", "config", "folder")
    speeds: dict[str, list[float]] = {k: [] for k in kinds}
    for i in range(args.repeats):
        for kind in kinds:
            speeds[kind].append(run(args.steps, args.log_every, kind, i))
    base = sum(speeds["none"]) / len(speeds["none"])
    rows = [[kind, len(NEVER) if kind != "none" else 0, sum(s) / len(s), min(s), max(s), sum(s) / len(s) / base]
            for kind, s in speeds.items()]
    print(f"\n## Stop rules that never meet, {args.steps} steps, logging every {args.log_every} ({machine()})\n")
    print(table(["rules", "n", "img/s mean", "min", "max", "ratio to none"], rows))


if __name__ == "__main__":
    main()
