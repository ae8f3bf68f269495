"""One run: curves, embeddings, probe, diagnosis and recommendation, events and log, and cancel/resume."""

from __future__ import annotations

import json
import re

import pandas as pd
import streamlit as st
import yaml
from pydantic import ValidationError

from ssl_runtime.errors import SSLPilotError
from tools.insights import (
    embedding_view,
    encoder_stamp,
    kept_checkpoint_steps,
    log_tail,
    metric_rows,
    metrics_stamp,
)
from tools.registry import TERMINAL, Registry
from tools.runs import list_runs
from tools.stopping import active_rules
from ui import cards, charts, display
from ui.state import home, show_page, toolbox

CURVE_GROUPS = ("loss", "lr", "grad_norm", "samples_per_s")


@st.cache_data(show_spinner="Embedding held-out images...", max_entries=16)
def _embeddings(root: str, run_id: str, stamp: float) -> dict:
    from tools.home import Home

    return embedding_view(Home.resolve(root), run_id)


@st.cache_data(max_entries=32)
def _forecast(root: str, run_id: str, probe: bool, stamp: float) -> dict:
    """forecast_run once per new metrics row (`stamp`), not on every rerun of the page: its band is 200 refits."""
    from tools.diagnosis import forecast_run
    from tools.home import Home

    return forecast_run(Home.resolve(root), run_id, probe=probe)


@st.cache_data(show_spinner="Measuring each kept checkpoint...", max_entries=16)
def _checkpoint_ranking(root: str, run_id: str, stamp: float) -> dict:
    """rank_checkpoints once per new metrics row (`stamp`: a new checkpoint comes with one), not on every rerun."""
    from tools.home import Home
    from tools.ranking import rank_checkpoints

    return rank_checkpoints(Home.resolve(root), run_id)


def actions(run: dict) -> None:
    """Cancel, resume and delete through the agent's tools, each behind an explicit confirmation."""
    ask = st.session_state.get("confirm_action")
    mine, why = _mine(run)
    c = st.columns([1, 1, 1, 3])
    if run["status"] not in TERMINAL:
        c[0].button("Cancel run", key="ask-cancel", on_click=st.session_state.__setitem__,
                    args=("confirm_action", "cancel"), disabled=not mine, help=why)
    if run["status"] in ("interrupted", "cancelled", "failed", "diverged"):
        c[1].button("Resume run", key="ask-resume", on_click=st.session_state.__setitem__,
                    args=("confirm_action", "resume"), disabled=not mine, help=why)
    if run["status"] in TERMINAL:
        c[2].button("Delete run", key="ask-delete", on_click=st.session_state.__setitem__,
                    args=("confirm_action", "delete"), disabled=not mine, help=why)
    if not ask:
        return
    tb = toolbox()
    with st.container(border=True):
        try:
            if ask == "cancel":
                pending = tb.cancel_run(run["run_id"])
                st.warning(f"Cancel run {run['run_id']} at step {run['steps'] or 0}? Its last checkpoint is kept; "
                           "you can resume it later.")
            elif ask == "delete":
                pending = tb.delete_runs([run["run_id"]])
                kept = pending["follow_ups_kept"]
                st.warning(f"Delete run {run['run_id']}? It moves to the trash: out of every list and search; "
                           f"`sslpilot restore {run['run_id']}` brings it back."
                           + (f" Its follow-ups ({', '.join(kept)}) stay." if kept else ""))
            else:
                pending = None
                st.warning(f"Resume run {run['run_id']} from its last checkpoint on a free device?")
        except SSLPilotError as exc:
            st.error(str(exc))
            st.session_state.pop("confirm_action", None)
            return
        b = st.columns([1, 1, 4])
        if b[0].button("Confirm", type="primary", key="do-action"):
            st.session_state.pop("confirm_action", None)
            try:
                out = (tb.execute_confirmed(pending["pending_confirmation"]["tool"],
                                            pending["pending_confirmation"]["args"]) if pending
                       else tb.resume_run(run["run_id"]))
                st.session_state["action_result"] = out
            except SSLPilotError as exc:
                st.session_state["action_result"] = {"error": str(exc)}
            st.rerun()
        if b[1].button("Keep as is", key="no-action"):
            st.session_state.pop("confirm_action", None)
            st.rerun()


def stop_later(run: dict) -> None:
    """A stop rule for a queued or running run (the stop_run_when tool), shown before it is added."""
    if run["status"] in TERMINAL:
        return
    mine, why = _mine(run)
    stops = active_rules(run["run_dir"], total_steps=run["total_steps"])
    with st.expander("Stop later"):
        if stops["rules"] or stops["on_failure"]:
            st.caption("Stops early on: " + ", ".join([*stops["rules"], *(["a collapse or divergence"]
                                                                           if stops["on_failure"] else [])]))
        with st.form("stop-when", border=False):
            rule = st.text_input("when", key="stop-rule", placeholder="loss<0.5, step>=2000, minutes>=90, "
                                 "loss stops falling for 500 steps", disabled=not mine, help=why)
            on_failure = st.checkbox("or if it collapses or diverges", key="stop-on-failure", disabled=not mine)
            asked = st.form_submit_button("Check", disabled=not mine)
        if asked:
            try:
                st.session_state["stop_pending"] = toolbox().stop_run_when(
                    run_id=run["run_id"], rule=rule.strip() or None, on_failure=on_failure and not rule.strip())
            except (SSLPilotError, ValidationError) as exc:
                st.session_state.pop("stop_pending", None)
                st.error(str(exc))
        pending = st.session_state.get("stop_pending")
        if not pending or pending["run"]["run_id"] != run["run_id"]:
            return
        what = f"when `{pending['rule']}` ({pending['now']})" if pending["rule"] else "if it collapses or diverges"
        st.warning(f"Stop run {run['run_id']} {what}?")
        if st.button("Confirm", type="primary", key="do-stop-when"):
            st.session_state.pop("stop_pending", None)
            try:
                st.session_state["action_result"] = toolbox().execute_confirmed(
                    "stop_run_when", pending["pending_confirmation"]["args"])
            except SSLPilotError as exc:
                st.session_state["action_result"] = {"error": str(exc)}
            st.rerun()


def annotations(run: dict, mine: bool, why: str | None) -> None:
    """The run's tags and notes, and a form to rename, tag or note it (through the annotate_run tool). Notes are
    shown as plain text: they are someone's words, never markdown to render."""
    if run["tags"]:
        st.markdown(" ".join(f":gray-badge[{t}]" for t in run["tags"]))
    if run.get("notes"):
        st.text(run["notes"])
    with st.expander("Name, tags and notes"):
        with st.form("annotate", clear_on_submit=True, border=False):
            name = st.text_input("name", value=run.get("name") or "", key="annotate-name", disabled=not mine, help=why)
            add = st.text_input("add tags", key="annotate-add", placeholder="baseline, v2", disabled=not mine, help=why)
            remove = st.multiselect("remove tags", run["tags"], key="annotate-remove", disabled=not mine, help=why)
            note = st.text_area("add a note", key="annotate-note", placeholder="what this run was for, what went wrong", disabled=not mine,
                                help=why)
            if st.form_submit_button("Save", disabled=not mine):
                change = {"name": name.strip() if name.strip() and name.strip() != (run.get("name") or "") else None,
                          "add_tags": [t for t in re.split(r"[,\s]+", add) if t], "remove_tags": remove,
                          "note": note.strip() or None}
                if any(change.values()):
                    try:
                        st.session_state["action_result"] = toolbox().annotate_run(run["run_id"], **change)
                    except (SSLPilotError, ValidationError) as exc:
                        st.session_state["action_result"] = {"error": str(exc)}
                    st.rerun()


def _mine(run: dict) -> tuple[bool, str | None]:
    """Whether the signed-in user may change the run (its owner, or an admin), and why not."""
    from tools.access import current, may_change

    actor = current(home())
    mine = may_change(actor, run.get("owner"))
    return mine, None if mine else (f"{run.get('owner') or 'its owner'}'s run: needs the admin role ({actor.name} is a "
                                    f"{actor.role})")


def checkpoints(run: dict) -> None:
    """Which kept checkpoint is best without labels (tools/ranking.rank_checkpoints, the chat's rank_checkpoints), on
    request: view retrieval embeds each checkpoint's views once (seconds for a small CNN, minutes for a large
    backbone), kept after."""
    h = home()
    kept = kept_checkpoint_steps(h, run["run_id"])
    if len(kept) < 2:
        return
    st.subheader("Which checkpoint is best?")
    if not st.toggle(f"Rank its {len(kept)} kept checkpoints without labels", key="rank_checkpoints"):
        return
    try:
        r = _checkpoint_ranking(str(h.root), run["run_id"], metrics_stamp(h, run["run_id"]))
    except SSLPilotError as err:
        st.warning(str(err))
        return
    table = [{"rank": e["rank"], "checkpoint": e["label"], r["signal_name"]: e["score"]} for e in r["ranking"]]
    st.dataframe(pd.DataFrame(table), hide_index=True, key="checkpoint-rank")
    st.caption(f"Decided by {r['decided_by']}.")
    st.caption(r["caveat"])


def curves(rows: list[dict]) -> None:
    if not rows:
        st.caption("No metrics logged yet.")
        return
    names = [m for m in CURVE_GROUPS if any(m in r for r in rows)]
    names += sorted({k for r in rows for k in r if k.startswith(("loss/", "health/", "monitor/"))})  # the kNN curve too
    cols = st.columns(3)
    for i, name in enumerate(names):
        chart = charts.metric_chart(rows, name)
        if chart is not None:
            cols[i % 3].altair_chart(chart, width="stretch", key=f"curve-{name}")


def forecast(run: dict) -> None:
    """Is more training worth it? The forecast of the run's quality metric at 2x and 4x its steps; for a vision run
    with labels and kept checkpoints, of the probe of those checkpoints on request (each probed once)."""
    from ssl_runtime.catalogue import TEXT_METHODS

    st.subheader("Is more training worth it?")
    probe = run.get("method") not in TEXT_METHODS and st.toggle(
        "Forecast the linear probe of its kept checkpoints (labelled data; probes each checkpoint once)",
        key="forecast_probe")
    try:
        h = home()
        f = _forecast(str(h.root), run["run_id"], probe, metrics_stamp(h, run["run_id"]))
    except SSLPilotError as err:
        st.warning(str(err))
        return
    chart = charts.forecast_chart(f)
    if chart is None:
        st.caption(f"No forecast: {f['reason']}." + (" The probe of its kept checkpoints can be forecast instead: "
                                                      "turn on the toggle above." if f.get("try_instead") else ""))
        return
    verdict = {"train_longer": ":green-badge[train longer]", "uncertain": ":orange-badge[not clear yet]",
               "plateaued": ":gray-badge[plateaued]"}[f["verdict"]]
    st.markdown(f"{verdict} {f['reason']}.")
    if f.get("caveat"):
        st.caption(f["caveat"])
    st.altair_chart(chart, width="stretch", key="forecast")


def embeddings(run: dict) -> None:
    h = home()
    if run["status"] != "succeeded":
        st.caption("The spectrum and PCA use the exported encoder; they appear when the run succeeds.")
        return
    try:
        view = _embeddings(str(h.root), run["run_id"], encoder_stamp(h, run["run_id"]))
    except SSLPilotError as exc:
        st.caption(str(exc))
        return
    cards.embedding_card(view, "run")


def probe(run_id: str) -> None:
    p = Registry(home()).probe(run_id)
    if not p:
        st.caption("Not probed yet (runs are probed when they succeed; or ask the chat to probe it).")
        return
    result = json.loads(p.result_json)
    cards.probe_card(result, key="probe")
    base = result.get("baseline") or {}
    table = [{"metric": k, "trained": v, "random init": base.get(k)} for k, v in result.items()
             if k.startswith(("probe/", "knn/")) and k != "probe/gain_se" and isinstance(v, (int, float))]
    st.dataframe(pd.DataFrame(table), hide_index=True, key="probe-table")


def diagnosis(run: dict) -> None:
    h = home()
    reg = Registry(h)
    stored = reg.diagnoses(run["run_id"], "diagnosis")
    if run["status"] in TERMINAL and not stored:
        toolbox().diagnose_run(run["run_id"])
        stored = reg.diagnoses(run["run_id"], "diagnosis")
    if stored:
        cards.diagnosis_card(h, json.loads(stored[-1].result_json), key="diag")
    else:
        st.caption("Diagnosed when the run ends, or by the monitor while it runs (`sslpilot serve --monitor`).")
    recs = reg.diagnoses(run["run_id"], "recommendation")
    if recs:
        cards.recommendation_card(h, json.loads(recs[-1].result_json), key="rec", launch_button=False)
        st.caption("To launch it, ask the chat: \"what should I try next for run "
                   f"{run['run_id']}?\" then \"launch it\".")
    elif stored and st.button("Recommend a next step", key="recommend"):
        toolbox().recommend_next_step(run["run_id"])
        st.rerun()


def main() -> None:
    h = home()
    rows = list_runs(h, limit=500)
    if not rows:
        st.title("Run")
        st.info("No runs yet.")
        return
    ids = [r["run_id"] for r in rows]
    wanted = st.query_params.get("run")
    index = ids.index(wanted) if wanted in ids else 0
    labels = {r["run_id"]: display.run_label(r) for r in rows}
    run_id = st.sidebar.selectbox("run", ids, index=index, format_func=labels.get)
    st.query_params["run"] = run_id
    run = next(r for r in rows if r["run_id"] == run_id)
    st.title(f"Run {display.run_label(run).replace(' · ', ': ', 1)}")
    badges = [f":{cards.STATUS_COLORS.get(run['status'], 'gray')}-badge[{run['status']}]"]
    if run["verdict"]:  # one line of markdown badges: each as wide as its words, never cut to fit a column
        badges.append(f":{cards.VERDICT_COLORS.get(run['verdict'], 'gray')}-badge[{run['verdict'].replace('_', ' ')}]")
    st.markdown(" ".join(badges))
    origin = "" if run.get("source", "sslpilot") == "sslpilot" else f"{run['source']} · "
    if run.get("owner"):
        origin = f"owner {run['owner']} · " + origin
    if run.get("backend"):
        origin += f"backend {run['backend']} · job {run.get('job_id') or 'not submitted yet'} · {run.get('nodes') or 1} node(s) · "
    st.caption(origin + f"step {display.text(run['steps'] or 0)}/{display.text(run['total_steps'])} · device "
               f"{display.text(run['device'])} · "
               f"folder `{run['run_dir']}`" + (f" · {run['message']}" if run["message"] else ""))
    if run["status"] == "queued" and run.get("wait_reason"):
        from tools.access import current
        from tools.fairshare import reason_for

        st.info(reason_for(Registry(h).get(run_id), current(h).name))
    done = st.session_state.pop("action_result", None)
    if done:
        (st.error if "error" in done else st.success)(json.dumps(done, default=str))
    actions(run)
    stop_later(run)
    annotations(run, *_mine(run))

    tabs = st.tabs(["Curves", "Embeddings", "Probe", "Diagnosis", "Events and log", "Config"])
    with tabs[0]:
        curves(metric_rows(h, run_id))
        forecast(run)
        checkpoints(run)
    with tabs[1]:
        embeddings(run)
    with tabs[2]:
        probe(run_id)
    with tabs[3]:
        diagnosis(run)
    with tabs[4]:
        events = [{"time": e.time, "type": e.type, "message": e.message} for e in Registry(h).events(run_id)]
        st.dataframe(pd.DataFrame(events), hide_index=True, key="events")
        st.code(log_tail(h, run_id) or "(no output yet)", language="text")
    with tabs[5]:
        config_tab(h, run_id)


def config_tab(h, run_id: str) -> None:
    """The config as launched, and beside it what the run chose at its start for each setting left to auto."""
    from tools.run_settings import asked_settings, time_text
    from tools.runs import run_summary

    asked = asked_settings(run_summary(h, run_id), ["config", "time"])
    st.caption(f"Run {run_id}: {time_text(asked['time'])}")
    if asked["chosen"]:
        st.markdown("**Chosen by the run at its start** (auto or unset in its config)")
        st.dataframe(pd.DataFrame([{"setting": k, "value": str(v)} for k, v in asked["chosen"].items()]),
                     hide_index=True, key="chosen")
    st.code(yaml.safe_dump(asked["config"], sort_keys=False), language="yaml")


show_page(main)
