"""The knowledge store: two chromadb collections (run_logs, literature) with hybrid search.

Ranking fuses chromadb's vector similarity with BM25 over the same chunks (reciprocal rank fusion), so
exact terms like "NaN" or a run id are found even when their embedding is unremarkable.
"""

from __future__ import annotations

import os
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from ssl_runtime.errors import SSLPilotError
from tools.home import Home
from tools.knowledge.chunking import SUFFIXES, Chunk, chunk_document, file_hash
from tools.knowledge.embedding import Embedder, get_embedder
from tools.knowledge.hygiene import looks_like_instructions
from tools.registry import full_disk_said_plainly

COLLECTIONS = ("run_logs", "literature")
RRF_K = 60  # the usual reciprocal-rank-fusion constant (Cormack et al. 2009)
CORPUS_DIR = Path(__file__).parent / "corpus"
MAX_FILE_BYTES = 20 * 2**20

os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")


class EmbeddingMismatch(SSLPilotError):
    """A collection was built with another embedding model."""


@dataclass
class Hit:
    id: str
    text: str
    score: float
    metadata: dict
    matched: bool | None = None  # holds a word of the query (BM25 found it); None where only meaning was searched

    @property
    def citation(self) -> dict:
        m = self.metadata
        if m.get("run_id"):
            return {"run_id": m["run_id"], "step": m.get("step_max"), "title": f"run {m['run_id']} {m.get('kind', '')}",
                    "source": m.get("source", "")}
        return {"title": m.get("title", ""), "source": m.get("source", ""), "section": m.get("section", "")}

    def to_dict(self) -> dict:
        return {"id": self.id, "text": self.text, "score": round(self.score, 5), "citation": self.citation,
                "flagged": bool(self.metadata.get("flagged")), "metadata": self.metadata, "matched": self.matched}


class _BM25Cache:
    """One BM25 index per collection, rebuilt when the collection changes."""

    def __init__(self):
        self.lock = threading.Lock()
        self.entries: dict[str, tuple[int, float, object, list[str], list[str], list[dict]]] = {}

    def get(self, name: str, version: tuple[int, float], loader):
        with self.lock:
            hit = self.entries.get(name)
            if hit and hit[:2] == version:
                return hit[2:]
            import bm25s

            ids, docs, metas = loader()
            retriever = None
            if docs:
                retriever = bm25s.BM25()
                retriever.index(bm25s.tokenize(docs, stopwords="en", show_progress=False), show_progress=False)
            self.entries[name] = (*version, retriever, ids, docs, metas)
            return retriever, ids, docs, metas


_BM25 = _BM25Cache()


def _writing(home: Home):
    """Chroma says a full disk in its own words ("InternalError: ... (code: 13) database or disk is full")."""
    return full_disk_said_plainly(home.chroma, "the knowledge store")


class KnowledgeStore:
    def __init__(self, home: Home, embedder: Embedder | None = None, ingest_corpus: bool = True):
        import chromadb
        from chromadb.config import Settings

        self.home = home
        self.embedder = embedder or get_embedder()
        with _writing(home):
            home.chroma.mkdir(parents=True, exist_ok=True)
            self.client = chromadb.PersistentClient(path=str(home.chroma),
                                                    settings=Settings(anonymized_telemetry=False))
            self.collections = {name: self._collection(name) for name in COLLECTIONS}
        self._versions = {name: time.time() for name in COLLECTIONS}
        if ingest_corpus and self.collections["literature"].count() == 0:
            self.ingest([CORPUS_DIR], quiet=True)

    def _collection(self, name: str):
        meta = {"embedding_model": self.embedder.name, "embedding_dim": self.embedder.dim, "hnsw:space": "cosine"}
        col = self.client.get_or_create_collection(name, metadata=meta, embedding_function=None)
        have = col.metadata or {}
        if have.get("embedding_model") != self.embedder.name or int(have.get("embedding_dim", -1)) != self.embedder.dim:
            raise EmbeddingMismatch(
                f"collection {name!r} was built with {have.get('embedding_model')} (dim {have.get('embedding_dim')}) "
                f"but the configured embedder is {self.embedder.name} (dim {self.embedder.dim})",
                field="SSLPILOT_EMBEDDINGS", fix="run `sslpilot reindex` to rebuild the store with the new model")
        return col

    def _touch(self, name: str) -> None:
        self._versions[name] = time.time()

    # ---- writing ------------------------------------------------------------------------------------
    def upsert(self, collection: str, ids: list[str], texts: list[str], metadatas: list[dict]) -> int:
        if not ids:
            return 0
        col = self.collections[collection]
        for m, t in zip(metadatas, texts, strict=True):
            m["flagged"] = looks_like_instructions(t)
        for start in range(0, len(ids), 256):
            sl = slice(start, start + 256)
            with _writing(self.home):
                col.upsert(ids=ids[sl], documents=texts[sl], metadatas=[_clean(m) for m in metadatas[sl]],
                           embeddings=self.embedder.embed(texts[sl]))
        self._touch(collection)
        return len(ids)

    def delete_where(self, collection: str, where: dict) -> None:
        with _writing(self.home):
            self.collections[collection].delete(where=where)
        self._touch(collection)

    def ingest(self, paths: list[str | Path], quiet: bool = False, by: str | None = None) -> dict:
        """Add documents to `literature`. A file already ingested with the same content hash changes nothing;
        a changed file replaces its old chunks."""
        files = []
        for p in map(lambda x: Path(x).expanduser(), paths):
            if not p.exists():
                raise SSLPilotError(f"{p} does not exist", field="path")
            files += sorted(f for f in p.rglob("*") if f.suffix.lower() in SUFFIXES) if p.is_dir() else [p]
        col = self.collections["literature"]
        report = {"files": 0, "chunks": 0, "unchanged": 0, "skipped": [], "flagged_chunks": 0}
        for f in files:
            if f.suffix.lower() not in SUFFIXES:
                report["skipped"].append(f"{f}: unsupported type")
                continue
            if f.stat().st_size > MAX_FILE_BYTES:
                report["skipped"].append(f"{f}: larger than {MAX_FILE_BYTES // 2**20} MiB")
                continue
            source = str(f.resolve())
            digest = file_hash(f)
            existing = col.get(where={"source": source}, include=["metadatas"], limit=1)
            if existing["ids"] and existing["metadatas"][0].get("file_hash") == digest:
                report["unchanged"] += 1
                continue
            try:
                chunks = chunk_document(f, source)
            except SSLPilotError as exc:
                report["skipped"].append(f"{f}: {exc}")
                continue
            if existing["ids"]:
                col.delete(where={"source": source})
            metas = [{"title": c.title, "source": source, "section": c.section, "chunk": c.index, "file_hash": digest,
                      "kind": "literature", "builtin": str(f).startswith(str(CORPUS_DIR)),
                      **({"ingested_by": by} if by else {})} for c in chunks]
            self.upsert("literature", [c.id for c in chunks], [c.text for c in chunks], metas)
            report["files"] += 1
            report["chunks"] += len(chunks)
            report["flagged_chunks"] += sum(m["flagged"] for m in metas)
        return report

    # ---- reading ------------------------------------------------------------------------------------
    def count(self, collection: str) -> int:
        return self.collections[collection].count()

    def chunk(self, chunk_id: str) -> Hit | None:
        """One chunk by id, from whichever collection holds it (citation links open this)."""
        for name, col in self.collections.items():
            got = col.get(ids=[chunk_id], include=["documents", "metadatas"])
            if got["ids"]:
                return Hit(got["ids"][0], got["documents"][0], 0.0, {**got["metadatas"][0], "collection": name})
        return None

    def _all(self, collection: str, page: int = 5000):
        """Every chunk, read in pages (one big get() exceeds SQLite's variable limit past ~30k chunks)."""
        col = self.collections[collection]
        ids, docs, metas = [], [], []
        for offset in range(0, col.count(), page):
            got = col.get(include=["documents", "metadatas"], limit=page, offset=offset)
            ids += got["ids"]
            docs += got["documents"]
            metas += got["metadatas"]
        return ids, docs, metas

    def search(self, query: str, collection: str = "literature", k: int = 5, where: dict | None = None,
               mode: str = "hybrid") -> list[Hit]:
        """mode: hybrid (vector + BM25, fused), vector or bm25."""
        if not query.strip():
            raise SSLPilotError("the query is empty", field="query")
        col = self.collections[collection]
        n = col.count()
        if n == 0:
            return []
        depth = min(n, max(4 * k, 20))
        ranked: dict[str, float] = {}
        texts: dict[str, str] = {}
        metas: dict[str, dict] = {}
        if mode in ("hybrid", "vector"):
            res = col.query(query_embeddings=self.embedder.embed([query]), n_results=depth, where=where or None,
                            include=["documents", "metadatas", "distances"])
            for rank, (i, doc, meta, dist) in enumerate(zip(res["ids"][0], res["documents"][0], res["metadatas"][0],
                                                             res["distances"][0], strict=True)):
                ranked[i] = ranked.get(i, 0.0) + (1.0 / (RRF_K + rank + 1) if mode == "hybrid" else 1 - dist)
                texts[i], metas[i] = doc, meta
        words: set[str] | None = None
        if mode in ("hybrid", "bm25"):
            words = set()
            for rank, (i, doc, meta, score) in enumerate(self._bm25(collection, query, depth, where)):
                ranked[i] = ranked.get(i, 0.0) + (1.0 / (RRF_K + rank + 1) if mode == "hybrid" else score)
                texts[i], metas[i] = doc, meta
                words.add(i)
        best = sorted(ranked, key=lambda i: -ranked[i])[:k]
        return [Hit(i, texts[i], ranked[i], metas[i], None if words is None else i in words) for i in best]

    def _bm25(self, collection: str, query: str, depth: int, where: dict | None):
        import bm25s

        version = (self.collections[collection].count(), self._versions[collection])
        retriever, ids, docs, metas = _BM25.get(f"{self.home.root}:{collection}", version,
                                                lambda: self._all(collection))
        if retriever is None:
            return []
        tokens = bm25s.tokenize([query], stopwords="en", show_progress=False)
        if not tokens.vocab:
            return []
        results, scores = retriever.retrieve(tokens, k=min(len(ids), max(depth * 4, 50)), show_progress=False)
        out = []
        for idx, score in zip(results[0], scores[0], strict=True):
            if score <= 0:
                continue
            meta = metas[int(idx)]
            if where and not _matches(meta, where):
                continue
            out.append((ids[int(idx)], docs[int(idx)], meta, float(score)))
            if len(out) >= depth:
                break
        return out


def _clean(meta: dict) -> dict:
    """chromadb metadata: scalars only, no None."""
    return {k: v for k, v in meta.items() if isinstance(v, (str, int, float, bool))}


def _matches(meta: dict, where: dict) -> bool:
    if "$and" in where:
        return all(_matches(meta, w) for w in where["$and"])
    return all(meta.get(k) in v["$in"] if isinstance(v, dict) else meta.get(k) == v for k, v in where.items())


def open_store(home: Home, **kwargs) -> KnowledgeStore:
    return KnowledgeStore(home, **kwargs)


__all__ = ["KnowledgeStore", "EmbeddingMismatch", "Hit", "open_store", "Chunk"]
