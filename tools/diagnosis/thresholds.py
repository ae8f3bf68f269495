"""Every threshold the diagnosis uses, in one place, each with the reason for its value.

Ratios are used wherever possible so the same numbers work for any embedding size d, batch size N
or prototype count K. docs/diagnostics.md explains each verdict with these values.
"""

from __future__ import annotations

# --- embedding spread: health/std x sqrt(d) is ~1 for isotropic embeddings (SimSiam; lightly's debug utils).
STD_RATIO_COLLAPSED = 0.5
"""Below half the isotropic value the outputs occupy a narrow cone. lightly's docs show a collapsed SimSiam at
std 0.011-0.026 against 0.057-0.069 healthy; against 1/sqrt(128) = 0.088 that is 0.12-0.30 vs 0.65-0.78.
In our induced SimSiam collapse on digits the ratio fell to 0.3-0.4 while healthy runs stayed above 0.9."""

STD_RATIO_COMPLETE = 0.15
"""Near-constant outputs: at this spread nothing downstream can separate images (lightly's collapse level
1 - sqrt(d) * std above 0.85)."""

# --- effective rank: RankMe / min(n, d), n = held-out samples used for the health batch.
RANK_RATIO_COLLAPSED = 0.08
"""Healthy runs on our 10-class digits data keep RankMe at 0.2-0.4 of min(n, d); induced collapses drop to
~0.05. 0.08 separates them with margin on both sides; real data with more variety sits higher."""

CLIMB_FROM_START = 2.0
"""A health metric at least twice its value at the random init has left it (tools/diagnosis/trajectory.py)."""

HOLD_OF_BEST = 0.5
"""...and at least half its best since holds what it reached: together, a run climbing out of a low start, whose
low level is where it began, not where it is heading. Healthy DINO's spread went 0.02 -> 0.10 -> 0.06-0.20x
isotropic; DINO with a teacher temperature of 0.4 went 0.02 -> 0.13 -> 0.05, under half its best."""

RANK_DROP_FROM_PEAK = 0.5
"""A rank that falls to under half its own peak while the loss keeps improving is the dimensional-collapse
pattern of Jing et al. 2022 even when its absolute value still looks acceptable."""

SPREAD_FALL_WITH_RANK = 0.71
"""...and when the spread fell with it, to under 1/sqrt(2) of its best (diagnose._spread_confirms_drop): healthy
runs 4x the usual length fell under half their rank peak with their spread at 0.93-1.0x its best; the collapses
the drop caught had theirs at 0.43-0.64x."""

COLLAPSING_FALL = 0.5
"""A running run whose config removes its method's guard (causes.guard_causes) and whose spread fell under half its
best so far, past the warm-up, is collapsing (diagnose._collapsing): the slow collapses (SimSiam without its
stop-gradient, BYOL without its predictor or with EMA 0) fall for 30-100 steps before any level reads collapsed.
On the stored development traces (sessions 14-16) 22 of the 23 guard-removed runs whose spread halved ended
collapsed (18 complete, 4 dimensional; the 23rd read dimensional beside its healthy siblings), while 8 runs with
no guard removed halved too and 6 of them ended healthy or weak: the guard is what makes the fall a collapse."""

UNIFORMITY_COLLAPSED = -0.15
"""Uniformity is 0 for identical embeddings and about -3.5 to -3.9 for uniform ones (Wang & Isola 2020)."""

# --- losses near their trivial values
TRIVIAL_LOSS_REL = 0.03
"""Within 3% of log(#negatives) (InfoNCE) or ln K (DINO) the model has not separated anything."""

NEG_COSINE_PERFECT = -0.9
"""SimSiam's loss near -1 (BYOL's 2-2cos near 0) with a collapsed spread is the 'loss looks excellent'
collapse of lightly's docs (-0.98 collapsed)."""

DINO_ENTROPY_UNIFORM = 0.98
"""Teacher entropy above 98% of ln K: the teacher is within 2% of ln K of the uniform distribution (its entropy
gap ln K - H is its KL to uniform). A teacher too hot (temperature 0.3-0.6) sits at 0.99-1.0 ln K from step 10
on; healthy DINO at a short budget ends near-uniform but not there: 0.72-0.97 ln K over 17 controls on digits,
shapes and textures (a gap of 3% of ln K or more, 1.5x the bar's; the faults' gap is at most 1%, 2x under it)."""

DINO_KL_COLLAPSED = 0.1
"""...and the student matches that teacher: KL(teacher || student) under 10% of ln K. Collapse in DINO is the KL
going to 0 (DINO paper, Fig. 7). The too-hot teachers' students were under it by step 20 of 120 (0.05-0.06 ln K);
healthy students passing near-uniform at step 20 were at 0.14-0.21 ln K. (Session 12 tried the KL alone at
0.01 ln K with the old entropy bar of 0.9: no false alarms, but the faults crossed it only at 33-50% of the run.)"""

DINO_ENTROPY_ONE_PROTOTYPE = 0.5
"""Teacher entropy under half of ln K past the learning-rate warm-up: a few prototypes take the teacher's mass
(dinov2 #272 shows the extreme, a loss of 0.05). Without centring the teacher sat at 0.0-0.17 ln K on digits,
shapes and textures, and at 0.35-0.44 ln K on shapes at another seed; healthy DINO, from a sharpened init of
0.03-0.56 ln K, was at 0.7-0.83 ln K by step 10 (inside the warm-up) and ended at 0.72-0.97 ln K: 1.4x either
side. (It was 0.2 ln K and "not climbing from the init", which missed a run at 0.35 and one that climbed from
0.03 to 0.08.)"""

DINO_ENTROPY_ONE_PROTOTYPE_CENTRED = 0.25
"""The same reading where the config keeps the centring: under a quarter of ln K. With BatchNorm in the head (the
default on CNNs since session 35) a healthy teacher starts sharp and climbs slowly: the fifteenth failure set's
eight controls read 0.36-0.46 ln K at the end of the warm-up (10% of the run) and passed half of ln K only at
17-31% of it, so half of ln K there alarmed on all eight. Under a quarter is 1.4x under the lowest of them, and
over the 0.0-0.17 ln K that the uncentred teachers of sets 1-14 read; a teacher the config leaves uncentred keeps the bar above."""

VICREG_VARIANCE_COLLAPSED = 0.8
"""VICReg's variance term is mean ReLU(1 - std) in [0, 1]; near 1 every dimension has lost its spread."""

# --- learning at all
LOSS_FLAT_REL = 0.02
"""A loss that moved less than 2% between the first and last third of the run has not learned, when something
explains it: a learning rate far from the method's default, a temperature out of range, fp16, or a loss sitting
at the method's trivial value."""

LOSS_FLAT_UNEXPLAINED_REL = 0.005
"""With nothing to explain it, a loss must be flatter than 0.5% to read as not learning: slow losses with a large
offset (VICReg ~22, MAE's pixel error) move under 2% in their first tens of steps and are learning (the
development set's VICReg and MAE controls were stopped as "not learning" at 2%)."""

WEIGHTS_STILL = 1e-4
"""Trainable weights that moved less than 1e-4 of their norm from where the run started, read past the warm-up,
have not learned anything, whatever the loss did. A 12-step SimCLR/Barlow Twins run at its default rate moved
1.8e-3 after its first step and 5.6e-3 by its end; at lr 1e-9 it moved 1e-8 (health.WeightDrift). Past the
warm-up a healthy run has moved at least its peak rate times half the warm-up, relative to weights of ~0.05."""

LR_TINY_FACTOR = 0.01
"""A peak learning rate under 1% of the method's default is almost certainly a typo or unit mistake."""

LR_HIGH_FACTOR = 10.0
"""Ten times the default learning rate is outside every published recipe we know."""

GRAD_SPIKE_FACTOR = 10.0
"""A grad norm ten times the run's median in the logged steps before a divergence is the usual precursor."""

# --- the representation against random init (same architecture, seed 0)
PROBE_GAIN_WEAK = 0.01
"""A trained encoder must beat its own random init; less than one point of linear-probe gain is no gain.
(Digits are easy for random features, ~0.95, so the gain, not the accuracy, is what we judge.)"""

PROBE_GAIN_Z = 2.0
"""A gain reads as over (or under) a bar only when it is clear of it by more than this many standard errors of the
gain (paired on the validation rows: `probe/gain_se`; for probes written before that was kept, the unpaired error
from num_val, which is larger); within them the probe decides nothing (diagnose.gain_reading). On digits a random
init probes 0.95, and the paired error of a gain on its 359 validation images came to 1.5-1.8 points on the failure
suite's runs: a gain of -0.3 is no evidence of a weak encoder. A sweep member probed on 40 rows read -2.5 points and
"weak", with an error of 7.7."""

PROBE_GAIN_KEPT = 0.03
"""A collapse verdict whose backbone still probes 3+ points over its random init says so: the projector's outputs (what
the loss sees) collapsed, and the features below still hold what was learned before. Common: 36 of the 78 collapse
verdicts on the stored runs of sessions 14-17, 10 of them by 10+ points (VICReg without its covariance term +15 at
the second-best probe of its sweep)."""

# --- retrieval: the encoder is good but nearest neighbours are not
RETRIEVAL_GAP = 0.10
"""kNN accuracy (or recall@1) ten points or more under the linear probe points at the comparison, not at
the features: normalisation, pooling or the metric."""

# --- data statistics
CORRUPT_FRACTION = 0.05
DUPLICATE_FRACTION = 0.10
TINY_DATASET = 500
"""Under ~500 images SSL has little to contrast; lightly's maintainers point at the data first."""
CLASS_IMBALANCE = 10.0

# --- evidence needed at all
MIN_HEALTH_POINTS = 2
"""One health measurement (the first step) shows the initialisation, not a trend."""

MIN_LOSS_POINTS = 3

# --- language models (mlm, clm): judged by held-out perplexity, not by embedding geometry
LM_PPL_LEARNING = 0.9
"""Held-out perplexity must end below 0.9x its value before the first step, else the model is not
learning. (LM hidden states are anisotropic by nature - they fill a narrow cone, Ethayarajh 2019 - so
the spread and rank thresholds written for SSL projector outputs do not apply to them.)"""

LM_OVERFIT_RISE = 1.15
"""A final held-out perplexity 15% above its best value while the training loss keeps falling is
overfitting: the corpus is too small for the number of steps."""


# --- follow-ups: did the relaunched fix help?
FOLLOW_UP_KNN_GAIN = 0.05
"""A follow-up that still reads a failure but whose kNN rose this much over its parent's has partly fixed it. kNN on a
held-out split of a few hundred images (digits: 359) has a standard error near 0.02 at 0.8; 0.05 is 2.5 of them."""
