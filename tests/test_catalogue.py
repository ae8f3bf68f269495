"""The catalogue (ssl_runtime/catalogue.py) is the only list of methods and built-in datasets: each class agrees
with its row, and no module keeps a second list, as a literal or as prose."""

import ast
import re
from pathlib import Path

import pytest
from conftest import ROOT, TINY_ARGS

from ssl_runtime.catalogue import (
    ALIASES,
    BUILTIN_DATASETS,
    CATALOGUE,
    METHODS,
    canonical,
    method_class,
    prose,
)

SCANNED = ("agent", "tools", "ui", "ssl_runtime", "benchmarks", "tests", "scripts")
WORD = re.compile(r"[a-z_]+")


# benchmarks/legacy_intents.py is the frozen keyword matcher the intent classifier is measured against: its
# tables are the old system under test, kept as they were
EXEMPT = ("catalogue.py", "legacy_intents.py")


def _sources() -> list[Path]:
    return [p for d in SCANNED for p in (ROOT / d).rglob("*.py") if p.name not in EXEMPT]


def _docstrings(tree: ast.AST) -> set[int]:
    return {id(n.body[0].value) for n in ast.walk(tree)
            if isinstance(n, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)) and n.body
            and isinstance(n.body[0], ast.Expr) and isinstance(n.body[0].value, ast.Constant)}


@pytest.mark.parametrize("info", CATALOGUE, ids=lambda m: m.name)
def test_each_class_agrees_with_its_row(info):
    cls = method_class(info.name)
    assert cls.name == info.name
    assert canonical(info.title) == info.name and canonical(info.name) == info.name


def test_aliases_are_unambiguous_and_words_resolve():
    assert set(ALIASES.values()) == set(METHODS)
    assert canonical("MoCo v3") == "moco" and canonical("barlow-twins") == "barlow_twins" and canonical("swav") is None
    assert all(m in prose() for m in METHODS)


def test_test_size_table_covers_the_catalogue():
    assert set(TINY_ARGS) == set(METHODS)


def test_no_second_list_of_methods_or_datasets():
    """A literal tuple/list/set naming 3+ methods, both built-in datasets, or a string that lists 4+ methods is a
    second catalogue; per-method tables (dicts keyed by method) are allowed when their keys are real methods."""
    bad = []
    for path in _sources():
        rel = path.relative_to(ROOT)
        tree = ast.parse(path.read_text())
        docs = _docstrings(tree)  # a docstring may cite methods; code may not list them
        for node in ast.walk(tree):
            if isinstance(node, (ast.Tuple, ast.List, ast.Set)):
                words = {e.value for e in node.elts if isinstance(e, ast.Constant) and isinstance(e.value, str)}
                if len(words & set(METHODS)) >= 3 or set(BUILTIN_DATASETS) <= words:
                    bad.append(f"{rel}:{node.lineno} {sorted(words)[:6]}")
            elif isinstance(node, ast.Dict):
                keys = {k.value for k in node.keys if isinstance(k, ast.Constant) and isinstance(k.value, str)}
                if len(keys & set(METHODS)) >= 3 and not keys <= set(METHODS):
                    bad.append(f"{rel}:{node.lineno} a method table with unknown keys {sorted(keys - set(METHODS))}")
            elif isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docs:
                if len(set(WORD.findall(node.value.lower())) & set(METHODS)) >= 4:
                    bad.append(f"{rel}:{node.lineno} prose listing methods: {node.value[:60]!r}")
    assert bad == []


def test_environment_variables_are_read_in_one_module_and_documented():
    from ssl_runtime.settings import VARIABLES

    read_elsewhere = [f"{p.relative_to(ROOT)}" for d in ("agent", "tools", "ui", "ssl_runtime")
                      for p in (ROOT / d).rglob("*.py") if p.name != "settings.py"
                      and re.search(r"environ(?:\.get)?\(?\[?[\"']SSLPILOT_|getenv\([\"']SSLPILOT_", p.read_text())]
    assert read_elsewhere == []
    docs = (ROOT / "docs" / "configuration.md").read_text()
    assert [name for name in VARIABLES if f"`{name}`" not in docs] == []
