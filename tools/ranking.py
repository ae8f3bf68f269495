"""Which run, or which checkpoint, is best, without labels: an order by a label-free quality signal.

Vision runs, and the kept checkpoints of one, are ordered by view retrieval: the exported encoder (for a run still
training, its newest kept checkpoint, read as the run reads images: checkpoints/preprocess.json) embeds four
standard augmented views of up to VIEW_IMAGES of the run's held-out images, and the score is the mean reciprocal rank
of each view's other view among the images', on features standardised over the views (ssl_runtime/health.py,
ssl_runtime/audit.py). Runs (not checkpoints, where it was not measured) are ordered by that and cluster
consistency together, the mean of their places (PAIRED). On sslpilot's held-out validation sweeps view retrieval
ordered runs like a linear probe where LiDAR and RankMe did not, and picked checkpoints about as well as taking the
last one and far better than LiDAR (docs/diagnostics.md). Runs and checkpoints older than that file (before session
15) are ordered by LiDAR (the rank of the LDA matrix whose classes are each image's augmented views) from the health
row of the run's end or of each checkpoint's step; by RankMe where LiDAR was not logged (older or imported runs).
LiDAR and RankMe are comparable between runs of one method on one dataset, not across methods (a DINO and a SimCLR
run with the same RankMe need not probe alike); view retrieval has been validated across SimCLR, BYOL and VICReg
(catalogue.RANKED_ACROSS), so runs of those methods on one dataset that it measures may be ranked together, and
every other mix is refused. A probe accuracy, where one exists, is shown beside the order, so
a reader can see whether they agree.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

from ssl_runtime.catalogue import RANKED_ACROSS, ranked_together
from ssl_runtime.config import flatten_dotted
from ssl_runtime.errors import SSLPilotError
from ssl_runtime.run_folder import RunFolder, read_json, write_json_atomic
from tools.home import Home
from tools.insights import config_diff, probe_lead
from tools.registry import Registry, run_id_of

SIGNALS = ("health/view_retrieval", "health/lidar", "health/rank")  # in order of preference; higher is better
CAVEAT = ("How far to trust this order: on sslpilot's own validation sweeps (small CNN, 120-step runs; "
          "docs/diagnostics.md) neither LiDAR nor RankMe ordered runs the way a linear probe did. Where a few "
          "labelled images exist, probe the leaders before choosing.")
ACROSS_LOST = "0.57, 1.22, 0, 1.1 and 0"
"""Probe points the first pick across SimCLR, BYOL and VICReg runs lost on the five clean draws (RESULTS.md, sessions
19, 22 and 43); within a method it lost none in 14 of 15 method-draws (3.93 once: VICReg on the eighteenth draw)."""
NOT_RANKED_TOGETHER = "these runs mix methods or datasets"
"""How a refused ranking begins: the chat then shows the runs side by side instead (agent/planner.py)."""
_RETRIEVAL_TAU = ("How far to trust this order: on sslpilot's held-out validation sweeps (draws of one generated "
                  "domain, small CNN, 120-step runs; docs/diagnostics.md) view retrieval and cluster consistency "
                  "together, on 2048 images, ordered the runs of SimCLR, BYOL and VICReg much like a linear probe on "
                  "the five draws kept for the test: Kendall tau 0.74-0.98 within a method (0.8 or more in 12 of "
                  "the 14 cases where the probe agreed with itself enough to judge; the misses were BYOL, whose runs "
                  "lie within a few points, and SimCLR at 0.79) and 0.79-0.90 across methods.")
_RETRIEVAL_PICKS = (" Within a method it picked the probe's best run first in 14 of 15 cases (once a run 3.93 points "
                    f"under it); across methods, a run {ACROSS_LOST} points under the best.")
_SMALL_SCALE = " That is one domain at a small scale: where a few labelled images exist, probe the leaders before choosing."
RETRIEVAL_CAVEAT = _RETRIEVAL_TAU + _RETRIEVAL_PICKS + _SMALL_SCALE
MIXED_CAVEAT = _RETRIEVAL_TAU + _SMALL_SCALE
"""The caveat of a ranking across methods, whose first picks the leaders' note (LEADERS_CAVEAT) already gives."""

CHECKPOINT_CAVEAT = ("How far to trust this order: over 66 held-out runs of sslpilot's validation sweeps and failure "
                     "suite whose kept checkpoints differ (small CNN and ResNet-18, 120-step runs; docs/diagnostics.md), "
                     "picking the checkpoint by view retrieval lost 1.0 probe points on average against a linear "
                     "probe's pick, taking the last checkpoint 1.3 and LiDAR 6.0; it helped where a run peaked before "
                     "its end and cost a quarter point where it did not (measured with the earlier form: raw cosines "
                     "on 256 images). Where a few labelled images exist, probe the leaders before choosing.")


def _health_rows(rows: list[dict]) -> list[dict]:
    return [r for r in rows if any(isinstance(r.get(s), (int, float)) for s in SIGNALS) and "step" in r]


def _signal(entries: list[dict]) -> str:
    """The first signal every entry has."""
    for s in SIGNALS:
        if all(isinstance(e.get(s), (int, float)) for e in entries):
            return s
    raise SSLPilotError("not every run logged a label-free signal (LiDAR or RankMe)", field="runs",
                        fix="rank runs trained by sslpilot, or audit the others first (`sslpilot audit`)")


def _ordered(entries: list[dict], what: str, retrieval_caveat: str = RETRIEVAL_CAVEAT, paired: bool = False) -> dict:
    """`entries` best first by the first signal they all have; `paired` (runs, not checkpoints: where it was
    measured): view retrieval's order is read together with cluster consistency's, each entry scored by the mean of
    its two places among them, 1 the best (PAIRED)."""
    signal = _signal(entries)
    if paired and signal == "health/view_retrieval" and all(
            isinstance(e.get(CLUSTERS), float) and math.isfinite(e[CLUSTERS]) for e in entries):
        return _ordered_paired(entries, what)
    ranked = sorted(entries, key=lambda e: -e[signal])
    for i, e in enumerate(ranked, 1):
        e["rank"], e["score"] = i, e[signal]
    top = ranked[0]
    lead = ""
    if len(ranked) > 1 and ranked[1][signal] > 0:
        lead = f", {top[signal] / ranked[1][signal] - 1:.0%} above the next ({ranked[1]['label']})"
    name = signal.removeprefix("health/").replace("_", " ")  # what the answer, the CLI and the UI call it
    return {"signal": signal, "signal_name": name, "ranking": ranked,
            "caveat": retrieval_caveat if signal == "health/view_retrieval" else CAVEAT,
            "decided_by": f"{name} of {what}: {top['label']} leads with {top[signal]:.4g}{lead}"}


CLUSTERS = "health/cluster_consistency"
PAIRED = "view retrieval and cluster consistency"
"""Runs are ordered by the mean of their places (mean_places) by two readings of the same views: view retrieval (a
view finds its own image among all of them) and cluster consistency (a view stays in its image's k-means cluster).
Each erred where the other did not on the draws it was chosen on; on two fresh draws the pair read 0.74-0.98 within
a method (mean 0.90) where view retrieval alone read 0.64-1.00 (mean 0.87), and 0.89 across methods against
0.81-0.84 (RESULTS.md, session 19)."""


def mean_places(*readings: list[float]) -> list[float]:
    """Each item's mean place over several readings of the same items (1 for the highest reading; ties share their
    mean place): the paired score, lower is better."""
    from scipy.stats import rankdata

    return [float(sum(p) / len(readings)) for p in zip(*(rankdata([-v for v in r]) for r in readings), strict=True)]


def _ordered_paired(entries: list[dict], what: str) -> dict:
    places = mean_places([e["health/view_retrieval"] for e in entries], [e[CLUSTERS] for e in entries])
    for e, score in zip(entries, places, strict=True):
        e["score"] = score
    ranked = sorted(entries, key=lambda e: (e["score"], -e["health/view_retrieval"]))  # ties: retrieval's order
    for i, e in enumerate(ranked, 1):
        e["rank"] = i
    top = ranked[0]
    return {"signal": "health/view_retrieval", "signal_name": PAIRED, "paired": True,
            "ranking": ranked, "caveat": RETRIEVAL_CAVEAT,
            "decided_by": f"{PAIRED} of {what}, their ranks averaged: {top['label']} leads (view retrieval "
                          f"{top['health/view_retrieval']:.4g}, cluster consistency {top[CLUSTERS]:.3g})"}


def rank_runs(home: Home, run_refs: list[str] | None = None, sweep: str | None = None,
              about: list[str] | None = None) -> dict:
    """Runs (by id, or every run of a sweep) ordered by their final label-free signal. `about`: settings the user
    asked about ("which temperature was best?"); those the runs all share are named with their one value, so a
    sweep of the learning rate is not read as an answer about the temperature."""
    reg = Registry(home)
    if sweep:
        runs = reg.sweep(sweep, "sweep")
    else:
        if not run_refs or len(run_refs) < 2:
            raise SSLPilotError("name at least two runs to rank", field="runs", fix="e.g. `sslpilot rank 3 5 7`")
        runs = [reg.sync(run_id_of(r)) for r in run_refs]
    sources = {r.id: _measured_on(r) for r in runs}
    runs, left_out = _with_something_to_rank(runs, sources)
    if len(runs) < 2:
        named = "; ".join(f"run {e['run_id']} ({e['why']})" for e in left_out)
        raise SSLPilotError(f"fewer than two of these runs can be ranked: {named}", field="runs",
                            fix="name runs that trained past their first health step")
    kinds = {(r.method, r.dataset) for r in runs}
    methods, datasets = {m for m, _ in kinds}, {d for _, d in kinds}
    measured = all(sources[r.id] for r in runs)  # else every run is ordered by what its training logged
    if len(datasets) > 1 or not ranked_together(methods) or (len(methods) > 1 and not measured):
        listed = ", ".join(sorted(f"{m} on {d}" for m, d in kinds))
        across = ", ".join(RANKED_ACROSS)
        if len(datasets) == 1 and ranked_together(methods):  # the mix is calibrated; some run has nothing to measure
            unmeasured = [f"run {r.id}" for r in runs if not sources[r.id]]
            why = (f"view retrieval ranks {across} runs together, but it measures each run's exported encoder or "
                   f"kept checkpoint, and {', '.join(unmeasured)} {'has' if len(unmeasured) == 1 else 'have'} none")
        else:
            why = f"label-free signals are not calibrated across them (view retrieval is, for {across} runs on one " \
                "dataset)"
        raise SSLPilotError(f"{NOT_RANKED_TOGETHER} ({listed}); {why}", field="runs",
                            fix="rank runs of one method on one dataset, or compare them by linear probe "
                                "(`sslpilot compare`)")
    entries, probe_results = [], {}
    for r in runs:
        rows = _health_rows(RunFolder(r.run_dir).read_metrics())
        last = rows[-1] if rows else {}
        probe = reg.probe(r.id)
        probe_results[r.id] = result = json.loads(probe.result_json or "{}") if probe else {}
        entries.append({"run_id": r.id, "label": f"run {r.id}", "method": r.method, "step": last.get("step"),
                        **{s: last.get(s) for s in SIGNALS}, "alpha_req": last.get("health/alpha_req"),
                        "probe_acc": probe.probe_acc if probe else None,
                        "probe_images": result["num_val"] if isinstance(result.get("num_val"), int) else None})
        if measured:
            checkpoint = sources[r.id] if isinstance(sources[r.id], tuple) else None
            entries[-1].update(view_readings_of(r.run_dir, checkpoint and checkpoint[1]))
            if checkpoint:  # a run still training (or stopped): its newest kept checkpoint
                state = "still training" if r.status in ("queued", "running") else r.status
                entries[-1]["label"] += f" (step {checkpoint[0]}, {state})"
    configs = {r.id: json.loads(r.config_json or "{}") for r in runs}
    differ = config_diff(configs)
    for e in entries:  # what sets each run apart (a sweep's values), so "which lr was best?" reads off the order;
        # across methods, each run's method and its own settings (not another method's, unset here)
        e["settings"] = {**({"method": e["method"]} if len(methods) > 1 else {}),
                         **{k: v[e["run_id"]] for k, v in differ.items() if k not in ("name", "method")
                            and not (len(methods) > 1 and v[e["run_id"]] is None)}}
    shared = {k: flatten_dotted(configs[runs[0].id]).get(k) for k in about or [] if k not in differ}
    missing = [e["label"] for e in entries if not e["step"]]
    if missing:
        raise SSLPilotError(f"{', '.join(missing)} logged no health metrics yet", field="runs",
                            fix="wait for their first health step, or leave them out")
    method, dataset = ", ".join(sorted(methods)), next(iter(datasets))
    what = "each run's final encoder (a run still training: its newest kept checkpoint) on four views of its " \
        "held-out images" if measured else "each run's last health step"
    out = {"what": "runs", "method": method, "dataset": dataset, **_ordered(entries, what, paired=True)}
    if len(methods) > 1:
        out["leaders"] = method_leaders(out["ranking"])
        names = ", ".join(f"{e['label']} ({e['method']})" for e in out["leaders"])
        out["leaders_note"] = f"Each method's best, without labels: {names}. {LEADERS_CAVEAT}"
        if out.get("caveat") == RETRIEVAL_CAVEAT:  # the first picks said once, in the leaders' note
            out["caveat"] = MIXED_CAVEAT
    if left_out:
        out["left_out"] = left_out
    if shared:  # asked about, the same in every run: the order says nothing of it
        out["not_varied"] = shared
    if sweep:
        out["early_stops"] = early_stop_savings(runs)
    note = probe_note(entries, probe_results)
    if note:
        out["probe_note"] = note
    return out


def probe_note(entries: list[dict], probes: dict[str, dict] | None = None) -> str | None:
    """Where every ranked run has a linear probe, labels exist and the probe is the truth the label-free order
    stands in for: name its leader, unless its lead over the runner-up is within twice its standard error (then the
    probe cannot say which is better, nor confirm or refute the order); and say when the probes scored different
    numbers of images (a sweep probed on a busy CPU), which makes their scores compare less well. `probes`: each
    run's probe result (its per-row record pairs the lead's error), by run id."""
    probed = [e for e in entries if e.get("probe_acc") is not None]
    if len(probed) < 2 or len(probed) < len(entries):
        return None
    best = max(probed, key=lambda e: e["probe_acc"])
    label_free = next((e for e in entries if e.get("rank") == 1), None)  # _ordered numbered them
    if label_free is not None and label_free["probe_acc"] == best["probe_acc"]:
        best = label_free  # a tie at the top: the label-free leader is one of the probe's best
    agree = label_free is not None and label_free["run_id"] == best["run_id"]
    sizes = sorted({e["probe_images"] for e in probed if e.get("probe_images")})
    lead = probe_lead({e["run_id"]: {"probe/acc": e["probe_acc"], "num_val": e.get("probe_images"),
                                     **(probes or {}).get(e["run_id"], {})} for e in probed})
    tied = [e["label"] for e in sorted(probed, key=lambda e: e.get("rank") or 0) if e["probe_acc"] == best["probe_acc"]]
    if len(tied) > 1:
        said = (f"These runs have labels, but {', '.join(tied[:-1])} and {tied[-1]} tie on the linear probe "
                f"({best['probe_acc'] * 100:.1f}%), so it neither confirms nor refutes the order above.")
    elif lead is not None and not lead["resolved"]:
        runner_up = lead["second"] if lead["best"] == best["run_id"] else lead["best"]
        other = next(e for e in probed if e["run_id"] == runner_up)
        said = (f"These runs have labels, but the linear probe cannot tell {best['label']} "
                f"({best['probe_acc'] * 100:.1f}%) from {other['label']} ({other['probe_acc'] * 100:.1f}%): "
                f"{abs(lead['lead']) * 100:.1f} points apart, within twice the difference's standard error "
                f"({lead['se'] * 100:.1f} points), so it neither confirms nor refutes the order above.")
    else:
        said = (f"These runs have labels, and the linear probe picks {best['label']} ({best['probe_acc'] * 100:.1f}%)"
                + (", as the label-free order does." if agree else
                   "; where labels exist the probe is the measure to trust, and the order above is for data without "
                   "them."))
    if len(sizes) > 1:
        said += (f" Their probes scored {sizes[0]} to {sizes[-1]} held-out images, so the smaller ones are the less "
                 "sure: `sslpilot probe RUN --set eval.time_budget_s=60` scores more.")
    return said


LEADERS_CAVEAT = ("Across methods the order is less sure than within one: on sslpilot's five held-out validation "
                  f"draws the first pick across SimCLR, BYOL and VICReg runs was {ACROSS_LOST} probe points "
                  "under the best, while each method's first pick was that method's best by the probe in 14 of 15 "
                  "cases, and the best run of all was always one of the methods' leaders. So the leader of each "
                  "method is the shortlist to probe before choosing.")


def method_leaders(ranking: list[dict]) -> list[dict]:
    """Each method's first run when its runs are ordered alone, as a ranking of that method would name it: where
    label-free signals are surest (ACROSS_LOST). Listed in their order in `ranking`, so the first is the overall
    pick."""
    place = {e["run_id"]: i for i, e in enumerate(ranking)}
    leaders = []
    for method in {e["method"] for e in ranking}:
        mine = [dict(e) for e in ranking if e["method"] == method]  # copies: _ordered writes rank and score
        top = _ordered(mine, "", paired=True)["ranking"][0]
        leaders.append({"method": method, "run_id": top["run_id"], "label": top["label"]})
    return sorted(leaders, key=lambda e: place[e["run_id"]])


VIEW_IMAGES = 2048
"""Held-out images view retrieval embeds (all of them when a run has fewer). On 256 the signal's own noise ordered a
method's runs at 0.50-0.71 against a probe that agreed with itself at 0.90-0.99; on 2048, 0.64-0.86 there and
0.79-1.00 on a fresh draw (session 17, benchmarks/RESULTS.md). Four views of 2048 images are 8192 embeddings: seconds
for a small CNN on a CPU, minutes for a large backbone at 224 px on one; kept once measured."""
# what a kept measurement is; a new form is measured afresh
MEASURE = f"standardised reciprocal rank and k-means(10) consistency, {VIEW_IMAGES} images x 4 views, spread over the split"


def _stamp(path: Path) -> str:
    """Size and modification time of a file, or of every file in a folder: a changed encoder is measured again."""
    files = [f for f in path.rglob("*") if f.is_file()] if path.is_dir() else [path]
    stats = [f.stat() for f in files]
    return f"{sum(s.st_size for s in stats)}:{max((s.st_mtime_ns for s in stats), default=0)}"


def view_readings_of(run_dir: str, checkpoint: Path | None = None, random_init: bool = False) -> dict[str, float]:
    """View retrieval and cluster consistency of a run's exported encoder, of one kept checkpoint, or of the
    encoder's architecture at random init, measured once and kept in the run folder (view_health.json) by the
    file's stamp, so that a ranking drawn again (the UI's compare page, the chat) does not embed the images again."""
    from ssl_runtime.audit import run_view_health

    folder = RunFolder(run_dir)
    what = "random init" if random_init else checkpoint.name if checkpoint else "encoder"
    key = f"{what}|{_stamp(checkpoint or folder.encoder)}|{MEASURE}"
    kept = read_json(folder.view_health) or {}
    if not isinstance(kept.get(key), dict):
        measured = run_view_health(run_dir, images=VIEW_IMAGES, checkpoint=checkpoint, random_init=random_init)
        kept[key] = {k: measured.get(k) for k in ("health/view_retrieval", CLUSTERS)}
        try:
            write_json_atomic(folder.view_health, kept)
        except OSError:  # a read-only or full disk: the ranking stands, it is only measured again next time
            pass
    return kept[key]


def _checkpoints_readable(run) -> bool:
    """A vision run whose kept checkpoints can be read as it reads images (checkpoints/preprocess.json, written at
    its start; or its export): view retrieval can be measured on them, finished or not."""
    from ssl_runtime.catalogue import VISION_METHODS

    folder = RunFolder(run.run_dir)
    return run.method in VISION_METHODS and (folder.checkpoint_preprocess.exists()
                                             or (folder.encoder / "preprocess.json").exists())


def _with_something_to_rank(runs: list, sources: dict) -> tuple[list, list[dict]]:
    """The runs with an encoder or kept checkpoint (`sources`, _measured_on) or a health step to rank them by, and
    the others with why: a run
    that failed or was cancelled before any of those would else refuse the whole ranking ("which run is best?" over
    a home where one run had crashed at step 0 was told the runs mixed methods)."""
    keep, out = [], []
    for r in runs:
        if sources[r.id] or _health_rows(RunFolder(r.run_dir).read_metrics()):
            keep.append(r)
        elif r.status in ("queued", "running"):
            keep.append(r)  # not started yet: named as such below ("logged no health metrics yet")
        else:
            out.append({"run_id": r.id, "why": f"{r.status} at step {r.steps or 0} with nothing to measure"})
    return keep, out


def _measured_on(run) -> bool | tuple[int, Path]:
    """What view retrieval measures a run on: True for a finished vision run's exported encoder, (step, path) of the
    newest kept checkpoint of one still training (or stopped) that can be read, else False."""
    from ssl_runtime.catalogue import VISION_METHODS

    folder = RunFolder(run.run_dir)
    if run.status == "succeeded":
        return run.method in VISION_METHODS and (folder.encoder / "config.json").exists()
    kept = folder.kept_checkpoints()
    return kept[-1] if kept and _checkpoints_readable(run) else False


def early_stop_savings(runs: list) -> dict:
    """What monitor.on_failure=stop saved across runs: how many were stopped, the steps they did not run, and
    those steps' time at each run's own pace (from its early_stop events)."""
    stops = [e for r in runs for e in RunFolder(r.run_dir).read_events() if e.get("type") == "early_stop"]
    return {"runs": len(stops), "saved_steps": sum(e.get("saved_steps", 0) for e in stops),
            "saved_s": round(sum(e.get("saved_s") or 0.0 for e in stops), 1)}


def rank_checkpoints(home: Home, run_ref: str) -> dict:
    """A run's kept checkpoints (step_<n>.pt, train.keep_checkpoints) ordered by view retrieval measured on each
    (a vision run that wrote how to read them), else by the signal its training logged at their step."""
    run = Registry(home).sync(run_id_of(run_ref))
    folder = RunFolder(run.run_dir)
    kept = folder.kept_checkpoints()
    if not kept:
        raise SSLPilotError(f"run {run.id} kept no intermediate checkpoints", field="run",
                            fix="set train.keep_checkpoints=N (with train.checkpoint_every) for the next run")
    by_step = {r["step"]: r for r in _health_rows(folder.read_metrics())}
    measured = _checkpoints_readable(run)
    entries = []
    for step, path in kept:
        row = by_step.get(step) or by_step.get(max((s for s in by_step if s <= step), default=-1))
        if row is None and not measured:
            continue
        entries.append({"step": step, "label": f"step {step}", "health_step": (row or {}).get("step"),
                        **{s: (row or {}).get(s) for s in SIGNALS}, "alpha_req": (row or {}).get("health/alpha_req"),
                        "checkpoint": str(path)})
        if measured:
            entries[-1]["health/view_retrieval"] = view_readings_of(run.run_dir, path)["health/view_retrieval"]
    if not entries:
        raise SSLPilotError(f"run {run.id} logged no health metrics at or before its checkpoints", field="run")
    what = "each kept checkpoint on four views of the run's held-out images" if measured else \
        "the health step at or before each checkpoint"
    return {"what": "checkpoints", "run_id": run.id, "method": run.method,
            **_ordered(entries, what, retrieval_caveat=CHECKPOINT_CAVEAT)}
