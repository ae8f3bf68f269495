"""The kNN monitor (monitor/knn_acc at each health step, where images have labels): its vote on constructed
features and images, and that a run logs it only where it can and was asked to."""

from __future__ import annotations

import json

import pytest
import torch
import torch.nn.functional as F
from conftest import make_run_dir, tiny_config
from torch import nn

from ssl_runtime.knn_monitor import KNN_ACC, KnnMonitor
from ssl_runtime.probe import knn_eval, knn_predict
from ssl_runtime.run_folder import RunFolder
from ssl_runtime.worker import run_worker


def _two_classes(n: int, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Images of class 0 dark and of class 1 bright, each pixel jittered: apart by construction."""
    g = torch.Generator().manual_seed(seed)
    y = torch.arange(n) % 2
    x = (40 + 160 * y.view(-1, 1, 1, 1) + torch.randint(0, 30, (n, 3, 8, 8), generator=g)).to(torch.uint8)
    return x, y


def test_the_vote_is_the_nearest_neighbours_class():
    bank = F.normalize(torch.tensor([[1.0, 0.0], [0.9, 0.1], [0.0, 1.0], [0.1, 0.9]]), dim=1)
    labels = torch.tensor([0, 0, 1, 1])
    query = F.normalize(torch.tensor([[1.0, 0.2], [0.2, 1.0]]), dim=1)
    predicted, neighbours = knn_predict(bank, labels, query, n_classes=2, k=2)
    assert predicted.tolist() == [0, 1] and neighbours[:, 0].tolist() == [0, 1]
    assert knn_eval(bank, labels, query, torch.tensor([0, 1]), k=2)["acc"] == 1.0


def test_the_monitor_scores_held_out_images_against_the_labelled_bank():
    bank, bank_y = _two_classes(64, 0)
    query, query_y = _two_classes(32, 1)
    flat = nn.Flatten()
    normalise = lambda x: x.float() / 255.0 - 0.5  # noqa: E731 - centred, so dark and bright point apart
    right = KnnMonitor(lambda: (bank, bank_y, query, query_y), normalise, n_classes=2, k=5).measure(flat)
    assert isinstance(right[KNN_ACC], torch.Tensor) and float(right[KNN_ACC]) == 1.0  # no host read inside
    shuffled = query_y[torch.randperm(32, generator=torch.Generator().manual_seed(3))]
    wrong = KnnMonitor(lambda: (bank, bank_y, query, shuffled), normalise, n_classes=2, k=5).measure(flat)
    assert float(wrong[KNN_ACC]) == pytest.approx(float((shuffled == query_y).float().mean()))  # right class, wrong label


def _logged(run_dir) -> list[dict]:
    return [json.loads(x) for x in RunFolder(run_dir).metrics.read_text().splitlines()]


def test_a_run_on_labelled_images_logs_it_at_its_health_steps(tmp_path):
    run = make_run_dir(tmp_path, tiny_config("simclr", **{"eval.knn_monitor_images": 200,
                                                          "data.cache_dir": str(tmp_path / "datasets")}))
    assert run_worker(run)["status"] == "succeeded"
    rows = [r for r in _logged(run) if KNN_ACC in r]
    assert [r["step"] for r in rows] == [1, 4, 8, 12]  # health_every 4, and the first step
    assert all(0.0 <= r[KNN_ACC] <= 1.0 for r in rows)
    assert not any(KNN_ACC in r for r in _logged(run) if r["step"] in (2, 6, 10))  # logging steps alone


def test_it_is_off_when_asked(tmp_path):
    run = make_run_dir(tmp_path, tiny_config("simclr", **{"eval.knn_monitor_images": 0,
                                                          "data.cache_dir": str(tmp_path / "datasets")}))
    assert run_worker(run)["status"] == "succeeded"
    assert not any(KNN_ACC in r for r in _logged(run))


@pytest.mark.parametrize(("message", "tool", "args"), [
    ("show me run 1's knn accuracy during training", "get_run", {"run_id": "1", "metrics": [KNN_ACC]}),
    ("how did the knn accuracy of run 1 change over training?", "get_run", {"run_id": "1", "metrics": [KNN_ACC]}),
    ("what was run 1's knn monitor at step 40?", "get_run", {"run_id": "1", "metrics": [KNN_ACC], "at_step": 40}),
    ("what's the knn accuracy of run 1?", "run_linear_probe", {"run_id": "1"}),  # the end-of-run kNN
    ("pretrain simclr on digits without the knn monitor", "launch_pretraining",
     {"overrides": {"eval.knn_monitor_images": 0}, "method": "simclr", "data": "digits"}),
    ("pretrain byol on digits with a knn bank of 512 images", "launch_pretraining",
     {"overrides": {"eval.knn_monitor_images": 512}, "method": "byol", "data": "digits"}),
])
def test_the_chat_reads_the_monitor_apart_from_the_end_of_run_knn(message, tool, args):
    from understanding_eval import WORLD

    from agent.intent_model import get_model
    from agent.understand import understand

    r = understand(message, {}, WORLD, get_model())
    assert (r.tool, r.args) == (tool, args)


def test_measured_images_are_spread_over_the_split_and_nested():
    """A folder is stored class by class, so the first 256 of its held-out images were one class: the kNN monitor read
    1.0 at every step of the textures sweeps, and the health metrics one class's spread. The measured images are a
    seeded choice over the whole split, in id order, the smaller inside the larger."""
    from ssl_runtime.data import measured_sample

    ids = torch.arange(6000) + 24000  # held-out ids of a store sorted by class: 600 of each of 10 classes
    classes = (ids - 24000) // 600
    small, large = measured_sample(ids, 256, 0), measured_sample(ids, 2048, 0)
    assert len(small) == 256 and torch.equal(small, small.sort().values)
    assert len(set(classes[small - 24000].tolist())) == 10 and set(small.tolist()) <= set(large.tolist())
    assert torch.equal(measured_sample(ids, 256, 0), small) and not torch.equal(measured_sample(ids, 256, 1), small)
    assert torch.equal(measured_sample(ids[:100], 256, 0), ids[:100])  # fewer than asked: all of them


def test_a_class_sorted_folder_is_monitored_on_every_class(tmp_path):
    """The health batch and the kNN monitor's bank and queries, on a photo folder stored class by class."""
    from photos import make_photos

    from ssl_runtime.configure import build_config
    from ssl_runtime.data.builtin import SHAPES
    from ssl_runtime.tasks import build_task

    folder = make_photos(tmp_path / "photos", n=400, sizes=(24, 32))
    cfg = build_config(tiny_config("simclr", **{"data.name": None, "data.path": str(folder),
                                                "data.cache_dir": str(tmp_path / "datasets"),
                                                "train.health_samples": 24, "eval.knn_monitor_images": 48}))
    task = build_task(cfg, None, torch.device("cpu"), "32")
    labels = task.store.labels
    assert labels[:100].unique().numel() == 1  # stored class by class: the first ids are one class
    assert labels[task.health_ids].unique().numel() == len(SHAPES)
    _, bank_y, _, query_y = task.knn.images
    assert bank_y.unique().numel() == len(SHAPES) and torch.equal(query_y, labels[task.health_ids])
