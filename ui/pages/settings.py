"""Settings: what this UI is running against (LLM backend, home, database, devices, clusters, knowledge store)."""

from __future__ import annotations

import re

import pandas as pd
import streamlit as st

from agent.backends import describe
from agent.graph import Budget
from ssl_runtime import settings
from tools.backends import configured
from tools.device_status import device_status
from tools.registry import Registry
from ui.state import home, show_page


def redact(url: str) -> str:
    """Hide a password in a database URL."""
    return re.sub(r"(://[^:/@]+):[^@]*@", r"\1:***@", url)


def main() -> None:
    h = home()
    st.title("Settings")
    st.subheader("Assistant")
    st.markdown(f"LLM backend: **{describe()}**")
    st.caption("Set `SSLPILOT_LLM=provider:model` (e.g. `openai:gpt-4o-mini`, `ollama:qwen2.5:7b`) before "
               "`sslpilot ui` to use a hosted or local model; `offline` is the built-in planner that needs no network.")
    st.markdown(f"Budgets per conversation: {Budget.max_launches} launches, {Budget.max_gpu_hours} GPU-hours; "
                f"{Budget.max_model_calls} model calls per turn.")

    st.subheader("Storage")
    reg = Registry(h)
    st.markdown(f"Home folder: `{h.root}`  \nDatabase: `{redact(reg.url)}`  \nRuns: `{h.runs}`")
    st.markdown("Scheduler: " + ("running" if reg.scheduler_alive() else
                                 "not running (it starts with the first launch, or `sslpilot serve --detach`)"))

    st.subheader("Devices")
    inv = device_status(h)  # the queue daemon's devices while it runs, with the runs that hold each
    if inv["gpus"]:
        rows = [{**{k: g[k] for k in ("index", "name", "total_mb", "free_mb", "state")},
                 "runs": ", ".join(r["run_id"] for r in g["runs"])} for g in inv["gpus"]]
        st.dataframe(pd.DataFrame(rows), hide_index=True, key="gpus")
    else:
        held = ", ".join(r["run_id"] for r in inv["cpu_runs"])
        st.markdown("No GPU visible: runs use CPU slots." + (f" In use by run {held}." if held else ""))
    st.caption(f"CPU slots: {inv['cpu_slots']} · runs per GPU: {inv['runs_per_gpu']} · "
               f"SSLPILOT_GPUS={settings.get('SSLPILOT_GPUS') or '(all)'} · read by {inv['source']}")

    st.subheader("Clusters")
    clusters = configured(h)
    if clusters:
        rows = [{"name": name, "kind": spec["kind"], "where": spec.get("address") or spec.get("partition") or "",
                 "settings": ", ".join(f"{k}={v}" for k, v in spec.items() if k not in ("kind", "address", "partition"))}
                for name, spec in clusters.items()]
        st.dataframe(pd.DataFrame(rows), hide_index=True, key="clusters")
    else:
        st.markdown("None: runs go to this machine's queue.")
    st.caption("Add one with `sslpilot backend add NAME --kind slurm --partition P` or `--kind ray --address "
               "http://HEAD:8265`, check it with `sslpilot backend test NAME` (docs/operations.md).")

    st.subheader("Knowledge store")
    st.markdown(f"Chroma folder: `{h.chroma}`  \nEmbedding model: `{settings.get('SSLPILOT_EMBEDDINGS')}` "
                "(change with SSLPILOT_EMBEDDINGS, then `sslpilot reindex`)")


show_page(main)
