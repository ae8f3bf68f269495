"""What to try next: one concrete config change, classed as a data, model or retrieval change.

Each likely cause maps to candidate changes; the best-ranked candidate that the run's lineage has not
already tried without success is recommended. A follow-up launched from it records the
recommendation, so the next diagnosis of that lineage learns from the outcome.
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass

from ssl_runtime.catalogue import TEXT_METHODS
from ssl_runtime.config import BackboneConfig
from tools.diagnosis.causes import Cause
from tools.diagnosis.diagnose import Diagnosis
from tools.diagnosis.evidence import RunEvidence
from tools.launches import RUN_LENGTH


@dataclass
class Recommendation:
    run_id: str
    category: str  # data | model | retrieval
    change: dict
    rationale: str
    expected_effect: str
    verify: str
    citations: list[dict]
    cause: str = ""
    launchable: bool = True  # False when the change needs the user (e.g. cleaning files) before a launch
    skipped: list[dict] | None = None  # changes not recommended again because they already failed

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass
class Candidate:
    category: str
    change: dict
    rationale: str
    expected: str
    verify: str
    launchable: bool = True


# causes that name the published recipe itself, not a departure from it ("strong augmentation" at the default
# strength): a healthy sibling that differs in a few settings is better evidence (a SimCLR at lr 0.01 beside a
# healthy one at 0.003 was told to weaken its augmentation)
RECIPE_CAUSES = ("strong_augmentation",)
MAX_WIDTH = next(m.le for m in BackboneConfig.model_fields["width"].metadata if getattr(m, "le", None))
# a healthy run's "train longer" (its loss still falling, or nothing else to change) is the forecast's to decide
FORECAST_DECIDES = ("still_improving",)
FORECAST_SAYS = {"train_longer": "Its forecast agrees", "uncertain": "Its forecast cannot tell yet",
                 "plateaued": "Its forecast says it has plateaued", "unknown": "It has no forecast yet"}


RECOVERED = ("health/std back near 1/sqrt(d) and health/rank well above its collapsed value within the first 10% of "
             "steps; then the probe above its random-init baseline")  # how a fix of a collapse is checked


def _nice(x: float) -> float:
    return float(f"{x:.2g}")


def _longer(ev: RunEvidence, min_epochs: int) -> dict:
    """Twice the run's length (at least `min_epochs`), in the unit the run was given: a run of 300 steps gets
    `train.steps: 600`, which its user reads at a glance, not the epochs those steps came to."""
    planned = (ev.summary or {}).get("epochs")  # the planned length in epochs (steps / steps per epoch)
    target = max(min_epochs, 2 * math.ceil(planned or 10))
    steps = (ev.config.get("train") or {}).get("steps")
    if steps:
        return {"train.steps": round(steps * target / planned) if planned else 2 * int(steps)}
    return {"train.epochs": int(target)}


def candidates_for(cause: Cause, ev: RunEvidence) -> list[Candidate]:
    m = ev.method
    lr = ev.peak_lr or ev.default_lr
    # the method's default rate belongs to the method's own optimizer (auto: AdamW): a run that chose another
    # one (plain SGD) goes back to it with that rate, or the rate is off by orders of magnitude (the failure
    # suite's MoCo at SGD lr 100 -> SGD at lr 5e-4: not learning)
    own_optim = {} if ev.config.get("optim", {}).get("name") in (None, "auto") else {"optim.name": "auto"}
    default_rate = {**own_optim, "optim.lr": _nice(ev.default_lr)}
    table: dict[str, list[Candidate]] = {
        "no_predictor": [Candidate("model", {"method_args.predictor": True}, "without a predictor the two branches "
                                   "can agree on a constant; the predictor breaks that symmetry (SimSiam, BYOL)",
                                   "no collapse: spread and rank stay high", RECOVERED)],
        "no_stop_gradient": [Candidate("model", {"method_args.stop_gradient": True, "method_args.predictor": True},
                                       "SimSiam needs both stop-gradient and predictor; without them it collapses "
                                       "(the paper's own ablation)", "no collapse", RECOVERED)],
        "ema_too_fast": [Candidate("model", {"method_args.ema_momentum": 0.996 if m == "dino" else 0.99},
                                   "a slowly moving teacher is what keeps the targets from chasing the student",
                                   "stable, non-collapsed targets", RECOVERED)],
        "teacher_temp_high": [Candidate("model", {"method_args.teacher_temp": 0.04, "method_args.warmup_teacher_temp":
                                                  0.04}, "DINO calls teacher temperatures above 0.07 unstable; 0.04 "
                                        "sharpens the teacher", "teacher entropy well below ln K",
                                        "health/teacher_entropy falling below 0.9 ln K in the first epochs")],
        "no_centering": [Candidate("model", {"method_args.center_momentum": 0.9}, "centring stops one prototype from "
                                   "taking everything; 0.9 is DINO's value", "teacher entropy between 0 and ln K",
                                   "health/teacher_entropy neither near 0 nor near ln K")],
        "dino_head_no_bn": [Candidate("model", {"method_args.head_batch_norm": True}, "BatchNorm in the head's MLP "
                                      "spreads a CNN's nearly parallel features, so the centred teacher has targets "
                                      "to sharpen (lightly builds DINO's head so for ResNets)",
                                      "the features spread (RankMe several times this run's) and the teacher "
                                      "leaves ln K", "health/rank and loss/teacher_entropy over the run (on held-out "
                                      "150-step runs: RankMe 12-24 against 1-6, the teacher at 0.89-0.97 ln K)")],
        "vicreg_no_regulariser": [Candidate("model", {"method_args.mu": 25.0, "method_args.nu": 1.0},
                                            "VICReg's variance and covariance terms are what prevent collapse",
                                            "loss/variance falls towards 0", "loss/variance and health/std")],
        "barlow_no_offdiag": [Candidate("model", {"method_args.lambda_offdiag": 0.0051},
                                        "the off-diagonal term decorrelates dimensions", "higher RankMe",
                                        "health/rank")],
        "batch_small": [Candidate("model", {"train.batch_size": max(128, ev.batch_size * 4)}, "small batches give "
                                  "noisy statistics for BN and centring", "steadier health metrics", RECOVERED)],
        "lr_high": [Candidate("model", {**default_rate, "train.grad_clip": 3.0},
                              f"the learning rate {lr:.3g} is far above {m}'s default; clipping at 3.0 (DINO's value) "
                              "guards against the spikes", "finite loss, no grad-norm spikes",
                              "grad_norm stays within ~10x its median; loss finite to the end")],
        "sgd_high_lr": [Candidate("model", default_rate,
                                  "plain SGD at this rate overshoots; AdamW at the method default is stable",
                                  "finite loss", "loss finite to the end")],
        "lr_tiny": [Candidate("model", default_rate, f"lr {lr:.3g} is too small to move the "
                              "weights; the default follows the linear scaling rule (base x batch/256)",
                              "the loss falls clearly in the first epoch", "loss down by >5% in the first third")],
        "weights_still": [Candidate("model", default_rate, "the weights did not move from their start; at the "
                                    "method's default rate they do (if it is already the rate, look for parameters "
                                    "frozen by mistake)", "weights moving", "health/weight_drift above 1e-4 after "
                                    "the warm-up")],
        "fp16": [Candidate("model", {"train.precision": "bf16"}, "fp16 overflows in softmax and normalisation; bf16 "
                           "has fp32's range (dino #58)", "finite loss", "loss finite to the end")],
        "no_grad_clip": [Candidate("model", {"train.grad_clip": 3.0, "optim.lr": _nice(lr * 0.3)},
                                   "clip gradients and lower the rate", "finite loss", "grad_norm without spikes")],
        "no_warmup": [Candidate("model", {"optim.warmup_steps": 500}, "warm-up keeps early updates small",
                                "stable first steps", "grad_norm in the first 500 steps")],
        "temperature_high": [Candidate("model", {"method_args.temperature": 0.2}, "a high temperature makes every "
                                       "negative look alike; 0.1-0.5 is the usual range", "the loss leaves log(N)",
                                       "loss clearly under its trivial value")],
        "temperature_low": [Candidate("model", {"method_args.temperature": 0.2}, "a very low temperature focuses "
                                      "on a few hard negatives", "higher RankMe", "health/rank")],
        "strong_augmentation": [Candidate("data", {"augment.strength": 0.6}, "milder views keep more of each "
                                          "image's content in both, so fewer directions are wiped out",
                                          "RankMe stays near its peak",
                                          "health/rank over the run")],
        "projector_large": [Candidate("model", {"method_args.proj_dim": 256}, "an over-parameterised projector can "
                                      "absorb the collapse", "higher RankMe", "health/rank")],
        "identical_views": [Candidate("data", {"augment.strength": 1.0}, "with identical views the task is trivial; "
                                      "the published augmentations force invariances that transfer",
                                      "a clearly higher linear probe than random init",
                                      "health/alignment above 0; probe/acc minus its baseline > 1 point")],
        "weak_augmentation": [Candidate("data", {"augment.strength": 1.0}, "stronger views teach more invariances; "
                                        "augmentation matters most on custom data", "higher probe",
                                        "probe/acc against its baseline")],
        "too_short": [Candidate("model", _longer(ev, 50), "SSL needs many epochs on small data; the run ended early",
                                "higher probe", "probe/acc against this run")],
        "still_improving": [Candidate("model", _longer(ev, 20), "twice the training lets it go on learning",
                                      "a lower loss and higher probe", "probe/acc against this run")],
        "mae_probe_expected": [Candidate("retrieval", {"eval.pooling": "mean", "eval.feature_norm": "standardize"},
                                         "MAE features probe poorly by design (68 linear vs 84 fine-tuned for ViT-B);"
                                         " mean-pooled, standardised features are the fairer comparison",
                                         "higher kNN accuracy without retraining", "re-run the probe with these eval "
                                         "settings")],
        "knn_comparison": [Candidate("retrieval", {"eval.feature_norm": "standardize"}, "the linear probe shows the "
                                     "information is there; per-dimension standardisation before cosine similarity "
                                     "stops a few high-variance dimensions dominating", "kNN accuracy closer to the "
                                     "probe", "re-run the probe with eval.feature_norm=standardize"),
                           Candidate("retrieval", {"eval.knn_k": 50}, "more neighbours smooth noisy votes",
                                     "higher kNN accuracy", "re-run the probe with eval.knn_k=50"),
                           Candidate("retrieval", {"eval.pooling": "mean"}, "mean pooling is often better than CLS "
                                     "for retrieval", "higher recall@k", "re-run the probe")],
        "duplicates": [Candidate("data", {"data.dedup": True}, "duplicates repeat the same positives and shrink "
                                 "the effective dataset (DINOv2 deduplicates its data)", "a cleaner probe",
                                 "summary data.duplicates = 0, probe/acc")],
        "tiny_dataset": [Candidate("data", {"augment.strength": 1.0, "backbone.width": 0.5}, "with few images, full "
                                   "augmentation and a smaller backbone overfit less; more in-domain images help most",
                                   "higher probe gain", "probe/acc against baseline")],
        "corrupt_files": [Candidate("data", {"data.path": ev.config.get("data", {}).get("path")}, "fix or remove the "
                                    "unreadable files listed in events.jsonl, then relaunch on the same folder",
                                    "every file used", "data.skipped_files = 0", launchable=False)],
        "data_unreadable": [Candidate("data", {"data.path": ev.config.get("data", {}).get("path")},
                                      "the data could not be read; fix the folder first", "the run starts",
                                      "the run reaches status running", launchable=False)],
        "small_corpus": [Candidate("data", {"train.steps": _best_perplexity_step(ev)}, "held-out perplexity was "
                                   "best at this step and rose after it; stop there (and add text to the corpus: "
                                   "more in-domain text is the real fix)", "the final perplexity is the best one",
                                   "val/perplexity at the last step vs its minimum")],
        "class_imbalance": [Candidate("data", {"data.path": ev.config.get("data", {}).get("path")},
                                      "rebalance the classes in the folder, then relaunch on it",
                                      "a fairer probe", "class_counts", launchable=False)],
    }
    return table.get(cause.id, [])


def _healthy_values(d: Diagnosis) -> list[Candidate]:
    """A healthy sibling's values for the few recipe settings where this failing run differs from it (diagnose.
    _healthy_difference): the change the registry itself shows to work, offered before the blind fallback."""
    if not d.healthy_diff:
        return []
    run_id, change = d.healthy_diff["run_id"], d.healthy_diff["change"]
    category = "data" if all(k.startswith("augment.") for k in change) else "model"
    return [Candidate(category, dict(change), f"run {run_id} trained healthy on the same data, method and backbone "
                      "with these values and differs from this run only there; take its values",
                      f"a healthy run like run {run_id}", f"the follow-up's verdict and probe against run {run_id}'s")]


def _fallback(ev: RunEvidence, d: Diagnosis) -> list[Candidate]:
    if d.verdict in ("complete_collapse", "dimensional_collapse", "not_learning", "diverged"):
        lr = ev.peak_lr or ev.default_lr
        factor = 10.0 if d.verdict == "not_learning" else 0.3
        rate = Candidate("model", {"optim.lr": _nice(lr * factor)}, "the optimisation is at fault and no config "
                         "setting stands out; change the learning rate", "a different trajectory",
                         "loss and health/std over the first 10% of steps")
        return [rate, *(_after_the_rate(ev) if d.verdict in COLLAPSES else [])]
    if d.verdict == "insufficient_evidence" and ev.source not in ("sslpilot", "audit"):
        return [Candidate("model", {}, f"this run was trained elsewhere and its {ev.source} logs lack the embedding "
                          "health metrics; audit its checkpoints: `sslpilot audit CHECKPOINT... --data IMAGES`",
                          "a verdict from the encoder itself", "sslpilot audit, then diagnose the audit run",
                          launchable=False)]
    if d.verdict == "insufficient_evidence" and ev.status == "failed":
        error = next((i.explanation for i in d.evidence if i.metric == "status" and i.explanation), "an error")
        return [Candidate("model", {}, f"the run stopped with an error before it could be judged ({error}); "
                          f"fix what the error names, then launch it again (or `sslpilot resume {ev.run_id}`, if "
                          f"it kept a checkpoint); its log is `sslpilot logs {ev.run_id}`", "a run that trains",
                          "its status, then diagnose it", launchable=False)]
    if d.verdict == "insufficient_evidence" and ev.ended:
        return [Candidate("model", {}, f"the run ended ({ev.status}) with too few measurements to judge; resume "
                          f"or relaunch it for longer, or with a lower train.health_every", "more evidence",
                          "diagnose it once it has more measurements", launchable=False)]
    if d.verdict == "insufficient_evidence":
        return [Candidate("model", {}, "not enough steps or measurements yet to say; let it run (or lower "
                          "train.health_every)", "more evidence", "diagnose again later", launchable=False)]
    if ev.method in TEXT_METHODS:  # views and augmentation do not apply to text; its measure is held-out perplexity
        return [Candidate("model", _longer(ev, 20), "the run is healthy; longer training is the cheapest way to a "
                          "better model", "lower held-out perplexity", "val/perplexity against this run")]
    longer = Candidate("model", _longer(ev, 20), "the run is healthy; longer "
                       "training is the cheapest way to a better encoder", "higher probe", "probe/acc against this run")
    out = [longer]
    if (ev.config.get("augment") or {}).get("strength", 1.0) != 1.0:  # else the "change" would be the run itself
        out.append(Candidate("data", {"augment.strength": 1.0}, "the published augmentation recipe", "higher probe",
                             "probe/acc"))
    width = float((ev.config.get("backbone") or {}).get("width") or 1.0)
    if 2 * width <= MAX_WIDTH:
        out.append(Candidate("model", {"backbone.width": 2 * width}, "a healthy run that has stopped gaining has "
                             "learned what this backbone can from this data; a wider one raises that ceiling",
                             "higher probe", "probe/acc against this run"))
    return out


COLLAPSES = ("complete_collapse", "dimensional_collapse")
STEADY_BATCH = 256  # the batch below which a collapse with no other lead tries a larger one
PUBLISHED_EMA = 0.996  # BYOL's and DINO's published teacher momentum (deepmind-research byol.py, dino main_dino.py)


def _after_the_rate(ev: RunEvidence) -> list[Candidate]:
    """A collapse's next leads when no setting stands out, for when the rate is tried and failed or ruled out
    ("anything else?"): the usual causes after the rate (shared/research: "lr too high or batch too small"; a
    teacher that follows the student too closely), each only where the run leaves room for it."""
    out = []
    if ev.batch_size < STEADY_BATCH and ev.method != "mae":  # MAE has no cross-sample term to steady
        out.append(Candidate("model", {"train.batch_size": STEADY_BATCH}, f"batch {ev.batch_size} gives noisy "
                             "batch statistics (BatchNorm, negatives, centring, variance terms); a larger batch "
                             "steadies them", "spread and rank that stay up", RECOVERED))
    momentum = ev.args.get("ema_momentum")
    if isinstance(momentum, (int, float)) and momentum < PUBLISHED_EMA:  # EMA-teacher methods only
        out.append(Candidate("model", {"method_args.ema_momentum": PUBLISHED_EMA}, f"an EMA momentum of {momentum} "
                             f"lets the teacher follow the student closely; {PUBLISHED_EMA}, the published value, "
                             "keeps its targets steadier", "stable, non-collapsed targets", RECOVERED))
    return out


def _best_perplexity_step(ev: RunEvidence) -> int:
    ppl = ev.s("val/perplexity").finite
    return max(1, min(ppl, key=lambda p: p[1])[0]) if ppl else 1


def _tried_and_failed(change: dict, history: list[dict]) -> dict | None:
    """A previous follow-up that applied this change (or a superset) and did not end healthy."""
    for h in history:
        prev = h.get("change") or {}
        if change and all(prev.get(k) == v for k, v in change.items()) and h.get("verdict") != "healthy":
            return h
    return None


def _in_effect(change: dict, ev: RunEvidence) -> bool:
    """An eval-only change the run's current probe already used: a re-probe applied it (retrieval follow-ups make no
    new run, so the lineage does not hold them), and recommending it again would re-run the same probe."""
    used = (ev.probe or {}).get("eval") or {}
    return bool(change) and all(k.startswith("eval.") and used.get(k.removeprefix("eval.")) == v
                                for k, v in change.items())


def recommend(ev: RunEvidence, d: Diagnosis, history: list[dict] | None = None,
              forecast: dict | None = None, category: str | None = None,
              avoid: tuple[str, ...] = ()) -> Recommendation:
    """history: earlier follow-ups in this run's lineage, each {"run_id", "change", "verdict", "probe_acc"}.
    forecast: the run's own forecast ({"verdict", "reading"}, tools/diagnosis/forecast.py), which decides whether a
    healthy run is told to train longer (issue 24): not when it says the run has plateaued; its reading is given
    either way, so the recommendation and "should I train longer?" never disagree.
    category ("data", "model", "retrieval") and avoid (config keys, "optim.lr") are the user's: "a data change",
    "not the learning rate". The best candidate that keeps to them is proposed, or none, saying what the run's
    diagnosis points at instead (a fix of another kind is never passed off as the one asked for)."""
    history = history or []
    kept = _kept_to(category, avoid)
    plateaued = bool(forecast) and forecast["verdict"] == "plateaued"
    pool: list[tuple[Cause | None, Candidate]] = []
    causes = sorted(d.causes, key=lambda c: -c.score)
    recipe = [c for c in causes if c.id in RECIPE_CAUSES] if d.healthy_diff else []
    for cause in [c for c in causes if c not in recipe]:
        pool += [(cause, c) for c in candidates_for(cause, ev)]
    pool += [(None, c) for c in _healthy_values(d)]
    for cause in recipe:  # after the values a healthy sibling shows to work
        pool += [(cause, c) for c in candidates_for(cause, ev)]
    pool += [(None, c) for c in _fallback(ev, d)]
    skipped, held_back, passed_over = [], False, None
    for cause, cand in pool:
        failed = _tried_and_failed(cand.change, history)
        if failed is None and _in_effect(cand.change, ev):
            failed = {"run_id": ev.run_id, "verdict": "in effect: its current probe used it"}
        if failed is not None:
            entry = {"change": cand.change, "run_id": failed.get("run_id"), "verdict": failed.get("verdict")}
            entry["said"] = _skipped_text(entry)
            if entry not in skipped:  # two causes can call for one change
                skipped.append(entry)
            continue
        longer = _lengthens(cand.change) and (cause is None or cause.id in FORECAST_DECIDES)
        if longer and plateaued:
            held_back = True  # said with whatever is proposed instead
            continue
        rationale = cand.rationale
        if cause is not None:
            rationale = f"{cause.description}. {rationale[0].upper()}{rationale[1:]}"
        if longer and forecast:
            rationale += f". {FORECAST_SAYS[forecast['verdict']]}: {forecast['reading']}"
        elif held_back:
            rationale += f". Not longer training: {FORECAST_SAYS['plateaued'].lower()} ({forecast['reading']})"
        if skipped:
            rationale += " (not repeating " + "; ".join(s["said"] for s in skipped) + ")"
        if not kept(cand.category, cand.change):  # the diagnosis's own choice, but not the kind the user asked for
            passed_over = passed_over or (cand, rationale)
            continue
        if passed_over:
            rationale += (f" (the diagnosis's first choice, {_as_settings(passed_over[0].change)} "
                          f"({passed_over[0].category}), is not what you asked for)")
        return Recommendation(ev.run_id, cand.category, cand.change, rationale, cand.expected, cand.verify,
                              d.citations, "asked" if passed_over else cause.id if cause else "fallback",
                              cand.launchable, skipped or None)
    if passed_over:  # nothing of the kind asked: say so, and what the diagnosis would change instead
        first, said = passed_over
        asked = " and ".join(x for x in (f"a {category} change" if category else "", "one that leaves "
                                         + ", ".join(avoid) + " alone" if avoid else "") if x)
        return Recommendation(ev.run_id, category or first.category, {}, f"nothing the diagnosis points at is {asked}: "
                              f"its recommendation is {_as_settings(first.change)} ({first.category}): {said}", "", "",
                              d.citations, "none_asked", False, skipped or None)
    if held_back:
        return Recommendation(ev.run_id, "model", {}, f"{FORECAST_SAYS['plateaued']} ({forecast['reading']}), and no "
                              "other change stands out: more in-domain data or a larger model are what is left", "",
                              "", d.citations, "plateaued", False, skipped or None)
    return Recommendation(ev.run_id, "model", {}, "every change we would suggest has already been tried in this "
                          "lineage without success; look at the data itself", "", "", d.citations, "exhausted", False,
                          skipped)


def _kept_to(category: str | None, avoid: tuple[str, ...]):
    """Whether a change keeps to what the user asked: its kind, and none of the settings they ruled out."""
    def kept(kind: str, change: dict) -> bool:
        return (category is None or kind == category) and not any(
            k == a or k.startswith(a + ".") for k in change for a in avoid)
    return kept


def _skipped_text(s: dict) -> str:
    """A change not proposed again: tried and failed, still training, or stopped before its end (a follow-up
    under way or cancelled is no failure of the change, and is not called one)."""
    how = ("under way in" if s["verdict"] in ("queued", "running") else f"{s['verdict']} in"
           if s["verdict"] in ("interrupted", "cancelled") else "tried in")
    return f"{_as_settings(s['change'])} {how} run {s['run_id']}"


def _lengthens(change: dict) -> bool:
    return bool(change) and set(change) <= set(RUN_LENGTH)


def _as_settings(change: dict) -> str:
    """{"optim.lr": 0.001} as the user would write it: optim.lr=0.001."""
    return ", ".join(f"{k}={json.dumps(v)}" for k, v in change.items())
