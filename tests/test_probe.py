"""The linear probe matches scikit-learn's LogisticRegression; kNN and recall@k behave; baseline is measured."""

import numpy as np
import pytest
import torch

from ssl_runtime.probe import knn_eval, linear_probe, probe_run
from ssl_runtime.trainer import train


def _digits_features():
    from sklearn.datasets import load_digits

    x, y = load_digits(return_X_y=True)
    rng = np.random.default_rng(0)
    perm = rng.permutation(len(x))
    x, y = torch.tensor(x[perm], dtype=torch.float32), torch.tensor(y[perm])
    return x[:1400], y[:1400], x[1400:], y[1400:]


@pytest.mark.parametrize("small_fits_in_sklearn", [True, False])
def test_linear_probe_within_one_point_of_sklearn(small_fits_in_sklearn, monkeypatch):
    """Both fitting paths: scikit-learn for small CPU problems (as this one is), torch's L-BFGS otherwise."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.preprocessing import StandardScaler

    from ssl_runtime import probe

    if not small_fits_in_sklearn:
        monkeypatch.setattr(probe, "SKLEARN_FIT_ELEMENTS", 0)
    xtr, ytr, xva, yva = _digits_features()
    ours = linear_probe(xtr, ytr, xva, yva)
    # Same objective: mean CE + l2 * ||W||^2  <=>  sklearn's C = 1 / (2 * l2 * n)
    scaler = StandardScaler().fit(xtr.numpy())
    c = 1.0 / (2 * ours["l2"] * len(xtr)) if ours["l2"] > 0 else 1e6
    sk = LogisticRegression(C=c, max_iter=5000).fit(scaler.transform(xtr.numpy()), ytr.numpy())
    sk_acc = sk.score(scaler.transform(xva.numpy()), yva.numpy())
    assert abs(ours["acc"] - sk_acc) <= 0.01, (ours, sk_acc)
    assert ours["acc"] > 0.9


def test_knn_recall_on_separable_clusters():
    torch.manual_seed(0)
    centres = torch.randn(5, 16) * 5
    y = torch.arange(500) % 5
    x = centres[y] + 0.1 * torch.randn(500, 16)
    out = knn_eval(x[:400], y[:400], x[400:], y[400:])
    assert out["acc"] == 1.0 and out["recall@1"] == 1.0
    shuffled = knn_eval(x[:400], y[:400][torch.randperm(400)], x[400:], y[400:])
    assert shuffled["acc"] < 0.5


def test_probe_run_writes_results_and_baseline(run_dir_factory, tmp_path):
    # a cache folder of its own: another test's probe of the same tiny config would have kept the baseline already
    run_dir = run_dir_factory("simclr", **{"data.cache_dir": str(tmp_path / "datasets")})
    train(run_dir)
    result = probe_run(run_dir, device="cpu")
    assert 0.1 < result["probe/acc"] <= 1.0 and "baseline" in result
    assert set(result["baseline"]) >= {"probe/acc", "knn/acc", "knn/recall@5"}
    assert (run_dir / "probe.json").exists()
    from ssl_runtime.run_folder import RunFolder

    assert "probe/acc" in RunFolder(run_dir).read_metrics()[-1]

    # the seeded random-init baseline of these exact images is kept, and reused by the next probe ...
    again = probe_run(run_dir, device="cpu")
    assert again["baseline"].pop("cached") is True and "cached" not in result["baseline"]
    assert again["baseline"] == result["baseline"] and again["probe/acc"] == result["probe/acc"]
    # ... but not for other evaluation settings
    other = probe_run(run_dir, device="cpu", eval_overrides={"knn_k": 5})
    assert "cached" not in other["baseline"]


def test_probe_without_labels_is_a_clear_error(tmp_path):
    from conftest import make_run_dir, tiny_config
    from PIL import Image

    from ssl_runtime.errors import DataError

    img_dir = tmp_path / "imgs"
    img_dir.mkdir()
    for i in range(80):
        Image.fromarray(np.random.default_rng(i).integers(0, 255, (16, 16, 3), dtype=np.uint8)).save(img_dir / f"{i}.png")
    tree = tiny_config("simclr", **{"train.batch_size": 32, "train.steps": 2})
    tree["data"] = {"path": str(img_dir), "image_size": 16}
    run_dir = make_run_dir(tmp_path, tree)
    train(run_dir)
    with pytest.raises(DataError, match="no labels"):
        probe_run(run_dir)


def test_label_subset_keeps_the_same_share_of_every_class():
    """A probe on 10% of the labels learns from 10% of each class (at least one image of each), drawn by the seed:
    the same rows for the same seed, others for another."""
    from ssl_runtime.probe import label_subset

    labels = torch.tensor([0] * 100 + [1] * 50 + [2] * 3)
    keep = label_subset(labels, 0.1, seed=0)
    assert torch.bincount(labels[keep]).tolist() == [10, 5, 1]  # round(0.3) = 0 -> at least one
    assert len(set(keep.tolist())) == len(keep)
    assert torch.equal(keep, label_subset(labels, 0.1, seed=0))
    assert not torch.equal(keep, label_subset(labels, 0.1, seed=1))
    assert torch.equal(label_subset(labels, 1.0, seed=0), torch.arange(len(labels)))


def test_a_probe_on_a_share_of_the_labels_is_kept_beside_the_runs_own(run_dir_factory):
    """eval.label_fraction=0.1: the probe learns from a tenth of the training split, records it, and writes its own
    file; probe.json (the run's headline probe on every label) is left as it was."""
    from ssl_runtime.run_folder import RunFolder

    run_dir = run_dir_factory("simclr")
    train(run_dir)
    full = probe_run(run_dir, device="cpu")
    before = (run_dir / "probe.json").read_bytes()
    rows = len(RunFolder(run_dir).read_metrics())
    tenth = probe_run(run_dir, device="cpu", eval_overrides={"label_fraction": 0.1})
    assert tenth["label_fraction"] == 0.1 and tenth["eval"]["label_fraction"] == 0.1
    assert abs(tenth["num_train"] - full["num_train"] / 10) <= 10  # one rounding per class
    assert tenth["num_val"] == full["num_val"] and "cached" not in tenth["baseline"]
    assert (run_dir / "probe.json").read_bytes() == before and len(RunFolder(run_dir).read_metrics()) == rows
    assert (run_dir / "probe_labels_10pct.json").exists()
