"""Altair charts for runs: metric curves, the diagnosis plot with the failure point marked, comparisons,
the singular-value spectrum, the PCA of embeddings and the forecast with its band. Pure functions from data
to charts."""

from __future__ import annotations

import altair as alt
import pandas as pd


def series(rows: list[dict], metric: str) -> pd.DataFrame:
    """(step, value) for one metric, skipping rows that lack it or hold a non-number."""
    pts = [(r["step"], r[metric]) for r in rows if isinstance(r.get(metric), (int, float)) and "step" in r]
    return pd.DataFrame(pts, columns=["step", "value"])


def metric_chart(rows: list[dict], metric: str, height: int = 180) -> alt.Chart | None:
    df = series(rows, metric)
    if df.empty:
        return None
    return (alt.Chart(df, title=metric, height=height).mark_line(point=len(df) < 30)
            .encode(x=alt.X("step:Q"), y=alt.Y("value:Q", title=None, scale=alt.Scale(zero=False)),
                    tooltip=["step", "value"]))


def failure_start(df: pd.DataFrame, threshold: float, below: bool) -> int | None:
    """The first step of the final stretch past the threshold: where the failure began and never recovered.
    (A metric can start on the bad side at initialisation and recover; that is not the failure.)"""
    bad = (df["value"] < threshold) if below else (df["value"] > threshold)
    if not bool(bad.iloc[-1]):
        return None
    good_idx = [i for i, b in enumerate(bad.tolist()) if not b]
    start = good_idx[-1] + 1 if good_idx else 0
    return int(df["step"].iloc[start])


def evidence_chart(rows: list[dict], evidence: list[dict]) -> alt.LayerChart | None:
    """The metric behind the first plottable piece of evidence, its threshold, and the point of failure."""
    for item in evidence:
        df = series(rows, item["metric"])
        if len(df) < 2:
            continue
        threshold, value = item.get("threshold"), item.get("value")
        below = isinstance(threshold, (int, float)) and isinstance(value, (int, float)) and value < threshold
        step = (failure_start(df, threshold, below) if isinstance(threshold, (int, float)) else None) \
            or item.get("step") or int(df["step"].iloc[-1])
        base = alt.Chart(df, title=f"{item['metric']} - {item['explanation'][:80]}", height=240)
        layers = [base.mark_line(point=True).encode(x="step:Q", y=alt.Y("value:Q", title=item["metric"]),
                                                     tooltip=["step", "value"])]
        if isinstance(threshold, (int, float)):
            layers.append(alt.Chart(pd.DataFrame({"threshold": [threshold]})).mark_rule(strokeDash=[6, 4],
                                                                                        color="gray")
                          .encode(y="threshold:Q"))
        top = float(max(df["value"].max(), threshold if isinstance(threshold, (int, float)) else float("-inf")))
        mark = pd.DataFrame({"step": [step], "top": [top], "label": [f"failing from step {step}"]})
        layers.append(alt.Chart(mark).mark_rule(color="red", strokeWidth=2).encode(x="step:Q"))
        layers.append(alt.Chart(mark).mark_text(color="red", align="left", dx=5, dy=8, fontWeight="bold")
                      .encode(x="step:Q", y="top:Q", text="label:N"))
        return alt.layer(*layers)
    return None


def overlay_chart(runs_rows: dict[str, list[dict]], metric: str) -> alt.Chart | None:
    """One metric for several runs on shared axes."""
    frames = [series(rows, metric).assign(run=rid) for rid, rows in runs_rows.items()]
    df = pd.concat([f for f in frames if not f.empty], ignore_index=True) if any(not f.empty for f in frames) \
        else pd.DataFrame()
    if df.empty:
        return None
    return (alt.Chart(df, title=metric, height=260).mark_line()
            .encode(x="step:Q", y=alt.Y("value:Q", title=metric, scale=alt.Scale(zero=False)),
                    color=alt.Color("run:N", title="run"), tooltip=["run", "step", "value"]))


def accuracy_bars(rows: list[dict]) -> alt.Chart | None:
    """Probe and kNN accuracy per run (trained, and random init where known)."""
    pts = []
    for r in rows:
        for key, label in (("probe_acc", "linear probe"), ("knn_acc", "kNN")):
            if isinstance(r.get(key), (int, float)):
                pts.append({"run": str(r["run_id"]), "eval": label, "accuracy": r[key]})
    if not pts:
        return None
    df = pd.DataFrame(pts)
    return (alt.Chart(df, height=220).mark_bar()
            .encode(x=alt.X("run:N", title="run"), xOffset="eval:N", y=alt.Y("accuracy:Q", scale=alt.Scale(
                domain=[0, 1])), color="eval:N", tooltip=["run", "eval", alt.Tooltip("accuracy:Q", format=".3f")]))


def spectrum_chart(singular_values: list[float]) -> alt.Chart:
    """Singular values, largest first, on a log scale: a collapsed space drops off a cliff early."""
    df = pd.DataFrame({"index": range(1, len(singular_values) + 1),
                       "singular value": [max(s, 1e-12) for s in singular_values]})
    return (alt.Chart(df, title="singular-value spectrum of held-out embeddings", height=260).mark_line(point=True)
            .encode(x=alt.X("index:Q", title="component"),
                    y=alt.Y("singular value:Q", scale=alt.Scale(type="log")), tooltip=["index", "singular value"]))


def pca_chart(points: list[list[float]], labels: list | None) -> alt.Chart:
    df = pd.DataFrame(points, columns=["pc1", "pc2"])
    enc = {"x": "pc1:Q", "y": "pc2:Q", "tooltip": ["pc1", "pc2"]}
    if labels is not None:
        df["label"] = [str(x) for x in labels]
        enc["color"] = alt.Color("label:N", title="label")
        enc["tooltip"] = ["label", "pc1", "pc2"]
    return alt.Chart(df, title="PCA of held-out embeddings", height=320).mark_circle(size=28, opacity=0.7).encode(**enc)


def forecast_chart(f: dict) -> alt.LayerChart | None:
    """The measured metric, then the forecast at 2x and 4x the steps with its 80% band (tools/diagnosis/forecast)."""
    if not f.get("series") or not f.get("at"):
        return None
    measured = pd.DataFrame(f["series"], columns=["step", "value"])
    ahead = pd.DataFrame([{"step": f["steps"], "value": f["current"], "low": f["current"], "high": f["current"]}]
                         + [{"step": a["steps"], "value": a["value"], "low": a["low"], "high": a["high"]}
                            for a in f["at"].values()])
    y = alt.Y("value:Q", title=f["metric"], scale=alt.Scale(zero=False))
    line = alt.Chart(measured).mark_line(point=len(measured) < 30).encode(x="step:Q", y=y, tooltip=["step", "value"])
    band = alt.Chart(ahead).mark_area(opacity=0.25).encode(x="step:Q", y="low:Q", y2="high:Q")
    guess = alt.Chart(ahead).mark_line(strokeDash=[6, 4], point=True).encode(x="step:Q", y=y,
                                                                             tooltip=["step", "value", "low", "high"])
    return alt.layer(band, line, guess).properties(title=f"{f['metric']}: measured, and forecast with an 80% band",
                                                   height=260)
