"""Two gloo processes on CPU follow the single-process loss curve at the same global batch."""

import subprocess
import sys

import pytest
from conftest import subprocess_env, torchrun_failed

from ssl_runtime.run_folder import RunFolder

# DINO on a ViT: no BatchNorm anywhere (per-rank batch statistics would differ), and with
# augment.strength=0 the views carry no randomness, so the two runs must agree to float precision.
DDP_CFG = {"backbone.name": "vit_tiny", "backbone.width": 0.25, "augment.strength": 0.0,
           "augment.n_local_crops": 0, "train.steps": 6, "train.log_every": 1, "train.batch_size": 32,
           "train.health_every": 3, "eval.knn_monitor_images": 128}  # the monitor runs, on a small bank


def _losses(run_dir):
    return [r["loss"] for r in RunFolder(run_dir).read_metrics() if "loss" in r]


def test_two_process_gloo_matches_single_process(run_dir_factory):
    single = run_dir_factory("dino", name="single", **DDP_CFG)
    ddp = run_dir_factory("dino", name="ddp", **DDP_CFG)
    env = subprocess_env()
    r1 = subprocess.run([sys.executable, "-m", "ssl_runtime", "run", str(single), "--no-probe"], env=env,
                        capture_output=True, text=True, timeout=300)
    assert r1.returncode == 0, r1.stderr[-2000:]
    r2 = subprocess.run([sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2",
                         "-m", "ssl_runtime", "run", str(ddp)], env=env, capture_output=True, text=True, timeout=300)
    assert RunFolder(ddp).status() == "succeeded", r2.stderr[-3000:]
    a, b = _losses(single), _losses(ddp)
    assert len(a) == len(b) == 6
    assert b == pytest.approx(a, rel=1e-4, abs=1e-5)
    assert a[0] != pytest.approx(a[-1], rel=1e-6)  # it did train
    # the ranks left the group after training, so only rank 0 probed and summed up the phases
    assert RunFolder(ddp).probe.exists()
    assert [e.get("kind") for e in RunFolder(ddp).read_events()].count("phases") == 1
    assert r2.returncode == 0, torchrun_failed(r2)
    assert RunFolder(ddp).read_events()[0]["world_size"] == 2
