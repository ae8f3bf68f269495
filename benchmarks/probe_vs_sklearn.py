"""Our torch linear probe against scikit-learn's LogisticRegression on the same frozen features.

Features: a SimCLR encoder trained briefly on digits (or shapes). Both fit the same objective at the
L2 strength our probe selects; sklearn also at its default C=1.
    python benchmarks/probe_vs_sklearn.py [--data digits]
"""

from __future__ import annotations

import argparse
import time

import torch
from _common import machine, make_run, table


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", default="digits")
    ap.add_argument("--steps", type=int, default=100)
    args = ap.parse_args()

    from sklearn.linear_model import LogisticRegression
    from sklearn.preprocessing import StandardScaler

    from ssl_runtime.configure import load_run_config
    from ssl_runtime.data import default_image_size, load_builtin, split_indices
    from ssl_runtime.probe import extract_features, linear_probe, load_encoder
    from ssl_runtime.trainer import train

    run_dir = make_run({"method": "simclr", "data": {"name": args.data}, "train": {"steps": args.steps},
                        "method_args": {"proj_hidden_dim": 512, "proj_dim": 128}}, "probe-bench")
    train(run_dir)
    cfg = load_run_config(run_dir / "config.yaml")
    data = load_builtin(cfg.data, default_image_size(cfg.data))
    tr, va = split_indices(len(data), cfg.data.val_fraction, cfg.train.seed)
    enc, pre = load_encoder(run_dir / "encoder")
    feats = extract_features(enc, data.images, pre, torch.device("cpu"))
    xtr, ytr, xva, yva = feats[tr], data.labels[tr], feats[va], data.labels[va]

    t0 = time.perf_counter()
    ours = linear_probe(xtr, ytr, xva, yva)
    t_ours = time.perf_counter() - t0

    scaler = StandardScaler().fit(xtr.numpy())
    a, b = scaler.transform(xtr.numpy()), scaler.transform(xva.numpy())
    rows = [["torch L-BFGS probe (5-value L2 search + refit)", ours["acc"], t_ours, "reference"]]
    c = 1.0 / (2 * ours["l2"] * len(xtr)) if ours["l2"] > 0 else 1e6
    for label, cval, fits in ((f"sklearn LogisticRegression, same L2 (C={c:.3g}), 1 fit", c, 1),
                              ("sklearn LogisticRegression, C=1, 1 fit", 1.0, 1),
                              ("sklearn LogisticRegression, same 5-value search + refit", c, 6)):
        t0 = time.perf_counter()
        for _ in range(fits):
            sk = LogisticRegression(C=cval, max_iter=5000).fit(a, ytr.numpy())
        dt = time.perf_counter() - t0
        rows.append([label, float(sk.score(b, yva.numpy())), dt, f"{dt / t_ours:.2f}x slower"])
    print(f"\n## Linear probe vs scikit-learn ({args.data}, {len(xtr)} train / {len(xva)} val, "
          f"d={xtr.shape[1]}; {machine()})\n")
    print(table(["probe", "val acc", "seconds", "time vs ours"], rows))
    print(f"\nselected L2 = {ours['l2']}; accuracy gap to sklearn at the same L2: "
          f"{abs(ours['acc'] - rows[1][1]) * 100:.2f} points")


if __name__ == "__main__":
    main()
