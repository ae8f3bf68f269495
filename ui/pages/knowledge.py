"""Knowledge: add documents to the literature store, search it and the run logs, open a cited chunk."""

from __future__ import annotations

import re

import streamlit as st

from agent.answers import quote_untrusted
from ssl_runtime.errors import SSLPilotError
from tools.access import current
from tools.knowledge import get_store, ingest, search
from ui.state import home, show_page

UPLOAD_TYPES = ["md", "txt", "html", "htm", "pdf", "rst"]
MAX_UPLOAD_MB = 10


def safe_name(name: str) -> str:
    """A file name that cannot leave the uploads folder."""
    base = re.sub(r"[^A-Za-z0-9._-]+", "_", name.rsplit("/", 1)[-1].rsplit("\\", 1)[-1]).lstrip(".")
    return base or "upload.txt"


def cited_chunk(chunk_id: str) -> None:
    hit = get_store(home()).chunk(chunk_id)
    with st.container(border=True):
        if hit is None:
            st.warning(f"No chunk {chunk_id!r} in the store (it may have been re-ingested).")
            return
        m = hit.metadata
        st.markdown(f"**{m.get('title') or m.get('run_id') or 'chunk'}**" + (f" - {m['section']}" if m.get("section")
                                                                             else ""))
        st.caption(f"{m.get('collection')} · {m.get('source', '')} · chunk `{hit.id}`")
        if m.get("flagged"):
            st.warning("This chunk contains instruction-like text; sslpilot treats it as data only.")
        st.text(hit.text)


def upload() -> None:
    st.subheader("Add documents")
    actor = current(home())
    if not actor.can("member"):
        st.info(f"Adding documents needs the member role; {actor.name} is a {actor.role}.")
        return
    files = st.file_uploader(f"Markdown, text, HTML or PDF, up to {MAX_UPLOAD_MB} MB each", type=UPLOAD_TYPES,
                             accept_multiple_files=True, max_upload_size=MAX_UPLOAD_MB, key="uploads")
    if not files or not st.button(f"Ingest {len(files)} file(s)", type="primary"):
        return
    folder = home().root / "literature" / "uploads"
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for f in files:
        data = f.getvalue()
        name = safe_name(f.name)
        if len(data) > MAX_UPLOAD_MB * 2**20:
            st.error(f"{f.name}: larger than {MAX_UPLOAD_MB} MB; split it or ingest it with `sslpilot ingest`")
            continue
        if name.rsplit(".", 1)[-1].lower() not in UPLOAD_TYPES:
            st.error(f"{f.name}: not one of {', '.join(UPLOAD_TYPES)}")
            continue
        path = folder / name
        path.write_bytes(data)
        paths.append(path)
    if not paths:
        return
    try:
        report = ingest(home(), paths)
    except SSLPilotError as exc:
        st.error(str(exc))
        return
    st.success(f"{report['files']} file(s) ingested, {report['chunks']} chunks; {report['unchanged']} unchanged.")
    if report["flagged_chunks"]:
        st.warning(f"{report['flagged_chunks']} chunk(s) contain instruction-like text: kept, marked, and only ever "
                   "quoted as data.")
    for s in report["skipped"]:
        st.error(f"skipped {s}")


def search_box() -> None:
    st.subheader("Search")
    c = st.columns([4, 2, 1])
    query = c[0].text_input("query", placeholder="why does BYOL need a predictor?")
    where = c[1].radio("in", ["literature", "run logs", "both"], horizontal=True)
    k = c[2].number_input("results", 1, 20, 5)
    if not query:
        return
    collections = {"literature": ["literature"], "run logs": ["run_logs"], "both": ["literature", "run_logs"]}[where]
    for name in collections:
        hits = search(home(), query, name, int(k))
        st.markdown(f"**{name}**: {len(hits)} result(s)")
        for i, h in enumerate(hits):
            cit = h["citation"]
            title = f"run {cit['run_id']} ({cit.get('title')})" if cit.get("run_id") else \
                f"{cit.get('title')} - {cit.get('section') or ''}"
            flag = " :red[flagged]" if h["flagged"] else ""
            st.markdown(f"{i + 1}. [{title}](knowledge?chunk={h['id']}) · score {h['score']:.3f}{flag}  \n"
                        f"`{cit.get('source', '')}`")
            st.markdown(quote_untrusted(h["text"][:400]))


def main() -> None:
    st.title("Knowledge")
    store = get_store(home())
    st.caption(f"literature: {store.count('literature')} chunks · run logs: {store.count('run_logs')} chunks · "
               f"embeddings: {store.embedder.name}")
    chunk = st.query_params.get("chunk")
    if chunk:
        cited_chunk(chunk)
    search_box()
    upload()


show_page(main)
