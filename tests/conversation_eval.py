"""Scoring whole conversations (several turns in one thread) through the real agent and the offline planner, for
tests/test_agent.py: what the user said across turns must be what happens.

A row is {"turns": [...], "expect": {...}}, read against a home of three runs (1 simclr on digits, succeeded;
2 byol on digits, succeeded; 3 vicreg on digits, running). After the last turn it wants: "queued", how many runs
the conversation queued; "pending", the tool of the action waiting for a yes (or null); "called" and "args", the
last turn's tool call and some of its arguments; "calls", the names of every tool call of the last turn, in order;
"says", words the last answer holds; "queued_args", settings of the last queued run's config (dotted); "deleted",
how many runs went to the trash; "tags", each named run's tags; "parent", the run the last queued run follows up on.

A row with "home": "evidence" plays on the same three runs with metrics written to be read (`write_evidence`): run 1
healthy with a probe, run 2 collapsed, run 3 healthy so far; the two finished runs have their verdicts stored, as a
worker stores them when its run ends. Without it the runs have no metrics at all.
"""

from __future__ import annotations

import atexit
import json
import shutil
import sqlite3
import tempfile
from pathlib import Path

from conftest import tiny_config

from agent.session import Agent
from ssl_runtime.run_folder import RunFolder
from tools.diagnosis import diagnose_ended
from tools.home import Home
from tools.registry import Registry
from tools.runs import enqueue

DATA = Path(__file__).parent / "data"


def seeded_home(root: Path, model_from: Path | None = None, evidence: bool = False) -> Home:
    """A home with the three runs; `model_from`, another home whose fitted intent model is copied in (a fit costs
    seconds); `evidence`, the runs' metrics written (`write_evidence`)."""
    home = Home.resolve(root)
    if model_from is not None:
        (home.root / "cache").mkdir(parents=True, exist_ok=True)
        for fitted in (model_from / "cache").glob("intent-model-*.npz"):
            shutil.copy(fitted, home.root / "cache" / fitted.name)
    reg = Registry(home)
    for method, status in (("simclr", "succeeded"), ("byol", "succeeded"), ("vicreg", "running")):
        run = enqueue(home, tiny_config(method))
        reg.update(run.id, status=status)
        if evidence:
            write_evidence(RunFolder(run.run_dir), {"simclr": "healthy", "byol": "collapsed", "vicreg": "so far"}[method])
            reg.sync(run.id)
            diagnose_ended(home, run.id, index=False)  # as a worker does when its run ends: the verdict stored
    return home


PROBE = {"probe/acc": 0.934, "knn/acc": 0.912, "knn/recall@5": 0.98, "baseline": {"probe/acc": 0.85, "knn/acc": 0.8}}


def write_evidence(folder: RunFolder, kind: str, points: int = 12, d: int = 64) -> None:
    """Metrics that read one way by construction (the bars in tools/diagnosis): `healthy`, a finished run whose
    spread and rank rise, with a probe; `collapsed`, a finished run whose spread falls a hundredfold and rank to 1.1
    while its loss falls; `so far`, a running run halfway, healthy."""
    n = points if kind != "so far" else points // 2
    spread, rank, uni = {"healthy": ((0.06, 0.11), (12, 30), (-1.5, -3.4)),
                         "collapsed": ((0.08, 0.0008), (20, 1.1), (-1.5, -0.02)),
                         "so far": ((0.06, 0.09), (12, 22), (-1.5, -2.8))}[kind]
    data = {"num_images": 1797, "duplicates": 0, "skipped_files": 0, "class_counts": [180] * 10}
    folder.set_status("running", "running", precision="32", embedding_dim=d, health_samples=512, data=data,
                      total_steps=points * 10)
    for i in range(n):
        t = i / (points - 1)
        folder.log_metrics({"step": (i + 1) * 10, "loss": 5.0 - 1.5 * t, "grad_norm": 1.0, "lr": 1e-3,
                            "health/std": spread[0] * (spread[1] / spread[0]) ** t,
                            "health/rank": rank[0] * (rank[1] / rank[0]) ** t,
                            "health/uniformity": uni[0] + (uni[1] - uni[0]) * t, "health/alignment": 0.5})
    if kind == "so far":
        return
    folder.write_summary({"status": "succeeded", "embedding_dim": d, "health_samples": 512, "data": data,
                          "epochs": 30, "peak_lr": 1e-3})
    folder.set_status("succeeded")
    if kind == "healthy":
        folder.probe.write_text(json.dumps(PROBE))


def load(name: str) -> list[dict]:
    return [json.loads(line) for line in (DATA / name).read_text().splitlines() if line.strip()]


def _dotted(config: dict, key: str):
    for part in key.split("."):
        config = config.get(part) if isinstance(config, dict) else None
    return config


def play(home: Home, row: dict, thread: str) -> list[str]:
    """Runs one conversation; returns what differs from its expectations (empty when it went as expected)."""
    reg = Registry(home)
    before = {r.id for r in reg.list(limit=1000)}
    agent = Agent(home, on_launch=lambda run_id: None)
    out: dict = {}
    for text in row["turns"]:
        out = agent.chat(text, thread)
    want = row["expect"]
    after = reg.list(limit=1000)
    queued = [r for r in after if r.id not in before]
    calls = out.get("tool_calls") or []
    got = {"queued": len(queued), "pending": (out.get("pending_confirmation") or {}).get("tool"),
           "called": calls[-1]["name"] if calls else None, "args": calls[-1]["args"] if calls else {},
           "deleted": len(before) - len({r.id for r in after} & before)}
    wrong = [f"{k}: want {want[k]!r}, got {got[k]!r}" for k in ("queued", "pending", "called", "deleted")
             if k in want and want[k] != got[k]]
    if "args" in want and any(got["args"].get(k) != v for k, v in want["args"].items()):
        wrong.append(f"args: want {want['args']}, got {got['args']}")
    if "calls" in want and [c["name"] for c in calls] != want["calls"]:
        wrong.append(f"calls: want {want['calls']}, got {[c['name'] for c in calls]}")
    if "says" in want and want["says"].lower() not in (out.get("answer") or "").lower():
        wrong.append(f"says: want {want['says']!r} in the answer")
    if "tags" in want:
        runs = {r.id: r for r in reg.list(limit=1000)}  # a run that was never made is a miss, not a crash
        seen = {rid: sorted(json.loads(runs[rid].tags_json or "[]")) if rid in runs else None for rid in want["tags"]}
        if seen != {k: sorted(v) for k, v in want["tags"].items()}:
            wrong.append(f"tags: want {want['tags']}, got {seen}")
    if "parent" in want and (queued[0].parent_id if queued else None) != want["parent"]:
        wrong.append(f"parent: want {want['parent']!r}, got {queued[0].parent_id if queued else None!r}")
    if "queued_args" in want:
        config = json.loads(queued[0].config_json) if queued else {}
        seen = {k: _dotted(config, k) for k in want["queued_args"]}
        if seen != want["queued_args"]:
            wrong.append(f"queued config: want {want['queued_args']}, got {seen}")
    return wrong


_SEEDED: dict[bool, Path] = {}
"""A `seeded_home` of each kind, built once in this process (three enqueues and their verdicts, half a second) and
copied for each conversation."""


def copied_home(root: Path, model_from: Path | None = None, evidence: bool = False) -> Home:
    """A fresh `seeded_home` at `root`: this process's first one of its kind, copied, its database's run folders
    pointed at the copy (the one absolute path it holds) and `model_from`'s fitted intent model copied in."""
    template = _SEEDED.get(evidence)
    if template is None:
        scratch = tempfile.mkdtemp(prefix="sslpilot-seeded-")
        atexit.register(shutil.rmtree, scratch, True)
        template = _SEEDED[evidence] = seeded_home(Path(scratch) / "home", evidence=evidence).root
    shutil.copytree(template, root, ignore=shutil.ignore_patterns("sslpilot.db*"))
    src, dst = sqlite3.connect(template / "sslpilot.db"), sqlite3.connect(root / "sslpilot.db")
    try:
        src.backup(dst)  # consistent whatever the template's open connections left in its WAL
        dst.execute("UPDATE run SET run_dir = ? || substr(run_dir, ?)", (str(root), len(str(template)) + 1))
        dst.commit()
    finally:
        src.close()
        dst.close()
    home = Home.resolve(root)
    for fitted in (model_from / "cache").glob("intent-model-*.npz") if model_from else ():
        (home.root / "cache").mkdir(exist_ok=True)
        shutil.copy(fitted, home.root / "cache" / fitted.name)
    return home


def misses(root: Path, rows: list[dict]) -> dict[str, list[str]]:
    """Each conversation on a fresh home (the first home's fitted intent model copied into the rest): the
    conversations that went wrong, with what differed."""
    wrong: dict[str, list[str]] = {}
    first: Path | None = None
    for i, row in enumerate(rows):
        home = copied_home(root / f"home{i}", first, evidence=row.get("home") == "evidence")
        first = first or home.root
        try:
            found = play(home, row, f"c{i}")
        except Exception as e:  # a crash is a miss; the set goes on to be counted
            found = [f"crashed: {type(e).__name__}: {e}"]
        if found:
            wrong[" / ".join(row["turns"])] = found
    return wrong
