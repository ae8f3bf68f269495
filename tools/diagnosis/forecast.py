"""Is more pretraining worth it? Fit a saturating curve to a quality metric over steps and forecast it further.

The curve is a power law with an offset, y(t) = c - b * t**-a (a > 0): it rises (b > 0) or falls (b < 0) ever
more slowly towards the asymptote c, the shape SSL probe accuracy, RankMe and held-out perplexity follow
after warm-up. The band comes from the fit's own uncertainty: the curve refitted to itself plus noise as large as
its residuals allow, read at each horizon (the 10th and 90th percentiles: an 80% band; REFITS). `train longer` is
advised only when even the band's pessimistic end gains more than the threshold at twice the steps; `plateaued` only
when even its optimistic end gains less; `uncertain` when the band straddles it, or when fewer than MIN_POINTS of
the measurements lie after the warm-up (the band is then drawn wider: EARLY_BAND). Too few points, or a fit
that does not converge, give `unknown` rather than a guess.

A run whose rate decays (a cosine) is forecast halfway between two readings of the same curve: against the step
(which assumes it keeps moving as at its peak rate, and overshot SimCLR's probe by 4.4 points from a quarter of the
run) and against the schedule's area, the cumulative rate (which assumes progress stops with the rate, and missed
VICReg's annealing gain by 3.4); the band spans both readings' bands. Chosen on 12 probe curves; from half a run
within a point of the end on six fresh sets of 240-step runs (0.62, 0.88, 0.71, 0.54, 0.71, 0.64), from a quarter
not (1.7-3.8; RESULTS.md, sessions 19-21), though runs branched at a quarter end within 0.3 points of their median
(session 21): the end is settled there, but not in five probe points. Perplexity keeps the step: against the area,
its fall as the rate anneals read as a plateau (session 16).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from ssl_runtime.schedule import Schedule

MIN_POINTS = 5
BAND = (10.0, 90.0)
REFITS = 100
"""Refits behind the band. Parameter draws from curve_fit's covariance, used before, gave bands a median 520-1020
probe points wide from a quarter of a run (five points: the asymptote and the scale are nearly confounded, and a
Gaussian around them is no description); the refits, 5-14 points wide from a quarter and 2-4 from half, held the
end in 42 and 41 of 48 forecasts (RESULTS.md, session 20)."""


@dataclass
class Forecast:
    metric: str
    steps: int  # the last step measured
    current: float
    higher_is_better: bool
    params: dict[str, float] = field(default_factory=dict)  # a, b, c
    at: dict[float, tuple[float, float, float]] = field(default_factory=dict)  # multiple -> (value, low, high)
    verdict: str = "unknown"  # train_longer | uncertain | plateaued | unknown
    reason: str = ""
    references: list[str] = field(default_factory=list)  # runs of the same recipe it was read off

    def gain(self, multiple: float = 2.0) -> tuple[float, float, float]:
        """Forecast change at `multiple` x the steps, oriented so that positive is better: (mid, worst, best)."""
        value, low, high = self.at[multiple]
        sign = 1.0 if self.higher_is_better else -1.0
        ends = sorted([sign * (low - self.current), sign * (high - self.current)])
        return sign * (value - self.current), ends[0], ends[1]


def _curve(t: np.ndarray, a: float, b: float, c: float) -> np.ndarray:
    return c - b * np.power(t, -a)


def forecast(steps: list[float], values: list[float], metric: str, higher_is_better: bool = True,
             multiples: tuple[float, ...] = (2.0, 4.0), min_gain: float = 0.01, seed: int = 0,
             log_space: bool = False, schedule: Schedule | None = None, band_scale: float = 1.0,
             hold: str = "") -> Forecast:
    """Fit the curve to (steps, values) and forecast at `multiples` x the last step. `min_gain` is in the metric's
    units (0.01 = one probe point for an accuracy). `log_space` fits log(values) (perplexity, the exp of a loss:
    losses, not their exponentials, follow power laws with an offset) and reads the forecast back in the metric's
    units; its params are then those of the log curve. With a decaying `schedule` (not for `log_space` metrics) the
    forecast is read between the curve against the step and against the schedule's area (see the module's docstring).
    `band_scale` widens the band about the forecast (in the fitted space); a `hold` (why not yet) keeps the verdict
    `uncertain` whatever the band says (forecast_series: a fit that reads the warm-up)."""
    if 2.0 not in multiples:  # the verdict reads twice the steps
        multiples = (*multiples, 2.0)
    t = np.asarray(steps, dtype=float)
    y = np.asarray(values, dtype=float)
    keep = np.isfinite(t) & np.isfinite(y) & (t > 0)
    if log_space:
        keep &= y > 0
    t, y = t[keep], y[keep]
    last = float(t.max()) if len(t) else 0.0
    out = Forecast(metric, int(last), float(y[np.argmax(t)]) if len(t) else float("nan"), higher_is_better)
    back = np.exp if log_space else (lambda v: v)
    if log_space:
        y = np.log(y)
    distinct = len(np.unique(t))  # a finished run probed again adds a row at the same step, not a point of a curve
    if distinct < MIN_POINTS:
        out.reason = (f"only {distinct} measurement{'s' if distinct != 1 else ''} of {metric}"
                      f"{' (at distinct steps)' if distinct < len(t) else ''}; at least {MIN_POINTS} are needed "
                      "for a forecast")
        return out
    axes: list[Callable[[float], float]] = [lambda s: s]  # the step; and the schedule's area where the rate decays
    if schedule is not None and schedule.decays and not log_space:
        axes.append(schedule.area)
    readings = []
    for axis in axes:
        reading = _read(t, y, axis, last, multiples, seed, log_space)
        if isinstance(reading, str):
            out.reason = f"the saturating curve does not fit {metric} ({reading})"
            return out
        readings.append(reading)
    out.params = readings[0][0]
    for m in multiples:
        mids, lows, highs = zip(*(r[1][m] for r in readings), strict=True)
        mid = float(np.mean(mids))
        low, high = mid - band_scale * (mid - min(lows)), mid + band_scale * (max(highs) - mid)
        out.at[m] = (float(back(mid)), float(back(low)), float(back(high)))
    _judge(out, min_gain, SCHEDULE_BASIS if len(readings) > 1 else "", hold)
    return out


SCHEDULE_BASIS = (" (read halfway between the curve against the step and against the learning rate's area, since "
                  "the rate decays)")


def _read(t: np.ndarray, y: np.ndarray, axis: Callable[[float], float], last: float, multiples: tuple[float, ...],
          seed: int, log_space: bool) -> tuple[dict[str, float], dict[float, tuple[float, float, float]]] | str:
    """Fit the curve against `axis(step)` and read it at each multiple of the last step: (params, multiple ->
    (value, 10th, 90th percentile)), in the fitted space; a string says why it did not fit. The band: REFITS fits to
    the fitted curve plus fresh noise, its scale drawn each time from what the residuals allow (n - 3 degrees of
    freedom), read at each multiple and reflected about the fit's own reading."""
    from scipy.optimize import curve_fit

    scale = axis(last)  # in units of the last point: the fit is well conditioned whatever the run's length
    xs = np.array([axis(v) for v in t]) / scale
    span = float(y.max() - y.min()) or 1.0
    b0 = (y[-1] - y[0]) or span * 1e-3
    floor = 0.0 if log_space else -np.inf  # a perplexity is at least 1: its log's asymptote at least 0
    bounds = ([0.05, -np.inf, floor], [3.0, np.inf, np.inf])
    try:
        popt, _ = curve_fit(_curve, xs, y, p0=(0.5, b0 * 0.5, max(float(y[-1]), floor + 1e-6)), bounds=bounds,
                            maxfev=20000)
    except (RuntimeError, ValueError) as exc:
        return str(exc)
    fitted = _curve(xs, *popt)
    residual = float(np.sum(np.square(y - fitted)))
    horizons = {m: np.float64(axis(m * last) / scale) for m in multiples}
    rng = np.random.default_rng(seed)
    reads: dict[float, list[float]] = {m: [] for m in multiples}
    for _ in range(REFITS):
        noise = np.sqrt(residual / rng.chisquare(max(len(y) - 3, 1)))
        try:
            p, _ = curve_fit(_curve, xs, fitted + rng.normal(0.0, noise, len(y)), p0=popt, bounds=bounds, maxfev=5000)
        except (RuntimeError, ValueError):
            continue
        for m, x in horizons.items():
            reads[m].append(float(_curve(x, *p)))
    if not all(reads.values()):
        return "no refit of its band converged"
    at = {}
    for m, x in horizons.items():  # the basic bootstrap: the refits' spread reflected about the fit, which offsets
        mid = float(_curve(x, *popt))  # the refits' own lean (coverage 42 and 41 of 48 against 36 and 39 unreflected)
        low, high = np.percentile(reads[m], BAND)
        at[m] = (mid, 2 * mid - float(high), 2 * mid - float(low))
    return {k: float(v) for k, v in zip("abc", popt, strict=True)}, at


def _judge(out: Forecast, min_gain: float, basis: str = "", hold: str = "") -> None:
    """The verdict from the forecast at twice the steps, symmetric in its two claims: `train_longer` only when the
    band's pessimistic end clears `min_gain`, `plateaued` only when even its optimistic end does not, `uncertain`
    between. Asking of "plateaued" only that the likely gain fall short called 18 of 31 runs flat that then gained
    more than the threshold (RESULTS.md, session 20). `basis` says how it was read; a `hold` says why neither claim
    is made yet."""
    mid, worst, best = out.gain(2.0)
    metric, at = out.metric, 2 * out.steps
    if hold and (worst > min_gain or best <= min_gain):
        out.verdict = "uncertain"
        out.reason = (f"{metric} is forecast to gain {mid:+.3g} at {at} steps (80% band {worst:+.3g} to {best:+.3g}), "
                      f"but {hold}")
    elif worst > min_gain:
        out.verdict = "train_longer"
        out.reason = (f"{metric} is forecast to gain {mid:+.3g} at {at} steps (80% band {worst:+.3g} or more), above "
                      f"the {min_gain:.3g} worth a longer run")
    elif best <= min_gain:
        out.verdict = "plateaued"
        out.reason = (f"{metric} is forecast to gain {mid:+.3g} at {at} steps (80% band up to {best:+.3g}): under "
                      f"the {min_gain:.3g} worth a longer run, so more of the same training is unlikely to pay")
    else:  # the band straddles the threshold: say which way it leans, do not call it either
        leans = "above" if mid > min_gain else "under"
        out.verdict = "uncertain"
        out.reason = (f"{metric} is forecast to gain {mid:+.3g} at {at} steps, {leans} the {min_gain:.3g} worth a "
                      f"longer run, but the 80% band runs from {worst:+.3g} to {best:+.3g}: the curve is still "
                      "bending, and a few more measurements will tell")
    out.reason += basis


# which metric a run's forecast reads, the first with MIN_POINTS measurements: held-out perplexity for text
# (fitted as its log, the held-out loss); for images the linear probe where its kept checkpoints were probed (labels:
# `probe_kept_checkpoints`), else label-free LiDAR, else RankMe (issue 24 reads them as quality); each with the
# smallest gain at 2x steps worth a longer run, relative to the current value (a probe at 0.7: about one point)
PROBE_METRIC = "probe/acc"  # measured on kept checkpoints only on request (forecast --probe), not while training
FORECAST_METRICS = (("val/perplexity", False, 0.02), (PROBE_METRIC, True, 0.015), ("health/lidar", True, 0.05),
                    ("health/rank", True, 0.05))
LOG_SPACE = ("val/perplexity",)


def warmup_end(rows: list[dict]) -> int:
    """The step the learning rate peaked at (the end of its warm-up), 0 when no rate was logged: the curve's
    shape holds after it, while the rate is still rising the metric falls faster than any saturating law."""
    lrs = [(r["step"], r["lr"]) for r in rows if isinstance(r.get("lr"), (int, float)) and r.get("step")]
    return max(lrs, key=lambda sv: sv[1])[0] if lrs else 0


ADAPTING = 2.0
"""A run continued from a pretrained model on new data adapts to it in a steep transient before the slow part a power
law describes: continued masked-LM runs fell 825 -> 31 in perplexity over their first 150 of 600 steps, then crept to
22. Fitted from the end of the warm-up, the transient pulls the curve (forecasts from half the run 14% off); fitted
from ADAPTING x the warm-up's end, 1.5% on those runs and 1.3% on six held-out ones (RESULTS.md, session 17)."""


MIN_REFERENCES = 3
"""Finished runs of the same recipe needed to read a forecast off them: with 2 the 80% band held 55-60% of the ends
on the development seeds (RESULTS.md, session 18)."""
MIN_SHIFT_POINTS = 2  # this run's own measurements since the fit's start that place it against the references
REFERENCE_METRICS = ("val/perplexity",)
"""Where reading off finished runs of the recipe was measured and held. Not the probe: read off runs of other seeds of
its recipe it missed by 2.4 points from a quarter (RESULTS.md, session 19); not LiDAR or RankMe (not measured)."""


EARLY_BAND = 1.5
"""A fit that reads the warm-up (fewer than MIN_POINTS measurements after it) calls no verdict and draws its band this
much wider about the same forecast: while the rate rises the metric moves as no saturating law does, which its
residuals cannot show, and a dip there read as flat. On 54 stored runs `plateaued` from a quarter of a run (3 points
after the warm-up) was right 2 times of 5, from half (8 points) 6 of 7; from a quarter of 69 runs the plain band held
the probe at twice the steps in 61% of them, 1.5 times as wide in 80% (RESULTS.md, session 21)."""


def forecast_series(rows: list[dict], multiples: tuple[float, ...] = (2.0, 4.0), continued: bool = False,
                    references: dict[str, list[dict]] | None = None, schedule: Schedule | None = None) -> Forecast:
    """The forecast of a run's metric rows (metrics.jsonl): the first metric of FORECAST_METRICS it measured at
    MIN_POINTS steps (else the one it measured most, to say why there is no forecast), after the warm-up; for a
    run `continued` from a pretrained model, after ADAPTING x the warm-up, and no forecast from its own curve before
    MIN_POINTS measurements there (its early curve is the transient, not the trend). `references` (run id -> metric
    rows) are finished runs of the same recipe: a horizon MIN_REFERENCES of them reach is read off them
    (`read_references`) instead of the run's own fit. `schedule`: the run's planned learning-rate schedule (the
    module's docstring says how it is read)."""
    start = warmup_end(rows) * (ADAPTING if continued else 1)
    # one value a step, the last logged: a finished run probed again writes another row at its final step
    measured = {m: sorted({r["step"]: r[m] for r in rows if isinstance(r.get(m), (int, float)) and r.get("step")}
                          .items()) for m, _, _ in FORECAST_METRICS}
    enough = [m for m, _, _ in FORECAST_METRICS if len(measured[m]) >= MIN_POINTS]
    # with none measured often enough, the one measured most says why (a labelled run's single final probe is not it)
    most = max((m for m, _, _ in FORECAST_METRICS), key=lambda m: len(measured[m]))
    for metric, higher, share in FORECAST_METRICS:
        points = measured[metric]
        if not points or metric not in (enough or [most]):
            continue
        after = [p for p in points if p[0] >= start]
        min_gain, log_space = share * abs(points[-1][1]), metric in LOG_SPACE
        if continued and len(after) < MIN_POINTS:
            out = Forecast(metric, int(points[-1][0]), float(points[-1][1]), higher, reason=(
                f"a continued run adapts to its new data after its warm-up; {len(after)} measurements of {metric} "
                f"since step {start:.0f} ({ADAPTING:g}x the warm-up), {MIN_POINTS} are needed to forecast"))
        else:
            early = len(after) < MIN_POINTS  # the fit reads the warm-up's points too: a wider band, no verdict
            steps, values = zip(*(points if early else after), strict=True)
            hold = (f"only {len(after)} of its measurements come after the warm-up (step {start:.0f}), so the fit "
                    f"still reads the warm-up's curve; with {MIN_POINTS} after it the verdict can be called")
            out = forecast(list(steps), list(values), metric, higher, multiples=multiples, min_gain=min_gain,
                           log_space=log_space, schedule=schedule, band_scale=EARLY_BAND if early else 1.0,
                           hold=hold if early else "")
        if references and metric in REFERENCE_METRICS:
            read_references(out, after, {rid: [(r["step"], r[metric]) for r in ref if isinstance(r.get(metric), (
                int, float)) and r.get("step")] for rid, ref in references.items()}, multiples, min_gain, log_space)
        return out
    return Forecast("none", 0, float("nan"), True, reason="the run logged no quality metric to forecast")


def read_references(out: Forecast, own: list[tuple[float, float]], references: dict[str, list[tuple[float, float]]],
                    multiples: tuple[float, ...], min_gain: float, log_space: bool = False) -> None:
    """Forecast `out`'s horizons from finished runs of the same recipe: each reference's value at the horizon,
    shifted by the mean gap between this run's `own` points (since the fit's start) and that reference at the same
    steps, averaged over the references (in log space for `log_space` metrics); the 80% band is the prediction
    interval of one more draw from those forecasts. Why: from the first quarter of a run its own curve is mostly
    warm-up and transient, while where it sits against runs that finished says how it will end (RESULTS.md,
    session 18). Only horizons MIN_REFERENCES references reach; the others keep the run's own fit."""
    from scipy.stats import t as student_t

    def usable(pts: list[tuple[float, float]]) -> list[tuple[float, float]]:
        return [(s, v) for s, v in pts if np.isfinite(v) and (v > 0 or not log_space)]

    own, references = usable(own), {rid: usable(pts) for rid, pts in references.items()}
    if len(own) < MIN_SHIFT_POINTS:
        return
    fwd, back = (np.log, np.exp) if log_space else ((lambda v: np.asarray(v, dtype=float)), (lambda v: v))
    own_steps = np.array([s for s, _ in own], dtype=float)
    own_values = fwd(np.array([v for _, v in own], dtype=float))
    used: set[str] = set()
    for m in multiples:
        horizon = m * out.steps
        reach = {rid: sorted(pts) for rid, pts in references.items()
                 if len(pts) >= 2 and pts[0][0] <= own_steps[0] and max(s for s, _ in pts) >= horizon}
        if len(reach) < MIN_REFERENCES:
            continue
        guesses = []
        for pts in reach.values():
            steps = np.array([s for s, _ in pts], dtype=float)
            values = fwd(np.array([v for _, v in pts], dtype=float))
            gap = float(np.mean(own_values - np.interp(own_steps, steps, values)))
            guesses.append(float(np.interp(horizon, steps, values)) + gap)
        n, mid = len(guesses), float(np.mean(guesses))
        half = float(student_t.ppf(BAND[1] / 100, n - 1) * np.std(guesses, ddof=1) * np.sqrt(1 + 1 / n))
        out.at[m] = (float(back(mid)), float(back(mid - half)), float(back(mid + half)))
        used |= set(reach)
    if not used:
        return
    out.references = sorted(used)
    if 2.0 in out.at:
        _judge(out, min_gain, basis=(
            f"; read off {len(used)} finished runs of the same recipe ({', '.join(out.references)}), shifted by "
            f"where this run has sat against them since step {own_steps[0]:.0f}"))
