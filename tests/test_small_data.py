"""Small data runs on the defaults: an unset batch size shrinks to fit (and says so); one the user set is refused."""

import json
import subprocess
import sys

import numpy as np
from conftest import ROOT, subprocess_env
from PIL import Image

from ssl_runtime.run_folder import RunFolder


def sslpilot(*args, home):
    env = {**subprocess_env(), "SSLPILOT_HOME": str(home), "SSLPILOT_AUTOSTART": "0"}
    return subprocess.run([sys.executable, "-m", "ui.cli", *args], capture_output=True, text=True, env=env,
                          cwd=ROOT, timeout=600)


def _corpus(root, files=40):
    rng = np.random.default_rng(0)
    words = "the encoder learns views of images and text with a projector and a predictor head".split()
    root.mkdir()
    for i in range(files):
        (root / f"doc{i}.txt").write_text("\n".join(" ".join(rng.choice(words, 14)) for _ in range(12)))
    return root


def _photos(root, n=100):
    rng = np.random.default_rng(0)
    for i in range(n):
        folder = root / ("cats" if i % 2 else "dogs")
        folder.mkdir(parents=True, exist_ok=True)
        Image.fromarray(rng.integers(0, 255, (40, 48, 3), dtype=np.uint8)).save(folder / f"{i}.png")
    return root


def _auto_event(run_dir):
    return next(e for e in RunFolder(run_dir).read_events() if e.get("kind") == "batch_size_auto")


def test_small_corpus_mlm_runs_on_defaults(tmp_path):
    corpus = _corpus(tmp_path / "corpus")
    r = sslpilot("pretrain", "--method", "mlm", "--data", str(corpus), "--steps", "12", "--set", "train.device=cpu",
                 home=tmp_path / "home")
    assert r.returncode == 0, r.stderr
    run_dir = tmp_path / "home" / "runs" / "1"
    summary = json.loads((run_dir / "summary.json").read_text())
    event = _auto_event(run_dir)
    assert summary["status"] == "succeeded" and summary["batch_size"] == event["batch_size"] < 256
    assert event["batch_size"] * 4 <= event["n_train"]  # at least 4 steps per epoch
    assert f"batch size {event['batch_size']} chosen" in r.stdout  # the launch summary says so too


def test_hundred_images_run_on_defaults(tmp_path):
    photos = _photos(tmp_path / "photos")
    r = sslpilot("pretrain", "--method", "simclr", "--data", str(photos), "--steps", "3", "--json",
                 "--set", "train.device=cpu", "--set", "backbone.name=small_cnn", home=tmp_path / "home")
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    assert out["status"] == "succeeded" and out["summary"]["batch_size"] == 16  # 80 training images -> 16
    assert _auto_event(out["run_dir"])["n_train"] == 80


def test_a_batch_the_user_set_is_refused_when_larger_than_the_data(tmp_path):
    photos = _photos(tmp_path / "photos", n=20)
    r = sslpilot("pretrain", "--method", "simclr", "--data", str(photos), "--steps", "2", "--batch-size", "64",
                 "--set", "train.device=cpu", home=tmp_path / "home")
    assert r.returncode != 0
    assert "train.batch_size: batch size 64 is larger than the 16 training images" in r.stderr
