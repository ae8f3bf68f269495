"""Is this encoder any good, without labels? A quality verdict from what the run's own numbers can support.

Labels decide where they exist: the linear probe against the same architecture at random init (the
diagnosis's own test): good or weak when the gain is over or under its bar by more than twice the probe's
error (within that, `usable`: no failure, and the probe cannot tell). Without them the verdict is `failing` when the diagnosis found a
collapse, a divergence or no learning, and otherwise `usable`: no failure, with LiDAR's change since the
random init and the run's place among runs of the same method on the same data shown as evidence. It never
says good or weak without labels, because nothing measured supports that: on the label-free validation
sweeps (benchmarks/label_free.py, RESULTS.md session 8) LiDAR's change from its initial value did not predict
the probe's gain over random init (healthy SimCLR runs end at 0.7x their initial LiDAR, VICReg runs at 2x,
with the same small gains), so an absolute reading of it would be a confident wrong answer.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

from ssl_runtime.catalogue import TEXT_METHODS
from tools.diagnosis import thresholds as T
from tools.diagnosis.diagnose import CEILING_SAYS, Diagnosis, gain_reading, gain_se
from tools.diagnosis.evidence import RunEvidence

FAILING = ("complete_collapse", "dimensional_collapse", "diverged", "not_learning")


@dataclass
class Quality:
    run_id: str
    verdict: str  # good | weak (labels) | failing | usable (no failure; no labels, or a probe too small to tell) | unknown
    decided_by: str  # probe | lidar | perplexity (a language model) | diagnosis | none
    reason: str
    signals: dict[str, float] = field(default_factory=dict)  # end values, and LiDAR at init
    lidar_gain: float | None = None  # LiDAR at the end / at the first health step
    probe_gain: float | None = None  # probe accuracy minus random init's, where labels exist
    siblings: dict = field(default_factory=dict)  # position among runs of the same method and data
    diagnosis: str = ""

    def to_dict(self) -> dict:
        return asdict(self)


def lidar_gain(ev: RunEvidence) -> tuple[float, float, float] | None:
    """(at init, at the end, end / init) of LiDAR, or None with fewer than two measurements."""
    points = ev.s("health/lidar").finite
    if len(points) < T.MIN_HEALTH_POINTS or points[0][1] <= 0:
        return None
    return points[0][1], points[-1][1], points[-1][1] / points[0][1]


def _perplexity_said(ev: RunEvidence) -> str:
    """A language model's own measure of learning, where the probe cannot tell: held-out perplexity's fall."""
    ppl = ev.s("val/perplexity").finite
    if len(ppl) < 2:
        return ""
    (s0, first), (s1, last) = ppl[0], ppl[-1]
    return f"; what it learned shows in held-out perplexity, {first:.4g} at step {s0} to {last:.4g} at step {s1}"


def judge(ev: RunEvidence, d: Diagnosis, siblings: dict | None = None) -> Quality:
    q = Quality(ev.run_id, "unknown", "none", "", diagnosis=d.verdict, siblings=siblings or {})
    # a language model's hidden states sit in a narrow cone: their rank reads "collapsed" and says nothing
    for key in () if ev.method in TEXT_METHODS else ("health/lidar", "health/rank", "health/alpha_req"):
        last = ev.s(key).last()
        if last:
            q.signals[key.removeprefix("health/")] = round(last[1], 4)
    gain = lidar_gain(ev)
    if gain:
        q.signals["lidar_at_init"] = round(gain[0], 4)
        q.lidar_gain = round(gain[2], 3)
    se = None
    if ev.probe and "baseline" in ev.probe and "probe/acc" in ev.probe:
        q.probe_gain = round(ev.probe["probe/acc"] - ev.probe["baseline"]["probe/acc"], 4)
        se = gain_se(ev.probe)
    if d.verdict in FAILING:
        q.verdict, q.decided_by = "failing", "diagnosis"
        q.reason = f"the diagnosis reads {d.verdict.replace('_', ' ')}"
    elif q.probe_gain is not None:
        q.decided_by = "probe"
        base = ev.probe["baseline"]["probe/acc"]
        reading = gain_reading(q.probe_gain, se, baseline=base)
        q.verdict = {"over": "good", "under": "weak", "undecided": "usable", "ceiling": "usable"}[reading]
        said = f"{q.probe_gain * 100:+.1f}" + (f" ± {T.PROBE_GAIN_Z * se * 100:.1f}" if se is not None else "")
        bar = f"{T.PROBE_GAIN_WEAK * 100:.0f}"
        against = (f"the linear probe reads {ev.probe['probe/acc'] * 100:.1f}% against {base * 100:.1f}% for the same "
                   f"architecture at random init, {said} points")  # the numbers asked about, beside their difference
        if reading == "ceiling":
            why = f"labels exist, but {CEILING_SAYS.format(base=base * 100, bar=T.PROBE_GAIN_WEAK * 100)}"
            q.reason = why + _perplexity_said(ev)
        elif reading == "undecided":
            q.reason = (f"labels exist: {against} (within its error of {bar}: no failure found, and the probe's "
                        f"{ev.probe.get('num_val', '?')} held-out images cannot say whether it beat the random init "
                        f"by {bar} point)")
        else:
            q.reason = f"labels exist: {against} ({'at least' if reading == 'over' else 'under'} {bar})"
    elif ev.method in TEXT_METHODS and _perplexity_said(ev):  # no views, no LiDAR: its own held-out measure
        q.verdict, q.decided_by = "usable", "perplexity"
        q.reason = ("no failure found" + _perplexity_said(ev) + ". Without labels that says the model learned the "
                    "text, not how good its embeddings are for your task: compare it with runs of the same method on "
                    "the same data, or probe it on a few labelled texts")
    elif gain:
        q.verdict, q.decided_by = "usable", "lidar"
        q.reason = (f"no failure found; LiDAR went from {gain[0]:.1f} at initialisation to {gain[1]:.1f} "
                    f"({gain[2]:.2f}x). Without labels that says the encoder did not fail, not how good it is for "
                    "your task: compare it with runs of the same method on the same data, or probe it on a few "
                    "labelled images")
    elif ev.method in TEXT_METHODS:
        q.reason = ("no labels and fewer than two held-out perplexity measurements: let the run reach its next "
                    "evaluation (train.health_every)")
    else:
        q.reason = ("no labels and fewer than two LiDAR measurements: let the run reach its next health step, or "
                    "audit its checkpoint (`sslpilot audit`)")
    if d.verdict == "insufficient_evidence" and q.verdict != "failing":
        q.verdict, q.reason = "unknown", "the diagnosis has too little evidence yet: " + q.reason
    return q
