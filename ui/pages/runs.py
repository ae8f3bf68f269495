"""Runs: a filterable table that refreshes while runs are going, and side-by-side comparison."""

from __future__ import annotations

import json

import pandas as pd
import streamlit as st

from tools.insights import config_diff, metric_rows
from tools.registry import Registry
from tools.runs import list_runs
from ui import charts
from ui.state import home

REFRESH_S = 5
COLUMNS = ["run_id", "name", "method", "dataset", "status", "steps", "total_steps", "probe_acc", "knn_acc",
           "verdict", "source", "backend", "device", "created_at", "parent_id"]
COMPARE_METRICS = ["loss", "health/std", "health/rank", "health/uniformity", "health/alignment", "lr", "grad_norm",
                   "health/teacher_entropy", "samples_per_s"]


def filtered(rows: list[dict], status: list[str], method: list[str], dataset: list[str], text: str) -> pd.DataFrame:
    keep = [r for r in rows if (not status or r["status"] in status) and (not method or r["method"] in method)
            and (not dataset or r["dataset"] in dataset)
            and (not text or text.lower() in json.dumps(r, default=str).lower())]
    df = pd.DataFrame(keep, columns=COLUMNS)
    df["created_at"] = pd.to_datetime(df["created_at"], unit="s", utc=True).dt.tz_convert(None).dt.floor("s")
    if df["name"].isna().all():
        df = df.drop(columns="name")
    if (df["source"] == "sslpilot").all():  # only worth a column once runs come from elsewhere
        df = df.drop(columns="source")
    if df["backend"].isna().all():  # likewise once runs go to a cluster
        df = df.drop(columns="backend")
    df.insert(0, "open", [f"run?run={rid}" for rid in df["run_id"]])
    return df


def main() -> None:
    h = home()
    st.title("Runs")
    rows = list_runs(h, limit=500)
    if not rows:
        st.info("No runs yet. Start one from the chat (\"pretrain simclr on digits\") or `sslpilot pretrain`.")
        return
    c = st.columns(4)
    status = c[0].multiselect("status", sorted({r["status"] for r in rows}))
    method = c[1].multiselect("method", sorted({r["method"] for r in rows}))
    dataset = c[2].multiselect("dataset", sorted({r["dataset"] for r in rows if r["dataset"]}))
    text = c[3].text_input("search", placeholder="tag, name, message...")
    live = any(r["status"] in ("queued", "running") for r in rows)

    @st.fragment(run_every=REFRESH_S if live else None)
    def table() -> None:
        df = filtered(list_runs(h, limit=500), status, method, dataset, text)
        st.dataframe(df, hide_index=True, key="runs-table", column_config={
            "open": st.column_config.LinkColumn("open", display_text="open"),
            "probe_acc": st.column_config.NumberColumn("probe", format="%.3f"),
            "knn_acc": st.column_config.NumberColumn("kNN", format="%.3f")})
        st.caption(f"{len(df)} of {len(rows)} runs" + (f"; refreshing every {REFRESH_S} s while runs are going"
                                                        if live else ""))

    table()

    st.subheader("Compare")
    ids = [r["run_id"] for r in rows]
    chosen = st.multiselect("runs to compare", ids, default=ids[:2] if len(ids) >= 2 else ids,
                            format_func=lambda rid: f"{rid} ({next(r['method'] for r in rows if r['run_id'] == rid)})")
    if not chosen:
        return
    series = {rid: metric_rows(h, rid) for rid in chosen}
    present = [m for m in COMPARE_METRICS if any(m in r for rows_ in series.values() for r in rows_)]
    metrics = st.multiselect("curves", present, default=[m for m in ("loss", "health/std", "health/rank")
                                                          if m in present])
    cols = st.columns(2)
    for i, m in enumerate(metrics):
        chart = charts.overlay_chart(series, m)
        if chart is not None:
            cols[i % 2].altair_chart(chart, width="stretch", key=f"cmp-{m}")
    picked = [r for r in rows if r["run_id"] in chosen]
    bars = charts.accuracy_bars(picked)
    if bars is not None:
        st.markdown("**Probe and kNN accuracy**")
        st.altair_chart(bars, width="stretch", key="cmp-bars")
    reg = Registry(h)
    diff = config_diff({rid: json.loads(reg.get(rid).config_json) for rid in chosen})
    st.markdown("**Config differences**")
    if diff:
        st.dataframe(pd.DataFrame(diff).T.astype(str), key="cmp-diff")
    else:
        st.caption("The configs are identical.")


main()
