"""How tool results look in the UI: verdict badges, evidence tables and plots, recommendation cards,
pending confirmations, search hits with links to the cited chunk."""

from __future__ import annotations

import json
from collections.abc import Callable

import pandas as pd
import streamlit as st

from agent.answers import ended_early_text, follow_up_text, quote_untrusted
from tools.diagnosis.thresholds import PROBE_GAIN_Z
from tools.home import Home
from tools.insights import flatten, metric_rows
from ui import charts, display
from ui.state import queue_prompt

VERDICT_COLORS = {"healthy": "green", "complete_collapse": "red", "dimensional_collapse": "orange",
                  "diverged": "red", "not_learning": "orange", "weak_representation": "yellow",
                  "data_problem": "violet", "insufficient_evidence": "gray"}
CATEGORY_COLORS = {"data": "blue", "model": "violet", "retrieval": "orange"}
STATUS_COLORS = {"succeeded": "green", "running": "blue", "queued": "gray", "failed": "red", "diverged": "red",
                 "cancelled": "gray", "interrupted": "orange"}


def _link(citation: dict, chunk_id: str | None = None) -> str:
    """A markdown link to the cited chunk in the Knowledge page, or to the paper when it is an arXiv id."""
    title = citation.get("title") or citation.get("source") or "source"
    if citation.get("section"):
        title += f" - {citation['section']}"
    if chunk_id:
        return f"[{title}](knowledge?chunk={chunk_id})"
    src = str(citation.get("source", ""))
    if src.startswith("arXiv:"):
        return f"[{title}](https://arxiv.org/abs/{src.split(':', 1)[1]})"
    return f"{title} ({src})" if src else title


def diagnosis_card(home: Home, d: dict, key: str) -> None:
    cols = st.columns([3, 1])
    with cols[0]:
        st.markdown(f"**Run {d['run_id']}**" + (" - still running, early warning" if d.get("in_progress") else ""))
        st.badge(d["verdict"].replace("_", " "), color=VERDICT_COLORS.get(d["verdict"], "gray"))
    cols[1].metric("confidence", f"{d['confidence']:.2f}")
    if d.get("ended_early"):
        st.warning(ended_early_text(d["run_id"], d["ended_early"]))
    if d.get("follow_up"):
        _follow_up_box(d["run_id"], d["follow_up"])
    for f in d.get("follow_ups", []):  # this run's own follow-ups, as the chat lists them
        _follow_up_box(f["run_id"], f)
    if d.get("evidence"):
        df = pd.DataFrame(d["evidence"])[["metric", "value", "step", "threshold", "explanation"]]
        st.dataframe(df, hide_index=True, key=f"{key}-evidence")
        try:
            chart = charts.evidence_chart(metric_rows(home, d["run_id"]), d["evidence"])
        except Exception:  # noqa: BLE001 - a vanished run folder must not break the chat
            chart = None
        if chart is not None:
            st.altair_chart(chart, width="stretch", key=f"{key}-plot")
    if d.get("causes"):
        st.markdown("**Likely causes**\n" + "\n".join(f"- {c['description']}" for c in d["causes"][:4]))
    links = [_link(c) for c in d.get("citations", [])[:4]]
    links += [_link(p["citation"], p.get("id")) for p in d.get("passages", [])]
    if links:
        st.markdown("**Sources** " + " · ".join(links))


def _follow_up_box(run_id: str, f: dict) -> None:
    box = st.success if f["outcome"] in ("fixed", "improved") else st.info \
        if f["outcome"] in ("pending", "unfinished", "partly_fixed") else st.warning
    box(follow_up_text(run_id, f))


def recommendation_card(home: Home, r: dict, key: str, launch_button: bool = True) -> None:
    with st.container(border=True):
        st.badge(f"{r['category']} change", color=CATEGORY_COLORS.get(r["category"], "gray"))
        st.markdown(f"**Next step for run {r['run_id']}**")
        current = _current_config(home, r["run_id"])
        if r.get("change"):
            st.dataframe(pd.DataFrame([{"key": k, "now": json.dumps(current.get(k)), "proposed": json.dumps(v)}
                                       for k, v in r["change"].items()]), hide_index=True, key=f"{key}-diff")
        st.markdown(f"{r['rationale']}\n\n**Expected:** {r['expected_effect']}\n\n**How to verify:** {r['verify']}")
        if r.get("skipped"):
            st.caption("Not proposed again: " + "; ".join(s.get("said") or json.dumps(s) for s in r["skipped"]))
        if launch_button and r.get("launchable") and r.get("change"):
            st.button("Launch follow-up", key=f"{key}-launch", type="primary", on_click=queue_prompt,
                      args=("launch the recommended follow-up",),
                      help="Asks the agent to launch it; you confirm the resolved config before anything runs.")


def _current_config(home: Home, run_id: str) -> dict:
    from tools.registry import Registry

    try:
        return flatten(json.loads(Registry(home).get(run_id).config_json))
    except Exception:  # noqa: BLE001 - the card still shows the change
        return {}


def pending_card(result: dict, key: str) -> None:
    """The action a costly tool proposes, with everything that will be used (nothing has run yet)."""
    p = result["pending_confirmation"]
    with st.container(border=True):
        st.markdown(f"**Waiting for your confirmation:** `{p['tool']}`")
        if result.get("grid"):  # a sweep: how many runs, and what varies
            st.markdown(f"**{result['runs']} runs**, one for each combination of " + "; ".join(
                f"`{k}` in {', '.join(map(str, v))}" for k, v in result["grid"].items()))
        if result.get("values"):  # every setting, with where its value comes from
            rows = [{**v, "value": json.dumps(v["value"]) if isinstance(v["value"], (dict, list, bool)) else
                     str(v["value"])} for v in result["values"]]
            st.dataframe(pd.DataFrame(rows), hide_index=True, key=f"{key}-cfg")
        elif "config" in result:
            cfg = {k: (json.dumps(v) if isinstance(v, dict) else v) for k, v in result["config"].items()}
            st.dataframe(pd.DataFrame([cfg]), hide_index=True, key=f"{key}-cfg")
        if "estimate" in result:
            st.caption("estimate: " + ", ".join(f"{k} {v}" for k, v in result["estimate"].items() if v is not None))
        if "run" in result:
            st.caption(", ".join(f"{k} {v}" for k, v in result["run"].items()))
        if result.get("resolved"):
            with st.expander("Full resolved config"):
                st.json(result["resolved"], expanded=False)


def hits_card(result: dict, key: str) -> None:
    for i, h in enumerate(result.get("results", [])):
        c = h.get("citation", {})
        where = f"run {c['run_id']}" if c.get("run_id") else _link(c, h.get("id"))
        flag = " :red[flagged: instruction-like text, shown as data]" if h.get("flagged") else ""
        st.markdown(f"**{i + 1}.** {where} (score {h.get('score', 0):.3f}){flag}")
        st.markdown(quote_untrusted(h["text"][:500]))


def runs_card(result: dict, key: str) -> None:
    if result.get("runs"):
        st.dataframe(display.table(result["runs"], list(result["runs"][0])), hide_index=True, key=f"{key}-runs")
    if result.get("config_diff"):
        st.markdown("**Config differences**")
        st.dataframe(pd.DataFrame(result["config_diff"]).T.map(display.text), key=f"{key}-diff")


def probe_card(result: dict, key: str) -> None:
    cols = st.columns(3)
    base = result.get("baseline") or {}
    for col, name in zip(cols, ("probe/acc", "knn/acc", "knn/recall@5"), strict=True):
        if isinstance(result.get(name), (int, float)):
            delta = result[name] - base[name] if isinstance(base.get(name), (int, float)) else None
            se = result.get("probe/gain_se") if name == "probe/acc" else None
            margin = f" ± {PROBE_GAIN_Z * se:.3f}" if isinstance(se, (int, float)) else ""
            col.metric(name, f"{result[name]:.3f}", None if delta is None else f"{delta:+.3f}{margin} vs random init")
    if result.get("num_val"):
        st.caption(f"on {result['num_val']} held-out images; ± is {PROBE_GAIN_Z:g} standard errors of the gain, "
                   "paired on them" + ("; the run's stored probe (ask to probe it again to measure anew)"
                                       if result.get("stored") else ""))


def embedding_card(view: dict, key: str) -> None:
    """A run's held-out embeddings (tools.insights.embedding_view): the spectrum beside the PCA scatter, on the run
    page and under a chat answer that asked for them."""
    st.caption(f"{view['n']} held-out samples, {view['dim']}-d features")
    c = st.columns(2)
    c[0].altair_chart(charts.spectrum_chart(view["singular_values"]), width="stretch", key=f"{key}-spectrum")
    c[1].altair_chart(charts.pca_chart(view["pca"], view["labels"]), width="stretch", key=f"{key}-pca")


def render_tool(home: Home, tool: dict, key: str, latest_recommendation: bool) -> bool:
    """Draw one tool result; False when it has no card (the answer text covers it)."""
    name, result = tool["name"], tool["result"]
    if "error" in result:
        return False
    if "pending_confirmation" in result:
        pending_card(result, key)
        return True
    renderers: dict[str, Callable[[], None]] = {
        "diagnose_run": lambda: diagnosis_card(home, result, key),
        "recommend_next_step": lambda: recommendation_card(home, result, key, latest_recommendation),
        "search_literature": lambda: hits_card(result, key),
        "search_run_logs": lambda: hits_card(result, key),
        "list_runs": lambda: runs_card(result, key),
        "compare_runs": lambda: runs_card(result, key),
        "run_linear_probe": lambda: probe_card(result, key),
        **({"get_run": lambda: embedding_card(result["embeddings"], key)} if result.get("embeddings") else {}),
    }
    if name not in renderers:
        return False
    renderers[name]()
    return True


def render_message(home: Home, msg: dict, key: str, latest_recommendation: bool = False) -> None:
    """A chat message: cards for the tools it used, the answer text under them (folded when cards said it)."""
    if msg["role"] == "user":
        st.markdown(msg["content"])
        return
    drawn = [render_tool(home, t, f"{key}-{i}", latest_recommendation) for i, t in enumerate(msg.get("tools", []))]
    if any(drawn):
        with st.expander("Answer as text"):
            st.markdown(msg["content"])
    else:
        st.markdown(msg["content"])
