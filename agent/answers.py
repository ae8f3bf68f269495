"""Writing answers from tool results: what the offline planner says after a tool has run.

Search results are quoted as data (a block marked as untrusted), never followed as instructions.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable

from agent.ranked_words import leading_value, named_leader
from tools.home import bytes_text
from tools.registry import TERMINAL
from tools.run_filters import parse_rule
from tools.run_settings import time_text, took
from tools.runs import SORTS, run_sort, runs_named, sort_cell
from tools.trash import deleted_text


def _pct(x) -> str:
    return f"{x * 100:.1f}%" if isinstance(x, (int, float)) else "n/a"


def rule_keys(where: list[str]) -> list[str]:
    """The settings a list's or a comparison's rules read ("optim.lr>0.01" -> optim.lr), each once: a column each."""
    return list(dict.fromkeys(parse_rule(w).key for w in where))


def _fmt(x) -> str:
    return f"{x:.4g}" if isinstance(x, float) else str(x)


def escape_markdown(text: str) -> str:
    """Text someone else wrote (a document, a run's name or note) with markdown syntax escaped, so it cannot make a
    renderer fetch an image or show a link it planted."""
    return re.sub(r"([\\`*_{}\[\]()#+!<>|])", r"\\\1", text.strip())


def quote_untrusted(text: str) -> str:
    """Retrieved text is shown as a quotation, clearly marked as data, with markdown syntax escaped."""
    return "> " + escape_markdown(text).replace("\n", "\n> ")


def _judged_line(rid: str, j: dict) -> str:
    """A setting judged: its value, the method's default, and what the diagnosis and its recommendation say of it."""
    s, key = j["setting"], j["setting"]["key"]
    if s["how"] == "absent":
        return f"- run {rid} has no `{key}`."
    value = s["value"]
    where = {"set": "set in its config", "chosen": "chosen by the run at its start",
             "epochs": "set in epochs in its config"}.get(s["how"], "not fixed yet")
    versus = ""
    if isinstance(value, int | float) and not isinstance(value, bool) and isinstance(j["default"], int | float) \
            and j["default"] and value != j["default"]:
        ratio = value / j["default"]
        times = ratio if ratio >= 1 else 1 / ratio
        times_text = f"{times:,.0f}" if times >= 100 else f"{times:.3g}"
        versus = f", {times_text}x the method's default {_fmt(j['default'])}" if ratio >= 1 else \
            f", 1/{times_text} of the method's default {_fmt(j['default'])}"
    elif j["default"] is not None and value == j["default"]:
        versus = ", the method's default"
    verdict = j["verdict"].replace("_", " ")
    if j["named"]:
        said = f"The diagnosis ({verdict}) names it: {'; '.join(j['named'])}."
    else:
        said = f"The diagnosis ({verdict}) does not point at it."
    if j["changes"]:
        said += f" The recommended {j['category']} change sets it to `{_fmt(j['changed_to'])}`."
    elif j["named"]:
        said += " The recommended change leaves it (another cause comes first)."
    return f"- `{key}` = **{_fmt(value)}** ({where}{versus}). {said}"


def diagnosis_text(d: dict, next_step: str = "Ask \"what should I try next?\" for a concrete change.") -> str:
    lines = [_judged_line(d["run_id"], j) for j in d.get("about", [])]
    if lines:
        lines.append("")
    if d.get("ended_early"):
        lines += [ended_early_text(d["run_id"], d["ended_early"]), ""]
    lines += [f"**Run {d['run_id']}: {d['verdict'].replace('_', ' ')}** (confidence {d['confidence']:.2f})"
              + (" - early warning, the run is still going" if d.get("in_progress") else "")
              + (" - read from the steps it trained" if d.get("ended_early") else "")]
    # whether a follow-up fixed its parent ("did that fix run 7?"): right under the verdict, not after the evidence
    if d.get("follow_up"):
        lines.append(follow_up_text(d["run_id"], d["follow_up"]))
    for f in d.get("follow_ups", []):  # this run's own follow-ups: what was tried on it, and how it went
        lines.append(follow_up_text(f["run_id"], f))
    if d["evidence"]:
        lines.append("Evidence from the run's own metrics:")
        for e in d["evidence"]:
            at = f" at step {e['step']}" if e.get("step") is not None else ""
            bound = f", threshold {_fmt(e['threshold'])}" if e.get("threshold") is not None else ""
            reading = f" (`{e['metric']}` = {_fmt(e['value'])}{at}{bound})" if e.get("value") is not None else ""
            lines.append(f"- {e['explanation']}{reading}")
    q = d.get("quality") or {}
    if q.get("decided_by") == "lidar":
        lines.append(f"Quality without labels: {q['verdict']} - {q['reason']}.")
    if d["causes"]:
        lines.append("Likely causes: " + "; ".join(c["description"] for c in d["causes"][:3]) + ".")
    if d["citations"]:
        lines.append("Sources: " + "; ".join(f"{c['title']} ({c['source']})" for c in d["citations"][:3]) + ".")
    if d.get("passages"):
        lines.append("From the literature store: " + "; ".join(
            f"{p['citation'].get('title')}, {p['citation'].get('section') or p['citation'].get('source')}"
            for p in d["passages"]) + ".")
    if d.get("not_stored"):
        lines.append(f"This reading was not kept: {d['not_stored']}")
    if next_step:
        lines.append(next_step)
    return "\n".join(lines)


def ended_early_text(run_id: str, e: dict) -> str:
    """What stopped a run before its end, from its status line, and how to go on."""
    at = f" at step {e['steps'] or 0} of {e['total_steps'] or '?'}"
    message = (e.get("message") or "").strip().rstrip(".")
    why = f": {message}" if message and message != e["status"] else ""
    retried = f" (retried {e['retries']} time{'s' if e['retries'] != 1 else ''} first)" if e.get("retries") else ""
    return (f"**Run {run_id} was {e['status']}{at}**{why}{retried}. `resume run {run_id}` goes on from its last "
            "checkpoint.")


def follow_up_text(run_id: str, f: dict) -> str:
    """Whether a follow-up fixed its parent: "Run 12 fixed run 9's complete collapse: kNN 0.94 vs 0.31"."""
    was = f["parent_verdict"].replace("_", " ")
    knn = (f" (kNN {f['knn']:.2f} vs {f['parent_knn']:.2f})" if f.get("knn") is not None
           and f.get("parent_knn") is not None else "")
    change = ", ".join(f"{k}={json.dumps(v)}" for k, v in f["change"].items()) or "no config change"
    said = {"fixed": f"Run {run_id} fixed run {f['parent_id']}'s {was}{knn}",
            "not_fixed": f"Run {run_id} did not fix run {f['parent_id']}'s {was}{knn}",
            "partly_fixed": f"Run {run_id} partly fixed run {f['parent_id']}'s {was}: its kNN rose{knn}, but it "
                            f"still reads {str(f.get('verdict') or '').replace('_', ' ')}",
            "improved": f"Run {run_id} improved on run {f['parent_id']}{knn}",
            "not_improved": f"Run {run_id} did not improve on run {f['parent_id']}{knn}",
            "pending": f"Run {run_id} is a follow-up of run {f['parent_id']} ({was}); whether it fixed it is "
                       "known when it ends",
            "unfinished": f"Run {run_id} is a follow-up of run {f['parent_id']} ({was}) that stopped before its "
                          "end; whether the change helps is known once it finishes"}[f["outcome"]]
    return f"{said}, with {change}."


def recommendation_text(r: dict, launch_with: str = "say \"launch it\" (you will be asked to confirm)") -> str:
    change = ", ".join(f"`{k}={json.dumps(v)}`" for k, v in r["change"].items()) or "(no config change)"
    if r.get("cause") == "none_asked":  # the user asked for a kind of change the diagnosis does not point at
        return f"**No such change stands out for run {r['run_id']}**: {r['rationale']}."
    lines = [f"**Next step for run {r['run_id']}: a {r['category']} change** - {change}", r["rationale"],
             *[f"{name}: {r[key]}" for name, key in (("Expected", "expected_effect"), ("How to verify", "verify"))
               if r.get(key)]]
    if r.get("launchable") and r["change"]:
        kind = "re-run the probe" if all(k.startswith("eval.") for k in r["change"]) else "launch it as a follow-up"
        lines.append(f"To {kind}: {launch_with}.")
    return "\n".join(lines)


def forecast_text(f: dict) -> str:
    """train_longer / uncertain / plateaued / unknown, with the forecast values and their 80% bands."""
    name = f"run {f['run_id']}"
    if f["verdict"] == "unknown" or not f.get("at"):
        return f"No forecast for {name}: {f['reason']}." + (f" Instead: {f['try_instead']}." if f.get("try_instead")
                                                             else "")
    bands = "; ".join(f"at {a['steps']} steps {a['value']:.4g} (80% band {a['low']:.4g} to {a['high']:.4g})"
                      for a in f["at"].values())
    head = {"train_longer": f"**Training {name} longer looks worth it.**",
            "uncertain": f"**Whether training {name} longer pays is not clear yet.**",
            "plateaued": f"**{name.capitalize()} has plateaued: more of the same training is unlikely to pay.**"}
    lines = [head[f["verdict"]], f"{f['metric']} is {f['current']:.4g} at step {f['steps']}; forecast {bands}.",
             f"{f['reason'].capitalize()}."]
    if f["verdict"] == "train_longer" and f.get("steps"):  # twice the steps: the length the forecast read first
        lines.append(f"To go on from where it is: \"train run {f['run_id']} for {f['steps']} more steps\" (a new run "
                     "from its final weights, with a fresh schedule; you confirm first).")
    return "\n".join(lines + ([f["caveat"]] if f.get("caveat") else []))


def quality_text(q: dict) -> str:
    """good / weak / failing / usable / unknown, what decided it, and where the run stands among its peers."""
    name = f"run {q['run_id']}"
    head = {"good": f"**{name.capitalize()} looks good.**", "weak": f"**{name.capitalize()} looks weak.**",
            "failing": f"**{name.capitalize()} is not usable as it is.**",
            "usable": f"**{name.capitalize()} shows no failure; " + (
                "its probe is too close to its random init's to say how good it is.**" if q["decided_by"] == "probe"
                else "without labels I cannot say how good it is.**"),
            "unknown": f"**I cannot judge {name} yet.**"}[q["verdict"]]
    lines = [head, q["reason"][:1].upper() + q["reason"][1:] + "."]
    sig = q.get("signals") or {}
    shown = ", ".join(f"{k} {sig[k]:.4g}" for k in ("lidar", "rank", "alpha_req") if k in sig)
    if shown:
        lines.append(f"Label-free signals at the end: {shown} (rank = RankMe, alpha_req = spectrum decay).")
    s = q.get("siblings") or {}
    if s:
        best = s["best"]
        where = ("the best" if s["position"] == 1 else f"number {s['position']}; run {best['run_id']} leads"
                 + (f" with {best['score']:.4g}" if best.get("score") is not None else ""))
        lines.append(f"Among {s['of']} runs of the same method on the same data, by "
                     f"{s['signal']}: {where}.")
    if q["decided_by"] == "lidar":
        lines.append("Label-free signals compare runs of one method on one dataset (`rank`); a few labelled images "
                     "and `probe run " + str(q["run_id"]) + "` would settle how good it is.")
    return "\n".join(lines)


def ranking_text(r: dict) -> str:
    """A label-free ranking of runs or checkpoints: the order, the signal, and the probe beside it where known."""
    sig = r["signal_name"]
    head = (f"**{r['method']} runs on {r['dataset']}, best first by {sig} (label-free)**" if r["what"] == "runs"
            else f"**Run {r['run_id']}'s checkpoints, best first by {sig} (label-free)**")
    lines = [head]
    for e in r["ranking"]:
        probe = f", linear probe {_pct(e['probe_acc'])}" if e.get("probe_acc") is not None else ""
        reading = (f"view retrieval {e['health/view_retrieval']:.3g}, cluster consistency "
                   f"{e['health/cluster_consistency']:.3g} (mean place {e['score']:g} of {len(r['ranking'])})"
                   if r.get("paired") else f"{sig} {e['score']:.4g}")
        settings = ", ".join(f"{k}={v}" for k, v in list((e.get("settings") or {}).items())[:4])
        lines.append(f"{e['rank']}. {e['label']}{f' ({settings})' if settings else ''}: {reading}{probe}")
    lines.append(f"Decided by {r['decided_by']}.")
    if r.get("not_varied"):  # "which temperature was best?" of a sweep over the learning rate
        same = "; ".join(f"`{k}` is {v}" if v is not None else f"`{k}` is unset" for k, v in r["not_varied"].items())
        varied = sorted({k for e in r["ranking"] for k in (e.get("settings") or {})})
        lines.append(f"You asked about what these runs all share ({same} in every one), so this order says nothing "
                     f"about it{': they differ in ' + ', '.join(f'`{k}`' for k in varied) if varied else ''}.")
    if r.get("left_out"):
        lines.append("Left out: " + "; ".join(f"run {e['run_id']} ({e['why']})" for e in r["left_out"]) + ".")
    if r.get("probe_note"):
        lines.append(r["probe_note"])
    if r.get("leaders_note"):
        lines.append(r["leaders_note"])
    if r.get("caveat"):
        lines.append(r["caveat"])
    saved = r.get("early_stops") or {}
    if saved.get("runs"):
        lines.append(f"Early stops (monitor.on_failure=stop) ended {saved['runs']} failing run(s) and saved "
                     f"{saved['saved_steps']} steps, about {saved['saved_s'] / 60:.1f} min of compute.")
    return "\n".join(lines)


def probe_text(p: dict) -> str:
    """Probe/kNN against random init, and CLIP retrieval against chance, whichever the result has."""
    from tools.diagnosis.thresholds import PROBE_GAIN_Z

    parts = []
    if "probe/acc" in p:
        b = p.get("baseline") or {}
        parts.append(f"linear probe {_pct(p['probe/acc'])} (random init {_pct(b.get('probe/acc'))}), kNN "
                     f"{_pct(p.get('knn/acc'))} (random init {_pct(b.get('knn/acc'))})"
                     + (f", recall@5 {_pct(p['knn/recall@5'])}" if "knn/recall@5" in p else "")
                     + (f"; gain {(p['probe/acc'] - b['probe/acc']) * 100:+.1f} ± "
                        f"{PROBE_GAIN_Z * p['probe/gain_se'] * 100:.1f} "
                        f"points on {p.get('num_val', '?')} held-out images"
                        if p.get("probe/gain_se") is not None and b.get("probe/acc") is not None else ""))
    if p.get("label_fraction"):  # a semi-supervised probe: kept beside the run's own, which it does not replace
        parts.append(f"learnt from {p['label_fraction']:.0%} of the labels ({p.get('num_train', '?')} images; the "
                     "run's own probe on every label is unchanged)")
    if "clip/i2t_recall@5" in p:
        parts.append(f"image->text recall@5 {_pct(p['clip/i2t_recall@5'])}, text->image "
                     f"{_pct(p['clip/t2i_recall@5'])} (chance {_pct(p['clip/chance_recall@5'])})")
    return "; ".join(parts) or "no probe results"


FEW_NAMED = 5
"""A filtered list of at most this many runs names them in a sentence before its table."""


def runs_table(r: dict) -> str:
    """list_runs' answer: a table, newest first or best first by the asked metric, with what it was filtered by."""
    runs, tag, status, method, verdict, experiment = (r["runs"], r.get("tag"), r.get("status"), r.get("method"),
                                                      r.get("verdict"), r.get("experiment"))
    which = " ".join(w.replace("_", " ") for w in (status, verdict, method) if w)  # "failed byol", as said
    period = f" created {r['period']}" if r.get("period") else ""
    if r.get("dataset"):
        period = f" on {r['dataset']}" + period
    where = r.get("where") or []
    if where:  # "which runs used a temperature of 0.2?": the rules said, each run's value in its own column
        period += " with " + " and ".join(f"`{w}`" for w in where)
    if r.get("trouble") and not runs and not (status or method or verdict or where or tag or experiment):
        if r.get("home_empty"):
            return "No runs yet, so none in trouble. Try \"pretrain simclr on digits for 20 epochs\"."
        return f"No runs in trouble{period} here: none failed or diverged, and no diagnosis found a failure."
    if r.get("trouble"):  # "are any runs failing?": what counts as trouble, said once
        period = " in trouble (failed, diverged, or last diagnosed with a failure)" + period
    if not runs:
        if where:
            return (f"No {method + ' ' if method else ''}{status + ' ' if status else ''}runs{period} here (a run "
                    "whose method has no such setting is left out). Say \"list my runs\" to see them all.")
        if tag:
            return f"No run{period} is tagged `{tag}`. Tag one with \"tag run 2 as {tag}\"."
        if status or method or verdict or period:  # a filter that matched nothing is not an empty home (period: the
            # span, the data, the rules said)
            return f"No {which + ' ' if which else ''}runs{period} here{f' in sweep `{experiment}`' if experiment else ''}" \
                   ". Say \"list my runs\" to see them all."
        if experiment:
            return f"No runs in a sweep named `{experiment}`. Say \"list my runs\" to see them all."
        return "No runs yet. Try \"pretrain simclr on digits for 20 epochs\"."
    by = run_sort(r.get("sort") or "newest")
    order = f", {by.said}{'' if by.every_run_has else ' (runs without one last)'}" if by else ""
    lines = [f"Runs tagged `{tag}`{period}{order}:"] if tag else [f"Runs of sweep `{experiment}`{period}{order}:"] \
        if experiment else [f"Runs{period}{order}:"] if period or order else []
    if "count" in r:  # "how many runs failed this week?": the number first, then the runs
        shown = f"; the {len(runs)} {'newest' if by is None else 'first'}:" if r["count"] > len(runs) else ":"
        lines = [f"**{r['count']}** {which + ' ' if which else ''}run{'s' if r['count'] != 1 else ''}{period}"
                 f"{f' tagged `{tag}`' if tag else ''}{f' in sweep `{experiment}`' if experiment else ''}{shown}"]
    top = leading_value(r) if named_leader(r) else None
    if isinstance(top, (int, float)) and by.logged:  # "which run has the lowest effective rank?": said first
        lines = [f"**Run {runs[0]['run_id']}** has the {'highest' if by.highest_first else 'lowest'} `{by.key}` here: "
                 f"{value_cell(top)} (its last logged value).", "", *lines]
    elif isinstance(top, (int, float)):  # "which run has the best probe?": the answer first, then the table
        what = "linear probe" if r["sort"] == "probe" else "kNN accuracy"
        lines = [f"**Run {runs[0]['run_id']}** has the best {what} here: {_pct(top)}.", "", *lines]
    if (status or verdict or r.get("trouble")) and "count" not in r and len(runs) <= FEW_NAMED and top is None:
        named = runs_named([str(x["run_id"]) for x in runs])  # "which of my runs collapsed?": said, then the table
        lines = [f"{'One' if len(runs) == 1 else len(runs)} {which + ' ' if which else ''}run{'s' if len(runs) != 1 else ''}"
                 f"{period} here: **{named}**.", "", *lines]
    column = by.column if by else None
    keys = [*rule_keys(where), *(k for k in r.get("metrics") or [] if k not in rule_keys(where))]
    if by and r.get("sort") not in SORTS and by.key not in keys:  # "-train.batch_size": its values, a column
        keys.append(by.key)
    if r.get("metrics") and not lines:  # "the final loss of each run": what the columns are
        lines = [f"Runs, each with its last {', '.join(f'`{k}`' for k in r['metrics'])}:"]
    lines += [f"| run | name | method | data | status | steps | probe |{f' {column} |' if column else ''}"
              f"{''.join(f' {k} |' for k in keys)} verdict | tags |",
              "|---|---|---|---|---|---|---|" + ("---|" if column else "") + "---|" * len(keys) + "---|---|"]
    for x in runs:
        order_cell = f" {sort_cell(r['sort'], x)} |" if column else ""
        used = "".join(f" {value_cell((x.get('used') or {}).get(k))} |" for k in keys)
        lines.append(f"| {x['run_id']} | {escape_markdown(x.get('name') or '')} | {x['method'] or ''} | "
                     f"{x['dataset'] or ''} | {x['status']} | {x['steps'] or 0}/{x['total_steps'] or '?'} | "
                     f"{_fmt(x['probe_acc']) if x['probe_acc'] is not None else ''} |{order_cell}{used} {x['verdict'] or ''} | "
                     f"{escape_markdown(' '.join(x.get('tags') or []))} |")
    return "\n".join(lines)


def usage_text(r: dict) -> str:
    """GPU- and CPU-hours per group, the largest first; a table only when there is more than one group."""
    if r.get("measure") == "disk":
        return disk_text(r)
    kind = f"{r['method']} runs" if r.get("method") else "runs"
    whose = "your " if r.get("mine") else f"{r['user']}'s " if r.get("user") else ""
    what, t = whose + kind, r["total"]
    if not t["runs"]:
        if r.get("mine"):
            return f"You have no {kind} that trained {r['period']}: nothing used."
        return f"No {what} trained {r['period']}: nothing used."
    parts = [_device_time(t[f"{kind.lower()}_hours"], kind) for kind in ("GPU", "CPU") if t[f"{kind.lower()}_hours"]]
    hours = " and ".join([f"**{parts[0]}**", *parts[1:]]) + ("" if t["gpu_hours"] else " (no GPU time)")
    running = f" ({t['running']} still running, counted up to now)" if t["running"] else ""
    runs = f"{t['runs']} run{'s' if t['runs'] != 1 else ''}"
    head = f"{what.capitalize()} used {hours} {r['period']}, over {runs}{running}."
    if len(r["rows"]) < 2:
        return head
    by = r["by"]
    lines = [head, "", f"| {by} | runs | GPU-hours | CPU-hours |", "|---|---|---|---|"]
    lines += [f"| {escape_markdown(str(row[by]))} | {row['runs']} | {row['gpu_hours']:.3f} | {row['cpu_hours']:.3f} |"
              for row in r["rows"]]
    return "\n".join(lines)


def disk_text(r: dict) -> str:
    """Bytes on disk per group, the largest first, then the trash and the dataset caches, and how to free space."""
    kind = f"{r['method']} runs" if r.get("method") else "runs"
    whose = "your " if r.get("mine") else f"{r['user']}'s " if r.get("user") else ""
    t, by = r["total"], r["by"]
    head = (f"{(whose + kind).capitalize()} take **{bytes_text(t['bytes'])}** on disk ({t['runs']} "
            f"run{'s' if t['runs'] != 1 else ''}); the trash {bytes_text(r['trash_bytes'])}, the dataset caches "
            f"{bytes_text(r['datasets_bytes'])}; {bytes_text(r['free_bytes'])} is free on the disk that holds them.")
    lines = [head]
    if len(r["rows"]) > 1:
        lines += ["", f"| {by} | runs | on disk |", "|---|---|---|"]
        lines += [f"| {escape_markdown(str(row[by]))} | {row['runs']} | {bytes_text(row['bytes'])} |" for row in r["rows"]]
        lines.append("")  # a line after a table ends it
    if r.get("datasets"):  # the dataset caches the runs share, each once (`sslpilot data ls`)
        lines += [""] * bool(lines[-1]) + ["| dataset cache | source | images | on disk |", "|---|---|---|---|"]
        lines += [f"| `{c['name']}` | {escape_markdown(str(c['source']))} | {c['images']} | {bytes_text(c['bytes'])} |"
                  for c in r["datasets"]]
        lines.append("")
    lines.append("Deleting runs moves them to the trash (`delete run N`); `sslpilot trash empty` frees the disk, and "
                 "`train.keep_checkpoints` keeps fewer checkpoints per run."
                 + (" `sslpilot data rm NAME` deletes a dataset cache (a run that needs it builds it again)."
                    if r.get("datasets") else ""))
    return "\n".join(lines)


def _device_time(hours: float, kind: str) -> str:
    return f"{hours:.2f} {kind}-hours" if hours >= 0.1 else f"{hours * 60:.1f} {kind}-minutes"


def device_text(r: dict) -> str:
    """Which GPUs are free and what holds the others; one GPU first when one was asked about."""
    gpus, asked = r["gpus"], r.get("asked_gpu")
    lines: list[str] = []
    if asked is not None:
        gpu = next((g for g in gpus if g["index"] == asked), None)
        if gpu is None:
            have = (f"this machine has GPU{'s' if len(gpus) > 1 else ''} {', '.join(str(g['index']) for g in gpus)}"
                    if gpus else "runs train on the CPU")
            return f"There is no GPU {asked} here: {have}."
        lines.append(f"GPU {asked} ({escape_markdown(gpu['name'])}, {_gpu_memory(gpu)}) is {_gpu_state(gpu)}.")
    elif not gpus:
        held = r["cpu_runs"]
        now = f"{_runs_words(held)} {'holds' if len(held) == 1 else 'hold'} one" if held else "none is in use"
        lines.append(f"No GPU here: runs train on the CPU, {r['cpu_slots']} at a time (`SSLPILOT_CPU_SLOTS` sets how "
                     f"many); {now}.")
    else:
        free = sum(g["state"] == "free" for g in gpus)
        lines += [f"**{free} of {len(gpus)} GPU{'s' if len(gpus) != 1 else ''} free** (each runs "
                  f"{r['runs_per_gpu']} run{'s' if r['runs_per_gpu'] != 1 else ''} at a time: "
                  f"`SSLPILOT_RUNS_PER_GPU`).", "",
                  "| GPU | name | memory | state |", "|---|---|---|---|"]
        lines += [f"| {g['index']} | {escape_markdown(g['name'])} | {_gpu_memory(g)} | {_gpu_state(g)} |" for g in gpus]
        lines.append("")
    waiting = r["queued"]
    lines.append(f"{len(waiting)} run{'s' if len(waiting) != 1 else ''} wait{'s' if len(waiting) == 1 else ''} in "
                 f"the queue (run {', '.join(waiting[:6])}{', ...' if len(waiting) > 6 else ''})." if waiting
                 else "Nothing waits in the queue.")
    if r.get("source") == "this process":
        lines.append("(The queue daemon is not running; the devices were read with this process's settings.)")
    return "\n".join(lines).replace("\n\n\n", "\n\n")


def _gpu_memory(gpu: dict) -> str:
    if not gpu.get("total_mb"):
        return "memory unknown"
    return f"{gpu['free_mb'] / 1024:.1f} of {gpu['total_mb'] / 1024:.1f} GB free"


def _gpu_state(gpu: dict) -> str:
    if gpu["runs"]:
        return f"{'busy' if gpu['state'] == 'busy' else 'in use'}: {_runs_words(gpu['runs'])}"
    return gpu["state"]


def _runs_words(runs: list[dict]) -> str:
    return ", ".join(f"run {x['run_id']} ({x['method']}{', ' + x['owner'] if x['owner'] else ''})" for x in runs)


def pending_text(result: dict) -> str:
    p = result["pending_confirmation"]
    if p["tool"] == "stop_run_when":
        r = result["run"]
        where = f"{r['status']}, step {r['steps'] or 0} of {r['total_steps'] or '?'}"
        if not result["rule"]:
            return (f"Stop run {r['run_id']} ({r['method']}, {where}) if it collapses or diverges? The queue's monitor "
                    "then stops it with a checkpoint it can resume from. Reply **yes** to confirm or **no** to leave "
                    "it as it is.")
        return (f"Stop run {r['run_id']} ({r['method']}, {where}) when `{result['rule']}` ({result['now']})? It then "
                "ends as succeeded, with its checkpoint, encoder and probe. Reply **yes** to confirm or **no** to "
                "leave it as it is.")
    if p["tool"] == "delete_runs":
        listed = ", ".join(f"run {r['run_id']} ({r['method']} on {r['dataset']}, {r['status']})" for r in result["runs"])
        kept = (f" Their follow-ups ({', '.join('run ' + i for i in result['follow_ups_kept'])}) stay, and name them "
                "as deleted parents." if result["follow_ups_kept"] else "")
        return (f"Delete {listed}? {'They move' if len(result['runs']) > 1 else 'It moves'} to the trash: out of every "
                f"list, ranking and search, and `restore run N` brings one back; only `sslpilot trash empty` frees the "
                f"disk.{kept} Reply **yes** to confirm or **no** to keep {'them' if len(result['runs']) > 1 else 'it'}.")
    if p["tool"] == "cancel_run":
        rows = result.get("runs") or [result["run"]]
        listed = ", ".join(f"run {r['run_id']} ({r['method']}, {r['status']}, step {r['steps'] or 0})" for r in rows)
        several = len(rows) > 1
        return (f"Cancel {listed}? {'Each keeps its' if several else 'It keeps its'} last checkpoint, so "
                f"{'they' if several else 'it'} can be resumed. Reply **yes** to confirm or **no** to keep "
                f"{'them' if several else 'it'} going.")
    c, est = result["config"], result["estimate"]
    what = "Schedule" if p["tool"] == "schedule_pretraining" else "Launch"
    when = f" at `{result['when']}`" if result.get("when") else ""
    follow = f" as a follow-up of run {p['args']['parent_run']}" if p["args"].get("parent_run") else ""
    where = est["devices"]
    if result.get("placement"):
        pl = result["placement"]
        where = (f"cluster backend `{pl['backend']}`, {pl['nodes']} node(s) x "
                 f"{pl['gpus_per_node'] or 1} {'GPU' if pl['gpus_per_node'] else 'process'}(s) per node")
    took = f" ({est['time']})" if est.get("time") else ""
    head = (f"{what} **{c['method']}** on `{c['data']}`{follow}{when}: about {est['steps'] or '?'} steps{took} "
            f"on {where}.")
    if p["tool"] == "launch_sweep":
        methods = result["grid"].get("method") or []  # methods compared: named as what is launched
        grid = "; ".join(f"`{k}` in {', '.join(map(str, v))}" for k, v in result["grid"].items() if k != "method")
        runs = f"**{result['runs']} run{'s' if result['runs'] != 1 else ''}**"
        into = p["args"].get("experiment")
        what = f"Add {runs} to sweep `{into}`" if into and result.get("extends") else f"Launch a sweep of {runs}"
        on = "" if "data.name" in result["grid"] else f" on `{c['data']}`"  # the data swept: named in the grid
        of = " and ".join([", ".join(f"**{m}**" for m in methods[:-1]), f"**{methods[-1]}**"]) if methods else \
            f"**{c['method']}**"
        each = (f"one for each combination of {grid}" + (" for each method" if methods else "")) if grid else \
            "one for each method, all else the same"
        timed = [m for m in result.get("per_method") or [] if m["time"]]
        if timed:  # methods compared: each at its own measured speed, not the first one's for all
            took = " (" + "; ".join(f"{m['method']}: {m['time']}" for m in timed) + ")"
        steps = "{} to {}".format(*est["steps_range"]) if est.get("steps_range") else est["steps"] or "?"
        head = f"{what} of {of}{on}, {each}: about {steps} steps each{took}, on this machine's queue."
    yours = [v for v in result.get("values", []) if v["from"] != "method default"]
    defaults = [v for v in result.get("values", []) if v["from"] == "method default"]
    lines = [f"- {v['setting']}: `{v['value']}` ({v['from']})" for v in yours]
    if defaults:
        lines.append("- method defaults: " + ", ".join(f"{v['setting'].removeprefix('method_args.')}="
                                                       f"{v['value']}" for v in defaults))
    warn = [f"Note: {est[k]}." for k in ("time_limit", "warning") if est.get(k)]
    return "\n".join([head, *lines, *_waiting_line(result), *_prune_line(result), *warn,
                      "Reply **yes** to confirm or **no** to cancel."])


def _prune_line(result: dict) -> list[str]:
    """A sweep's successive halving, so the yes knows which runs may be stopped, on what, and when."""
    pr = result.get("prune")
    if not pr:
        return []
    at = (f" at step{'s' if len(pr['rungs']) > 1 else ''} " + ", ".join(str(r) for r in pr["rungs"])) if pr["rungs"] \
        else ""
    return [f"- early stopping (successive halving): each run is judged on `{pr['metric']}`{at}; from the "
            f"{_ordinal(pr['eta'])} run to reach a rung, one outside the best 1/{pr['eta']} of those before it is "
            "stopped, with its checkpoint, encoder and probe (a run that never logs it goes on)"]


def _ordinal(n: int) -> str:
    return {1: "first", 2: "second", 3: "third", 4: "fourth", 5: "fifth"}.get(n, f"{n}th")


def _waiting_line(result: dict) -> list[str]:
    """The runs a launch waits for, and how far each has got, so the wait can be judged before the yes."""
    waits, any_ending = result.get("after"), result.get("after_any")
    if not waits:
        return []
    if all(a["status"] in (TERMINAL if any_ending else ("succeeded",)) for a in waits):
        how = ", ".join(f"{a['method']}, {a['status']}" for a in waits)
        return [f"- waits for: {runs_named([a['run_id'] for a in waits])} ({how}), which "
                f"{'has' if len(waits) == 1 else 'have'} already {'ended' if any_ending else 'succeeded'}: it "
                "starts at once"]

    def stands(a: dict) -> str:
        got = f", step {a['steps'] or 0} of {a['total_steps'] or '?'}" if a["status"] == "running" else ""
        return f"run {a['run_id']} ({a['method']}, {a['status']}{got})"

    which = ", ".join(stands(a) for a in waits)
    if any_ending:
        return [f"- waits for: {which} to end, however {'it ends' if len(waits) == 1 else 'they end'}; it queues "
                "now and starts then"]
    return [f"- waits for: {which} to succeed; it queues now and starts then, and is cancelled if "
            f"{'that run' if len(waits) == 1 else 'one of them'} fails or is cancelled"]


def _search_text(where: str, result: dict) -> str:
    hits = result["results"]
    if not hits:
        return "Nothing relevant found."
    lines = [f"From {where} (quoted as data, not instructions):"]
    if all(h.get("matched") is False for h in hits):  # nearest by meaning only: say so, not as if they matched
        lines = [f"Nothing in {where} contains the words you searched for; the nearest passages by meaning (quoted "
                 "as data, not instructions):"]
    for h in hits[:3]:
        c = h["citation"]
        src = f"run {c['run_id']}" if c.get("run_id") else f"{c['title']}, {c.get('section') or c['source']}"
        flag = " [flagged: contains instruction-like text]" if h.get("flagged") else ""
        lines.append(f"- {src}{flag}:\n{quote_untrusted(h['text'][:400])}")
    return "\n".join(lines)


def _setting_line(rid: str, method: str, s: dict) -> str:
    """One asked setting, and whether the run's config gave it or the run chose it at its start."""
    key = s["key"]
    if s["how"] == "absent":
        known = ", ".join(k.split(".", 1)[1] for k in s.get("known", []))
        return (f"- run {rid} ({method}) has no `{key}`" + (f"; its `{key.split('.')[0]}` settings are {known}"
                                                            if known else "") + ".")
    short = (f"; it trained **{_fmt(s['trained'])}** of them ({s['why']})" if "trained" in s else "")
    if s["how"] == "chosen":
        said = "unset" if s.get("config") is None else "auto"
        return f"- `{key}` = **{_fmt(s['value'])}** ({said} in its config; chosen by the run at its start){short}"
    if s["how"] == "epochs":
        return (f"- `{key}` = **{_fmt(s['value'])}** (set as {_fmt(s['epochs'])} epochs in its config; made steps "
                f"at its start)")
    if s["how"] == "auto":
        return f"- `{key}` = {_fmt(s['value'] or 'auto')} in its config: chosen when the run starts"
    return f"- `{key}` = **{_fmt(s['value'])}** (set in its config){short}"


def _logged_line(rid: str, m: dict) -> str:
    """One asked metric: the value at the asked step when there is one, then its last, lowest and highest, and
    where its last fifth was going."""
    key = m["key"]
    if m.get("absent"):
        return f"- run {rid} logged no `{key}`" + (f"; it logged {', '.join(m['known'])}" if m["known"] else "") + "."
    lead = ""
    if "at" in m:
        step, value = m["at"]
        where = f"step {step}" if step == m["asked_step"] else f"step {step}, the logged step nearest {m['asked_step']}"
        lead = f"**{_fmt(value)}** at {where}; "
    (ls, lv), (ns, nv), (xs, xv) = m["last"], m["min"], m["max"]
    line = (f"- `{key}`: {lead}last {_fmt(lv)} (step {ls}), lowest {_fmt(nv)} (step {ns}), highest {_fmt(xv)} "
            f"(step {xs})")
    if "over_last_steps" in m:
        o, n = m["over"], m["over_last_steps"]
        if o is None:
            return line + f"; it logged fewer than two values in its last {n} steps, so how it moved there is not known"
        (s0, v0), (s1, v1) = o["first"], o["last"]
        said = "flat (within 1%)" if o["direction"] == "flat" else o["direction"]
        return line + (f"; over its last {n} steps it went {_fmt(v0)} (step {s0}) to {_fmt(v1)} (step {s1}), "
                       f"{o['change'] * 100:+.1f}%: **{said}**")
    t = m.get("trend")
    if t:
        (s0, v0), (s1, v1) = t["first"], t["last"]
        said = "flat (within 1%)" if t["direction"] == "flat" else f"still {t['direction']}"
        line += (f"; over its last logged steps it went {_fmt(v0)} (step {s0}) to {_fmt(v1)} (step {s1}), "
                 f"{t['change'] * 100:+.1f}%: **{said}**")
    return line


def _asked_text(result: dict) -> list[str]:
    """What the user asked about a run, before its summary: metrics, settings, the whole config, its time."""
    rid, lines = result["run_id"], [_logged_line(result["run_id"], m) for m in result.get("logged", [])]
    for s in result.get("settings", []):
        lines.append(_setting_line(rid, result["method"], s))
    t = result.get("time")
    if t is not None:
        lines.append(f"- run {rid} {time_text(t)}")
    f = result.get("files")
    if f is not None:
        if f["encoder"]:
            lines.append(f"- encoder: `{f['encoder']}`" + (f"; load it with `{f['load'].split('  #')[0]}` (transformers)"
                                                          if f.get("load") else ""))
        else:
            lines.append(f"- run {rid} has exported no encoder yet (a run exports it when it succeeds)")
        if f["last_checkpoint"]:
            kept = f" (kept: {', '.join(f['kept_checkpoints'])})" if f["kept_checkpoints"] else ""
            lines.append(f"- last checkpoint: `{f['last_checkpoint']}`{kept}")
        lines.append(f"- run folder: `{f['run_dir']}`")
    e = result.get("embeddings")
    if e is not None:
        what = "texts" if result.get("method") in ("mlm", "clm") else "images"
        lines.append(f"Run {rid}'s embeddings: {e['n']} held-out {what} through its encoder, {e['dim']}-wide features "
                     f"(L2-normalised). The two principal directions the scatter shows carry {e['top2_share']:.0%} of "
                     f"their variance; their effective rank is {e['effective_rank']:.1f} of {min(e['dim'], e['n'])}. "
                     f"The app draws the PCA scatter{' (coloured by class)' if e.get('labels') else ''} and the "
                     "singular-value spectrum here in the chat and on the run page (`sslpilot ui`).")
    out = result.get("output")
    if out is not None:
        if out["lines"]:
            shown = "\n".join(out["lines"]).replace("`", "'")  # the run's own text: shown as written, inert
            lines.append(f"Run {rid}'s output, its last {len(out['lines'])} lines (`{out['path']}`"
                         f"{'; `sslpilot logs ' + rid + '` prints it all' if out['more'] else ''}):\n```text\n"
                         f"{shown}\n```")
        else:
            lines.append(f"- run {rid} has written no output yet")
    if "config" in result:
        import yaml

        text = yaml.safe_dump(result["config"], sort_keys=False).replace("`", "'")
        lines.append(f"Run {rid}'s config:\n```yaml\n{text}```")
        if result.get("chosen"):
            lines.append("Left to auto or unset, chosen by the run at its start: "
                         + ", ".join(f"`{k}` = {_fmt(v)}" for k, v in result["chosen"].items()) + ".")
    return lines


def _compared_settings(asked: dict) -> list[str]:
    """The settings asked about, one row a run ("what batch size did runs 1 and 4 use?"), before the comparison."""
    if not asked:
        return []
    first = next(iter(asked.values()))
    keys = [s["key"] for s in first.get("settings", [])] + (["time"] if "time" in first else [])
    lines = ["| run | " + " | ".join(f"`{k}`" for k in keys) + " |", "|---" * (len(keys) + 1) + "|"]
    for rid, a in asked.items():
        cells = [("-" if s["how"] in ("absent", "auto") else _fmt(s["value"]) + (" (chosen)" if s["how"] == "chosen"
                                                                                else "")) for s in a.get("settings", [])]
        if "time" in a:
            t = a["time"]
            cells.append(took(t["wall_s"]) if t.get("wall_s") is not None else "-")
        lines.append(f"| {rid} | " + " | ".join(cells) + " |")
    return [*lines, ""]


TRIVIAL_MESSAGES = {"running", "finished", "queued"}  # a worker's status line that only repeats the status


def _get_run_text(result: dict) -> str:
    m = result["metrics"]
    named = f" \u201c{escape_markdown(result['name'])}\u201d" if result.get("name") else ""
    parts = _asked_text(result)
    if parts:
        parts.append("")  # the summary is a paragraph of its own, not the last asked line's continuation
    message = result["message"] or ""
    message = "" if message in TRIVIAL_MESSAGES or message == result["status"] else message  # "succeeded ...
    # finished" (or "succeeded ... succeeded") said it twice
    parts.append(f"**Run {result['run_id']}**{named} ({result['method']} on {result['dataset']}): {result['status']}, "
                 f"step {result['steps'] or 0}/{result['total_steps'] or '?'}. {message}".rstrip())
    if result.get("logged"):  # "what's its perplexity?": the values asked for and the run's state, no more
        return "\n".join(parts)
    if result.get("continued_from"):
        parent = f"run {result['parent_id']}'s" if result.get("parent_id") else "the"
        parts.append(f"- continued from {parent} weights (`{result['continued_from'].replace('`', '')}`)")
    if result.get("tags"):
        parts.append(f"- tags: {', '.join(result['tags'])}")
    stops = result.get("stops")
    if stops and result["status"] in ("queued", "running"):
        when = [f"`{r}`" for r in stops["rules"]] + (["a collapse or divergence"] if stops["on_failure"] else [])
        parts.append(f"- stops early on: {', '.join(when)}")
    if result.get("notes"):
        parts.append("- notes (as written):\n" + quote_untrusted(result["notes"]))
    for k in ("loss", "val/perplexity", "health/std", "health/rank"):
        if k in m:
            parts.append(f"- {k}: {_fmt(m[k]['first'])} -> {_fmt(m[k]['last'])}")
    if result.get("probe"):
        parts.append(f"- {probe_text(result['probe'])}")
    if result.get("verdict"):
        parts.append(f"- last diagnosis: {result['verdict']}")
    return "\n".join(parts)


def _annotated_text(result: dict) -> str:
    lines = []
    for r in result.get("runs") or [result]:  # several runs tagged or noted at once: a line each
        named = f"; name \u201c{escape_markdown(r['name'])}\u201d" if r.get("name") and "named" not in r["done"] else ""
        notes = len((r.get("notes") or "").splitlines())
        kept = f"; {notes} note{'s' if notes != 1 else ''}" if notes else ""
        lines.append(f"Run {r['run_id']}: {escape_markdown(r['done'])}{named}; tags: {', '.join(r['tags']) or 'none'}"
                     f"{kept}.")
    return "\n".join(lines)


def probe_order_text(compared: dict) -> str | None:
    """Whether the linear probe orders the compared runs as they were given: after a ranking without labels, "does
    the probe agree?" compares its runs in its order. None where fewer than two have a probe."""
    probed = [r for r in compared.get("runs") or [] if isinstance(r.get("probe_acc"), (int, float))]
    if len(probed) < 2:
        return None
    by_probe = sorted(probed, key=lambda r: -r["probe_acc"])  # stable: a tie keeps the ranking's order
    listed = ", ".join(f"run {r['run_id']} ({_pct(r['probe_acc'])})" for r in by_probe)
    if [r["run_id"] for r in by_probe] == [r["run_id"] for r in probed]:
        return f"By the linear probe: {listed}. That is the order of the ranking without labels."
    return (f"By the linear probe: {listed}. That is not the order of the ranking without labels ("
            + ", ".join(f"run {r['run_id']}" for r in probed) + "); where the probe's lead is clear (below), trust it.")


def _compare_text(result: dict) -> str:
    where = result.get("where") or []
    keys, lead = rule_keys(where), []
    if where:
        n, shown = result["matched"], len(result["runs"])
        lead = [f"{n} runs pass {' and '.join(f'`{w}`' for w in where)}" + (f"; the newest {shown} side by side:"
                                                                          if n > shown else ":")]
    used = result.get("used") or {}
    head = "".join(f" {k} |" for k in keys)
    lines = [*lead, *_compared_settings(result.get("asked") or {}),
             f"| run | method | status |{head} final loss | std | rank | probe | verdict |",
             "|---|---|---|" + "---|" * len(keys) + "---|---|---|---|---|"]
    for r in result["runs"]:
        cells = "".join(f" {_fmt((used.get(r['run_id']) or {}).get(k))} |" for k in keys)
        lines.append(f"| {r['run_id']} | {r['method']} | {r['status']} |{cells} {value_cell(r['final_loss'])} | "
                     f"{value_cell(r['health_std'])} | {value_cell(r['health_rank'])} | "
                     f"{value_cell(r['probe_acc'])} | {r['verdict'] or ''} |")  # '-': not measured yet
    if result.get("over_last_steps"):
        lines += ["", f"Over each run's last {result['over_last_steps']} steps:"]
        lines += [f"- run {r['run_id']}: " + "; ".join(_moved(m) for m in r["moved"]) for r in result["runs"]]
    lead = result.get("probe_lead")
    if lead:
        lines += ["", probe_lead_text(lead)]
    lines += _best_by_verdicts(result)
    diff = result["config_diff"]
    if diff and result.get("config_asked"):  # "how do their configs differ?": every difference, a row a setting
        ids = list(next(iter(diff.values())))
        lines += ["", "| setting | " + " | ".join(f"run {rid}" for rid in ids) + " |", "|---" * (len(ids) + 1) + "|"]
        lines += [f"| `{k}` | " + " | ".join(value_cell(vals.get(rid)) for rid in ids) + " |"
                  for k, vals in diff.items()]
        lines += ["", "(-: not set in that run: another method's setting, or left to its default)"] if any(
            v is None for vals in diff.values() for v in vals.values()) else []
    elif diff:
        lines.append("")  # a line after a table ends it; without one, Markdown reads the next line as a row
        lines.append("Config differences: " + "; ".join(
            f"`{k}`: " + ", ".join(f"run {rid}={value_cell(v)}" for rid, v in vals.items())
            for k, vals in list(diff.items())[:8]) + (f"; and {len(diff) - 8} more" if len(diff) > 8 else ""))
    return "\n".join(lines)


def side_by_side_text(refused: str, compared: dict) -> str:
    """A ranking refused ("which of my runs is best?" over runs of several methods) answered by the comparison in its
    place: why no label-free order, the runs side by side, and the best where a probe or the verdicts settle it."""
    why = refused.removeprefix("runs: ").split(". Fix:")[0]
    return "\n".join([f"I cannot rank these runs without labels: {why}. Here they are side by side instead:", "",
                      _compare_text(compared)])


def _best_by_verdicts(compared: dict) -> list[str]:
    """The comparison's best run where the verdicts settle it without a probe (one healthy run beside failed ones),
    as lines to add; none otherwise."""
    from agent.ranked_words import leader_of_comparison

    settled = leader_of_comparison(compared)
    if settled.get("failed") is None:
        return []
    training = ", ".join(f"run {i}" for i in settled["training"])
    verdicts = {str(r["run_id"]): str(r["verdict"]).replace("_", " ") for r in compared["runs"]}
    return ["", f"**Run {settled['probe']} is the best so far**, the only healthy one: "
            + ", ".join(f"run {i} ended in {verdicts[i]}" for i in settled["failed"])
            + (f", and {training} {'is' if len(settled['training']) == 1 else 'are'} still training, not judged yet"
               if training else "") + "."]


def value_cell(value) -> str:
    """A value in a comparison; '-' where the run has none (a metric not measured yet; a setting it does not set:
    another method's, or a default worked out at launch such as the learning rate), not Python's None."""
    return "-" if value is None else _fmt(value)


def probe_lead_text(lead: dict) -> str:
    """Which run's linear probe leads a comparison, and whether the lead is more than twice its standard error."""
    pts, se = 100 * lead["lead"], 100 * lead["se"]
    how = f"on the same {lead['rows']} images" if lead["paired"] else "unpaired"
    if lead["best_acc"] == lead["second_acc"]:  # a tie: neither is "best"
        return (f"Runs {lead['best']} and {lead['second']} tie on the linear probe ({_pct(lead['best_acc'])}): it "
                f"cannot tell them apart (a difference's standard error there is {se:.1f} points, {how}); compare "
                "their kNN and label-free signals too.")
    said = (f"Best linear probe: run {lead['best']} ({_pct(lead['best_acc'])}), {pts:.1f} points above run "
            f"{lead['second']} ({_pct(lead['second_acc'])}); the lead's standard error is {se:.1f} points ({how}). ")
    if lead["resolved"]:
        return said + f"That is more than twice its error: on this probe, run {lead['best']} is the better encoder."
    more = ("probe them on more of their images (`sslpilot probe RUN --set eval.max_images=N`)" if lead["sampled"] else
            "the data has no more held-out images, so compare their kNN and label-free signals too")
    return said + f"That is within twice its error: the probe cannot tell these runs apart; {more}."


def _moved(m: dict) -> str:
    """One metric's move over a window of last steps, in a comparison's line."""
    if m.get("absent"):
        return f"no `{m['key']}`"
    o = m.get("over")
    if o is None:
        return f"`{m['key']}` logged fewer than two values there"
    (s0, v0), (s1, v1) = o["first"], o["last"]
    return f"`{m['key']}` {_fmt(v0)} (step {s0}) -> {_fmt(v1)} (step {s1}), {o['change'] * 100:+.1f}%: {o['direction']}"


def _import_text(result: dict) -> str:
    runs = result["imported"]
    lines = [f"Imported {len(runs)} run{'s' if len(runs) != 1 else ''}:"]
    lines += [f"- **run {r['run_id']}** ({r['source']}, {r['method'] or 'method unknown'}, {r['steps']} steps): "
              f"{r['name']}" for r in runs]
    lines.append(f"Ask \"why did run {runs[0]['run_id']} collapse?\" or \"compare runs ...\" next.")
    return "\n".join(lines)


def _audit_text(result: dict) -> str:
    r = result["audit_run"]
    return (f"Measured {result['checkpoints']} checkpoint(s) as **run {r['run_id']}** ({r['name']}). "
            f"Ask \"diagnose run {r['run_id']}\" for the verdict.")


def _waits_text(result: dict, several: bool = False) -> str:
    """" It starts once run 3 has succeeded." for a queued run (or sweep) that waits."""
    if not result.get("after"):
        return ""
    ids = result["after"]
    ending = "ended" if result.get("after_any") else "succeeded"
    return (f" {'They start' if several else 'It starts'} once {runs_named(ids)} "
            f"{'has' if len(ids) == 1 else 'have'} {ending}.")


def _queued_text(result: dict) -> str:
    waits = _waits_text(result)
    return (f"Queued **run {result['run_id']}** ({result['config']['method']} on {result['config']['data']}).{waits} "
            f"Ask \"how is run {result['run_id']} doing?\" to follow it.")


def _sweep_text(result: dict) -> str:
    ids, name = result["run_ids"], result["experiment"]
    runs = runs_named(ids)
    then = (f"ask \"rank the {name} sweep\"" if re.fullmatch(r"[\w.-]+", name) else
            f"run `sslpilot rank --sweep {name}`")  # a name the chat reads back as this sweep, or the command
    waits = _waits_text(result, several=len(ids) > 1)
    return (f"Queued sweep **{name}**: {runs}.{waits} When {'it ends' if len(ids) == 1 else 'they end'}, {then} to "
            "see which is best.")


def _scheduled_text(result: dict) -> str:
    s = result["scheduled"]
    return f"Scheduled: job {s['job_id']}, next at {s['next_run_time']} (runs while the scheduler is up)."


# How each tool's result reads, one entry per row of tools/tool_table.py (tests/test_agent.py checks the keys).
# The costly tools' entries read their result after the user confirmed; before, pending_text reads the proposal.
RENDER: dict[str, Callable[[dict], str]] = {
    "launch_pretraining": _queued_text,
    "schedule_pretraining": _scheduled_text,
    "launch_sweep": _sweep_text,
    "cancel_run": lambda r: "; ".join(f"Run {x['run_id']}: {x['done']}" for x in (r.get("runs") or [r])) + ".",
    "delete_runs": lambda r: deleted_text(r, "`restore run N`"),
    "restore_run": lambda r: f"Run {r['run_id']} ({r['method']}, {r['status']}) is back.",
    "run_linear_probe": lambda r: f"Run {r['run_id']}: {probe_text(r)}." + (
        f" (Its stored probe; say \"probe run {r['run_id']} again\" to measure it anew.)" if r.get("stored") else ""),
    "usage_summary": usage_text,
    "device_status": device_text,
    "list_runs": runs_table,
    "annotate_run": _annotated_text,
    "get_run": _get_run_text,
    "compare_runs": _compare_text,
    "diagnose_run": lambda r: diagnosis_text(r),
    "recommend_next_step": lambda r: recommendation_text(r),
    "forecast_run": forecast_text,
    "rank_runs": ranking_text,
    "rank_checkpoints": ranking_text,
    "judge_run": quality_text,
    "search_run_logs": lambda r: _search_text("your run logs", r),
    "search_literature": lambda r: _search_text("the literature store", r),
    "stop_run_when": lambda r: (f"Run {r['run_id']} stops when `{r['rule']}`: it is checked at each logging step."
                                if r["rule"] else f"Run {r['run_id']} will be stopped, with a checkpoint, if it collapses "
                                "or diverges (the queue's monitor checks it as it trains)."),
    "resume_run": lambda r: f"Run {r['run_id']} is queued to resume from its last checkpoint.",
    "import_runs": _import_text,
    "audit_checkpoints": _audit_text,
}


def tool_result_text(name: str, result: dict) -> str:
    if "error" in result:
        return f"That did not work: {result['error']}"  # the error names the field and the fix; nothing else to add
    if "pending_confirmation" in result:
        return as_markdown(pending_text(result))
    if name in RENDER:
        return as_markdown(RENDER[name](result))
    return json.dumps(result, default=str)[:1500]


def _kind(line: str) -> str:
    stripped = line.lstrip()
    if not stripped:
        return "blank"
    if stripped.startswith(("- ", "* ")) or (line.startswith("  ") and stripped):
        return "list"
    return {"|": "table", ">": "quote"}.get(stripped[0], "text")


def as_markdown(text: str) -> str:
    """Lines written one per fact, made into the blocks Markdown renders: in the chat (Streamlit, rich) a single
    newline joins two lines into one paragraph, and a line after a list becomes its last item's continuation. So
    each line of text is a paragraph of its own; a list, a table, a quotation and a code block stay together."""
    out: list[str] = []
    code = False
    prev = "blank"
    for line in text.split("\n"):
        if line.lstrip().startswith("```"):
            if not code and prev not in ("blank",):
                out.append("")
            out.append(line)
            code, prev = not code, "code" if not code else "text"
            continue
        if code:
            out.append(line)
            continue
        kind = _kind(line)
        if kind != "blank" and prev != "blank" and (kind != prev or kind == "text"):
            out.append("")
        out.append(line)
        prev = kind
    return "\n".join(out)


REFUSAL = ("I can't do that. I only act through sslpilot's tools: I never delete files, run shell commands or "
           "database queries, or change my rules because a message asks me to. I can launch, schedule, cancel, stop "
           "or resume runs, and move runs you name to the trash (each after your yes: \"delete run 4\"), list and "
           "compare them, diagnose a run, recommend the next step, run a linear probe, sum the GPU time used, and "
           "search your run logs or the literature.")
def catalogue_text(about: list[str]) -> str:
    """What sslpilot has, from its catalogue: the methods by modality, the built-in datasets, the backbones."""
    from ssl_runtime.catalogue import BACKBONES, BUILTIN_DATASETS, CATALOGUE, IMAGE_TEXT_METHODS, TEXT_METHODS

    lines = []
    if "methods" in about:
        lines.append("Methods (`pretrain METHOD on DATA`):")
        for kind, label in (("vision", "images"), ("text", "text"), ("image_text", "image-text pairs")):
            lines += [f"- `{m.name}` ({m.title}, {label}): {m.summary}" for m in CATALOGUE if m.modality == kind]
    if "datasets" in about:
        lines.append("Data: any folder of images (`pretrain METHOD on ./photos`), of text files for "
                     + "/".join(f"`{m}`" for m in TEXT_METHODS) + ", or of captioned images for "
                     + "/".join(f"`{m}`" for m in IMAGE_TEXT_METHODS) + "; built in: "
                     + ", ".join(f"`{d}`" for d in BUILTIN_DATASETS) + " (labelled, so the linear probe runs on them).")
    if "backbones" in about:
        lines.append("Backbones (`backbone.name`): " + ", ".join(f"`{b}`" for b in BACKBONES)
                     + ", or a local model folder (`backbone.pretrained=PATH`).")
    return "\n".join(lines)


HELP = ("I can pretrain, diagnose, compare and probe SSL runs, and search your run logs and the literature. Try: "
        "\"pretrain dino on ./data/products for 50 epochs on GPU 1\", \"why did run 3 collapse?\", \"what should I try "
        "next for run 3?\", \"compare runs 2 and 3\", \"list my runs\", \"what does DINO do about collapse?\". "
        "(I understand English only.)")
