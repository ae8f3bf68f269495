"""Text and image-text: held-out perplexity before and after pretraining on the project's own docs
(from scratch, and continued from a model first trained on the literature cards), and CLIP recall@k on
held-out captioned shapes against chance.

    python benchmarks/text_clip_bench.py [--steps 200] [--clip-steps 600]
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

from _common import LM, ROOT, docs_corpus, machine, make_run, table


def perplexities(run: Path) -> tuple[float, float]:
    from ssl_runtime.run_folder import RunFolder

    rows = [r for r in RunFolder(run).read_metrics() if "val/perplexity" in r]
    return rows[0]["val/perplexity"], rows[-1]["val/perplexity"]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--steps", type=int, default=200)
    ap.add_argument("--clip-steps", type=int, default=600)
    ap.add_argument("--only", choices=["text", "clip"], default=None)
    args = ap.parse_args()
    from ssl_runtime.run_folder import RunFolder
    from ssl_runtime.worker import run_worker

    work = Path(tempfile.mkdtemp(prefix="sslpilot-textbench-"))
    docs = docs_corpus(work / "docs")
    cards = ROOT / "tools" / "knowledge" / "corpus"
    train = {"steps": args.steps, "batch_size": 16, "log_every": 25, "health_every": 50, "health_samples": 64,
             "checkpoint_every": 100000, "device": "auto"}
    rows = []
    for method in ("mlm", "clm") if args.only != "clip" else ():
        t0 = time.perf_counter()
        scratch = make_run({"method": method, "data": {"path": str(docs), "val_fraction": 0.1},
                            "method_args": LM, "optim": {"lr": 1e-3}, "train": train}, f"{method}-scratch", work)
        s = run_worker(scratch, probe=False)
        before, after = perplexities(scratch)
        rows.append([method, "from scratch on docs", s["data"]["tokens"], args.steps, round(before, 1),
                     round(after, 1), round(time.perf_counter() - t0, 1)])
        # continued pretraining: a model first trained on the literature cards, then on the docs
        stage1 = make_run({"method": method, "data": {"path": str(cards), "val_fraction": 0.1},
                           "method_args": LM, "optim": {"lr": 1e-3}, "train": train}, f"{method}-cards", work)
        run_worker(stage1, probe=False)
        t0 = time.perf_counter()
        cont = make_run({"method": method, "data": {"path": str(docs), "val_fraction": 0.1},
                         "backbone": {"pretrained": str(RunFolder(stage1).encoder)},
                         "method_args": LM, "optim": {"lr": 3e-4},
                         "train": {**train, "steps": args.steps // 2}}, f"{method}-continued", work)
        s = run_worker(cont, probe=False)
        before, after = perplexities(cont)
        rows.append([method, "cards model, continued on docs", s["data"]["tokens"], args.steps // 2,
                     round(before, 1), round(after, 1), round(time.perf_counter() - t0, 1)])
        print(table(["method", "start", "tokens", "steps", "ppl before", "ppl after", "seconds"], rows[-2:]),
              flush=True)

    if rows:
        print(f"\n## Text: held-out perplexity before and after ({machine()})\n")
        print(table(["method", "start", "tokens", "steps", "ppl before", "ppl after", "seconds"], rows))
    if args.only == "text":
        return
    t0 = time.perf_counter()
    clip = make_run({"method": "clip", "data": {"name": "shapes", "num_samples": 2000},
                     "method_args": {"embed_dim": 128}, "train": {"steps": args.clip_steps, "batch_size": 128,
                                                                  "log_every": 25, "health_every": 100,
                                                                  "checkpoint_every": 100000, "device": "auto"}},
                    "clip", work)
    s = run_worker(clip)
    p = json.loads(RunFolder(clip).probe.read_text())
    clip_rows = [[f"recall@{k}", round(p[f"clip/i2t_recall@{k}"], 3), round(p[f"clip/t2i_recall@{k}"], 3),
                  round(p[f"clip/chance_recall@{k}"], 3)] for k in (1, 5, 10)]
    print(f"\n## CLIP on captioned shapes: {args.clip_steps} steps, {s['wall_time_s']:.0f} s training, "
          f"{p['num_val'] if 'num_val' in p else '?'} held-out pairs; image probe {p.get('probe/acc', float('nan')):.3f} "
          f"vs random init {p.get('baseline', {}).get('probe/acc', float('nan')):.3f}\n")
    print(table(["", "image->text", "text->image", "chance"], clip_rows))
    print(f"\n(total {time.perf_counter() - t0:.0f} s for clip; run folders in {work})")


if __name__ == "__main__":
    main()
