"""Text sources for mlm/clm: a folder of .txt/.md/.jsonl, a Hugging Face `datasets` folder, or the captions
of the generated shapes set. Documents are yielded one at a time, so a long corpus is never loaded whole."""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from ssl_runtime.config import DataConfig
from ssl_runtime.data.builtin import SHAPES, shape_attributes
from ssl_runtime.errors import DataError

TEXT_SUFFIXES = (".txt", ".md", ".jsonl")


def shape_caption(a: dict) -> str:
    """'a small red circle on the left' from one generated image's recipe."""
    size = "small " if a["scale"] < 0.5 else "large " if a["scale"] > 0.65 else ""
    where = ("on the left" if a["cx"] < 0.42 else "on the right" if a["cx"] > 0.58 else
             "at the top" if a["cy"] < 0.42 else "at the bottom" if a["cy"] > 0.58 else "in the middle")
    return f"a {size}{a['colour']} {a['shape']} {where}"


def shape_captions(n: int, seed: int = 0) -> tuple[list[str], list[int]]:
    attrs = shape_attributes(n, seed)
    return [shape_caption(a) for a in attrs], [SHAPES.index(a["shape"]) for a in attrs]


@dataclass
class TextSource:
    """Where documents come from; `skipped` collects unreadable files (reported in events.jsonl)."""

    cfg: DataConfig
    skipped: list[str] = field(default_factory=list)

    def documents(self) -> Iterator[str]:
        """A fresh pass over the corpus (skips are recounted on each pass)."""
        cfg = self.cfg
        self.skipped.clear()
        if cfg.name == "shapes":
            yield from shape_captions(cfg.num_samples or 2000)[0]
            return
        if cfg.name is not None:
            raise DataError(f"built-in dataset {cfg.name!r} has no text", field="data.name",
                            fix="use data.name=shapes (its captions) or data.path=<folder of .txt/.md/.jsonl>")
        root = Path(cfg.path).expanduser()
        if (root / "dataset_info.json").exists() or (root / "dataset_dict.json").exists():
            yield from self._hf_dataset(root)
            return
        files = [root] if root.is_file() else sorted(f for f in root.rglob("*") if f.suffix.lower() in TEXT_SUFFIXES)
        if not files:
            raise DataError(f"no .txt, .md or .jsonl files in {str(root)!r}", field="data.path",
                            fix="point it at a folder of text files or a datasets folder saved with save_to_disk")
        for f in files:
            yield from self._file(f)

    def _file(self, f: Path) -> Iterator[str]:
        try:
            raw = f.read_bytes()
        except OSError as exc:
            self.skipped.append(f"{f}: {exc.strerror}")
            return
        if b"\x00" in raw[:8192]:
            self.skipped.append(f"{f}: binary")
            return
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            self.skipped.append(f"{f}: not UTF-8 text")
            return
        if not text.strip():
            self.skipped.append(f"{f}: empty")
            return
        if f.suffix.lower() != ".jsonl":
            yield text
            return
        bad = 0
        for line in text.splitlines():
            if not line.strip():
                continue
            try:
                value = json.loads(line).get(self.cfg.text_field)
            except (json.JSONDecodeError, AttributeError):
                value = None
            if isinstance(value, str) and value.strip():
                yield value
            else:
                bad += 1
        if bad:
            self.skipped.append(f"{f}: {bad} lines without a {self.cfg.text_field!r} string")

    def _hf_dataset(self, root: Path) -> Iterator[str]:
        from datasets import DatasetDict, load_from_disk

        ds = load_from_disk(str(root))
        if isinstance(ds, DatasetDict):
            ds = ds["train"] if "train" in ds else next(iter(ds.values()))
        if self.cfg.text_field not in ds.column_names:
            raise DataError(f"the datasets folder has no {self.cfg.text_field!r} column (it has "
                            f"{', '.join(ds.column_names)})", field="data.text_field", fix="set data.text_field")
        for row in ds.select_columns([self.cfg.text_field]):
            value = row[self.cfg.text_field]
            if isinstance(value, str) and value.strip():
                yield value


def labelled_texts(cfg: DataConfig) -> tuple[list[str], list[int], list[str]] | None:
    """(texts, labels, class names) for the text probe: the shapes captions, or data.labels_path
    (CSV or JSONL with data.text_field and data.label_field); None when there are no labels."""
    if cfg.name == "shapes":
        texts, labels = shape_captions(cfg.num_samples or 2000)
        return texts, labels, list(SHAPES)
    if not cfg.labels_path:
        return None
    path = Path(cfg.labels_path).expanduser()
    if not path.is_file():
        raise DataError(f"{str(path)!r} does not exist", field="data.labels_path")
    rows = _table(path)
    pairs = [(r.get(cfg.text_field), r.get(cfg.label_field)) for r in rows]
    pairs = [(t, str(lab)) for t, lab in pairs if isinstance(t, str) and t.strip() and lab not in (None, "")]
    if len(pairs) < 10:
        raise DataError(f"{path.name} has {len(pairs)} usable ({cfg.text_field}, {cfg.label_field}) rows",
                        field="data.labels_path", fix="give at least a few dozen labelled texts")
    names = sorted({lab for _, lab in pairs})
    return [t for t, _ in pairs], [names.index(lab) for _, lab in pairs], names


def _table(path: Path) -> list[dict]:
    """Rows of a CSV (with a header) or JSONL file."""
    if path.suffix.lower() == ".csv":
        with path.open(newline="", encoding="utf-8", errors="replace") as f:
            return list(csv.DictReader(f))
    rows = []
    for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
        try:
            obj = json.loads(line)
        except json.JSONDecodeError:
            continue
        if isinstance(obj, dict):
            rows.append(obj)
    return rows
