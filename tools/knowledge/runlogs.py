"""Turning a run into searchable text: its summary and trajectory, events, probe, diagnoses."""

from __future__ import annotations

import hashlib
import json

from ssl_runtime.run_folder import RunFolder
from tools.records import Run
from tools.registry import Registry

TRACKED = ("loss", "health/std", "health/rank", "health/uniformity", "health/teacher_entropy", "grad_norm",
           "loss/variance", "loss/kl")


def _fmt(v) -> str:
    return f"{v:.4g}" if isinstance(v, float) else str(v)


def _trajectory(rows: list[dict]) -> list[str]:
    lines = []
    for key in TRACKED:
        pts = [(r["step"], r[key]) for r in rows if key in r and isinstance(r[key], (int, float))]
        if not pts:
            continue
        vals = [v for _, v in pts]
        finite = [v for v in vals if v == v and abs(v) != float("inf")]
        text = f"{key}: start {_fmt(vals[0])} at step {pts[0][0]}, end {_fmt(vals[-1])} at step {pts[-1][0]}"
        if finite:
            text += f", min {_fmt(min(finite))}, max {_fmt(max(finite))}"
        if len(finite) < len(vals):
            bad = next(s for s, v in pts if not (v == v and abs(v) != float("inf")))
            text += f"; NaN or inf from step {bad}"
        sharp = [(pts[i][0], pts[i - 1][1], pts[i][1]) for i in range(1, len(pts))
                 if pts[i - 1][1] and abs(pts[i][1] - pts[i - 1][1]) > 0.5 * abs(pts[i - 1][1])]
        if sharp:
            s, a, b = sharp[0]
            text += f"; changed sharply at step {s} ({_fmt(a)} -> {_fmt(b)})"
        lines.append(text)
    return lines


RUN_LOG_WORDING = 2
"""The wording of a run's indexed text: raise it when that text changes (2: verdicts in words, "dimensional
collapse"), and every run is indexed again, once, before the next log search."""


def annotation_key(run: Run) -> str:
    """A short fingerprint of a run's name, tags and notes (and the wording its text is indexed in): a run renamed,
    tagged or noted since it was indexed is indexed again before the next log search."""
    return hashlib.sha1(f"{RUN_LOG_WORDING}|{run.name}|{run.tags_json}|{run.notes}".encode()).hexdigest()[:12]


def run_chunks(reg: Registry, run_id: str) -> tuple[list[str], list[str], list[dict]]:
    run = reg.get(run_id)
    folder = RunFolder(run.run_dir)
    cfg = json.loads(run.config_json or "{}")
    rows = folder.read_metrics()
    steps = [r.get("step", 0) for r in rows] or [0]
    base = {"run_id": run.id, "method": run.method, "status": run.status, "source": run.run_dir,
            "step_min": min(steps), "step_max": max(steps), "annotation": annotation_key(run)}
    ids, texts, metas = [], [], []

    def add(kind: str, text: str, **extra) -> None:
        ids.append(f"run-{run.id}-{kind}-{len(ids)}")
        texts.append(text)
        metas.append({**base, "kind": kind, **extra})

    args = ", ".join(f"{k}={v}" for k, v in cfg.get("method_args", {}).items())
    train, optim = cfg.get("train", {}), cfg.get("optim", {})
    header = (f"Run {run.id}: {run.method} on {run.dataset}, status {run.status}"
              f"{' (' + run.message + ')' if run.message else ''}. Backbone {cfg.get('backbone', {}).get('name')}, "
              f"batch {train.get('batch_size') or 'auto'}, steps {run.steps}/{run.total_steps}, lr {optim.get('lr') or 'default'}, "
              f"optimizer {optim.get('name')}, precision {train.get('precision')}, augment strength "
              f"{cfg.get('augment', {}).get('strength')}. Method args: {args}.")
    if run.parent_id:
        header += f" Follow-up of run {run.parent_id}."
    tags = json.loads(run.tags_json or "[]")
    if run.name or tags:
        header += f" Named {run.name!r}." if run.name else ""
        header += f" Tags: {', '.join(tags)}." if tags else ""
    add("summary", "\n".join([header, *_trajectory(rows)]))
    if run.notes:  # the users' own words about the run: searchable, and quoted as data like every log
        add("notes", f"Run {run.id} ({run.method}) notes:\n{run.notes}")
    events = [e for e in folder.read_events() if e.get("type") != "diagnosis"]
    lines = [f"[{e.get('type')}] {e.get('message')}" + (f" (step {e['step']})" if "step" in e else "") for e in events]
    for i in range(0, len(lines), 25):
        add("events", f"Run {run.id} ({run.method}) events:\n" + "\n".join(lines[i:i + 25]))
    probe = reg.probe(run.id)
    if probe:
        add("probe", f"Run {run.id} ({run.method}) evaluation: linear probe accuracy {probe.probe_acc:.4f} "
            f"(random init {probe.baseline_probe_acc:.4f}), kNN accuracy {probe.knn_acc:.4f} "
            f"(random init {probe.baseline_knn_acc:.4f}), kNN recall@5 {probe.recall_at_5:.4f}.")
    latest: dict[str, dict] = {}
    for d in reg.diagnoses(run.id):
        latest[d.kind] = json.loads(d.result_json)
    if "diagnosis" in latest:
        d = latest["diagnosis"]
        ev = "; ".join(e["explanation"] for e in d.get("evidence", []))
        causes = "; ".join(c["description"] for c in d.get("causes", [])[:4])
        add("diagnosis", f"Run {run.id} ({run.method}) diagnosis: {d['verdict'].replace('_', ' ')} (confidence {d['confidence']}). "
            f"Evidence: {ev}. Likely causes: {causes or 'none found in the config'}.", verdict=d["verdict"])
    if "recommendation" in latest:
        r = latest["recommendation"]
        add("recommendation", f"Run {run.id} ({run.method}) recommendation ({r['category']} change): {r['change']}. "
            f"{r['rationale']} Expected: {r['expected_effect']}. Verify: {r['verify']}.", category=r["category"])
    return ids, texts, metas
