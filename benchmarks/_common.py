"""Shared helpers for the benchmark scripts: run configs in a temp home and print aligned tables."""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


LM = {"block_size": 64, "vocab_size": 4000, "hidden_size": 256, "num_layers": 4, "num_heads": 4}
"""The small language model the text benchmarks train (method_args of mlm and clm)."""


def docs_corpus(dest: Path) -> Path:
    """README + docs/*.md: the project's own documentation as a small domain corpus."""
    import shutil

    dest.mkdir(parents=True, exist_ok=True)
    for f in [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]:
        shutil.copy(f, dest / f.name)
    return dest


def make_run(tree: dict, name: str, root: Path | None = None) -> Path:
    from ssl_runtime.config import save_config
    from ssl_runtime.configure import build_config
    from ssl_runtime.run_folder import RunFolder

    root = root or Path(tempfile.mkdtemp(prefix="sslpilot-bench-"))
    folder = RunFolder(root / name).create()
    save_config(build_config(tree), folder.config)
    return folder.path


def table(headers: list[str], rows: list[list]) -> str:
    cells = [[f"{c:.4g}" if isinstance(c, float) else str(c) for c in r] for r in rows]
    widths = [max([len(h), *(len(r[i]) for r in cells)]) for i, h in enumerate(headers)]  # no rows: the headers
    line = "| " + " | ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True)) + " |"
    sep = "|" + "|".join("-" * (w + 2) for w in widths) + "|"
    body = ["| " + " | ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)) + " |" for r in cells]
    return "\n".join([line, sep, *body])


def machine() -> str:
    import torch

    dev = torch.cuda.get_device_name(0) if torch.cuda.is_available() else f"CPU x{os.cpu_count()}"
    return f"torch {torch.__version__}, {dev}, {torch.get_num_threads()} threads"
