"""Shared helpers: tiny configs that exercise the real code paths in seconds on 2 CPU cores."""

from __future__ import annotations

import atexit
import os
import shutil
import sys
import tempfile
from pathlib import Path

import pytest
import torch

# two threads, as on CI's 2 cores; OMP_NUM_THREADS=N runs the suite with N instead (to catch outcomes that
# depend on the thread count before users do: see issue 21's two runs in benchmarks/RESULTS.md). Under
# pytest-xdist (scripts/dev.sh runs two workers) each worker, and the processes its tests start, take their
# share of the cores: threads past the core count only wait on each other.
_WORKERS = int(os.environ.get("PYTEST_XDIST_WORKER_COUNT") or 1)
if _WORKERS > 1 and "OMP_NUM_THREADS" not in os.environ:
    os.environ["OMP_NUM_THREADS"] = str(max(1, min(2, os.cpu_count() or 1) // _WORKERS))
torch.set_num_threads(int(os.environ.get("OMP_NUM_THREADS") or min(2, os.cpu_count() or 1)))

# The files that take longest (real clusters, real process kills), longest first (measured in the suite's
# --durations), are handed out first, so that two workers finish together instead of one running a long file alone
# at the end. scripts/dev.sh passes --no-loadscope-reorder: since pytest-xdist 3.8 the scheduler otherwise reorders
# files by their count of tests, which put the Ray file (few tests, 9 minutes) last.
LONGEST_FIRST = ("test_ray.py", "test_audit.py", "test_text_clip.py", "test_queue.py", "test_agent.py",
                 "test_slurm.py", "test_amend.py", "test_ui_auth.py", "test_sweep_chat.py", "test_forecast.py",
                 "test_data_engine.py", "test_cli.py", "test_resume.py", "test_understanding.py", "test_ui.py")


def pytest_collection_modifyitems(config, items) -> None:
    rank = {name: i for i, name in enumerate(LONGEST_FIRST)}
    items.sort(key=lambda item: rank.get(item.path.name, len(rank)))  # stable: file order within a file is kept

ROOT = Path(__file__).resolve().parents[1]

# each test's queue would start its own warm launcher (seconds of imports on 2 cores, for runs of a few steps);
# tests/test_warm_worker.py turns it on. Child processes inherit this.
os.environ.setdefault("SSLPILOT_WARM_WORKER", "0")

# nothing a test writes lands in the checkout: runs without a home of their own (caches, kept probe
# baselines) use one per test session, removed at its end
_SESSION_HOME = tempfile.mkdtemp(prefix="sslpilot-tests-")
os.environ["SSLPILOT_HOME"] = _SESSION_HOME
atexit.register(shutil.rmtree, _SESSION_HOME, True)

TINY_ARGS = {
    "simclr": {"proj_hidden_dim": 64, "proj_dim": 32},
    "moco": {"proj_hidden_dim": 64, "proj_dim": 32, "pred_hidden_dim": 64},
    "byol": {"proj_hidden_dim": 64, "proj_dim": 32, "pred_hidden_dim": 64},
    "simsiam": {"proj_hidden_dim": 64, "proj_dim": 32, "pred_hidden_dim": 16},
    "dino": {"proj_hidden_dim": 64, "bottleneck_dim": 32, "out_dim": 256},
    "barlow_twins": {"proj_hidden_dim": 64, "proj_dim": 64},
    "vicreg": {"proj_hidden_dim": 64, "proj_dim": 64},
    "mae": {},
    "mlm": {"block_size": 32, "vocab_size": 200, "hidden_size": 32, "num_layers": 1, "num_heads": 2},
    "clm": {"block_size": 32, "vocab_size": 200, "hidden_size": 32, "num_layers": 1, "num_heads": 2},
    "clip": {"embed_dim": 32, "text_hidden_size": 32, "text_layers": 1, "text_heads": 2, "vocab_size": 150,
             "max_length": 16},
}


# SimSiam without its predictor and stop-gradient, at 3x its default lr so the collapse comes early and stays:
# the induced collapse that the diagnosis, agent and UI tests share.
SIMSIAM_SMALL = {"train.steps": 120, "train.log_every": 5, "train.health_every": 20, "train.batch_size": 128,
                 "train.checkpoint_every": 40, "backbone.width": 0.5, "method_args.proj_hidden_dim": 128,
                 "method_args.proj_dim": 64, "method_args.pred_hidden_dim": 32}
COLLAPSE = {**SIMSIAM_SMALL, "method_args.predictor": False, "method_args.stop_gradient": False, "optim.lr": 3e-3}
# the same faulty config, trained only long enough for real files (checkpoints, metrics, encoder): for runs
# that tests/constructed.py then makes collapsed, where the training's own outcome is overwritten anyway
COLLAPSE_BY_CONSTRUCTION = {**COLLAPSE, "train.steps": 30, "train.log_every": 3, "train.health_every": 10,
                            "train.checkpoint_every": 10}
# Verdict families a constructed collapse (tests/constructed.py) may read as.
COLLAPSED = ("complete_collapse", "dimensional_collapse")


def tiny_config(method: str = "simclr", **overrides) -> dict:
    """A raw config tree for a few-second run on digits."""
    tree = {
        "method": method,
        "data": {"name": "digits", "image_size": 16},
        "backbone": {"name": "vit_tiny" if method == "mae" else "small_cnn", "width": 0.25},
        "augment": {"n_local_crops": 2} if method == "dino" else {},
        "train": {"steps": 12, "batch_size": 64, "log_every": 2, "health_every": 4, "checkpoint_every": 6,
                  "health_samples": 128, "device": "cpu"},
        "method_args": dict(TINY_ARGS[method]),
    }
    for key, value in overrides.items():
        node = tree
        parts = key.split(".")
        for p in parts[:-1]:
            node = node.setdefault(p, {})
        node[parts[-1]] = value
    return tree


def make_run_dir(root: Path, tree: dict, name: str = "run") -> Path:
    from ssl_runtime.config import save_config
    from ssl_runtime.configure import build_config
    from ssl_runtime.run_folder import RunFolder

    folder = RunFolder(root / name).create()
    save_config(build_config(tree), folder.config)
    return folder.path


@pytest.fixture(scope="session")
def simsiam_pair(tmp_path_factory, worker_id) -> dict[str, Path]:
    """A collapsed and a healthy SimSiam run on digits (trained once per session, no probe): their metrics
    feed the import tests and their checkpoints the audit tests. Real runs for the real files; the collapse
    is then made certain by construction (tests/constructed.py). Under pytest-xdist the workers share one pair
    (pytest-xdist's pattern: a lock in the session's folder), so it is trained once, not once a worker."""
    from filelock import FileLock

    shared = tmp_path_factory.getbasetemp()
    if worker_id != "master":  # gw0, gw1: their folders sit in this session's folder
        shared = shared.parent
    root = shared / "simsiam-pair"
    with FileLock(f"{root}.lock"):
        if not (root / "done").exists():
            _train_simsiam_pair(root)
            (root / "done").touch()
    return {name: root / name for name in ("collapsed", "healthy")}


def _train_simsiam_pair(root: Path) -> None:
    from constructed import collapse_run, rewrite_health

    from ssl_runtime.worker import run_worker

    shutil.rmtree(root, ignore_errors=True)
    root.mkdir(parents=True)
    out = {}
    for name, overrides in (("collapsed", COLLAPSE), ("healthy", SIMSIAM_SMALL)):
        out[name] = make_run_dir(root, tiny_config("simsiam", **overrides, **{"train.keep_checkpoints": 3}), name)
        run_worker(out[name], probe=False)
        # the metrics as trained, before the rewrite below: tests/test_failure_modes.py reads what emerged
        shutil.copy(out[name] / "metrics.jsonl", out[name] / "metrics.as_trained.jsonl")
    collapse_run(out["collapsed"])  # the verdicts are decided by construction, not by this CPU's numerics
    rewrite_health(out["healthy"], "healthy")


@pytest.fixture
def run_dir_factory(tmp_path):
    def make(method: str = "simclr", name: str = "run", **overrides) -> Path:
        return make_run_dir(tmp_path, tiny_config(method, **overrides), name)

    return make


@pytest.fixture
def python() -> str:
    return sys.executable


def torchrun_failed(r) -> str:
    """The failure message of a torchrun whose run succeeded and whose exit did not: the output's tails, and the
    dump `faulthandler` writes when a rank aborts (its threads' stacks, which a tail of stderr cuts off). A rank has
    aborted at teardown about once in 20 suites (RESULTS.md, session 45); the stacks say where."""
    fatal = r.stderr.find("Fatal Python error")
    dump = f"\nthe aborted rank's stacks:\n{r.stderr[fatal:fatal + 6000]}" if fatal >= 0 else ""
    return f"the run succeeded, then torchrun failed:\n{r.stdout[-1500:]}\n{r.stderr[-3000:]}{dump}"


def subprocess_env() -> dict:
    env = dict(os.environ)
    env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    env["OMP_NUM_THREADS"] = "1"
    return env


def sslpilot_cli(home, *args: str, ok: bool = True, timeout: float = 240):
    """`sslpilot ARGS` in a fresh process against `home` (a folder or a Home), as a user types it; asserts the exit
    code."""
    import subprocess

    from tools.home import Home

    folder = home.root if isinstance(home, Home) else home  # not getattr(home, "root"): a Path's .root is "/"
    env = {**subprocess_env(), "SSLPILOT_HOME": str(folder), "SSLPILOT_AUTOSTART": "0"}
    done = subprocess.run([sys.executable, "-m", "ui.cli", *args], env=env, capture_output=True, text=True,
                          timeout=timeout)
    assert (done.returncode == 0) == ok, done.stderr
    return done


def start_worker(run_dir, *extra):
    """`python -m ssl_runtime run RUN_DIR --no-probe` as a separate process (what the queue starts)."""
    import subprocess

    return subprocess.Popen([sys.executable, "-m", "ssl_runtime", "run", str(run_dir), "--no-probe", *extra],
                            env=subprocess_env(), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def logged_losses(run_dir) -> dict[int, float]:
    from ssl_runtime.run_folder import RunFolder

    return {r["step"]: r["loss"] for r in RunFolder(run_dir).read_metrics() if "loss" in r}


def sigkill_after_step(proc, run_dir, step: int, timeout: float = 300) -> int:
    """SIGKILL the worker once it has logged `step`; returns the last step it logged."""
    import signal
    import time

    from ssl_runtime.run_folder import RunFolder

    folder = RunFolder(run_dir)
    deadline = time.time() + timeout
    while time.time() < deadline:
        steps = [r.get("step", 0) for r in folder.read_metrics()]
        if steps and max(steps) >= step:
            break
        time.sleep(0.01)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    assert not folder.summary.exists(), "the worker finished before it could be killed"
    return max(r.get("step", 0) for r in folder.read_metrics())
