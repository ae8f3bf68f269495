"""Cost of the health metrics at the default health_every, as a share of training time.

Three identical runs: health only at the first and last step, health every 50 steps (the default), and the same with
the kNN monitor (monitor/knn_acc, on by default where images have labels); then each metric's own cost on one health
batch (512 samples) at the projector widths people use.
    python benchmarks/health_overhead.py [--steps 300] [--data shapes] [--only-metrics]
"""

from __future__ import annotations

import argparse

from _common import machine, make_run, table


def run(steps: int, health_every: int, data: str, method: str, device: str, knn_images: int = 1024) -> dict:
    from ssl_runtime.trainer import train

    tree = {"method": method, "data": {"name": data},
            "train": {"steps": steps, "batch_size": 256, "log_every": 10, "health_every": health_every,
                      "checkpoint_every": 10**9, "device": device},
            "method_args": {"proj_hidden_dim": 1024, "proj_dim": 128}, "eval": {"knn_monitor_images": knn_images}}
    return train(make_run(tree, f"h{health_every}-k{knn_images}"))


def metric_costs(device: str) -> None:
    """Milliseconds per health measurement for each metric, on two views of 512 random embeddings."""
    import time

    import torch

    from ssl_runtime.device import pick_device
    from ssl_runtime.health import alignment, alpha_req, lidar, rankme, std_of_l2_normalized, uniformity

    dev = pick_device(device)
    metrics = {"std": lambda a, b: std_of_l2_normalized(a), "rank (RankMe)": lambda a, b: rankme(a),
               "alignment": alignment, "uniformity": lambda a, b: uniformity(a), "lidar": lambda a, b: lidar([a, b]),
               "alpha_req": lambda a, b: alpha_req(a)}
    rows = []
    for d in (128, 2048, 8192):
        z1, z2 = torch.randn(512, d, device=dev), torch.randn(512, d, device=dev)
        row = [d]
        for fn in metrics.values():
            fn(z1, z2)  # warm-up
            t = time.perf_counter()
            for _ in range(3):
                float(fn(z1, z2))
            row.append(round((time.perf_counter() - t) / 3 * 1000, 1))
        rows.append(row)
    print(f"\n## Cost of each health metric, ms per measurement (512 samples; {machine()})\n")
    print(table(["d", *metrics], rows))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--steps", type=int, default=300)
    ap.add_argument("--data", default="shapes")
    ap.add_argument("--method", default="simclr")
    ap.add_argument("--device", default="auto")
    ap.add_argument("--only-metrics", action="store_true")
    args = ap.parse_args()
    metric_costs(args.device)
    if args.only_metrics:
        return
    run(20, 10, args.data, args.method, args.device)  # warm-up: allocator, kernels, page cache
    off = run(args.steps, 10**9, args.data, args.method, args.device, knn_images=0)
    on = run(args.steps, 50, args.data, args.method, args.device, knn_images=0)
    knn = run(args.steps, 50, args.data, args.method, args.device)  # the kNN monitor too (the default on labels)
    print(f"\n## Health-metric overhead ({args.method} on {args.data}, {args.steps} steps; {machine()})\n")
    print(table(["setting", "health measurements", "wall s", "img/s", "overhead"], [
        ["health at first+last step, no kNN monitor", 2, off["wall_time_s"], off["samples_per_s"], "reference"],
        ["health_every=50, no kNN monitor", 2 + args.steps // 50 - 1, on["wall_time_s"], on["samples_per_s"],
         f"{(on['wall_time_s'] / off['wall_time_s'] - 1) * 100:+.2f}%"],
        ["health_every=50 with the kNN monitor (default)", 2 + args.steps // 50 - 1, knn["wall_time_s"],
         knn["samples_per_s"], f"{(knn['wall_time_s'] / off['wall_time_s'] - 1) * 100:+.2f}%"],
    ]))


if __name__ == "__main__":
    main()
