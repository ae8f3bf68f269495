"""The offline planner's routing and argument extraction on tests/data/intents.jsonl (>= 95% each)."""

import json
from pathlib import Path

from agent.intents import Context, classify

ROWS = [json.loads(line) for line in (Path(__file__).parent / "data" / "intents.jsonl").read_text().splitlines()]


def _args_match(expected: dict, got: dict) -> bool:
    for k, v in expected.items():
        if k == "overrides":
            if any(got.get("overrides", {}).get(ok) != ov for ok, ov in v.items()):
                return False
        elif k == "query":
            if v not in got.get("query", "").lower():
                return False
        elif got.get(k) != v:
            return False
    return True


def score() -> tuple[float, float, list]:
    routed = argued = 0
    misses = []
    for row in ROWS:
        intent = classify(row["message"], Context(**row["context"]))
        ok_tool = intent.tool == row["tool"]
        ok_args = ok_tool and _args_match(row["args"], intent.args)
        routed += ok_tool
        argued += ok_args
        if not ok_args:
            misses.append((row["message"], row["tool"], intent.tool, intent.args))
    return routed / len(ROWS), argued / len(ROWS), misses


def test_intent_set_is_large_and_varied():
    assert len(ROWS) >= 60
    assert len({r["tool"] for r in ROWS}) == 12


def test_routing_and_argument_accuracy():
    routing, args, misses = score()
    print(f"routing {routing:.3f}, arguments {args:.3f}, misses: {misses}")
    assert routing >= 0.95, misses
    assert args >= 0.95, misses


def test_refusals_and_unclear():
    assert classify("delete all my runs", Context()).reason == "refuse"
    assert classify("run this shell command: rm -rf /", Context()).reason == "refuse"
    assert classify("banana", Context()).tool is None
