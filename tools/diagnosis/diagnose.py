"""Why a run looks the way it does: a verdict from the run's own numbers, with evidence, causes and citations.

Checks run in a fixed order (divergence, no learning, complete collapse, dimensional collapse, data,
weak representation) and the first that fires gives the verdict; retrieval gaps are reported on
healthy runs. Thresholds live in thresholds.py; the verdicts are documented in docs/diagnostics.md.
"""

from __future__ import annotations

import functools
import math
import statistics
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, replace

from ssl_runtime.catalogue import TEXT_METHODS, VISION_METHODS
from ssl_runtime.trend import tail_trend
from tools.diagnosis import thresholds as T
from tools.diagnosis.causes import (
    EXPLAIN_FLAT_LOSS,
    Cause,
    collapse_causes,
    dimensional_causes,
    guard_causes,
    optimisation_causes,
    survived_settings,
    weak_causes,
)
from tools.diagnosis.evidence import RunEvidence, load_evidence
from tools.diagnosis.references import DINO, MAE, MTEB, citations_for
from tools.diagnosis.trajectory import PATH_METRICS, departure, normalised_path, path_of, spread_fall_verdict

VERDICTS = ("healthy", "complete_collapse", "dimensional_collapse", "diverged", "not_learning",
            "weak_representation", "data_problem", "insufficient_evidence")
ALERT_VERDICTS = ("complete_collapse", "dimensional_collapse", "diverged", "not_learning")  # failures: the live monitor
# alerts on them, and a run last diagnosed with one is in trouble (tools.runs.trouble)


@dataclass
class Item:
    metric: str
    value: float | str | None
    step: int | None
    threshold: float | str | None
    explanation: str


@dataclass
class Diagnosis:
    run_id: str
    verdict: str
    confidence: float
    evidence: list[Item] = field(default_factory=list)
    causes: list[Cause] = field(default_factory=list)
    citations: list[dict] = field(default_factory=list)
    status: str = ""
    in_progress: bool = False
    healthy_diff: dict | None = None  # {"run_id", "change"}: a healthy sibling's values where this run's differ

    def to_dict(self) -> dict:
        return {"run_id": self.run_id, "verdict": self.verdict, "confidence": round(self.confidence, 2),
                "evidence": [asdict(e) for e in self.evidence],
                "causes": [asdict(c) for c in sorted(self.causes, key=lambda c: -c.score)],
                "citations": self.citations, "status": self.status, "in_progress": self.in_progress,
                "healthy_diff": self.healthy_diff}


def _r(x: float | None, nd: int = 4) -> float | None:
    return None if x is None else round(float(x), nd)


def trivial_loss(ev: RunEvidence) -> tuple[float, str] | None:
    """The loss an untrained or collapsed model sits at, where the method has one."""
    n, a = ev.batch_size, ev.args
    if ev.method == "simclr":
        return math.log(2 * n - 1), f"log(2N-1) for N={n}"
    if ev.method == "moco":
        q = a.get("queue_size", 0)
        return (math.log(q + 1), f"log(queue+1), queue={q}") if q else (math.log(n), f"log(N) for N={n}")
    if ev.method == "dino":
        k = a.get("out_dim", 4096)
        return math.log(k), f"ln K for K={k}"
    return None


def thirds_change(values: list[float]) -> float:
    """Relative change between the mean of the first and the last third of a series."""
    k = max(1, len(values) // 3)
    a, b = statistics.fmean(values[:k]), statistics.fmean(values[-k:])
    return abs(b - a) / max(abs(a), 0.1)


# ---------------------------------------------------------------------------------------------------------
def diagnose(ev: RunEvidence, siblings: list[dict] | None = None) -> Diagnosis:
    d = Diagnosis(ev.run_id, "insufficient_evidence", 0.3, status=ev.status, in_progress=not ev.ended)
    language = ev.method in TEXT_METHODS
    checks = (_diverged, _failed, _weights_still, _partial_evidence, _insufficient, _lm_not_learning,
              _lm_overfitting) if language \
        else (_diverged, _failed, _weights_still, _partial_evidence, _insufficient, _not_learning, _complete_collapse,
              _collapsing, _dimensional_collapse, _data_problem, _weak_representation)
    for check in checks:
        if check(ev, d):
            break
    else:
        d.verdict, d.confidence = "healthy", 0.7
        (_lm_healthy_evidence if language else _healthy_evidence)(ev, d)
    peers = functools.cache(lambda: _healthy_peers(ev, siblings or []))  # read once, and only if a rule needs them
    _healthy_path(ev, d, peers)
    _retrieval_gap(ev, d)
    _setting_survived(ev, d)
    _guard_removed(ev, d)  # after every other cause: the missing guard outranks them
    _probe_kept(ev, d)
    _sibling_context(ev, d, siblings or [])
    _healthy_difference(ev, d, peers)
    if d.in_progress and d.verdict not in ("insufficient_evidence", "diverged"):
        d.confidence *= 0.8  # an early warning: the run may still recover or degrade
    extra = [DINO] if ev.method == "dino" else []
    if ev.method == "mae" and d.verdict == "weak_representation":
        extra.append(MAE)
    if any(c.id == "knn_comparison" for c in d.causes):
        extra.append(MTEB)
    d.citations = citations_for(d.verdict, ev.method, extra)
    d.confidence = min(0.97, d.confidence)
    return d




def _guard_removed(ev: RunEvidence, d: Diagnosis) -> None:
    """A run read healthy or weak whose config removes its method's guard against collapse: the metrics have not
    shown the collapse (yet, or at this seed), so the verdict stands, but with less confidence and the guard named
    first, so the recommendation restores it. The failure suite saw SimSiam without its predictor keep a healthy
    geometry at one seed and collapse at others, and Barlow Twins without its off-diagonal term stay healthy-looking
    for 120 steps."""
    if d.verdict not in ("healthy", "weak_representation") or ev.method not in VISION_METHODS:
        return
    removed = guard_causes(ev)
    if removed:
        _name_first(d, removed, 0.6, "no collapse shows in the metrics, but the config removes what keeps this "
                    f"method from collapsing ({'; '.join(c.description for c in removed)}): a run like this can "
                    "look healthy for a while, or at one seed, and collapse at another")


def _setting_survived(ev: RunEvidence, d: Diagnosis) -> None:
    """A run read healthy or weak although its config sits far outside the published recipes: the verdict stands,
    with less confidence, and the setting is named first so the recommendation puts it back."""
    if d.verdict not in ("healthy", "weak_representation") or ev.method not in VISION_METHODS:
        return
    outside = survived_settings(ev)
    if outside:
        _name_first(d, outside, 0.8, "the run survived settings outside every published recipe "
                    f"({'; '.join(c.description for c in outside)}); the same run at the usual values is the "
                    "comparison that says what they cost")


def _name_first(d: Diagnosis, causes: list[Cause], confidence_factor: float, explanation: str) -> None:
    """List `causes`, read from the config, above every cause the metrics gave (causes are listed by score), with
    the evidence that says why and less confidence in the verdict."""
    d.confidence *= confidence_factor
    d.evidence.append(Item("config", ", ".join(c.id for c in causes), None, None, explanation))
    seen = {c.id for c in causes}
    others = [c for c in d.causes if c.id not in seen]
    top = max((c.score for c in others), default=0.0)
    d.causes = [replace(c, score=max(c.score, top)) for c in causes] + others


def _perplexity(ev: RunEvidence) -> tuple[tuple[int, float], tuple[int, float], tuple[int, float]] | None:
    """(first, best, last) held-out perplexity, or None before two measurements."""
    ppl = ev.s("val/perplexity").finite
    if len(ppl) < 2:
        return None
    return ppl[0], min(ppl, key=lambda p: p[1]), ppl[-1]


def _lm_not_learning(ev: RunEvidence, d: Diagnosis) -> bool:
    p = _perplexity(ev)
    if p is None or p[2][1] < T.LM_PPL_LEARNING * p[0][1]:
        return False
    d.verdict, d.confidence = "not_learning", 0.8
    d.evidence.append(Item("val/perplexity", _r(p[2][1], 2), p[2][0], _r(T.LM_PPL_LEARNING * p[0][1], 2),
                           f"held-out perplexity went from {p[0][1]:.1f} (step {p[0][0]}) to only {p[2][1]:.1f}"))
    d.causes += optimisation_causes(ev)
    return True


def _lm_overfitting(ev: RunEvidence, d: Diagnosis) -> bool:
    p = _perplexity(ev)
    loss = [v for _, v in ev.s("loss").finite]
    if p is None or p[2][1] <= T.LM_OVERFIT_RISE * p[1][1] or not loss or loss[-1] >= loss[0]:
        return False
    d.verdict, d.confidence = "data_problem", 0.75
    d.evidence.append(Item("val/perplexity", _r(p[2][1], 2), p[2][0], _r(T.LM_OVERFIT_RISE * p[1][1], 2),
                           f"held-out perplexity rose from its best {p[1][1]:.1f} (step {p[1][0]}) to {p[2][1]:.1f} "
                           "while the training loss kept falling: overfitting"))
    tokens = ev.data_stats.get("tokens")
    d.causes.append(Cause("small_corpus", f"the corpus ({tokens or '?'} tokens) is small for "
                          f"{ev.s('loss').last()[0]} steps", 0.85))
    return True


def _lm_healthy_evidence(ev: RunEvidence, d: Diagnosis) -> None:
    p = _perplexity(ev)
    if p:
        d.evidence.append(Item("val/perplexity", _r(p[2][1], 2), p[2][0], _r(T.LM_PPL_LEARNING * p[0][1], 2),
                               f"held-out perplexity fell from {p[0][1]:.1f} to {p[2][1]:.1f}"))
    gain = _probe_gain(ev)
    if gain is not None:
        d.evidence.append(_gain_item(ev, gain))


def _diverged(ev: RunEvidence, d: Diagnosis) -> bool:
    err = next((e for e in ev.events if e.get("kind") == "non_finite_loss"), None)
    loss = ev.s("loss")
    nonfinite = [(s, v) for s, v in zip(loss.steps, loss.values, strict=True) if not math.isfinite(v)]
    if ev.status != "diverged" and not err and not nonfinite:
        return False
    step = err.get("step") if err else nonfinite[0][0]
    d.verdict, d.confidence = "diverged", 0.95
    d.evidence.append(Item("loss", "non-finite", step, "finite", "the loss (or the weights) became NaN/inf; the "
                           "run stopped and kept its last good checkpoint"))
    gn = ev.s("grad_norm").finite
    if len(gn) >= 3:
        med = statistics.median(v for _, v in gn)
        spike = max(gn, key=lambda sv: sv[1])
        if spike[1] > T.GRAD_SPIKE_FACTOR * med:
            d.evidence.append(Item("grad_norm", _r(spike[1]), spike[0], _r(T.GRAD_SPIKE_FACTOR * med),
                                   f"gradient norm spiked to {spike[1] / med:.0f}x its median before the failure"))
    d.causes += optimisation_causes(ev)
    return True


def _failed(ev: RunEvidence, d: Diagnosis) -> bool:
    if ev.status != "failed":
        return False
    msg = (ev.summary or {}).get("message") or next((e.get("message") for e in reversed(ev.events)
                                                      if e.get("type") == "error" or e.get("status") == "failed"), "") or ""
    if msg.startswith("data"):
        d.verdict, d.confidence = "data_problem", 0.9
        d.evidence.append(Item("status", "failed", None, None, msg))
        d.causes.append(Cause("data_unreadable", msg, 0.9))
    else:
        d.evidence.append(Item("status", "failed", None, None, msg or "the worker failed before training"))
    return True


def _partial_evidence(ev: RunEvidence, d: Diagnosis) -> bool:
    """A run imported from another tool's logs, without what the collapse checks read: say what its loss can
    show (divergence, no learning: checked already or here) and what it cannot, and propose the audit."""
    if ev.source in ("sslpilot", "audit") or ev.method in TEXT_METHODS:
        return False
    has_std = bool(ev.s("health/std").finite)
    if has_std and ev.embedding_dim:
        return False  # a logged z-std and the width it is read against: the usual checks apply
    if _not_learning(ev, d):
        return True  # a flat loss says enough on its own
    if has_std and _own_fall(ev, d):
        return True
    loss = ev.s("loss").finite
    d.verdict, d.confidence = "insufficient_evidence", 0.6
    if has_std:
        d.evidence.append(Item("health/std", _r(ev.s("health/std").last()[1]), ev.s("health/std").last()[0], None,
                               "a z-std was logged, but not the projection width d it is read against (collapse "
                               "is a spread far under 1/sqrt(d)); import again with --embedding-dim D"))
    else:
        shown = ", ".join(sorted(ev.series)[:8]) or "nothing"
        d.evidence.append(Item("loss", _r(loss[-1][1]) if loss else None, loss[-1][0] if loss else None, None,
                               f"the {ev.source} logs hold {shown}: no embedding spread, rank or probe. A loss "
                               "curve cannot tell collapse apart from learning (a collapsed SimSiam's loss looks "
                               "excellent), so only divergence and a flat loss can be read from it"))
    d.causes.append(Cause("needs_audit", "the logs lack the embedding health metrics; `sslpilot audit CHECKPOINT "
                          "--data IMAGES` measures them (spread, rank, kNN, linear probe) on the run's checkpoints",
                          0.9))
    return True


def _own_fall(ev: RunEvidence, d: Diagnosis) -> bool:
    """A logged z-std without its width: read from its own fall (trajectory.spread_fall_verdict), which needs no d."""
    path = path_of(ev.s("health/std"), smooth=True)
    verdict = spread_fall_verdict(path) if path and _geometry_judged(ev) else None
    if verdict is None:
        return False
    d.verdict, d.confidence = verdict, 0.75 if verdict == "complete_collapse" else 0.6
    d.evidence.append(Item("health/std", _r(path.now, 6), path.now_step, _r(path.best / (1 / T.STD_RATIO_COMPLETE
                           if verdict == "complete_collapse" else 1 / T.STD_RATIO_COLLAPSED), 6),
                           f"the logged spread fell {path.fall:.0f}x from its best, {path.best:.4g} at step "
                           f"{path.best_step}, to {path.now:.4g} (median of the last measurements). The width d was "
                           "not logged, but the spread of L2-normalised outputs is at most 1/sqrt(d), so this is "
                           f"under {T.STD_RATIO_COMPLETE if verdict == 'complete_collapse' else T.STD_RATIO_COLLAPSED}"
                           "x the isotropic value for any d"))
    d.causes += collapse_causes(ev) if verdict == "complete_collapse" else dimensional_causes(ev)
    d.causes.append(Cause("needs_audit", "`sslpilot audit CHECKPOINT --data IMAGES` measures the rank, kNN and probe "
                          "the logs lack", 0.3))
    return True


def _insufficient(ev: RunEvidence, d: Diagnosis) -> bool:
    if ev.source == "audit":  # measured encoders: no loss, and one health point per checkpoint is the evidence
        if ev.s("health/std").finite and ev.embedding_dim:
            return False
        d.evidence.append(Item("health/std", None, None, None, "the audit measured no embedding spread"))
        return True
    health = "val/perplexity" if ev.method in TEXT_METHODS else "health/std"
    loss, std = ev.s("loss").finite, ev.s(health).finite
    if len(loss) >= T.MIN_LOSS_POINTS and len(std) >= T.MIN_HEALTH_POINTS:
        return False
    counted = f"{len(loss)} loss value{'s' if len(loss) != 1 else ''} and {len(std)} health measurement" + (
        "s" if len(std) != 1 else "")
    d.evidence.append(Item("loss", len(loss), None, T.MIN_LOSS_POINTS, (
        f"the run ended ({ev.status}) with only {counted}: too few to judge; train longer or measure more often "
        "(train.log_every, train.health_every)") if ev.ended else f"only {counted} so far; wait for more steps"))
    return True


def _std_ratio(ev: RunEvidence) -> tuple[int, float] | None:
    last = ev.s("health/std").last()
    if not last or not ev.embedding_dim:
        return None
    return last[0], last[1] * math.sqrt(ev.embedding_dim)


def _rank_ratio(ev: RunEvidence) -> tuple[int, float] | None:
    last = ev.s("health/rank").last()
    if not last or not ev.rank_capacity:
        return None
    return last[0], last[1] / ev.rank_capacity


def _weights_still(ev: RunEvidence, d: Diagnosis) -> bool:
    """The trainable weights stood still past the warm-up (health/weight_drift under WEIGHTS_STILL): not learning,
    however the loss or the probe moved (BatchNorm's running statistics adapt to the data without a single weight
    moving, and a probe then gains over an uncalibrated random init: a Barlow Twins run at lr 1e-9 read healthy,
    16 probe points over its init, on the tenth held-out set). During the warm-up the rate may be tiny on purpose.
    One reading past the warm-up decides, before there are loss points enough for any other reading."""
    after = [(s, v) for s, v in ev.s("health/weight_drift").finite if s > ev.warmup_steps]
    if not after or after[-1][1] >= T.WEIGHTS_STILL:
        return False
    step, drift = after[-1]
    d.verdict, d.confidence = "not_learning", 0.9
    d.evidence.append(Item("health/weight_drift", float(f"{drift:.2g}"), step, T.WEIGHTS_STILL,
                           f"the trainable weights moved {drift:.1e} of their norm since the start, past the warm-up: "
                           "nothing is being learned"))
    causes = [c for c in optimisation_causes(ev) if c.id == "lr_tiny"]
    d.causes += causes or [Cause("weights_still", "the weights do not move: a learning rate near zero, or the "
                                 "parameters frozen (requires_grad off, a zero-weight loss)", 0.8)]
    return True


def _not_learning(ev: RunEvidence, d: Diagnosis) -> bool:
    loss = [v for _, v in ev.s("loss").finite]
    if len(loss) < T.MIN_LOSS_POINTS:
        return False  # an audit: no loss to read
    if (ev.config.get("train") or {}).get("init_from"):
        return False  # continued from trained weights: a flat loss is where the run already was, not a broken one
    change = thirds_change(loss)
    trivial = trivial_loss(ev)
    near_trivial = trivial and abs(loss[-1] - trivial[0]) / trivial[0] < T.TRIVIAL_LOSS_REL
    if ev.method == "dino" and near_trivial:
        return False  # DINO at ln K is the uniform collapse, judged with the teacher entropy below
    causes = optimisation_causes(ev)
    explained = near_trivial or any(c.id in EXPLAIN_FLAT_LOSS for c in causes)
    if change >= (T.LOSS_FLAT_REL if explained else T.LOSS_FLAT_UNEXPLAINED_REL):
        return False
    d.verdict, d.confidence = "not_learning", 0.8 if explained else 0.6
    d.evidence.append(Item("loss", _r(loss[-1]), ev.s("loss").last()[0], T.LOSS_FLAT_REL,
                           f"the loss moved {change * 100:.1f}% between the first and last third of the run"))
    if near_trivial:
        d.confidence += 0.1
        d.evidence.append(Item("loss", _r(loss[-1]), ev.s("loss").last()[0], _r(trivial[0]),
                               f"the loss sits at the trivial value {trivial[1]} = {trivial[0]:.3f}"))
    d.causes += causes
    return True


RECONSTRUCTION = ("mae",)
"""Methods whose objective has no collapsed solution: a constant encoder cannot reconstruct masked pixels, so a
collapse would show as a loss that does not fall (not_learning), and their features are anisotropic by nature
(healthy MAE encoders on digits read RankMe at 6-11% of capacity, under the 8% threshold, from the init on).
The spread and rank thresholds, written for SSL projector outputs, are not read for them."""

OWN_COLLAPSE_SIGNAL = ("dino",)
"""Methods whose collapse is read from their own signal, not from the geometry of what the health batch measures.
DINO's health embedding is its bottleneck (L2-normalised before the prototypes), not trained to spread: healthy
DINO controls read 0.05-0.2x isotropic spread, uniformity -0.02 to -0.09 and RankMe at 9-17% of capacity, exactly
where its collapsed runs sit (0.04-0.11x, 8-15%). Its paper's own collapse monitors, the teacher's entropy and the
student's KL to it (Caron et al. 2021, Fig. 7), tell them apart: _dino_collapse."""


def _geometry_judged(ev: RunEvidence) -> bool:
    """Whether the projector-geometry bars (spread, rank, uniformity) judge this method's collapse."""
    return ev.method not in RECONSTRUCTION + OWN_COLLAPSE_SIGNAL


def _complete_collapse(ev: RunEvidence, d: Diagnosis) -> bool:
    if ev.method in OWN_COLLAPSE_SIGNAL:
        signals = _dino_collapse(ev)
    elif _geometry_judged(ev):
        signals = _geometry_collapse(ev)
    else:
        return False  # reconstruction (MAE) has no collapsed solution
    if not signals:
        return False
    loss = ev.s("loss").last()
    if ev.method in ("simsiam", "byol") and loss:
        cos = loss[1] if ev.method == "simsiam" else (loss[1] - 2) / 2
        if cos < T.NEG_COSINE_PERFECT:
            signals.append(Item("loss", _r(loss[1]), loss[0], T.NEG_COSINE_PERFECT if ev.method == "simsiam" else
                                _r(2 + 2 * T.NEG_COSINE_PERFECT), "the loss looks excellent because every view maps to "
                                "the same vector: a collapsed solution, not a good one"))
    d.verdict, d.confidence = "complete_collapse", 0.55 + 0.12 * len(signals)
    d.evidence += signals
    d.causes += collapse_causes(ev)
    return True


def _collapsing(ev: RunEvidence, d: Diagnosis) -> bool:
    """A running run whose config removes its method's guard and whose spread fell under COLLAPSING_FALL of its best
    so far, past the warm-up: it is collapsing before any level reads collapsed (the slow collapses take 30-100
    steps to get there). Only while running: a finished run is read by its levels and its siblings."""
    if not d.in_progress or not _geometry_judged(ev):
        return False
    removed = guard_causes(ev)
    path = path_of(ev.s("health/std"))
    if not removed or path is None or path.now_step <= ev.warmup_steps or path.now >= T.COLLAPSING_FALL * path.best:
        return False
    d.verdict, d.confidence = "complete_collapse", 0.6
    d.evidence.append(Item("health/std", _r(path.now), path.now_step, _r(T.COLLAPSING_FALL * path.best),
                           f"embedding spread fell to {path.now / path.best:.2f}x its best ({path.best:.4f} at step "
                           f"{path.best_step}) while the config removes what keeps {ev.method} from collapsing: "
                           "the run is collapsing"))
    d.causes += collapse_causes(ev)
    return True


def _geometry_collapse(ev: RunEvidence) -> list[Item]:
    """The collapse signals read from the embeddings' geometry: spread, rank, uniformity, VICReg's variance."""
    signals: list[Item] = []
    sr, rr = _std_ratio(ev), _rank_ratio(ev)
    std_last = ev.s("health/std").last()
    low = sr and (sr[1] < T.STD_RATIO_COMPLETE or (sr[1] < T.STD_RATIO_COLLAPSED and rr and rr[1] < T.RANK_RATIO_COLLAPSED))
    if low and _departed(ev, ev.s("health/std")):
        iso = 1 / math.sqrt(ev.embedding_dim)
        signals.append(Item("health/std", _r(std_last[1]), sr[0], _r(T.STD_RATIO_COLLAPSED * iso),
                            f"embedding spread is {sr[1]:.2f}x the isotropic 1/sqrt(d) = {iso:.3f} (d={ev.embedding_dim})"))
        if rr:
            signals.append(Item("health/rank", _r(ev.s("health/rank").last()[1], 2), rr[0],
                                _r(T.RANK_RATIO_COLLAPSED * ev.rank_capacity, 2),
                                f"RankMe uses {rr[1] * 100:.0f}% of the {ev.rank_capacity} dimensions available"))
    uni = ev.s("health/uniformity").last()
    if uni and uni[1] > T.UNIFORMITY_COLLAPSED and len(ev.s("health/uniformity").finite) >= T.MIN_HEALTH_POINTS \
            and _departed(ev, ev.s("health/uniformity"), sign=-1):
        signals.append(Item("health/uniformity", _r(uni[1]), uni[0], T.UNIFORMITY_COLLAPSED,
                            "uniformity near 0: embeddings sit on top of each other"))
    var = ev.s("loss/variance").last()
    if ev.method == "vicreg" and var and var[1] > T.VICREG_VARIANCE_COLLAPSED:
        signals.append(Item("loss/variance", _r(var[1]), var[0], T.VICREG_VARIANCE_COLLAPSED,
                            "VICReg's variance term is near its maximum: dimensions have lost their spread"))
    return signals


def _departed(ev: RunEvidence, series, sign: float = 1.0) -> bool:
    """Whether a low reading of this metric is a collapse, read on its path (trajectory.py): yes when it fell
    under HOLD_OF_BEST of its best, or stayed at its start past the warm-up; no while it climbs out of a low
    start, or sits at its start during the warm-up (the run has not had the chance to leave it: the development
    set's random inits already read collapsed)."""
    p = path_of(series, sign)
    if p is None or p.now < T.HOLD_OF_BEST * p.best:
        return True
    return not p.climbing and p.now_step > ev.warmup_steps


def _dino_collapse(ev: RunEvidence) -> list[Item]:
    if ev.method != "dino":
        return []
    series = ev.s("health/teacher_entropy") if ev.s("health/teacher_entropy") else ev.s("loss/teacher_entropy")
    ent = series.last()
    if not ent:
        return []
    ln_k = math.log(ev.args.get("out_dim", 4096))
    kl = ev.s("health/kl").last() or ev.s("loss/kl").last()
    if ent[1] > T.DINO_ENTROPY_UNIFORM * ln_k and (kl is None or kl[1] < T.DINO_KL_COLLAPSED * ln_k):
        return [Item("health/teacher_entropy", _r(ent[1]), ent[0], _r(T.DINO_ENTROPY_UNIFORM * ln_k),
                     f"the teacher is near-uniform over the K prototypes (ln K = {ln_k:.3f})" +
                     (f" and the student matches it (KL {kl[1]:.3f})" if kl else "") + ": uniform collapse")]
    uncentred = ev.args.get("center_momentum", 0.9) >= 1.0
    few = T.DINO_ENTROPY_ONE_PROTOTYPE if uncentred else T.DINO_ENTROPY_ONE_PROTOTYPE_CENTRED
    if ent[1] < few * ln_k and len(series.finite) >= T.MIN_HEALTH_POINTS \
            and ent[0] > ev.warmup_steps:  # the sharpened init reads low too: excused during the warm-up only
        return [Item("health/teacher_entropy", _r(ent[1]), ent[0], _r(few * ln_k),
                     "one prototype takes all the teacher's mass: one-prototype collapse")]
    return []


def _dimensional_collapse(ev: RunEvidence, d: Diagnosis) -> bool:
    if not _geometry_judged(ev):
        return False
    rr = _rank_ratio(ev)
    rank = ev.s("health/rank")
    if not rank.finite:
        return _spread_only_collapse(ev, d)
    if not rr or len(rank.finite) < T.MIN_HEALTH_POINTS:
        return False
    later = rank.finite[1:]  # the first measurement is the initialisation
    peak = max(later, key=lambda sv: sv[1])
    last = rank.finite[-1]
    loss = [v for _, v in ev.s("loss").finite]
    loss_improving = len(loss) >= 3 and loss[-1] < loss[0]
    dropped = len(later) >= 2 and last[1] < T.RANK_DROP_FROM_PEAK * peak[1] and loss_improving \
        and _spread_confirms_drop(ev)
    if rr[1] >= T.RANK_RATIO_COLLAPSED and not dropped:
        return False
    d.verdict, d.confidence = "dimensional_collapse", 0.7
    if rr[1] < T.RANK_RATIO_COLLAPSED:
        d.evidence.append(Item("health/rank", _r(last[1], 2), last[0], _r(T.RANK_RATIO_COLLAPSED * ev.rank_capacity, 2),
                               f"RankMe uses {rr[1] * 100:.0f}% of the {ev.rank_capacity} available dimensions"))
    if dropped:
        d.confidence += 0.1
        d.evidence.append(Item("health/rank", _r(last[1], 2), last[0], _r(T.RANK_DROP_FROM_PEAK * peak[1], 2),
                               f"RankMe fell from {peak[1]:.1f} at step {peak[0]} while the loss kept improving"))
    sr = _std_ratio(ev)
    if sr:
        d.evidence.append(Item("health/std", _r(ev.s("health/std").last()[1]), sr[0], None,
                               f"spread is still {sr[1]:.2f}x isotropic: the embeddings vary, but along few directions"))
    d.causes += dimensional_causes(ev)
    return True


def _spread_confirms_drop(ev: RunEvidence) -> bool:
    """A rank fallen from its peak is a collapse when the spread fell with it. Rank rises then falls in healthy runs
    too (runs trained 4x longer fell to 0.37-0.49x their peak, at 18-28% of capacity), while their spread held
    (0.93-1.0x its best); SimSiam and BYOL without a predictor fell in both (spread 0.43-0.64x its best). When the
    variance of L2-normalised outputs moves into half as many axes, their mean per-axis spread falls by 1/sqrt(2)."""
    path = path_of(ev.s("health/std"), smooth=True)
    return path is None or path.now < T.SPREAD_FALL_WITH_RANK * path.best


def _spread_only_collapse(ev: RunEvidence, d: Diagnosis) -> bool:
    """Logs with a z-std but no rank (solo-learn's `train_z_std`, an imported run): a spread under half the
    isotropic value is a collapse; whether all directions or most of them died needs the rank, so it is
    reported as dimensional, the milder reading, with that said. With no rank to confirm it, one noisy point
    must not decide: the median of the last three measurements is read (a rank-1 collapse of a 64-d SimSiam
    projector reads 0.25x to 0.57x isotropic from one point to the next; its median stays near 0.33x)."""
    points = ev.s("health/std").finite
    if not ev.embedding_dim or len(points) < T.MIN_HEALTH_POINTS:
        return False
    spread = statistics.median(v for _, v in points[-3:])
    iso = 1 / math.sqrt(ev.embedding_dim)
    if spread / iso >= T.STD_RATIO_COLLAPSED or path_of(ev.s("health/std"), smooth=True).climbing:
        return False
    d.verdict, d.confidence = "dimensional_collapse", 0.6
    d.evidence.append(Item("health/std", _r(spread), points[-1][0], _r(T.STD_RATIO_COLLAPSED * iso),
                           f"embedding spread is {spread / iso:.2f}x the isotropic 1/sqrt(d) = {iso:.3f} "
                           f"(d={ev.embedding_dim}; median of the last {len(points[-3:])} measurements); no effective "
                           "rank was logged, so a complete collapse cannot be told from a partial one"))
    d.causes += dimensional_causes(ev)
    return True


def data_findings(ev: RunEvidence) -> tuple[list[Item], list[Cause], bool]:
    """Data statistics; the bool says whether any problem is severe enough to be the verdict by itself."""
    st = ev.data_stats or {}
    n = st.get("num_images")
    items, causes, severe = [], [], False
    if not n:
        return items, causes, severe
    skipped = st.get("skipped_files", 0)
    frac = skipped / (n + skipped)
    if frac > T.CORRUPT_FRACTION:
        items.append(Item("data/skipped_files", skipped, None, T.CORRUPT_FRACTION,
                          f"{frac * 100:.0f}% of the image files could not be read (listed in events.jsonl)"))
        causes.append(Cause("corrupt_files", f"{skipped} unreadable files", 0.6))
        severe |= frac > 4 * T.CORRUPT_FRACTION
    dup = st.get("duplicates", 0) / n
    if dup > T.DUPLICATE_FRACTION:
        items.append(Item("data/duplicates", st["duplicates"], None, T.DUPLICATE_FRACTION,
                          f"{dup * 100:.0f}% of the images are exact duplicates of another"))
        causes.append(Cause("duplicates", f"{st['duplicates']} duplicate images", 0.6))
        severe |= dup > 3 * T.DUPLICATE_FRACTION
    if n < T.TINY_DATASET:
        items.append(Item("data/num_images", n, None, T.TINY_DATASET, f"only {n} images to learn from"))
        causes.append(Cause("tiny_dataset", f"{n} images", 0.5))
        severe |= n < T.TINY_DATASET / 2
    counts = st.get("class_counts") or []
    if counts and min(counts) > 0 and max(counts) / min(counts) > T.CLASS_IMBALANCE:
        items.append(Item("data/class_counts", f"{min(counts)}..{max(counts)}", None, T.CLASS_IMBALANCE,
                          "classes are very unbalanced; probe accuracy is dominated by the large ones"))
        causes.append(Cause("class_imbalance", "unbalanced classes", 0.3))
    return items, causes, severe


def _probe_gain(ev: RunEvidence) -> float | None:
    p = ev.probe
    if not p or "baseline" not in p:
        return None
    return p["probe/acc"] - p["baseline"]["probe/acc"]


def gain_se(probe: dict | None) -> float | None:
    """The standard error of a probe's gain over its random init: the paired one the probe kept, else (probes
    written before it did) the unpaired one from the validation rows, which is larger; None without either."""
    if not probe or "baseline" not in probe:
        return None
    if probe.get("probe/gain_se") is not None:
        return float(probe["probe/gain_se"])
    return unpaired_se(probe["probe/acc"], probe["baseline"]["probe/acc"], probe.get("num_val"))


def unpaired_se(a: float, b: float, n: int | None) -> float | None:
    """The standard error of a - b for two accuracies on n rows, treated as independent (an upper bound for two
    scores of the same rows); at least one row (1/n). None without n."""
    return max(math.sqrt((a * (1 - a) + b * (1 - b)) / n), 1 / n) if n else None


CEILING_SAYS = ("the same network at random init already probes at {base:.1f}%, leaving less than the {bar:.0f}-point "
                "bar to gain: these labels are too easy to tell encoders apart, and decide nothing here")


def gain_reading(gain: float, se: float | None, bar: float = T.PROBE_GAIN_WEAK, baseline: float | None = None) -> str:
    """"over" or "under" the bar when the gain is clear of it by more than PROBE_GAIN_Z standard errors (by anything,
    where the error is unknown), else "undecided": the probe cannot say which side of the bar the encoder is on.
    "ceiling" when the random init's own probe (`baseline`) leaves less room than the bar: no encoder could clear
    it (a masked LM on captions that name their class probes 100% at random init), so the labels decide nothing."""
    if baseline is not None and 1.0 - baseline < bar:
        return "ceiling"
    if se is None:
        return "over" if gain >= bar else "under"
    if gain - T.PROBE_GAIN_Z * se >= bar:
        return "over"
    return "under" if gain + T.PROBE_GAIN_Z * se < bar else "undecided"


def _probe_reading(ev: RunEvidence, bar: float = T.PROBE_GAIN_WEAK) -> str | None:
    gain = _probe_gain(ev)
    return None if gain is None else gain_reading(gain, gain_se(ev.probe), bar, ev.probe["baseline"]["probe/acc"])


def _probe_weak(ev: RunEvidence) -> bool:
    return _probe_reading(ev) == "under"


def _data_problem(ev: RunEvidence, d: Diagnosis) -> bool:
    items, causes, severe = data_findings(ev)
    gain = _probe_gain(ev)
    weak = _probe_weak(ev)
    if not items or not (severe or weak):
        return False
    d.verdict, d.confidence = "data_problem", 0.6 + (0.2 if severe else 0) + (0.1 if weak else 0)
    d.evidence += items
    if gain is not None:
        d.evidence.append(_gain_item(ev, gain))
    d.causes += causes
    return True


def _gain_item(ev: RunEvidence, gain: float, bar: float = T.PROBE_GAIN_WEAK, meaning: str = "") -> Item:
    p = ev.probe
    se = gain_se(p)
    margin = f" ± {T.PROBE_GAIN_Z * se * 100:.1f}" if se is not None else ""
    rows = f" on {p['num_val']} held-out images" if p.get("num_val") else ""
    reading = gain_reading(gain, se, bar, p["baseline"]["probe/acc"])
    if not meaning and reading == "ceiling":
        meaning = f": {CEILING_SAYS.format(base=p['baseline']['probe/acc'] * 100, bar=bar * 100)}"
    if not meaning and reading == "undecided":
        meaning = (f": within its error of the {bar * 100:.0f}-point bar, so the probe cannot say whether the encoder "
                   f"beat its random init by {bar * 100:.0f} point(s) and decides nothing here (`sslpilot probe RUN "
                   "--set eval.time_budget_s=60` scores more images, where the data has them)")
    return Item("probe/acc", _r(p["probe/acc"]), None, _r(p["baseline"]["probe/acc"] + bar),
                f"linear probe {p['probe/acc']:.3f} vs {p['baseline']['probe/acc']:.3f} for the same architecture at "
                f"random init ({gain * 100:+.1f}{margin} points{rows}){meaning}")


def _weak_representation(ev: RunEvidence, d: Diagnosis) -> bool:
    gain = _probe_gain(ev)
    strength = ev.config.get("augment", {}).get("strength", 1.0)
    align = ev.s("health/alignment").last()
    identical = strength == 0 or (align is not None and align[1] < 1e-4)
    if not identical and not _probe_weak(ev):
        return False
    d.verdict, d.confidence = "weak_representation", 0.6
    if identical:
        d.confidence += 0.15
        d.evidence.append(Item("health/alignment", _r(align[1]) if align else None, align[0] if align else None,
                               1e-4, "the two views are identical (augment.strength=0): the task is trivial and the "
                               "features need not be invariant to anything"))
        d.causes.append(Cause("identical_views", "augment.strength is 0, so both views are the same image", 0.9))
    if gain is not None:
        d.evidence.append(_gain_item(ev, gain))
        if _probe_weak(ev):
            d.confidence += 0.1
    d.causes += weak_causes(ev) + data_findings(ev)[1]
    return True


def _healthy_evidence(ev: RunEvidence, d: Diagnosis) -> None:
    sr, rr = _std_ratio(ev), _rank_ratio(ev)
    if sr:
        d.evidence.append(Item("health/std", _r(ev.s("health/std").last()[1]), sr[0],
                               _r(T.STD_RATIO_COLLAPSED / math.sqrt(ev.embedding_dim)),
                               f"embedding spread {sr[1]:.2f}x the isotropic value"))
    if rr:
        d.evidence.append(Item("health/rank", _r(ev.s("health/rank").last()[1], 2), rr[0],
                               _r(T.RANK_RATIO_COLLAPSED * ev.rank_capacity, 2),
                               f"RankMe uses {rr[1] * 100:.0f}% of the available dimensions"))
    gain = _probe_gain(ev)
    if gain is not None:
        d.evidence.append(_gain_item(ev, gain))
        d.confidence += 0.15 if _probe_reading(ev) == "over" else 0.0  # an undecided probe adds nothing
    trend = tail_trend(ev.s("loss").finite)
    if trend is not None and trend.direction == "falling":
        d.causes.append(Cause("still_improving", "the loss was still falling at the end of training", 0.5))


def _probe_kept(ev: RunEvidence, d: Diagnosis) -> None:
    """A collapse read from the projector's outputs while the backbone still probes well over its random init: say
    so, so a reader of the probe is not left to square the two (the verdict is about what the loss sees)."""
    gain = _probe_gain(ev)
    if d.verdict not in ("complete_collapse", "dimensional_collapse") or _probe_reading(ev, T.PROBE_GAIN_KEPT) != "over":
        return
    d.evidence.append(_gain_item(ev, gain, T.PROBE_GAIN_KEPT, ": the backbone still holds what it learned before "
                                 "the projector's outputs collapsed; the collapse is in what the loss sees"))


def _retrieval_gap(ev: RunEvidence, d: Diagnosis) -> None:
    p = ev.probe
    if not p or "probe/acc" not in p or d.verdict not in ("healthy", "weak_representation"):
        return
    knn = p.get("knn/acc")
    se = unpaired_se(p["probe/acc"], knn, p.get("num_val")) if knn is not None else None
    if knn is not None and p["probe/acc"] - knn >= max(T.RETRIEVAL_GAP, T.PROBE_GAIN_Z * (se or 0.0)):
        d.evidence.append(Item("knn/acc", _r(knn), None, _r(p["probe/acc"] - T.RETRIEVAL_GAP),
                               f"nearest-neighbour accuracy is {(p['probe/acc'] - knn) * 100:.0f} points under the "
                               "linear probe: the features are good but the comparison is not"))
        d.causes.append(Cause("knn_comparison", "kNN far below the linear probe: normalisation, pooling or metric",
                              0.8))


def _healthy_peers(ev: RunEvidence, siblings: list[dict]) -> list[tuple[str, RunEvidence]]:
    """The healthy runs of the same method and data that carry a folder (diagnosis._siblings) and share this run's
    backbone, each read once: another architecture's geometry or config is no yardstick, and a folder gone or
    damaged gives no comparison (the verdict stands)."""
    out = []
    for sib in siblings:
        if not sib.get("run_dir"):
            continue
        try:
            other = load_evidence(sib["run_dir"])
        except (OSError, ValueError):
            continue
        if _backbone(other) == _backbone(ev):
            out.append((sib["run_id"], other))
    return out


def _healthy_path(ev: RunEvidence, d: Diagnosis, peers: Callable[[], list[tuple[str, RunEvidence]]]) -> None:
    """A run read against the path of healthy runs of the same method, backbone and data, at the same fraction of
    training (issue 22, part 6). For a collapse it says where the run left that path, so "failing from step N"
    means departing from healthy, not crossing a level a random init may already sit under. For a run read healthy
    or weak whose config removes a guard or sits outside the published recipes (the causes _guard_removed and
    _setting_survived name), it decides: a rank or spread that left *every* such run's path and stayed under half
    of it confirms the setting did its harm, a dimensional collapse. The config cause is required: across the
    label-free sweeps' settings healthy runs of one method end at 0.27-3x each other's rank (SimCLR at 4x the
    rate, or at temperature 0.05, is under half its siblings' and probes as well), while with a cause named the
    departure separated on the development runs (RESULTS.md, session 16): plain SGD at lr 20-50 ended at
    0.19-0.32x its healthy siblings' rank, BYOL and SimSiam without a predictor at 0.38x their spread or 0.33-0.47x
    their rank, paired controls at 0.62x or more of each other on both."""
    collapsed = d.verdict in ("complete_collapse", "dimensional_collapse")
    if not (collapsed or d.verdict in ("healthy", "weak_representation")) or ev.method not in VISION_METHODS:
        return
    config = guard_causes(ev) + survived_settings(ev)
    if not (collapsed or config):
        return  # nothing the siblings could decide: their metrics are not read
    mine = normalised_path(ev)
    left: dict[str, list[tuple[str, tuple[float, float, float]]]] = {m: [] for m in PATH_METRICS}
    compared = 0
    for run_id, other in peers():
        healthy = normalised_path(other)
        compared += 1
        for metric in PATH_METRICS:
            where = departure(mine.get(metric, []), healthy.get(metric, []))
            if where is not None:
                left[metric].append((run_id, where))
    if not compared:
        return
    below_all = [m for m in PATH_METRICS if len(left[m]) == compared]
    if collapsed:
        shown = [m for m in PATH_METRICS if left[m]]
    elif below_all and config:
        shown = below_all
        d.verdict, d.confidence, d.causes = "dimensional_collapse", 0.7, dimensional_causes(ev)
        _name_first(d, config, 1.0, f"the config sits where runs collapse ({'; '.join(c.description for c in config)})"
                    f", and the run's geometry left the path of every healthy run of the same method, backbone and "
                    f"data it was compared with ({compared})")
    else:
        return
    total = float(ev.resolved.get("total_steps") or 0)
    for metric in shown:
        run_id, (f, value, ref) = left[metric][0]
        step = f" at step {round(f * total)}" if total else ""
        name = "RankMe / min(n, d)" if metric == "health/rank" else "spread x sqrt(d)"
        d.evidence.append(Item(metric, _r(value, 3), round(f * total) if total else None, _r(ref, 3),
                               f"{name} left the path of run {run_id} (healthy, same method, backbone and data)"
                               f"{step}, {f:.0%} of the way through: {value:.2f} where that run was at {ref:.2f}, "
                               "and stayed under half of it" + ("" if collapsed else
                                                                f" (as for all {compared} such runs)")))


def _backbone(ev: RunEvidence) -> tuple:
    b = ev.config.get("backbone", {})
    return b.get("name", "auto"), b.get("width", 1.0)


def _sibling_context(ev: RunEvidence, d: Diagnosis, siblings: list[dict]) -> None:
    scored = [s for s in siblings if s.get("probe_acc") is not None and s.get("run_id") != ev.run_id]
    if not scored or not ev.probe or "probe/acc" not in ev.probe:
        return
    best = max(scored, key=lambda s: s["probe_acc"])
    if best["probe_acc"] > ev.probe["probe/acc"] + 0.02:
        d.evidence.append(Item("siblings/probe_acc", _r(best["probe_acc"]), None, None,
                               f"run {best['run_id']} ({best.get('method')}) on the same data reached "
                               f"{best['probe_acc']:.3f}"))


RECIPE_SECTIONS = ("optim", "method_args", "augment", "backbone")
"""The config a run's outcome depends on, compared with a healthy sibling's (not its length, seed, device, logging or
evaluation: a healthy run of another length says nothing about the settings that failed)."""
MAX_RECIPE_DIFF = 3
"""A healthy sibling that differs in more settings than this does not point at any of them."""


def recipe_of(config: dict) -> dict:
    """The config's recipe settings as dotted keys (RECIPE_SECTIONS, and the batch size)."""
    flat = {f"{section}.{k}": v for section in RECIPE_SECTIONS for k, v in (config.get(section) or {}).items()}
    flat["train.batch_size"] = (config.get("train") or {}).get("batch_size")
    return flat


SURVIVED_SHARE = 0.9  # of this run's steps a healthy run must have trained to show that its recipe survives them


def _healthy_difference(ev: RunEvidence, d: Diagnosis, peers: Callable[[], list[tuple[str, RunEvidence]]]) -> None:
    """A failing run beside a healthy one of the same method, data and backbone that differs from it in a few recipe
    settings: name them, and keep the healthy run's values for the recommendation (recommend.py offers them before
    its fallback). The closest such run (fewest differences) is the one named; more than MAX_RECIPE_DIFF points at
    nothing. What W&B and MLflow users do by hand: diff the failed run against the one that worked. A run that
    trained for fewer steps than this one (under SURVIVED_SHARE of them) is no yardstick: it never reached the point
    where this one failed (a 30-step DINO without centring read healthy, and its values were offered to a 150-step
    run whose default recipe sat at ln K: turning the centring off)."""
    if d.verdict not in ("complete_collapse", "dimensional_collapse", "not_learning", "diverged"):
        return
    mine, best = recipe_of(ev.config), None
    trained = max(ev.checked_steps(), default=0)
    for run_id, other in peers():
        if max(other.checked_steps(), default=0) < SURVIVED_SHARE * trained:
            continue
        theirs = recipe_of(other.config)
        diff = {k: theirs.get(k) for k in sorted(set(mine) | set(theirs)) if mine.get(k) != theirs.get(k)}
        if 0 < len(diff) <= MAX_RECIPE_DIFF and (best is None or len(diff) < len(best[1])):
            best = (run_id, diff)
    if best is None:
        return
    run_id, diff = best
    d.healthy_diff = {"run_id": run_id, "change": diff}
    said = ", ".join(f"{k} ({_plain(mine.get(k))} here, {_plain(v)} there)" for k, v in diff.items())
    d.evidence.append(Item("config", None, None, None, f"run {run_id} (healthy, same method, backbone and data) "
                           f"differs from this run only in {said}"))


def _plain(value) -> str:
    return "unset" if value is None else f"{value:g}" if isinstance(value, float) else str(value)
