"""`sslpilot ingest | search | reindex`: the literature and run-log store."""

from __future__ import annotations

from typing import Annotated

import typer

from ui.cli.common import HomeOpt, JsonOpt, emit, the_home

app = typer.Typer()


@app.command()
def ingest(paths: Annotated[list[str], typer.Argument(help="files or folders: .md .txt .html .pdf")],
           home: HomeOpt = None, as_json: JsonOpt = False) -> None:
    """Add documents to the literature collection (re-ingesting an unchanged file changes nothing)."""
    from tools.knowledge import ingest as ingest_documents

    report = ingest_documents(the_home(), paths)
    emit(report, as_json, f"ingested {report['files']} files ({report['chunks']} chunks), {report['unchanged']} "
          f"unchanged, {len(report['skipped'])} skipped, {report['flagged_chunks']} chunks flagged as instruction-like")


@app.command()
def search(query: Annotated[str, typer.Argument(help="what to look for")],
           logs: Annotated[bool, typer.Option("--logs", help="search run logs")] = False,
           literature: Annotated[bool, typer.Option("--literature", help="search the literature (default)")] = False,
           run: Annotated[str | None, typer.Option("--run", help="only this run's logs")] = None,
           experiment: Annotated[str | None, typer.Option("--experiment", help="only this sweep's runs' logs")] = None,
           method: Annotated[str | None, typer.Option("--method", help="only this method")] = None,
           k: Annotated[int, typer.Option("-k", help="results")] = 5,
           home: HomeOpt = None, as_json: JsonOpt = False) -> None:
    """Hybrid (vector + BM25) search over run logs or literature, with citations."""
    from tools import knowledge

    collection = "run_logs" if (logs or run or experiment) and not literature else "literature"
    hits = knowledge.search(the_home(), query, collection, k=k, run_id=run, method=method, experiment=experiment)
    if as_json:
        emit({"query": query, "collection": collection, "results": hits}, True)
        return
    lines = []
    for h in hits:
        c = h["citation"]
        where = f"run {c['run_id']}" if c.get("run_id") else f"{c['title']} - {c.get('section') or ''}"
        lines.append(f"[{h['score']:.4f}] {where}{' (flagged)' if h['flagged'] else ''}\n    "
                     + h["text"][:300].replace("\n", " "))
    typer.echo("\n".join(lines) or "no results")


@app.command()
def reindex(home: HomeOpt = None, as_json: JsonOpt = False) -> None:
    """Rebuild the knowledge store with the configured embedding model (after changing SSLPILOT_EMBEDDINGS)."""
    from tools.knowledge import reindex as do_reindex

    out = do_reindex(the_home())
    emit(out, as_json, "re-indexed " + ", ".join(f"{k}: {v} chunks" for k, v in out.items()))
