"""The chat's reading on tests/data/intents.jsonl, the regression set from before the classifier (>= 95%).

Those messages name runs up to 30 and paths on another machine, so they are read against a home where
those runs exist and every path counts as present (tests/understanding_eval.py)."""

import pytest
from understanding_eval import load, regression_world, score

from agent.intent_model import get_model
from agent.understand import understand


@pytest.fixture(scope="module")
def model(tmp_path_factory):
    return get_model(str(tmp_path_factory.mktemp("intent-cache")))


def test_regression_set_is_large_and_varied(tmp_path):
    rows = load("intents.jsonl", tmp_path)
    assert len(rows) >= 60 and len({r["tool"] for r in rows}) == 12


def test_regression_routing_and_arguments(model, tmp_path):
    result = score(load("intents.jsonl", tmp_path),
                   lambda m, c: understand(m, c, regression_world(c), model, path_exists=lambda p: True))
    print(f"regression accuracy {result['accuracy']:.3f}, misses: {result['misses']}")
    assert result["accuracy"] >= 0.95, result["misses"]
