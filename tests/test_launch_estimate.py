"""A launch's confirmation says what it will cost before the yes: the steps for a folder (counted from its listing),
the image size and backbone the config's "auto" comes to, how long it should take at the speed an earlier run of
the same kind measured, and, without a GPU, that large images through a large backbone will be slow."""

import numpy as np
import pytest
import torch
from conftest import tiny_config
from PIL import Image

from agent.answers import pending_text
from ssl_runtime.run_folder import RunFolder
from tools.agent_tools import ToolBox
from tools.home import Home
from tools.launches import estimate_cost, launch_config
from tools.registry import Registry
from tools.runs import enqueue


@pytest.fixture
def folder(tmp_path):
    root = tmp_path / "imgs"
    root.mkdir()
    for i in range(50):
        Image.fromarray(np.full((32, 32, 3), i, np.uint8)).save(root / f"{i}.png")
    (root / "notes.txt").write_text("not an image")
    return root


def test_a_folder_is_counted_and_auto_is_spelled_out(folder, monkeypatch):
    monkeypatch.setattr("ssl_runtime.device.pick_device", lambda spec="auto": torch.device("cpu"))
    est = estimate_cost(launch_config(method="byol", data=str(folder), epochs=4, batch_size=8))
    assert est["steps"] == 40 // 8 * 4  # 50 images, 20% held out, 8 a batch, 4 epochs
    assert (est["image_size"], est["backbone"]) == (224, "resnet18")
    assert "no GPU here: a resnet18 at 224 px" in est["warning"] and "12x fewer pixels" in est["warning"]
    small = estimate_cost(launch_config(method="byol", data=str(folder), epochs=4, overrides={"data.image_size": 32}))
    assert (small["image_size"], small["backbone"]) == (32, "small_cnn") and "warning" not in small
    monkeypatch.setattr("ssl_runtime.device.pick_device", lambda spec="auto": torch.device("cuda"))
    assert "warning" not in estimate_cost(launch_config(method="byol", data=str(folder), epochs=4))
    # a cluster run's speed is not this machine's: no warning, no time
    monkeypatch.setattr("ssl_runtime.device.pick_device", lambda spec="auto": torch.device("cpu"))
    assert "warning" not in estimate_cost(launch_config(method="byol", data=str(folder), epochs=4), here=False)


def _measured(home, *runs: tuple[str, float]) -> None:
    """Succeeded runs of these methods that measured these speeds (img/s), written by construction."""
    for method, speed in runs:
        run = enqueue(home, tiny_config(method))
        f = RunFolder(run.run_dir)
        f.write_summary({"status": "succeeded", "samples_per_s": speed, "device": "cpu",
                         "data": {"image_size": 16, "num_images": 1797}})
        f.set_status("succeeded")
        Registry(home).sync(run.id)


def test_the_time_comes_from_an_earlier_run_of_the_same_kind(tmp_path, monkeypatch):
    monkeypatch.setattr("ssl_runtime.device.pick_device", lambda spec="auto": torch.device("cpu"))
    home = Home.resolve(tmp_path / "home")
    _measured(home, ("simclr", 500.0), ("byol", 100.0))
    cfg = launch_config(method="simclr", data="digits", steps=300, batch_size=100)
    est = estimate_cost(cfg, home)
    assert est["time"] == "about 60 s at the 500 img/s run 1 measured"  # 300 x 100 / 500
    assert "time" not in estimate_cost(launch_config(method="simclr", data="digits", steps=300,
                                                     overrides={"data.image_size": 32}), home)  # another size
    assert "time" not in estimate_cost(launch_config(method="vicreg", data="digits", steps=300), home)
    # two more SimCLR runs, one slowed by other work: the median of the newest three, not the newest alone
    _measured(home, ("simclr", 1000.0), ("simclr", 50.0))
    est = estimate_cost(cfg, home)
    assert est["time"] == "about 60 s at 500 img/s (the median of what runs 4, 3 and 1 measured)" and est["img_per_s"] == 500


def test_methods_compared_in_a_sweep_are_each_timed_at_their_own_speed(tmp_path, monkeypatch):
    """A sweep of SimCLR and BYOL said both would take SimCLR's time: each method's measured speed is its own."""
    monkeypatch.setattr("ssl_runtime.device.pick_device", lambda spec="auto": torch.device("cpu"))
    home = Home.resolve(tmp_path / "home")
    _measured(home, ("simclr", 500.0), ("byol", 100.0))
    out = ToolBox(home).launch_sweep(methods=["simclr", "byol"], data="digits", steps=300, batch_size=100)
    assert [m["time"].split(" at ")[0] for m in out["per_method"]] == ["about 60 s", "about 5 min"]  # 30,000 images
    text = pending_text(out)
    assert "(simclr: about 60 s at the 500 img/s run 1 measured; byol: about 5 min at the 100 img/s run 2 measured)" \
        in text, text


def test_the_confirmation_shows_them(folder, tmp_path, monkeypatch):
    monkeypatch.setattr("ssl_runtime.device.pick_device", lambda spec="auto": torch.device("cpu"))
    box = ToolBox(Home.resolve(tmp_path / "home"))
    text = pending_text(box.launch_pretraining(method="byol", data=str(folder), epochs=4))
    assert "- image size: `224` (auto)" in text and "- backbone: `resnet18` (auto)" in text
    assert "Note: no GPU here" in text
    text = pending_text(box.launch_pretraining(method="byol", data=str(folder), epochs=4,
                                               overrides={"data.image_size": 32}))
    assert "- data.image_size: `32` (you)" in text and "image size: `" not in text and "Note:" not in text


def test_a_text_launch_lists_no_augmentation(tmp_path):
    """A masked LM has no views: "augment strength: 1.0 (default)" in its confirmation was noise."""
    box = ToolBox(Home.resolve(tmp_path / "home"))
    rows = {v["setting"] for v in box.launch_pretraining(method="mlm", data="shapes", steps=10)["values"]}
    assert "augment strength" not in rows and "steps" in rows
    rows = {v["setting"] for v in box.launch_pretraining(method="simclr", data="digits", steps=10)["values"]}
    assert "augment strength" in rows
