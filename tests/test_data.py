import numpy as np
import pytest
import torch
from PIL import Image

from ssl_runtime.config import DataConfig
from ssl_runtime.data import open_store, preflight, split_indices
from ssl_runtime.data.builtin import load_shapes
from ssl_runtime.errors import DataError


def _write_images(folder, n, colour):
    folder.mkdir(parents=True, exist_ok=True)
    for i in range(n):
        arr = np.full((20, 24, 3), colour, dtype=np.uint8)
        arr[i % 20, :, :] = 255
        Image.fromarray(arr).save(folder / f"{i}.png")


def _open(tmp_path, path, size=16):
    return open_store(DataConfig(path=str(path), image_size=size, cache_dir=str(tmp_path / "cache")), size)


def test_digits_and_split():
    data = open_store(DataConfig(name="digits", image_size=16), 16)
    assert data.canvases.shape == (1797, 3, 16, 16) and data.canvases.dtype == torch.uint8
    assert data.labels is not None and int(data.labels.max()) == 9
    tr, va = split_indices(len(data), 0.2, seed=0)
    tr2, va2 = split_indices(len(data), 0.2, seed=0)
    assert torch.equal(va, va2) and len(va) == 359 and len(set(tr.tolist()) & set(va.tolist())) == 0


def test_shapes_deterministic_and_labelled():
    a, b = load_shapes(64, 24), load_shapes(64, 24)
    assert torch.equal(a.images, b.images)
    assert a.images.shape == (64, 3, 24, 24)
    assert sorted(set(a.labels.tolist())) == [0, 1, 2, 3]


def test_image_folder_with_classes_and_corrupt_file(tmp_path):
    _write_images(tmp_path / "pics" / "cats", 5, (200, 10, 10))
    _write_images(tmp_path / "pics" / "dogs", 6, (10, 10, 200))
    (tmp_path / "pics" / "dogs" / "broken.png").write_bytes(b"not an image")
    data = _open(tmp_path, tmp_path / "pics")
    assert len(data) == 11
    assert data.class_names == ["cats", "dogs"]
    assert data.labels.tolist().count(1) == 6
    skipped = data.cache.meta["unreadable_files"]
    assert len(skipped) == 1 and skipped[0]["file"].endswith("broken.png")
    assert data.stats()["skipped_files"] == 1


def test_flat_folder_has_no_labels(tmp_path):
    _write_images(tmp_path / "flat", 8, (50, 50, 50))
    data = _open(tmp_path, tmp_path / "flat")
    assert data.labels is None and len(data) == 8


def test_hf_datasets_folder(tmp_path):
    import datasets

    imgs = [Image.fromarray(np.full((12, 12, 3), i * 20, dtype=np.uint8)) for i in range(10)]
    features = datasets.Features({"image": datasets.Image(), "label": datasets.ClassLabel(names=["a", "b"])})
    ds = datasets.Dataset.from_dict({"image": imgs, "label": [i % 2 for i in range(10)]}, features=features)
    ds.save_to_disk(str(tmp_path / "hf"))
    data = _open(tmp_path, tmp_path / "hf")
    assert len(data) == 10 and data.class_names == ["a", "b"] and data.labels.tolist()[:2] == [0, 1]


def test_missing_empty_and_all_corrupt(tmp_path):
    with pytest.raises(DataError, match="data.path.*does not exist"):
        preflight(DataConfig(path=str(tmp_path / "nope")))
    (tmp_path / "empty").mkdir()
    with pytest.raises(DataError, match="empty"):
        preflight(DataConfig(path=str(tmp_path / "empty")))
    (tmp_path / "notes.md").write_text("not images")  # refused before a run is made, not by its worker
    with pytest.raises(DataError, match="is a file, not an image folder.*Fix: point it at the folder"):
        preflight(DataConfig(path=str(tmp_path / "notes.md")))
    (tmp_path / "list.csv").write_text("path\n")
    preflight(DataConfig(path=str(tmp_path / "list.csv")))  # a list is a source: its rows are read by the worker
    bad = tmp_path / "bad"
    bad.mkdir()
    for i in range(3):
        (bad / f"{i}.jpg").write_bytes(b"\x00garbage")
    with pytest.raises(DataError, match="unreadable"):
        _open(tmp_path, bad)
