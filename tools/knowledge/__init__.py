"""The knowledge store API: index runs, ingest documents, search with citations."""

from __future__ import annotations

import functools
import re

from ssl_runtime.catalogue import BY_NAME, canonical
from tools.home import Home
from tools.knowledge.store import CORPUS_DIR, EmbeddingMismatch, Hit, KnowledgeStore

__all__ = ["EmbeddingMismatch", "Hit", "KnowledgeStore", "compact", "get_store", "index_run", "ingest", "search", "reindex"]


@functools.lru_cache(maxsize=4)
def _store_for(root: str) -> KnowledgeStore:
    return KnowledgeStore(Home.resolve(root))


def get_store(home: Home) -> KnowledgeStore:
    return _store_for(str(home.root))


def ingest(home: Home, paths: list) -> dict:
    """Add the user's documents to `literature`, recording who added them (members and admins only)."""
    from tools.access import require

    actor = require(home, "member", "ingesting documents")
    return get_store(home).ingest(paths, by=actor.name)


def index_run(home: Home, run_id: str) -> int:
    """(Re)index one run into run_logs; replaces its previous chunks, so repeating it adds nothing."""
    from tools.knowledge.runlogs import run_chunks
    from tools.registry import Registry

    store = get_store(home)
    ids, texts, metas = run_chunks(Registry(home), run_id)
    store.delete_where("run_logs", {"run_id": str(run_id)})
    return store.upsert("run_logs", ids, texts, metas)


def search(home: Home, query: str, collection: str = "literature", k: int = 5, run_id: str | None = None,
           method: str | None = None, mode: str = "hybrid", run_ids: list[str] | None = None,
           experiment: str | None = None) -> list[dict]:
    """Run logs filter on their `run_id`/`method` metadata (`run_ids`: any of several runs; `experiment`: a sweep's
    runs, by its name). Literature chunks carry no method (a paper is about several): there the method is added to
    the query and passages that name it are ranked first."""
    ids = [str(i) for i in ([run_id] if run_id else []) + list(run_ids or [])]
    if experiment:
        from tools.registry import Registry

        ids += [r.id for r in Registry(home).sweep(experiment, "experiment")]
    where = [{"run_id": ids[0]}] if len(ids) == 1 else [{"run_id": {"$in": ids}}] if ids else []
    if method and collection == "run_logs":
        where.append({"method": method})
    if collection == "run_logs":
        _index_missing(home)
    w = None if not where else where[0] if len(where) == 1 else {"$and": where}
    if method and collection == "literature":
        title = BY_NAME[method].title if method in BY_NAME else method
        hits = [h.to_dict() for h in get_store(home).search(f"{title} {query}", collection, 3 * k, w, mode)]
        return sorted(hits, key=lambda h: not _names(h, method))[:k]  # stable: score order within each group
    return [h.to_dict() for h in get_store(home).search(query, collection, k, w, mode)]


def _names(hit: dict, method: str) -> bool:
    """Whether a passage (or its document's title) names the method in any of its spellings."""
    words = re.findall(r"[a-z0-9]+(?:[ -][a-z0-9]+)?", f"{hit['citation'].get('title', '')} {hit['text']}".lower())
    return any(canonical(w) == method or canonical(w.split()[0]) == method for w in words)


def compact(hits: list[dict], chars: int = 600) -> list[dict]:
    """Search hits trimmed for tool results and diagnoses: chunk id, text, score, citation, flag."""
    return [{"id": h["id"], "text": h["text"][:chars], "score": h["score"], "citation": h["citation"],
             "flagged": h["flagged"], "matched": h.get("matched")} for h in hits]


def _index_missing(home: Home) -> None:
    """Runs never indexed, or indexed under an older status or name, tags and notes, are (re)indexed before a log
    search."""
    from tools.knowledge.runlogs import annotation_key
    from tools.registry import Registry

    store = get_store(home)
    got = store.collections["run_logs"].get(where={"kind": "summary"}, include=["metadatas"])
    seen = {m.get("run_id"): (m.get("status"), m.get("annotation")) for m in got["metadatas"]}
    reg = Registry(home)
    for run in reg.list(limit=10_000):
        if run.status in ("queued", "running"):
            run = reg.sync(run.id)
        if seen.get(run.id) != (run.status, annotation_key(run)):
            index_run(home, run.id)


def reindex(home: Home) -> dict:
    """Rebuild both collections with the configured embedder, keeping every chunk's text and metadata."""
    import chromadb
    from chromadb.config import Settings

    client = chromadb.PersistentClient(path=str(home.chroma), settings=Settings(anonymized_telemetry=False))
    saved = {}
    for col in client.list_collections():
        c = client.get_collection(col.name if hasattr(col, "name") else col)
        saved[c.name] = c.get(include=["documents", "metadatas"])
        client.delete_collection(c.name)
    _store_for.cache_clear()
    store = KnowledgeStore(home, ingest_corpus=False)
    out = {}
    for name, got in saved.items():
        if name in store.collections:
            out[name] = store.upsert(name, got["ids"], got["documents"], got["metadatas"])
    if store.count("literature") == 0:
        store.ingest([CORPUS_DIR], quiet=True)
    return out
