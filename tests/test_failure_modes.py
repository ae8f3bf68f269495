"""Induced failures behave as documented: collapse shows in the health metrics, divergence stops the run."""

import statistics

import torch

from ssl_runtime.errors import CheckpointError
from ssl_runtime.run_folder import RunFolder, read_jsonl
from ssl_runtime.trainer import train


def _settled(metrics_file, key: str) -> float:
    """Median of the last three health measurements: one noisy point cannot flip the test."""
    rows = [r for r in read_jsonl(metrics_file) if key in r]
    return statistics.median(r[key] for r in rows[-3:])


def test_simsiam_without_predictor_and_stop_gradient_collapses(simsiam_pair):
    """The session's SimSiam pair (conftest.simsiam_pair: SIMSIAM_SMALL and COLLAPSE, trained once), read as
    trained, before the audit tests rewrite their metrics."""
    healthy, collapsed = (simsiam_pair[k] / "metrics.as_trained.jsonl" for k in ("healthy", "collapsed"))
    # Only signals with a measured margin of 3x or more are asserted (2-core AMD EPYC). The spread (healthy 0.99,
    # collapsed 0.49 x isotropic: 2x) and the loss (-0.89 vs -0.36) are measured in benchmarks/induced_failures.py.
    # RankMe: healthy ~28, collapsed ~1.3: the outputs line up along one direction (4.3x inside the 0.2 bound)
    h_rank, c_rank = _settled(healthy, "health/rank"), _settled(collapsed, "health/rank")
    assert c_rank < 0.2 * h_rank, (h_rank, c_rank)
    # uniformity is 0 when embeddings coincide: collapsed -0.13 (7.7x inside the -1.0 bound)
    assert _settled(collapsed, "health/uniformity") > -1.0


def test_absurd_learning_rate_diverges_and_keeps_last_good_checkpoint(run_dir_factory):
    run_dir = run_dir_factory("mae", **{"optim.name": "sgd", "optim.lr": 10.0, "train.steps": 40,
                                        "train.checkpoint_every": 5})
    summary = train(run_dir)
    folder = RunFolder(run_dir)
    assert summary["status"] == "diverged"
    err = next(e for e in folder.read_events() if e["type"] == "error")
    assert err["kind"] == "non_finite_loss" and err["step"] > summary["last_checkpoint_step"] > 0
    state = torch.load(folder.last_checkpoint, weights_only=False)
    assert state["step"] == summary["last_checkpoint_step"]
    assert all(torch.isfinite(v).all() for v in state["model"].values() if v.is_floating_point())
    assert folder.status() == "diverged"
    assert not folder.encoder.exists()


def test_resume_with_checkpoint_of_another_method_is_refused(run_dir_factory):
    a = run_dir_factory("simclr", name="a")
    train(a)
    b = run_dir_factory("byol", name="b")
    RunFolder(b).checkpoints.mkdir(exist_ok=True)
    RunFolder(b).last_checkpoint.write_bytes(RunFolder(a).last_checkpoint.read_bytes())
    before = RunFolder(b).last_checkpoint.read_bytes()
    try:
        train(b, resume=True)
        raise AssertionError("resume should have been refused")
    except CheckpointError as exc:
        assert "simclr" in str(exc) and "byol" in str(exc)
    assert RunFolder(b).last_checkpoint.read_bytes() == before  # nothing damaged


FULL_DISK_CHECKPOINT = """
import errno, resource, signal, sys
from pathlib import Path
import torch
from ssl_runtime.checkpoint import load_checkpoint, save_checkpoint
path = Path(sys.argv[1])
def save(width, step):
    model = torch.nn.Linear(width, width)
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda s: 1.0)
    save_checkpoint(path, method_name="simclr", step=step, model=model, optimizer=opt, scheduler=sched, scaler=None)
save(4, 1)  # a small checkpoint first: it must survive
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # writes past the limit fail with EFBIG, like a full disk
resource.setrlimit(resource.RLIMIT_FSIZE, (200_000, 200_000))
try:
    save(512, 2)  # about 1 MB: past the limit
except OSError as exc:
    print("OSError", exc.errno == errno.EFBIG)
print("kept step", torch.load(path, weights_only=False)["step"], "tmp left", path.with_name(path.name + ".tmp").exists())
"""


def test_a_full_disk_while_checkpointing_is_an_oserror_and_keeps_the_last_checkpoint(tmp_path):
    """torch's writer turns a failed write into a RuntimeError; the trainer trains on through an OSError (a full
    disk), so save_checkpoint must surface the OSError, and the checkpoint before it must stay whole (session 20:
    a benchmark's run stopped on a full disk with torch's RuntimeError)."""
    import subprocess
    import sys

    from conftest import subprocess_env

    out = subprocess.run([sys.executable, "-c", FULL_DISK_CHECKPOINT, str(tmp_path / "last.pt")],
                         env=subprocess_env(), capture_output=True, text=True, timeout=120)
    assert "OSError True" in out.stdout, (out.stdout, out.stderr[-1500:])
    assert "kept step 1 tmp left False" in out.stdout
