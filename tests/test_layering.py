"""The import arrows point one way: ui -> agent -> tools -> ssl_runtime, and no module imports itself back.

Function-level (lazy) imports count too: a cycle hidden inside a function is still a cycle.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LAYERS = ("ssl_runtime", "tools", "agent", "ui")  # each may import only those before it
# Outside libraries each layer must not use (ssl_runtime is a torch library).
FORBIDDEN = {"ssl_runtime": ("langchain", "langchain_core", "langgraph", "chromadb", "streamlit", "sqlmodel",
                             "apscheduler"),
             "tools": ("streamlit",), "agent": ("streamlit",)}
# The UI and the agent may name the runtime's error types (to catch them) and read its catalogue of methods and
# datasets and its settings (plain data, no torch): nothing else of it.
UPPER_MAY_USE_RUNTIME = ("ssl_runtime.errors", "ssl_runtime.catalogue", "ssl_runtime.settings")


def _modules() -> dict[str, Path]:
    out = {}
    for layer in LAYERS:
        for path in (ROOT / layer).rglob("*.py"):
            name = ".".join(path.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__")
            out[name] = path
    return out


def _imports(path: Path, modules: dict[str, Path]) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = {f"{node.module}.{a.name}" for a in node.names}
            submodules = names & modules.keys()  # `from pkg import module` uses the module, not the package
            found.update(submodules if submodules == names else {node.module, *names})
    return found


def _graph() -> dict[str, set[str]]:
    mods = _modules()

    def own(name: str) -> str | None:
        while name and name not in mods:
            name = name.rpartition(".")[0]
        return name or None

    graph: dict[str, set[str]] = {}
    for name, path in mods.items():
        targets = {own(t) for t in _imports(path, mods)} - {None, name}
        graph[name] = {t for t in targets if not name.startswith(t + ".")}  # a module may use its own package
    return graph


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    out: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in graph[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    for v in graph:
        if v not in index:
            visit(v)
    return out


def test_no_import_cycles():
    assert _cycles(_graph()) == []


def test_layers_point_one_way():
    bad = []
    for name, targets in _graph().items():
        layer = LAYERS.index(name.split(".")[0])
        for t in targets:
            t_layer = LAYERS.index(t.split(".")[0])
            if t_layer > layer:
                bad.append(f"{name} -> {t}")
            elif name.split(".")[0] in ("agent", "ui") and t_layer == 0 and t not in UPPER_MAY_USE_RUNTIME:
                bad.append(f"{name} -> {t} (go through tools/)")
    assert bad == []


def test_runtime_uses_no_chat_or_storage_libraries():
    bad = []
    mods = _modules()
    for name, path in mods.items():
        banned = FORBIDDEN.get(name.split(".")[0], ())
        bad += [f"{name} imports {m}" for m in _imports(path, mods) if m.split(".")[0] in banned]
    assert bad == []


def test_the_checker_sees_a_cycle():
    """The checker itself can fail: a planted two-module cycle is found."""
    assert _cycles({"a": {"b"}, "b": {"a"}, "c": set()}) == [["a", "b"]]


def test_the_command_line_starts_without_torch():
    """`sslpilot runs`, `show`, `tag` and the like read the registry: loading torch and transformers for them cost
    6-7 s a command. Validating a config needs the methods' settings (torch) but not transformers."""
    import subprocess
    import sys

    probe = ("import sys, importlib; importlib.import_module(sys.argv[1]); "
             "print(' '.join(m for m in ('torch', 'transformers') if m in sys.modules))")
    loaded = {m: subprocess.run([sys.executable, "-c", probe, m], capture_output=True, text=True, cwd=ROOT,
                                check=True).stdout.split() for m in ("ui.cli", "ssl_runtime.configure")}
    assert loaded == {"ui.cli": [], "ssl_runtime.configure": ["torch"]}
