"""Does view retrieval under views no method trains on pick the probe's best run across methods? (issue 24, session 38)

The across-method misses of `sslpilot rank` were SimCLR runs picked over a VICReg run that probed 0.6-1.2 points
higher; SimCLR's loss is view retrieval under SimCLR's own augmentations, the views the signal uses. This measures each
stored sweep run (benchmarks/label_free.py's results.jsonl) under views no method trains on: random erasing, Gaussian
noise, both, erasing after a mild crop, and two erasings; view retrieval (vr), cluster consistency (cc), the clean
image retrieved among its views (vrc) and vr and cc paired as `sslpilot rank` pairs them; Kendall tau against the
probe within each method and across all, and the first pick across methods with its regret (probe points).

    python benchmarks/label_free_unseen_views.py SWEEP_DIR [SWEEP_DIR ...]   # readings kept in SWEEP_DIR/unseen.jsonl
"""

import json
import sys
from pathlib import Path

import kornia.augmentation as K
import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))
from label_free import METHODS, kendall  # noqa: E402

from ssl_runtime.audit import IMAGENET, _run_encoder_images, embed, view_features  # noqa: E402
from ssl_runtime.health import cluster_consistency, view_retrieval  # noqa: E402
from tools.ranking import mean_places  # noqa: E402


def variants(size):
    def er():
        return K.RandomErasing(scale=(0.1, 0.3), ratio=(0.3, 3.3), value=0.5, p=1.0)

    def no(s):
        return K.RandomGaussianNoise(mean=0.0, std=s, p=1.0)

    def crop():
        return K.RandomResizedCrop((size, size), scale=(0.5, 1.0))

    return {
        "erase": K.AugmentationSequential(er()),
        "noise": K.AugmentationSequential(no(0.1)),
        "erase+noise": K.AugmentationSequential(er(), no(0.08)),
        "crop+erase": K.AugmentationSequential(crop(), er()),
        "erase2": K.AugmentationSequential(er(), er()),
    }

@torch.no_grad()
def readings(run_dir, images=2048, views=4, seed=12345):
    enc, imgs = _run_encoder_images(run_dir, images)
    dev = torch.device("cpu")
    pre = enc.preprocess or IMAGENET
    mean, std = torch.tensor(pre["mean"]).view(1, -1, 1, 1), torch.tensor(pre["std"]).view(1, -1, 1, 1)
    model = enc.module.eval()
    clean = embed(enc, imgs, dev)
    out = {}
    feats = view_features(enc, imgs, dev, views)
    out["shipped/vr"], out["shipped/cc"] = float(view_retrieval(feats)), cluster_consistency(clean, feats)
    for name, aug in variants(imgs.shape[-1]).items():
        with torch.random.fork_rng():
            torch.manual_seed(seed)
            per = [[] for _ in range(views)]
            for chunk in imgs.split(256):
                x = chunk.float() / 255.0
                for v in range(views):
                    per[v].append(enc.features((aug(x).clamp(0, 1) - mean) / std, model).float())
        fv = [torch.cat(p) for p in per]
        out[f"{name}/vr"], out[f"{name}/cc"] = float(view_retrieval(fv)), cluster_consistency(clean, fv)
        out[f"{name}/vrc"] = float(view_retrieval([clean, *fv]))  # clean image among the views
    return out

def measure(out_dir):
    out_dir = Path(out_dir)
    res = [json.loads(line) for line in (out_dir / "results.jsonl").read_text().splitlines()]
    f = out_dir / "unseen.jsonl"
    have = {json.loads(x)["run_dir"]: json.loads(x) for x in f.read_text().splitlines()} if f.exists() else {}
    for r in res:
        if r["status"] != "succeeded" or r["run_dir"] in have:
            continue
        m = {**readings(r["run_dir"]), "run_dir": r["run_dir"]}
        have[r["run_dir"]] = m
        with f.open("a") as fh:
            fh.write(json.dumps(m) + "\n")
        print(r["method"], r["setting"], {k: round(v, 3) for k, v in m.items() if k != "run_dir"}, flush=True)
    rows = []
    for r in res:
        if r["run_dir"] in have and r["probe"] is not None:
            rows.append({**r, **have[r["run_dir"]]})
    return rows

def report(rows):
    keys = sorted({k.rsplit("/", 1)[0] for r in rows for k in r if k.endswith("/vr")})
    print(f"{'variant':14s} {'form':6s} " + " ".join(f"{m:>7s}" for m in (*METHODS, "all"))
          + "  regret-all  pick")
    for v in keys:
        for form in ("vr", "cc", "vrc", "pair"):
            if form == "vrc" and f"{v}/vrc" not in rows[0]:
                continue
            def score(runs, v=v, form=form):
                if form == "pair":
                    return [-p for p in mean_places([r[f"{v}/vr"] for r in runs], [r[f"{v}/cc"] for r in runs])]
                return [r[f"{v}/{form}"] for r in runs]
            taus, reg = [], None
            for m in (*METHODS, None):
                runs = [r for r in rows if m is None or r["method"] == m]
                s = score(runs)
                taus.append(kendall(s, [r["probe"] for r in runs]))
                if m is None:
                    i = int(np.argmax(s))
                    reg = 100 * (max(r["probe"] for r in runs) - runs[i]["probe"])
                    pick = f"{runs[i]['method']} {runs[i]['setting']}"
            print(f"{v:14s} {form:6s} " + " ".join(f"{t:7.2f}" for t in taus) + f"  {reg:9.2f}  {pick}")
    best = max(rows, key=lambda r: r["probe"])
    print("probe best:", best["method"], best["setting"], best["probe"])

if __name__ == "__main__":
    for d in sys.argv[1:]:
        rows = measure(d)
        print("==", d, len(rows))
        report(rows)
