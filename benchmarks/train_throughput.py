"""Training throughput per method: sslpilot's loop against a plain reference loop, same model, same run.

The reference is what most SSL scripts do: a DataLoader whose dataset augments one image at a time on
the CPU (the same kornia ops, called per sample), default collation, then a copy to the device.
sslpilot keeps the uint8 dataset resident on the device and augments whole batches there.
    python benchmarks/train_throughput.py [--steps 40] [--methods simclr,byol] [--data shapes]
"""

from __future__ import annotations

import argparse
import time

import torch
from _common import machine, make_run, table

HEADS = {
    "simclr": {"proj_hidden_dim": 1024, "proj_dim": 128},
    "moco": {"proj_hidden_dim": 1024, "proj_dim": 128, "pred_hidden_dim": 1024},
    "byol": {"proj_hidden_dim": 1024, "proj_dim": 128, "pred_hidden_dim": 1024},
    "simsiam": {"proj_hidden_dim": 1024, "proj_dim": 1024, "pred_hidden_dim": 256},
    "dino": {"proj_hidden_dim": 1024, "bottleneck_dim": 128, "out_dim": 4096},
    "barlow_twins": {"proj_hidden_dim": 1024, "proj_dim": 1024},
    "vicreg": {"proj_hidden_dim": 1024, "proj_dim": 1024},
    "mae": {},
}


class PerSampleViews(torch.utils.data.Dataset):
    """Reference data path: augment one image at a time, on the CPU, inside the DataLoader."""

    def __init__(self, images: torch.Tensor, pipeline):
        self.images, self.pipeline = images, pipeline

    def __len__(self) -> int:
        return len(self.images)

    def __getitem__(self, i: int):
        return [v[0] for v in self.pipeline(self.images[i:i + 1])]


def reference_loop(tree: dict, steps: int, device: torch.device) -> float:
    from ssl_runtime.augment import ViewPipeline, channel_stats
    from ssl_runtime.configure import build_config
    from ssl_runtime.data import default_image_size, load_builtin
    from ssl_runtime.methods import build_method
    from ssl_runtime.optim import build_optimizer

    cfg = build_config(tree)
    data = load_builtin(cfg.data, default_image_size(cfg.data))
    method = build_method(cfg, data.image_size, steps).to(device)
    mean, std = channel_stats(data.images)
    pipe = ViewPipeline(method.view_recipes(data.image_size, cfg.augment), 1.0, mean, std)
    loader = torch.utils.data.DataLoader(PerSampleViews(data.images, pipe), batch_size=cfg.train.batch_size,
                                         shuffle=True, drop_last=True, num_workers=0,
                                         pin_memory=device.type == "cuda")
    opt, _ = build_optimizer(method, cfg.optim, method.base_lr, method.weight_decay, cfg.train.batch_size)
    it, done, t0 = iter(loader), 0, None
    while done < steps + 2:
        try:
            views = next(it)
        except StopIteration:
            it = iter(loader)
            views = next(it)
        if done == 2:  # two warm-up steps
            t0 = time.perf_counter()
        views = [v.to(device, non_blocking=True) for v in views]
        loss = method.training_step(views, done)["loss"]
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        method.after_step(done)
        print(f"  reference step {done} loss {loss.item():.3f}", end="\r")  # the usual per-step sync
        done += 1
    if device.type == "cuda":
        torch.cuda.synchronize()
    return steps * cfg.train.batch_size / (time.perf_counter() - t0)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--steps", type=int, default=40)
    ap.add_argument("--methods", default=",".join(HEADS))
    ap.add_argument("--data", default="shapes")
    ap.add_argument("--batch-size", type=int, default=256)
    ap.add_argument("--device", default="auto")
    args = ap.parse_args()

    from ssl_runtime.device import pick_device
    from ssl_runtime.trainer import train

    device = pick_device(args.device)
    rows = []
    for method in args.methods.split(","):
        tree = {"method": method, "data": {"name": args.data},
                "backbone": {"name": "vit_tiny" if method == "mae" else "auto"},
                "augment": {"n_local_crops": 4} if method == "dino" else {},
                "train": {"steps": args.steps, "batch_size": args.batch_size, "log_every": 10,
                          "health_every": 50, "checkpoint_every": 10**9, "device": str(device)},
                "method_args": HEADS[method]}
        ref = reference_loop(tree, args.steps, device)
        ours = train(make_run(tree, method))["samples_per_s"]
        rows.append([method, ref, ours, f"{ours / ref:.2f}x"])
        print(table(["method", "reference img/s", "sslpilot img/s", "speed-up"], rows[-1:]), flush=True)
    print(f"\n## Training throughput, {args.data}, batch {args.batch_size}, {args.steps} steps ({machine()})\n")
    print(table(["method", "reference img/s", "sslpilot img/s", "speed-up"], rows))


if __name__ == "__main__":
    main()
