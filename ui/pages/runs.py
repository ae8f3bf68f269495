"""Runs: a filterable table that refreshes while runs are going, the device time used, and side-by-side
comparison."""

from __future__ import annotations

import json

import pandas as pd
import streamlit as st

from agent.answers import probe_lead_text
from ssl_runtime.errors import SSLPilotError
from tools.insights import config_diff, metric_rows
from tools.registry import TERMINAL, Registry
from tools.runs import list_runs
from tools.usage import NAMED_PERIODS
from ui import charts, display
from ui.state import home, show_page, toolbox

REFRESH_S = 5
COLUMNS = ["run_id", "name", "owner", "method", "dataset", "status", "steps", "total_steps", "probe_acc", "knn_acc",
           "verdict", "tags", "experiment", "source", "backend", "device", "created_at", "parent_id"]
COMPARE_METRICS = ["loss", "health/std", "health/rank", "health/uniformity", "health/alignment", "lr", "grad_norm",
                   "health/teacher_entropy", "health/weight_drift", "monitor/knn_acc", "samples_per_s"]


PERIODS = ("all time", *NAMED_PERIODS, "24h", "7d", "30d")
"""What the page's period choosers offer (the runs table's "created" filter and the device time): the named periods
tools.usage reads, and spans."""


def chosen_period(choice: str) -> str | None:
    """A chooser's value as tools.usage reads a period (None: all time)."""
    return None if choice == PERIODS[0] else choice


USAGE_TTL_S = 30


@st.cache_data(ttl=USAGE_TTL_S, max_entries=32, show_spinner=False)
def _usage(root: str, period: str | None, by: str) -> dict:
    """usage_summary reads every run's events: once per choice every 30 s, not on each 5-second refresh. `root`
    keys the cache to the home the tool box serves."""
    return toolbox().usage_summary(period=period, by=by)


def device_time() -> None:
    """GPU- and CPU-hours per group over a period, through the usage_summary tool (tools/usage.py)."""
    from agent.answers import usage_text
    from tools.usage import GROUPS

    with st.expander("Device time used"):
        c = st.columns(2)
        period = c[0].selectbox("period", PERIODS, key="usage-period")
        by = c[1].selectbox("by", GROUPS, index=GROUPS.index("method"), key="usage-by")
        out = _usage(str(home().root), chosen_period(period), by)
        st.markdown(usage_text({**out, "rows": []}))  # the headline; the groups are the table
        st.caption(f"Read at most every {USAGE_TTL_S} s.")
        if out["rows"]:
            st.dataframe(pd.DataFrame(out["rows"]).drop(columns="running").round(3), hide_index=True,
                         key="usage-table")


@st.cache_data(ttl=USAGE_TTL_S, max_entries=8, show_spinner=False)
def _disk(root: str, by: str) -> dict:
    """usage_summary(measure=disk) walks every run's folder: once per grouping every 30 s."""
    return toolbox().usage_summary(measure="disk", by=by)


def disk_used() -> None:
    """The space the runs take now, by a grouping, with the trash, the dataset caches and what is free."""
    from agent.answers import disk_text
    from tools.home import bytes_text
    from tools.usage import GROUPS

    with st.expander("Disk used"):
        by = st.selectbox("by", GROUPS, index=GROUPS.index("method"), key="disk-by")
        out = _disk(str(home().root), by)
        st.markdown(disk_text({**out, "rows": []}))  # the headline; the groups are the table
        if out["rows"]:
            st.dataframe(pd.DataFrame([{**r, "on disk": bytes_text(r.pop("bytes"))} for r in map(dict, out["rows"])]),
                         hide_index=True, key="disk-table")


def filtered(rows: list[dict], status: list[str], method: list[str], dataset: list[str], text: str,
             tags: list[str] = (), sweeps: list[str] = ()) -> pd.DataFrame:
    keep = [r for r in rows if (not status or r["status"] in status) and (not method or r["method"] in method)
            and (not dataset or r["dataset"] in dataset) and all(t in r["tags"] for t in tags)
            and (not sweeps or r.get("experiment") in sweeps)
            and (not text or text.lower() in json.dumps(r, default=str).lower())]
    used = list(dict.fromkeys(k for r in keep for k in r.get("used") or {}))  # the settings the rows were picked by
    df = display.table([{**r, "tags": " ".join(r["tags"]), **(r.get("used") or {})} for r in keep], COLUMNS + used)
    df["created_at"] = pd.to_datetime(df["created_at"], unit="s", utc=True).dt.tz_convert(None).dt.floor("s")
    if (df["name"] == "").all():
        df = df.drop(columns="name")
    if (df["owner"] == "").all():  # a home from before accounts
        df = df.drop(columns="owner")
    if (df["tags"] == "").all():
        df = df.drop(columns="tags")
    if (df["experiment"] == "").all():  # no sweep among them
        df = df.drop(columns="experiment")
    if (df["source"] == "sslpilot").all():  # only worth a column once runs come from elsewhere
        df = df.drop(columns="source")
    if (df["backend"] == "").all():  # likewise once runs go to a cluster
        df = df.drop(columns="backend")
    df.insert(0, "open", [f"run?run={rid}" for rid in df["run_id"]])
    # as text for the grid, which draws a missing number as "None": steps as progress, accuracies to 3 places
    df["steps"] = [display.progress(r.get("steps"), r.get("total_steps")) for r in keep]
    df["probe_acc"] = [display.score(r.get("probe_acc")) for r in keep]
    df["knn_acc"] = [display.score(r.get("knn_acc")) for r in keep]
    df["verdict"] = df["verdict"].str.replace("_", " ")
    return df.drop(columns="total_steps")



def with_verdicts(rows: list[dict], most: int = 20) -> list[dict]:
    """Finished runs the table would show without a verdict are diagnosed first (stored, so once per run)."""
    missing = [r["run_id"] for r in rows if r["status"] in TERMINAL and not r["verdict"]][:most]
    for run_id in missing:
        try:
            toolbox().diagnose_run(run_id)
        except Exception:  # noqa: BLE001 - a run that cannot be read keeps an empty cell, the page still draws
            continue
    return list_runs(home(), limit=500) if missing else rows


def runs_with_curves(h, rows: list[dict]) -> list[str]:
    """The newest runs that logged a curve: the compare view opens on these, never on empty charts."""
    out = []
    for r in rows:  # newest first; stop once two are found, reading as few folders as that takes
        if any("loss" in m or "health/std" in m for m in metric_rows(h, r["run_id"])):
            out.append(r["run_id"])
            if len(out) == 2:
                break
    return out


def ranking(h, chosen: list[str]) -> None:
    """The chosen runs best first without labels (tools/ranking.py), or why they cannot be ordered that way."""
    if len(chosen) < 2:
        return
    from tools.ranking import rank_runs

    st.markdown("**Best first, without labels**")
    try:
        r = rank_runs(h, chosen)
    except SSLPilotError as exc:
        st.caption(f"No label-free ranking: {exc}")
        return
    readings = ({"view retrieval": "health/view_retrieval", "cluster consistency": "health/cluster_consistency",
                 "mean place": "score"} if r.get("paired") else {r["signal_name"]: "score"})
    table = [{"rank": e["rank"], "run": e["label"], **{name: e[key] for name, key in readings.items()},
              "linear probe": display.text(e["probe_acc"]),
              "differs in": ", ".join(f"{k}={v}" for k, v in e.get("settings", {}).items())} for e in r["ranking"]]
    st.dataframe(pd.DataFrame(table), hide_index=True, key="cmp-rank")
    st.caption(f"Decided by {r['decided_by']}.")
    if r.get("leaders_note"):
        st.caption(r["leaders_note"])


def main() -> None:
    h = home()
    st.title("Runs")
    rows = with_verdicts(list_runs(h, limit=500))
    if not rows:
        st.info("No runs yet. Start one from the chat (\"pretrain simclr on digits\") or `sslpilot pretrain`.")
        return
    names = sorted({r["experiment"] for r in rows if r.get("experiment")})
    c = st.columns(7 if names else 6)
    status = c[0].multiselect("status", sorted({r["status"] for r in rows}))
    method = c[1].multiselect("method", sorted({r["method"] for r in rows}))
    dataset = c[2].multiselect("dataset", sorted({r["dataset"] for r in rows if r["dataset"]}))
    tags = c[3].multiselect("tags", sorted({t for r in rows for t in r["tags"]}), help="runs with every tag chosen")
    sweeps = c[4].multiselect("sweep", names, help="runs launched in these sweeps") if names else []
    created = c[-2].selectbox("created", PERIODS, key="runs-created", help="runs created in this period")
    text = c[-1].text_input("search", placeholder="name, note, message...")
    rules = st.text_input("settings", key="runs-where", placeholder="optim.lr>0.01; method_args.temperature=0.2",
                          help="only runs whose settings pass each rule KEY OP VALUE (=, !=, <, <=, >, >=), separated "
                               "by ';': a run's value is its config's, else the one it chose at its start")
    where = [w.strip() for w in rules.split(";") if w.strip()]
    trouble = st.checkbox("in trouble only", key="runs-trouble", help="runs that failed or diverged, or whose last "
                          "diagnosis found a failure (a collapse, a divergence, not learning)")
    period = chosen_period(created)
    live = any(r["status"] in ("queued", "running") for r in rows)

    @st.fragment(run_every=REFRESH_S if live else None)
    def table() -> None:
        try:
            picked = list_runs(h, limit=500, period=period, where=where, in_trouble=trouble)
        except SSLPilotError as exc:  # a rule that does not read: said, the table left as it was asked
            st.error(str(exc))
            return
        df = filtered(picked, status, method, dataset, text, tags, sweeps)
        st.dataframe(df, hide_index=True, key="runs-table", width="stretch", column_config={
            "open": st.column_config.LinkColumn("open", display_text="open"),
            "probe_acc": st.column_config.TextColumn("probe"), "knn_acc": st.column_config.TextColumn("kNN"),
            "verdict": st.column_config.TextColumn("verdict", width="large")})
        st.caption(f"{len(df)} of {len(rows)} runs" + (f"; refreshing every {REFRESH_S} s while runs are going"
                                                        if live else ""))

    table()
    device_time()
    disk_used()

    st.subheader("Compare")
    ids = [r["run_id"] for r in rows]
    labels = {r["run_id"]: display.run_label(r) for r in rows}
    chosen = st.multiselect("runs to compare", ids, default=runs_with_curves(h, rows)[:2], format_func=labels.get)
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
        lead = toolbox().compare_runs(run_ids=chosen).get("probe_lead")
        if lead:  # which probe leads, and whether the probe can tell (the chat's words)
            st.caption(probe_lead_text(lead))
    ranking(h, chosen)
    reg = Registry(h)
    diff = config_diff({rid: json.loads(reg.get(rid).config_json) for rid in chosen})
    st.markdown("**Config differences**")
    if diff:
        st.dataframe(pd.DataFrame(diff).T.map(display.text), key="cmp-diff")
    else:
        st.caption("The configs are identical.")


show_page(main)
