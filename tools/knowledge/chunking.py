"""Reading documents (Markdown, text, HTML, PDF) and cutting them into overlapping chunks along headings."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path

from ssl_runtime.errors import DataError

SUFFIXES = {".md", ".markdown", ".txt", ".rst", ".html", ".htm", ".pdf"}
CHUNK_CHARS = 1200
OVERLAP_CHARS = 200


@dataclass
class Section:
    heading: str
    text: str


@dataclass
class Chunk:
    text: str
    title: str
    source: str
    section: str
    index: int

    @property
    def id(self) -> str:
        return hashlib.sha256(f"{self.source}\x00{self.index}\x00{self.text}".encode()).hexdigest()[:32]


def file_hash(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _markdown_sections(text: str) -> tuple[str, list[Section]]:
    title, sections, heading, buf = "", [], "", []
    for line in text.splitlines():
        m = re.match(r"^(#{1,4})\s+(.*)", line)
        if m:
            if buf and "".join(buf).strip():
                sections.append(Section(heading, "\n".join(buf).strip()))
            heading, buf = m.group(2).strip(), []
            if m.group(1) == "#" and not title:
                title = heading
            continue
        buf.append(line)
    if buf and "".join(buf).strip():
        sections.append(Section(heading, "\n".join(buf).strip()))
    return title, sections


def _html_sections(raw: str) -> tuple[str, list[Section]]:
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(raw, "html.parser")
    for tag in soup(["script", "style", "noscript", "nav", "footer"]):
        tag.decompose()
    title = soup.title.get_text(strip=True) if soup.title else ""
    lines = []
    for el in soup.find_all(["h1", "h2", "h3", "h4", "p", "li", "pre", "td"]):
        txt = el.get_text(" ", strip=True)
        if not txt:
            continue
        lines.append(f"{'#' * int(el.name[1])} {txt}" if el.name.startswith("h") else txt)
    t2, sections = _markdown_sections("\n\n".join(lines))
    return title or t2, sections


def _pdf_sections(path: Path) -> tuple[str, list[Section]]:
    from pypdf import PdfReader

    try:
        reader = PdfReader(str(path))
        pages = [(i + 1, page.extract_text() or "") for i, page in enumerate(reader.pages)]
    except Exception as exc:  # noqa: BLE001 - any parser failure: a corrupt or encrypted PDF
        raise DataError(f"cannot read PDF {path.name}: {exc}", field="path") from None
    title = (reader.metadata.title if reader.metadata and reader.metadata.title else "") or path.stem
    return title, [Section(f"page {n}", t.strip()) for n, t in pages if t.strip()]


def read_document(path: Path) -> tuple[str, list[Section]]:
    suffix = path.suffix.lower()
    if suffix == ".pdf":
        return _pdf_sections(path)
    raw = path.read_bytes()
    if b"\x00" in raw[:4096]:
        raise DataError(f"{path.name} looks binary, not text", field="path")
    text = raw.decode("utf-8", errors="replace")
    if suffix in (".html", ".htm"):
        return _html_sections(text)
    if suffix in (".md", ".markdown"):
        return _markdown_sections(text)
    return "", [Section("", p) for p in [text]]


def split_text(text: str, size: int = CHUNK_CHARS, overlap: int = OVERLAP_CHARS) -> list[str]:
    """Paragraph-aligned pieces of about `size` characters, each repeating the tail of the previous one."""
    paras = [p.strip() for p in re.split(r"\n\s*\n", text) if p.strip()]
    out, cur = [], ""
    for p in paras:
        while len(p) > size:  # a giant paragraph: cut on sentence or hard boundaries
            cut = p.rfind(". ", 0, size)
            cut = cut + 1 if cut > size // 2 else size
            paras_piece, p = p[:cut], p[cut:].strip()
            if cur:
                out.append(cur)
                cur = cur[-overlap:]
            out.append((cur + "\n\n" + paras_piece).strip() if cur else paras_piece)
            cur = paras_piece[-overlap:]
        if len(cur) + len(p) + 2 > size and cur:
            out.append(cur)
            cur = cur[-overlap:] + "\n\n" + p
        else:
            cur = (cur + "\n\n" + p).strip() if cur else p
    if cur.strip():
        out.append(cur)
    return out


def chunk_document(path: Path, source: str | None = None) -> list[Chunk]:
    title, sections = read_document(path)
    title = title or path.stem.replace("-", " ").replace("_", " ")
    chunks, i = [], 0
    for sec in sections:
        for piece in split_text(sec.text):
            text = f"{sec.heading}\n{piece}" if sec.heading else piece
            chunks.append(Chunk(text, title, source or str(path), sec.heading, i))
            i += 1
    return chunks
