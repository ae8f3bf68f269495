"""Knowledge store: ingest throughput, search latency (p50/p95) at 1k and 50k chunks, and retrieval quality
(recall@5 on a written question set with known answer chunks), vector-only against hybrid.

    python benchmarks/knowledge_bench.py [--big 50000]
"""

from __future__ import annotations

import argparse
import random
import statistics
import tempfile
import time
from pathlib import Path

from _common import machine, table

from ssl_runtime.catalogue import VISION_METHODS

# question -> a phrase that only the answer chunk(s) contain
QUESTIONS = [
    ("What loss value signals a DINO uniform collapse?", "11.09 for K=65536"),
    ("which teacher temperature does DINO call unstable", "above 0.07"),
    ("What is the default centre momentum in DINO?", "center_momentum: 0.9"),
    ("Why does SimSiam not collapse?", "predictor MLP on one branch and a stop-gradient"),
    ("SimSiam learning rate for the predictor", "predictor keeps a fixed learning rate"),
    ("How does BYOL work without negatives?", "online network (backbone, projector, predictor) predicts"),
    ("BYOL EMA momentum default", "0.996 rising to 1 on a cosine schedule"),
    ("What happens to BYOL without batch statistics?", "Removing all batch statistics"),
    ("VICReg loss weights", "lambda_ (invariance weight) 25"),
    ("What does the VICReg variance term measure", "mean ReLU(1 - sqrt(var + 1e-4))"),
    ("Barlow Twins off-diagonal weight", "lambda_offdiag: 0.0051"),
    ("diagonal term stays near D barlow", "per-GPU rather than the global batch"),
    ("MAE mask ratio default", "mask_ratio: 0.75"),
    ("Is a weak linear probe a failure for MAE?", "68.0% linear probing versus 83.6%"),
    ("SimCLR temperature recommendations", "solo-learn's CIFAR configs use 0.2"),
    ("InfoNCE value when nothing is learned", "6.24 for N=256"),
    ("MoCo queue size", "queue of 65536"),
    ("MoCo v3 predictor for ViT", "adds a predictor head on the query side"),
    ("What is RankMe?", "exponential of the entropy of the normalised singular values"),
    ("uniformity value for collapsed embeddings", "about -3.5 to -3.9 when spread out"),
    ("healthy std of normalised embeddings", "0.088 for d=128"),
    ("what is dimensional collapse", "keeps outputs varied but only along a few directions"),
    ("good probe but poor nearest neighbour recall", "points at the comparison, not the features"),
    ("CLIP logit scale clamp", "clamped at 100"),
    ("BERT masking rule", "80% become a mask token"),
    ("fp16 NaN DINO", "fp16 can produce NaN losses"),
]


def percentile(xs: list[float], q: float) -> float:
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(q * (len(xs) - 1))))]


def latency(store, queries: list[str], collection: str, mode: str) -> tuple[float, float]:
    store.search(queries[0], collection, k=5, mode=mode)  # warm caches (BM25 index, model)
    times = []
    for q in queries:
        t = time.perf_counter()
        store.search(q, collection, k=5, mode=mode)
        times.append((time.perf_counter() - t) * 1000)
    return statistics.median(times), percentile(times, 0.95)


def synthetic_chunks(n: int, seed: int = 0) -> list[str]:
    rng = random.Random(seed)
    methods = [m.replace("_", " ") for m in VISION_METHODS]
    words = ("loss health std rank uniformity collapse diverged nan gradient spike warmup temperature teacher "
             "momentum projector predictor batch augmentation crop colour jitter blur solarize epoch checkpoint "
             "probe knn recall accuracy baseline encoder backbone resnet vit dataset images duplicates").split()
    return [f"Run {i}: {rng.choice(methods)} " + " ".join(rng.choice(words) for _ in range(60)) + f" step {rng.randint(1, 9999)}"
            for i in range(n)]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--big", type=int, default=50_000)
    args = ap.parse_args()
    from tools.home import Home
    from tools.knowledge.store import KnowledgeStore

    root = Path(tempfile.mkdtemp(prefix="sslpilot-kb-"))
    t = time.perf_counter()
    store = KnowledgeStore(Home.resolve(root / "small"))  # ingests the starter corpus
    n_corpus = store.count("literature")
    t_corpus = time.perf_counter() - t

    # retrieval quality on the starter corpus
    rows = []
    for mode in ("vector", "bm25", "hybrid"):
        hit = sum(any(phrase in h.text for h in store.search(q, "literature", k=5, mode=mode)) for q, phrase in QUESTIONS)
        rows.append([mode, f"{hit}/{len(QUESTIONS)}", hit / len(QUESTIONS)])
    quality = rows

    perf = []
    for n in (1000, args.big):
        s = KnowledgeStore(Home.resolve(root / f"n{n}"), ingest_corpus=False)
        real = min(n, 2000)  # embedded for real; the ingest rate is measured on these
        texts = synthetic_chunks(real)
        t = time.perf_counter()
        s.upsert("run_logs", [f"c{i}" for i in range(real)], texts,
                 [{"run_id": str(i % 500), "method": "simclr", "kind": "events"} for i in range(real)])
        ingest_s = (time.perf_counter() - t) / real * n
        if n > real:  # fill up to n with jittered copies of real embeddings: same index size, no hours of CPU
            import numpy as np

            got = s.collections["run_logs"].get(include=["embeddings", "documents"])
            base, docs = np.asarray(got["embeddings"]), got["documents"]
            rng = np.random.default_rng(0)
            col = s.collections["run_logs"]
            for start in range(real, n, 5000):
                idx = np.arange(start, min(n, start + 5000))
                emb = base[idx % real] + 0.05 * rng.standard_normal((len(idx), base.shape[1]))
                emb /= np.linalg.norm(emb, axis=1, keepdims=True)
                col.add(ids=[f"c{i}" for i in idx], embeddings=emb.tolist(),
                        documents=[docs[i % real] + f" variant {i}" for i in idx],
                        metadatas=[{"run_id": str(i % 500), "method": "simclr", "kind": "events"} for i in idx])
            s._touch("run_logs")
        queries = [q for q, _ in QUESTIONS][:20]
        v50, v95 = latency(s, queries, "run_logs", "vector")
        h50, h95 = latency(s, queries, "run_logs", "hybrid")
        perf.append([n, round(n / ingest_s, 1), round(v50, 1), round(v95, 1), round(h50, 1), round(h95, 1)])
        print(table(["chunks", "ingest chunks/s", "vector p50 ms", "vector p95 ms", "hybrid p50 ms", "hybrid p95 ms"],
                    perf[-1:]), flush=True)

    print(f"\n## Knowledge store ({machine()}; all-MiniLM-L6-v2 on CPU)\n")
    print("ingest chunks/s: embedding + upsert of 2,000 real chunks; the larger store is filled up with jittered "
          "copies of those embeddings, so its search latency is measured on a real 50k-chunk index.\n")
    print(f"starter corpus: {n_corpus} chunks ingested in {t_corpus:.1f}s (model load included)\n")
    print(table(["chunks", "ingest chunks/s", "vector p50 ms", "vector p95 ms", "hybrid p50 ms", "hybrid p95 ms"], perf))
    print()
    print(table(["ranking", "answer chunk in top 5", "recall@5"], quality))


if __name__ == "__main__":
    main()
