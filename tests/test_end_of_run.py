"""End-of-run work is bounded by the run, not by the dataset: a one-step run on an unlabelled folder embeds only
its batch and its health sample, and the probe on a labelled one embeds a seeded sample sized by a time budget."""

from __future__ import annotations

import json
import shutil

import pytest
import torch
from conftest import make_run_dir, tiny_config
from photos import make_photos

import ssl_runtime.probe as probe_module
from ssl_runtime.backbones import Backbone
from ssl_runtime.run_folder import RunFolder
from ssl_runtime.worker import run_worker

N_IMAGES = 240


@pytest.fixture(scope="module")
def labelled(tmp_path_factory):
    return make_photos(tmp_path_factory.mktemp("labelled"), N_IMAGES)


@pytest.fixture(scope="module")
def unlabelled(labelled, tmp_path_factory):
    """The same images in one flat folder: no class subfolders, so no labels."""
    flat = tmp_path_factory.mktemp("unlabelled")
    for f in labelled.rglob("*.jpg"):
        shutil.copy(f, flat / f"{f.parent.name}-{f.name}")
    return flat


def _one_step(folder, tmp_path, **overrides):
    return make_run_dir(tmp_path, tiny_config("simclr", **{
        "data.name": None, "data.path": str(folder), "data.image_size": 24, "data.cache_dir": str(tmp_path / "cache"),
        "data.workers": 1, "train.steps": 1, "train.batch_size": 32, "train.health_samples": 32, **overrides}))


@pytest.fixture
def embedded(monkeypatch) -> list[int]:
    """Counts every image any backbone embeds in this process (training, health, probe)."""
    seen: list[int] = []
    forward = Backbone.forward

    def counting(self, x):
        seen.append(int(x.shape[0]))
        return forward(self, x)

    monkeypatch.setattr(Backbone, "forward", counting)
    return seen


def test_a_one_step_run_on_an_unlabelled_folder_does_not_embed_the_whole_set(unlabelled, tmp_path, embedded):
    run = _one_step(unlabelled, tmp_path)
    summary = run_worker(run)
    assert summary["status"] == "succeeded" and "probe" not in summary
    assert "monitor/knn_acc" not in summary["final"]  # no labels: no kNN monitor
    # one step of two views of 32, the health sample (two views of 32) and the width check: nowhere near 240
    assert sum(embedded) <= 2 * 32 + 2 * 32 + 8 < N_IMAGES, embedded
    events = RunFolder(run).read_events()
    assert any(e.get("kind") == "probe_skipped" and "no labels" in e["message"] for e in events)
    phases = [e for e in events if e.get("kind") == "phases"]
    assert phases and "evaluation_s" in phases[-1] and "first_step_s" in phases[-1]
    statuses = [e["status"] for e in events if e["type"] == "status"]
    assert statuses[-1] == "succeeded"
    assert events.index(phases[-1]) > max(i for i, e in enumerate(events) if e["type"] == "status")  # final first


def test_the_probe_embeds_a_seeded_sample_sized_by_its_time_budget(labelled, tmp_path, embedded, monkeypatch):
    monkeypatch.setattr(probe_module, "MIN_PROBE_IMAGES", 60)  # the floor, so a tiny budget shows the cap
    # the kNN monitor's bank (eval.knn_monitor_images, bounded by that setting) is left out of this count
    run = _one_step(labelled, tmp_path, **{"eval.time_budget_s": 1e-6, "eval.knn_monitor_images": 0})
    summary = run_worker(run)
    sample = summary["probe"]["sample"]
    assert sample["images"] == 60 and sample["available"] == N_IMAGES and "time_budget_s=1e-06" in sample["why"]
    assert summary["probe"]["num_train"] + summary["probe"]["num_val"] == 60
    saved = json.loads(RunFolder(run).probe.read_text())
    assert saved["sample"] == sample
    # the gain's paired error is kept, the per-image records it came from are not (12 validating images: >= 1/12)
    assert saved["probe/gain_se"] >= 1 / 12 - 1e-4 and "probe/correct" not in json.dumps(saved)
    said = [e["message"] for e in RunFolder(run).read_events() if e["type"] == "probe"]
    assert said and f"on 60 of {N_IMAGES} images" in said[-1]
    # calibration (4 to warm up, 32 timed) + two passes over the sample: far less than two passes over the set
    assert sum(embedded) - (2 * 32 + 2 * 32 + 8) <= 36 + 2 * 60 < 2 * N_IMAGES, embedded
    # probed again (other kNN settings): the same sample, whatever the budget would say on a busier machine
    again = probe_module.probe_run(run, eval_overrides={"knn_k": 5})
    assert again["sample"]["images"] == 60 and "first probe" in again["sample"]["why"]
    wider = probe_module.probe_run(run, eval_overrides={"time_budget_s": 1e6})  # other sampling settings
    assert wider["sample"] == {"images": N_IMAGES, "available": N_IMAGES, "why": "all images"}


def test_a_set_under_twice_the_floor_is_probed_whole(labelled, tmp_path, monkeypatch):
    """The sizes would be the floor or everything, and a sweep's runs, timing the embedding on a busy machine,
    would split between them: everything, whatever the budget."""
    monkeypatch.setattr(probe_module, "MIN_PROBE_IMAGES", 200)  # 240 images: under 400
    run = _one_step(labelled, tmp_path, **{"eval.time_budget_s": 1e-6})
    assert run_worker(run)["probe"]["sample"] == {"images": N_IMAGES, "available": N_IMAGES, "why": "all images"}


def test_sample_sizes_step_by_doubling_so_a_sweep_shares_its_sample():
    from ssl_runtime.probe import doubling

    assert [doubling(200, f) for f in (0, 399, 400, 799, 800, 1000, 3300)] == [200, 200, 400, 400, 800, 800, 3200]


def test_a_large_budget_probes_every_image(labelled, tmp_path):
    run = _one_step(labelled, tmp_path, **{"eval.time_budget_s": 1e6})
    sample = run_worker(run)["probe"]["sample"]
    assert sample == {"images": N_IMAGES, "available": N_IMAGES, "why": "all images"}


def test_the_default_budget_is_proportional_to_the_training_time(tmp_path):
    from ssl_runtime.config import EvalConfig
    from ssl_runtime.probe import time_budget

    folder = RunFolder(tmp_path / "run").create()
    budgets = []
    for wall in (2.0, 400.0, 36000.0):
        folder.write_summary({"wall_time_s": wall})
        budgets.append(time_budget(folder, EvalConfig())[0])
    assert budgets == [5.0, 100.0, 300.0]
    assert time_budget(folder, EvalConfig(time_budget_s=7))[0] == 7


def test_features_are_embedded_in_bounded_batches(monkeypatch):
    from ssl_runtime.probe import extract_features

    sizes: list[int] = []

    class Probe(torch.nn.Module):
        def forward(self, x):
            sizes.append(int(x.shape[0]))
            return x.mean(dim=(2, 3))

    pre = {"mean": [0.5] * 3, "std": [0.25] * 3}
    extract_features(Probe(), torch.zeros(200, 3, 224, 224, dtype=torch.uint8), pre, torch.device("cpu"))
    assert max(sizes) <= 83 and sum(sizes) == 200  # (1 << 22) // 224**2: about 50 MB of float input per batch
    sizes.clear()
    extract_features(Probe(), torch.zeros(600, 3, 16, 16, dtype=torch.uint8), pre, torch.device("cpu"))
    assert sizes == [512, 88]
