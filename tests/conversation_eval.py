"""Scoring whole conversations (several turns in one thread) through the real agent and the offline planner, for
tests/test_agent.py: what the user said across turns must be what happens.

A row is {"turns": [...], "expect": {...}}, read against a home of three runs (1 simclr on digits, succeeded;
2 byol on digits, succeeded; 3 vicreg on digits, running). After the last turn it wants: "queued", how many runs
the conversation queued; "pending", the tool of the action waiting for a yes (or null); "called" and "args", the
last turn's tool call and some of its arguments; "calls", the names of every tool call of the last turn, in order;
"says", words the last answer holds; "queued_args", settings of the last queued run's config (dotted); "deleted",
how many runs went to the trash; "tags", each named run's tags.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from conftest import tiny_config

from agent.session import Agent
from tools.home import Home
from tools.registry import Registry
from tools.runs import enqueue

DATA = Path(__file__).parent / "data"


def seeded_home(root: Path, model_from: Path | None = None) -> Home:
    """A home with the three runs; `model_from`, another home whose fitted intent model is copied in (a fit costs
    seconds)."""
    home = Home.resolve(root)
    if model_from is not None:
        (home.root / "cache").mkdir(parents=True, exist_ok=True)
        for fitted in (model_from / "cache").glob("intent-model-*.npz"):
            shutil.copy(fitted, home.root / "cache" / fitted.name)
    reg = Registry(home)
    for method, status in (("simclr", "succeeded"), ("byol", "succeeded"), ("vicreg", "running")):
        run = enqueue(home, tiny_config(method))
        reg.update(run.id, status=status)
    return home


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
    if "queued_args" in want:
        config = json.loads(queued[0].config_json) if queued else {}
        seen = {k: _dotted(config, k) for k in want["queued_args"]}
        if seen != want["queued_args"]:
            wrong.append(f"queued config: want {want['queued_args']}, got {seen}")
    return wrong
