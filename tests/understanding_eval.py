"""Scoring the chat's understanding on a message set, for tests/test_understanding.py and
benchmarks/chat_understanding.py.

Every set runs against the same home: five runs (1 simclr on digits, healthy; 2 simsiam on digits, named
"siam-nostop", collapsed; 3 dino on shapes, running; 4 byol on digits, diverged; 5 mae on shapes, weak), with
`{photos}` standing for a folder that exists. A row is right when the reading is the expected tool with the
expected arguments, or, for rows without a tool, the expected kind of answer (a question, a refusal, help); a row
with "says" also wants those words in the question.
"""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from pathlib import Path

from agent.run_refs import RunInfo, World

DATA = Path(__file__).parent / "data"
WORLD = World([
    RunInfo("1", "simclr", "digits", "succeeded", "healthy"),
    RunInfo("2", "simsiam", "digits", "succeeded", "complete_collapse", name="siam-nostop"),
    RunInfo("3", "dino", "shapes", "running", None),
    RunInfo("4", "byol", "digits", "diverged", "diverged"),
    RunInfo("5", "mae", "shapes", "succeeded", "weak_representation"),
])


def load(name: str, photos: Path) -> list[dict]:
    rows = []
    for line in (DATA / name).read_text().splitlines():
        if line.strip():
            rows.append(json.loads(line.replace("{photos}", str(photos))))
    return rows


def expected_label(row: dict) -> str:
    if row.get("tool"):
        return row["tool"]
    return "ask" if row.get("clarify") else "refuse" if row.get("refuse") else "help"


def got_label(reading) -> str:
    return reading.tool if reading.kind == "tool" else {"clarify": "ask"}.get(reading.kind, reading.kind)


def args_match(expected: dict, got: dict) -> bool:
    for k, v in expected.items():
        if k == "overrides":
            if any(got.get("overrides", {}).get(ok) != ov for ok, ov in v.items()):
                return False
        elif k == "query":
            if v.lower() not in got.get("query", "").lower():
                return False
        elif got.get(k) != v:
            return False
    return True


def score(rows: list[dict], read) -> dict:
    """read(message, context) -> Reading. Returns overall and per-label accuracy, the confusion counts and misses."""
    per = defaultdict(lambda: [0, 0])
    confusion: Counter = Counter()
    misses = []
    for row in rows:
        reading = read(row["message"], row.get("context", {}))
        want, got = expected_label(row), got_label(reading)
        ok = want == got and (reading.kind != "tool" or args_match(row.get("args", {}), reading.args)) and \
            row.get("says", "").lower() in (reading.question or "").lower()
        per[want][0] += ok
        per[want][1] += 1
        confusion[(want, got)] += 1
        if not ok:
            misses.append({"message": row["message"], "want": want, "want_args": row.get("args"), "got": got,
                           "got_args": reading.args, "confidence": round(reading.confidence, 2)})
    total = sum(n for _, n in per.values())
    return {"accuracy": sum(k for k, _ in per.values()) / total, "n": total,
            "per_label": {k: (v[0] / v[1], v[1]) for k, v in sorted(per.items())},
            "confusion": confusion, "misses": misses}


def legacy_reader():
    """The rule-based reading this project had before the classifier (benchmarks/legacy_intents.py)."""
    import sys

    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
    from legacy_intents import Context, classify

    from agent.reading import Reading

    def read(message: str, context: dict) -> Reading:
        intent = classify(message, Context(**{k: v for k, v in context.items() if k in ("focus_run",
                                                                                         "last_recommendation")}))
        if intent.tool:
            return Reading("tool", intent.tool, intent.args)
        return Reading("refuse" if intent.reason == "refuse" else "clarify" if intent.reason != "unclear" else "help")

    return read


def regression_world(context: dict) -> World:
    """tests/data/intents.jsonl names runs up to 30; its `last_run` is the newest."""
    last = context.get("last_run")
    ids = [str(i) for i in range(1, 31) if str(i) != last] + ([last] if last else [])
    return World([RunInfo(i, "simclr", "digits", "succeeded") for i in ids])
