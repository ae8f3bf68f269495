"""Diagnosis and next-step recommendation over runs in the home (the API the CLI, agent and UI use)."""

from __future__ import annotations

import copy
import json
import sys
import time

from ssl_runtime.catalogue import TEXT_METHODS
from ssl_runtime.config import flatten_dotted
from ssl_runtime.errors import SSLPilotError
from ssl_runtime.run_folder import RunFolder
from ssl_runtime.stop_rules import read_added
from tools.diagnosis import thresholds as T
from tools.diagnosis.causes import EXPLAIN_FLAT_LOSS
from tools.diagnosis.diagnose import ALERT_VERDICTS, VERDICTS, Diagnosis, diagnose
from tools.diagnosis.evidence import RunEvidence, load_evidence
from tools.diagnosis.judged import judged_settings
from tools.diagnosis.quality import judge
from tools.diagnosis.recommend import Recommendation, recommend
from tools.home import Home
from tools.launches import set_length
from tools.records import Run
from tools.registry import DiskFullError, Registry, run_id_of

__all__ = ["VERDICTS", "Diagnosis", "Recommendation", "RunEvidence", "diagnose", "diagnose_ended", "diagnose_run",
           "follow_up_config", "forecast_run", "judge_run",
           "lineage_history", "load_evidence", "recommend", "recommend_run", "monitor_tick", "early_stop", "alerting"]

# hard failures an opt-in early stop acts on; a falling rank alone (dimensional collapse) only alerts: rank rises
# and then falls in healthy runs too
STOP_VERDICTS = ("complete_collapse", "diverged", "not_learning")
# stopped from outside before its last step (a crash, `failed`, is the run's own: its diagnosis says why)
UNFINISHED = ("interrupted", "cancelled")


def _modality(method: str) -> str:
    return {"mlm": "text", "clm": "text", "clip": "image_text"}.get(method, "image")


HEALTHY_PATHS = 3  # how many healthy runs of the same method and data a collapse is compared with


def _siblings(reg: Registry, run_id: str) -> list[dict]:
    """Runs on the same data and of the same modality (a text probe is not comparable with an image one); the
    newest healthy ones of the same method carry their folder, whose path a collapse is read against."""
    run = reg.get(run_id)
    out, with_paths = [], 0
    for r in reg.list(method=None, limit=500):
        if r.id == run_id or r.dataset != run.dataset or _modality(r.method) != _modality(run.method):
            continue
        p = reg.probe(r.id)
        row = {"run_id": r.id, "method": r.method, "probe_acc": p.probe_acc if p else None, "verdict": r.verdict}
        if r.method == run.method and r.verdict == "healthy" and r.status == "succeeded" and with_paths < HEALTHY_PATHS:
            row["run_dir"] = r.run_dir
            with_paths += 1
        out.append(row)
    return out


def diagnose_run(home: Home, run_ref: str, store: bool = True, *, literature: bool = True, index: bool = True,
                 about: list[str] | None = None) -> dict:
    """The run's verdict with its evidence, causes, citations and (`literature`) passages from the literature store;
    stored when it changed, and (`index`) the run re-indexed into the run-log store. `about`: settings the user asked
    to have judged, each read against this same diagnosis and its recommendation (tools/diagnosis/judged.py)."""
    reg = Registry(home)
    run = reg.sync(run_id_of(run_ref))
    ev = load_evidence(run.run_dir)
    d = diagnose(ev, _siblings(reg, run.id))
    result = d.to_dict()
    result["quality"] = judge(ev, d).to_dict()  # the label-free verdict, shown where the data has no labels
    outcome = follow_up_outcome(reg, run, d.verdict, d.in_progress)
    if outcome:
        result["follow_up"] = outcome
    tried = follow_ups_of(reg, run)
    if tried:  # "did that fix run 7?" names the parent: what its follow-ups did is the answer
        result["follow_ups"] = tried
    if run.status in UNFINISHED:  # "why was run 2 interrupted?": what stopped it comes before what its metrics say
        result["ended_early"] = {"status": run.status, "message": run.message, "steps": run.steps,
                                 "total_steps": run.total_steps, "retries": run.retries}
    if literature and result["verdict"] not in ("healthy", "insufficient_evidence"):
        result["passages"] = _passages(home, result["verdict"], run.method)
    if store and not _unchanged(reg, run.id, "diagnosis", result):
        try:
            reg.add_diagnosis(run.id, "diagnosis", result["verdict"], result)
        except DiskFullError as exc:  # the reading stands; keeping it waits for space (see diagnose_ended)
            result["not_stored"] = str(exc)
        else:
            RunFolder(run.run_dir).event("diagnosis", f"verdict {result['verdict']} ({result['confidence']:.2f})",
                                         verdict=result["verdict"], confidence=result["confidence"])
            if index:
                _index(home, run.id)
    if about:
        info = {"run_dir": run.run_dir, "config": ev.config, "summary": ev.summary, "status": run.status,
                "steps": run.steps, "total_steps": run.total_steps, "message": run.message}
        rec = _recommendation(home, reg, run, ev, d)
        result["about"] = judged_settings(info, about, ev, result, rec)
    return result


ENDED_WITH_A_VERDICT = ("succeeded", "diverged")
CATCH_UP_AT_AN_END = 3  # earlier runs whose verdict was not kept (a full disk at their end), read again per end


def diagnose_ended(home: Home, run_id: str, index: bool = True) -> None:
    """A run's verdict when its worker has exited (trained, exported and probed): stored, so the runs table, a
    comparison and the diagnosis of later runs (which read healthy siblings by their verdict) all have it without
    anyone asking first. An early warning stored while it trained is replaced. Earlier queue runs that ended
    without a kept verdict (the disk was full then) get theirs now too. Never fatal."""
    try:
        reg = Registry(home)
        unread = [r.id for r in reg.list(status=ENDED_WITH_A_VERDICT, limit=50)
                  if _verdict_missing(r) and r.id != run_id][:CATCH_UP_AT_AN_END]
        ids = ([run_id] if reg.get(run_id).status in ENDED_WITH_A_VERDICT else []) + unread
    except Exception as exc:  # noqa: BLE001 - a run's end must not fail because its first reading did
        print(f"diagnosis of ended run {run_id} failed: {type(exc).__name__}: {exc}", file=sys.stderr, flush=True)
        return
    for rid in ids:
        try:
            d = diagnose_run(home, rid, literature=index, index=index)
            if d.get("not_stored"):
                print(f"diagnosis of ended run {rid} not kept: {d['not_stored']}", file=sys.stderr, flush=True)
        except Exception as exc:  # noqa: BLE001 - a run's end must not fail because its first reading did
            print(f"diagnosis of ended run {rid} failed: {type(exc).__name__}: {exc}", file=sys.stderr, flush=True)


def _verdict_missing(run) -> bool:
    """An ended queue run that should have a verdict and has none (its end's reading not kept, or its rows made anew)."""
    return run.verdict is None and run.status in ENDED_WITH_A_VERDICT and run.source == "sslpilot"


def verdicts_read_again(home: Home, runs: list) -> int:
    """Verdicts for ended runs that have none: read from their own metrics, as at their end. A rebuilt or restored
    row takes its verdict from the folder's diagnosis event (Registry._sync_events); this reads the runs whose
    folder has none (kept before that event existed, or its end's reading lost to a full disk). Returns how many
    were read. Never fatal."""
    read = 0
    for run in runs:
        if _verdict_missing(run):
            try:
                read += diagnose_run(home, run.id, literature=False, index=False).get("verdict") is not None
            except Exception as exc:  # noqa: BLE001 - one unreadable run must not stop the rest
                print(f"diagnosis of run {run.id} failed: {type(exc).__name__}: {exc}", file=sys.stderr, flush=True)
    return read


def diagnose_on_arrival(home: Home, runs: list) -> list:
    """Imported and audited runs get their verdict when they arrive, so no table shows them without one; a run
    that cannot be read yet keeps none (the run page diagnoses it when opened). Returns the runs re-read."""
    out = []
    for run in runs:
        try:
            diagnose_run(home, run.id)
        except Exception:  # noqa: BLE001 - arrival must never fail because the first reading did
            pass
        out.append(Registry(home).get(run.id))
    return out


def _unchanged(reg: Registry, run_id: str, kind: str, result: dict) -> bool:
    """The same result as the last one stored for this run: asking again stores and re-indexes nothing."""
    stored = reg.diagnoses(run_id, kind)
    return bool(stored) and json.loads(stored[-1].result_json) == json.loads(json.dumps(result, default=str))


def _passages(home: Home, verdict: str, method: str, k: int = 2) -> list[dict]:
    """Literature-store passages that explain the verdict, citable down to their chunk (empty if unavailable)."""
    try:
        from tools.knowledge import compact, search

        return compact(search(home, f"{verdict.replace('_', ' ')} {method} symptoms causes fix", "literature", k))
    except Exception:  # noqa: BLE001 - the built-in citations stand without the store
        return []


def follow_up_outcome(reg: Registry, run, verdict: str, in_progress: bool) -> dict | None:
    """For a follow-up (a run launched from a recommendation): did it fix its parent? `fixed` when the parent
    read a failure and this run reads healthy with a kNN no lower than the parent's (when both have one);
    `partly_fixed` when it still reads a failure but its kNN rose by FOLLOW_UP_KNN_GAIN; for a healthy parent,
    `improved` when the kNN rose; `pending` while this run trains. None otherwise."""
    if not run.parent_id or not run.recommendation_json or not reg.find(run.parent_id):
        return None
    parent = reg.get(run.parent_id)
    parent_verdict = _verdict_of(parent) or parent.status
    pp, cp = reg.probe(parent.id), reg.probe(run.id)
    knn, parent_knn = (cp.knn_acc if cp else None), (pp.knn_acc if pp else None)
    no_worse = knn is None or parent_knn is None or knn >= parent_knn
    if in_progress or run.status in ("queued", "running"):
        outcome = "pending"
    elif run.status in UNFINISHED:  # stopped before its end: it has not shown what the change does
        outcome = "unfinished"
    elif parent_verdict != "healthy":
        rose = knn is not None and parent_knn is not None and knn - parent_knn >= T.FOLLOW_UP_KNN_GAIN
        outcome = "fixed" if verdict == "healthy" and no_worse else "partly_fixed" if rose else "not_fixed"
    else:
        outcome = "improved" if verdict == "healthy" and knn is not None and parent_knn is not None \
            and knn > parent_knn else "not_improved"
    return {"parent_id": parent.id, "parent_verdict": parent_verdict, "outcome": outcome, "verdict": verdict,
            "knn": knn, "parent_knn": parent_knn, "change": json.loads(run.recommendation_json).get("change") or {}}


def follow_ups_of(reg: Registry, run: Run) -> list[dict]:
    """Each follow-up launched from this run's recommendations, with whether it fixed (or improved on) it."""
    out = []
    for child in reg.children(run.id):
        if child.recommendation_json:
            child = reg.sync(child.id) if child.status in ("queued", "running") else child
            verdict = _verdict_of(child) or child.status
            outcome = follow_up_outcome(reg, child, verdict, child.status in ("queued", "running"))
            if outcome:
                out.append({"run_id": child.id, **outcome})
    return out


def _verdict_of(run) -> str | None:
    """The run's stored verdict, or a fresh diagnosis of an ended run without one (None while it runs)."""
    if run.verdict is None and run.status in ("succeeded", "failed", "diverged"):
        return diagnose(load_evidence(run.run_dir)).verdict
    return run.verdict


def lineage_history(reg: Registry, run_id: str) -> list[dict]:
    """Every follow-up in the run's lineage (root and all descendants) that carried a recommendation."""
    root = reg.get(run_id)
    while root.parent_id and reg.find(root.parent_id):
        root = reg.get(root.parent_id)
    out, todo = [], [root.id]
    while todo:
        rid = todo.pop()
        for child in reg.children(rid):
            todo.append(child.id)
            rec = json.loads(child.recommendation_json) if child.recommendation_json else None
            if not rec:
                continue
            verdict = _verdict_of(child)
            p = reg.probe(child.id)
            out.append({"run_id": child.id, "change": rec.get("change"), "verdict": verdict or child.status,
                        "probe_acc": p.probe_acc if p else None})
    return out


def recommend_run(home: Home, run_ref: str, store: bool = True, category: str | None = None,
                  avoid: tuple[str, ...] = ()) -> dict:
    """The run's recommended next step; `category` and `avoid` keep it to a kind of change or away from settings
    (recommend.recommend)."""
    reg = Registry(home)
    run = reg.sync(run_id_of(run_ref))
    ev = load_evidence(run.run_dir)
    d = diagnose(ev, _siblings(reg, run.id))
    rec = _recommendation(home, reg, run, ev, d, category, tuple(avoid))
    rec["verdict"] = d.verdict
    if avoid:  # what it was kept away from, so that "anything else?" after it keeps away from it too
        rec["avoided"] = list(avoid)
    if store and not _unchanged(reg, run.id, "recommendation", rec):
        reg.add_diagnosis(run.id, "recommendation", d.verdict, rec)
        RunFolder(run.run_dir).event("recommendation", f"{rec['category']} change {rec['change']}",
                                     category=rec["category"], change=rec["change"])
        _index(home, run.id)
    return rec


# verdicts whose recommendation may be "train longer" (a failure's fix is never more of the same)
FORECAST_VERDICTS = ("healthy", "weak_representation", "data_problem")


def _recommendation(home: Home, reg: Registry, run: Run, ev: RunEvidence, d: Diagnosis, category: str | None = None,
                    avoid: tuple[str, ...] = ()) -> dict:
    """The run's recommendation, with its lineage's failed changes and, where "train longer" could be the answer,
    its own forecast to decide it (the forecast costs a few seconds of curve fits, so only then)."""
    forecast = forecast_brief(home, run.id) if d.verdict in FORECAST_VERDICTS else None
    return recommend(ev, d, lineage_history(reg, run.id), forecast, category, avoid).to_dict()


def forecast_brief(home: Home, run_id: str) -> dict | None:
    """The forecast's verdict and its reading in a line: what a recommendation says of training longer."""
    try:
        f = forecast_run(home, run_id)
    except Exception:  # noqa: BLE001 - a recommendation stands without its forecast (the loss decides, as before)
        return None
    two = f["at"].get("2x")
    if not two:
        return {"verdict": f["verdict"], "reading": f["reason"]}
    return {"verdict": f["verdict"], "reading": f"{f['metric']} {f['current']:.4g} at step {f['steps']}, forecast "
            f"{two['value']:.4g} at {two['steps']} steps (80% band {two['low']:.4g} to {two['high']:.4g})"}


def forecast_run(home: Home, run_ref: str, probe: bool = False) -> dict:
    """Is more pretraining worth it for this run? Its quality metric's saturating-curve forecast at 2x and 4x the
    steps, with an 80% band, and the verdict train_longer | uncertain | plateaued | unknown (tools/diagnosis/forecast.py);
    horizons that finished runs of the same recipe reach are read off them. `probe`: forecast the linear probe of
    the run's kept checkpoints (each probed once, on its labelled data) instead of its label-free metric."""
    from dataclasses import asdict

    from tools.diagnosis.forecast import PROBE_METRIC, REFERENCE_METRICS, forecast_series

    reg = Registry(home)
    run = reg.sync(run_id_of(run_ref))
    folder = RunFolder(run.run_dir)
    rows = folder.read_metrics()
    if probe:
        rows = [*({k: v for k, v in r.items() if k != PROBE_METRIC} for r in rows), *kept_checkpoint_probes(run)]
    tree = folder.read_config()
    # a language model continued from a pretrained one adapts to its new text first (forecast.ADAPTING)
    continued = run.method in TEXT_METHODS and bool((tree.get("backbone") or {}).get("pretrained"))
    readable = any(m in r for r in rows for m in REFERENCE_METRICS)  # else no finished run's configs are read
    f = forecast_series(rows, continued=continued, references=same_recipe_runs(reg, run, tree) if readable else None,
                        schedule=folder.planned_schedule())
    out = asdict(f)
    out["at"] = {f"{m:g}x": {"steps": int(m * f.steps), "value": v, "low": lo, "high": hi}
                 for m, (v, lo, hi) in f.at.items()}
    out["run_id"] = run.id
    out["series"] = [[r["step"], r[f.metric]] for r in rows if isinstance(r.get(f.metric), (int, float))]
    if not f.at and not probe:
        out["try_instead"] = probe_forecast_hint(reg, run) or measure_more_hint(run, tree, len(out["series"]))
    if f.references:
        out["caveat"] = REFERENCES_CAVEAT
    elif continued and f.verdict != "unknown":
        out["caveat"] = CONTINUED_CAVEAT
    return out


def probe_forecast_hint(reg: Registry, run: Run) -> str | None:
    """Where the run's own metrics are too few to forecast but its kept checkpoints can be probed (a vision run with
    enough of them, on data the final probe found labelled): how to ask for that forecast instead."""
    from ssl_runtime.catalogue import VISION_METHODS
    from tools.diagnosis.forecast import MIN_POINTS

    kept = len(RunFolder(run.run_dir).kept_checkpoints())
    if run.method not in VISION_METHODS or kept < MIN_POINTS or reg.probe(run.id) is None:
        return None
    return (f"run {run.id} kept {kept} checkpoints on labelled data: `sslpilot forecast {run.id} --probe` (in the "
            f"chat, 'forecast run {run.id} with the linear probe') forecasts the probe read at each of them")


def measure_more_hint(run: Run, tree: dict, measured: int) -> str | None:
    """Where a run was measured too few times to forecast: when the measurement that makes it enough comes (a run
    still going), or how to measure often enough next time (one that ended)."""
    from tools.diagnosis.forecast import MIN_POINTS

    every, total = (tree.get("train") or {}).get("health_every"), run.total_steps
    if not isinstance(every, int) or every <= 0 or not total or measured >= MIN_POINTS:
        return None
    if run.status in ("queued", "running"):
        due = every * (MIN_POINTS - 1)  # measured at its first steps, then every `every`
        return (f"it measures every {every} steps, so ask again after step {due}" if due <= total else
                f"at one measurement every {every} steps it will not reach {MIN_POINTS} before its end (step {total})")
    return (f"it measured every {every} steps over its {total}; set train.health_every to {max(1, total // MIN_POINTS)} "
            f"or less next time to forecast, or continue it (\"train run {run.id} for {total} more steps\")")


def kept_checkpoint_probes(run: Run) -> list[dict]:
    """The linear probe of each of a vision run's kept checkpoints (ssl_runtime/audit.probe_kept_checkpoints)."""
    if run.method in TEXT_METHODS:
        raise SSLPilotError(f"run {run.id} is a text run: its forecast reads held-out perplexity", field="probe",
                            fix="forecast it without --probe")
    if not RunFolder(run.run_dir).kept_checkpoints():
        raise SSLPilotError(f"run {run.id} kept no intermediate checkpoints to probe", field="probe",
                            fix="set train.keep_checkpoints=N (with train.checkpoint_every) for the next run")
    from ssl_runtime.audit import probe_kept_checkpoints

    return probe_kept_checkpoints(run.run_dir)


CONTINUED_CAVEAT = ("A continued run adapts to its new text before the slow part a forecast can read, so this one "
                    "is fitted from twice the warm-up on. On sslpilot's check (RESULTS.md, session 17; small models, "
                    "600 steps) forecasts made that way from half the run landed within 2.7% (masked LM) and 6.4% "
                    "(causal LM) of the end's perplexity; from a quarter there were too few points to forecast.")
REFERENCES_CAVEAT = ("This forecast assumes the run keeps the course the finished runs of its recipe took, shifted to "
                     "where it sits against them; a run that has left it since (a loss spike, a changed data stream) "
                     "will not follow it. On sslpilot's check (RESULTS.md, session 18; small language models, 600 "
                     "steps, five finished runs each) forecasts read this way from a quarter of a run landed within "
                     "4.8% (masked LM) and 1.7% (causal LM) of the end's perplexity on average, at most 11.4%.")

# config keys that do not shape a run's curve: where and how often it is logged, checkpointed and evaluated, its
# name, its seed and the path it continues from (whether it continues from a checkpoint does shape it)
NOT_RECIPE = {"name", "train.seed", "backbone.pretrained", "train.checkpoint_every", "train.keep_checkpoints",
              "train.log_every", "train.health_every", "train.health_samples", "train.device", "train.compile",
              "train.deterministic", "train.tensorboard", "train.mlflow_uri", "train.mlflow_experiment",
              "data.cache_dir", "data.cache_format", "data.loader", "data.workers", "data.memory_budget_gb"}
NOT_RECIPE_SECTIONS = ("eval.", "monitor.")


def recipe(tree: dict) -> dict:
    """The part of a run's config that shapes its curve: runs with equal recipes differ only by chance (the seed,
    the starting checkpoint of the same kind), so one's course predicts another's."""
    flat = flatten_dotted(tree)
    keep = {k: v for k, v in flat.items() if k not in NOT_RECIPE and not k.startswith(NOT_RECIPE_SECTIONS)}
    keep["continued"] = bool(flat.get("backbone.pretrained"))
    return keep


def same_recipe_runs(reg: Registry, run, tree: dict) -> dict[str, list[dict]]:
    """The metric rows of finished runs of the same method and data whose recipe equals this run's (`tree` its
    config): what a forecast made early in a run is read off (forecast.read_references)."""
    if not tree:
        return {}
    mine, out = recipe(tree), {}
    for other in reg.list(status="succeeded", method=run.method, limit=500):
        if other.id != run.id and other.dataset == run.dataset:
            folder = RunFolder(other.run_dir)
            if recipe(folder.read_config()) == mine:
                out[other.id] = folder.read_metrics()
    return out


def judge_run(home: Home, run_ref: str) -> dict:
    """Is this run's encoder any good, without labels? The quality verdict of tools/diagnosis/quality.py, with
    the run's place among runs of the same method on the same data by the label-free score."""
    from tools.ranking import rank_runs

    reg = Registry(home)
    run = reg.sync(run_id_of(run_ref))
    ev = load_evidence(run.run_dir)
    d = diagnose(ev, _siblings(reg, run.id))
    peers = [r.id for r in reg.list(method=run.method, limit=500)
             if (r.dataset == run.dataset and r.status == "succeeded") or r.id == run.id]
    siblings: dict = {}
    if len(peers) >= 2:
        try:
            ranking = rank_runs(home, peers)
        except Exception:  # noqa: BLE001 - a peer without health rows: no placing, the verdict stands
            ranking = None
        if ranking:
            order = [e["run_id"] for e in ranking["ranking"]]
            siblings = {"position": order.index(run.id) + 1, "of": len(order), "signal": ranking["signal_name"],
                        "best": {"run_id": order[0],  # a paired order's score is a mean place, not a reading
                                 "score": None if ranking.get("paired") else ranking["ranking"][0]["score"]}}
    return judge(ev, d, siblings).to_dict()


def follow_up_config(parent_config: dict, change: dict) -> dict:
    """The parent's config with the recommended dotted-key changes applied (eval-only changes included)."""
    tree = copy.deepcopy(parent_config)
    for key, value in change.items():
        set_length(tree, key, value, given=set(change))
    tree.pop("name", None)
    return tree


def monitor_tick(home: Home, stop_on: tuple[str, ...] = ()) -> list[dict]:
    """Diagnose every running run; record an alert event when one starts collapsing or diverges. A run whose
    config says monitor.on_failure=stop, or any run when `stop_on` names its verdict (the queue's
    --stop-collapsed), is stopped early if the verdict is a hard failure (STOP_VERDICTS): see early_stop."""
    reg = Registry(home)
    alerts = []
    active = [reg.sync(r.id) for r in reg.list(status=("queued", "running"))]
    for run in (r for r in active if r.status == "running"):
        if RunFolder(run.run_dir).last_status() not in ("running", None):  # ended; the row lags (a full disk)
            continue
        ev = load_evidence(run.run_dir)
        diagnosis = alerting(ev)
        if diagnosis is None:
            continue
        d = diagnosis.to_dict()
        folder = RunFolder(run.run_dir)
        if any(e.get("type") == "alert" and e.get("verdict") == d["verdict"] for e in folder.read_events()):
            continue
        folder.event("alert", f"run {run.id} looks like {d['verdict']} (confidence {d['confidence']:.2f})",
                     verdict=d["verdict"], evidence=d["evidence"][:3])
        reg.add_diagnosis(run.id, "diagnosis", d["verdict"], d)
        alerts.append({"run_id": run.id, **d})
        asked = (ev.config.get("monitor", {}).get("on_failure") == "stop" or d["verdict"] in stop_on
                 or read_added(folder).on_failure)  # "stop it once it collapses", said while it ran
        if asked and d["verdict"] in STOP_VERDICTS:
            alerts[-1]["early_stop"] = early_stop(home, run.id, ev, diagnosis)
    return alerts


def alerting(ev: RunEvidence) -> Diagnosis | None:
    """The diagnosis of a running run when the live monitor should alert on it (a verdict in ALERT_VERDICTS; a
    flat loss only past the warm-up), else None. benchmarks/failure_suite.py replays runs through this, one
    measured step at a time (RunEvidence.until)."""
    d = diagnose(ev)
    return d if d.verdict in ALERT_VERDICTS and _past_warm_up(ev, d) else None


def _past_warm_up(ev: RunEvidence, d: Diagnosis) -> bool:
    """A flat loss is not a failure yet during the learning-rate warm-up, and, when nothing in the config explains
    it, not before half the run: slow losses with a large offset (VICReg ~22, MAE's pixel error, a contrastive
    loss near log(2N-1) at the start) move under the flatness bars over their first checks, and 5 of the 31
    healthy controls were stopped that way at 12-33% of their steps. A rate far from the default, a temperature
    out of range or fp16 explains it at once. A collapse or a NaN alerts at once."""
    if d.verdict != "not_learning" or any(e.metric == "health/weight_drift" for e in d.evidence):
        return True  # weights standing still past the warm-up need no more waiting
    total = float(ev.resolved.get("total_steps") or 0)
    explained = any(c.id in EXPLAIN_FLAT_LOSS for c in d.causes)
    last = ev.s("loss").last()
    return bool(last) and last[0] > (ev.warmup_steps if explained else 0.5 * total)


def early_stop(home: Home, run_id: str, ev: RunEvidence, d: Diagnosis) -> dict:
    """Stop a failing run with a checkpoint (the worker checkpoints on the stop signal, so it can be resumed),
    and record why, the recommended change and the compute saved in an `early_stop` event."""
    from tools.runs import cancel

    reg = Registry(home)
    rec = recommend(ev, d, lineage_history(reg, run_id)).to_dict()
    step = max((ev.s(k).last() or (0, 0))[0] for k in ("loss", "health/std"))
    total = int(ev.resolved.get("total_steps") or step)
    elapsed = max(0.0, time.time() - ev.resolved["time"]) if ev.resolved.get("time") else 0.0
    saved_steps = max(0, total - step)
    saved_s = round(elapsed / step * saved_steps, 1) if step else None
    change = ", ".join(f"{k}={v}" for k, v in rec["change"].items()) or "no config change"
    info = {"verdict": d.verdict, "step": step, "total_steps": total, "saved_steps": saved_steps,
            "saved_s": saved_s, "recommendation": {"category": rec["category"], "change": rec["change"]}}
    RunFolder(ev.folder.path).event(
        "early_stop", f"stopped at step {step} of {total} (asked to stop on a failure): {d.verdict.replace('_', ' ')}; "
        f"{saved_steps} steps saved; recommended: a {rec['category']} change ({change})", **info)
    reg.add_diagnosis(run_id, "recommendation", d.verdict, {**rec, "verdict": d.verdict})
    cancel(home, run_id)
    return info


def _index(home: Home, run_id: str) -> None:
    """Index the run into the knowledge store's run_logs when the store is available."""
    try:
        from tools.knowledge import index_run
    except ImportError:
        return
    try:
        index_run(home, run_id)
    except Exception as exc:  # noqa: BLE001 - indexing must never break a diagnosis
        RunFolder(Registry(home).get(run_id).run_dir).event("warning", f"run_logs indexing failed: {exc}",
                                                             kind="index_failed")
