"""Dataset caches in the home (`<home>/datasets/`): prepare ahead of a run, list, show, remove.

The cache format and the build belong to the runtime (ssl_runtime/data/cache.py); this module finds caches
for the home, says which runs used each one, and refuses to remove one a live run is reading.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from ssl_runtime.data.cache import DEFAULT_MAX_SIDE, DatasetCache, ensure_cache, find_caches, remove_cache
from ssl_runtime.errors import SSLPilotError
from tools.home import Home
from tools.registry import ACTIVE, Registry


def root(home: Home) -> Path:
    return home.root / "datasets"


def _row(cache: DatasetCache) -> dict:
    m = cache.meta
    return {"name": cache.name, "source": m["source"], "kind": m["source_kind"], "images": m["count"],
            "max_side": m["max_side"], "format": m["format"], "labels": m["labels"],
            "classes": len(m.get("class_names") or []), "unreadable": m["unreadable"], "duplicates": m["duplicates"],
            "bytes": m["bytes"], "source_bytes": m["source_bytes"],
            "bytes_per_image": round(m["bytes"] / max(1, m["count"])), "created": m["created"]}


def prepare(home: Home, path: str, max_side: int = DEFAULT_MAX_SIDE, fmt: str = "auto", workers: int | None = None,
            progress: Callable[[int, int], None] | None = None, log: Callable[[str], None] | None = None) -> dict:
    """Build (or find) the cache of `path`, so the first run starts at once."""
    from tools.access import require

    require(home, "member", "preparing a dataset cache")
    result = ensure_cache(path, root(home), max_side, fmt, workers=workers, progress=progress, log=log)
    return {**_row(result.cache), "built": result.built, "message": result.message}


def list_caches(home: Home) -> list[dict]:
    return [_row(c) for c in find_caches(root(home))]


def _get(home: Home, name: str) -> DatasetCache:
    path = root(home) / name
    if not (path / "meta.json").exists() or "/" in name:
        raise SSLPilotError(f"no dataset cache named {name!r} in {root(home)}", field="name",
                            fix="see `sslpilot data ls`")
    return DatasetCache(path)


def show(home: Home, name: str) -> dict:
    cache = _get(home, name)
    runs = [r for r in Registry(home).list(limit=10_000) if r.dataset_cache == name]
    return {**_row(cache), "class_names": cache.class_names, "unreadable_files": cache.meta["unreadable_files"][:50],
            "problems": cache.meta.get("problems", []), "ignored_files": cache.meta.get("ignored_files", 0),
            "runs": [{"run_id": r.id, "method": r.method, "status": r.status} for r in runs]}


def remove(home: Home, name: str, force: bool = False) -> dict:
    """Delete a cache. Runs that finished keep their results; a queued or running run that reads it stops
    the removal unless `force` (it would have to rebuild the cache)."""
    from tools.access import require

    require(home, "admin", "removing a dataset cache (others' runs may read it)")
    _get(home, name)
    live = [r.id for r in Registry(home).list(status=ACTIVE, limit=10_000) if r.dataset_cache == name]
    if live and not force:
        raise SSLPilotError(f"runs {', '.join(live)} are reading {name}", field="name",
                            fix="wait for them to end, or pass --force")
    return remove_cache(root(home), name)
