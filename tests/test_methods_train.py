"""Every method trains for real on digits (CPU, tiny sizes) and exports a loadable encoder."""

import json

import pytest
import torch

from ssl_runtime.config import VISION_METHODS
from ssl_runtime.run_folder import RunFolder
from ssl_runtime.trainer import train


@pytest.mark.parametrize("method", list(VISION_METHODS))  # text and clip: test_text_clip.py
def test_method_trains_and_exports(method, run_dir_factory):
    run_dir = run_dir_factory(method)
    summary = train(run_dir)
    folder = RunFolder(run_dir)
    assert summary["status"] == "succeeded", summary
    rows = folder.read_metrics()
    losses = [r["loss"] for r in rows if "loss" in r]
    assert len(losses) == 6 and all(map(lambda v: v == v, losses))  # every 2 steps, all finite
    health = [r for r in rows if "health/std" in r]
    assert [r["step"] for r in health] == [1, 4, 8, 12]
    assert all(0 <= r["health/std"] <= 1 and r["health/rank"] >= 1 for r in health)
    assert all("grad_norm" in r and "samples_per_s" in r and "lr" in r for r in rows if "loss" in r)
    if method == "dino":
        assert all("health/teacher_entropy" in r and "health/kl" in r for r in health)
        assert any("loss/teacher_entropy" in r for r in rows)
    if method in ("vicreg", "barlow_twins"):
        assert any(k.startswith("loss/") for k in rows[-1])
    # the encoder loads with plain transformers and gives features
    from transformers import AutoModel

    model = AutoModel.from_pretrained(folder.encoder, trust_remote_code=True)
    out = model(pixel_values=torch.randn(2, 3, 16, 16))
    assert out.last_hidden_state.shape[0] == 2
    pre = json.loads((folder.encoder / "preprocess.json").read_text())
    assert pre["image_size"] == 16 and len(pre["mean"]) == 3
    statuses = [e["status"] for e in folder.read_events() if e["type"] == "status"]
    assert statuses == ["running", "succeeded"]
    assert folder.last_checkpoint.exists()
