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
        assert summary["resolved"]["method_args.head_batch_norm"] is True  # auto on the small CNN
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


@pytest.mark.parametrize("backbone,setting,expected", [
    ("small_cnn", None, True), ("vit_tiny", None, False), ("small_cnn", False, False), ("vit_tiny", True, True)])
def test_dino_head_batch_norm_is_on_for_cnns_unless_set(backbone, setting, expected):
    """auto: BatchNorm in DINO's head on a CNN (a small CNN's features start nearly parallel), none on a ViT."""
    from ssl_runtime.backbones import build_backbone
    from ssl_runtime.catalogue import method_class
    from ssl_runtime.config import BackboneConfig

    cls = method_class("dino")
    method = cls(build_backbone(BackboneConfig(name=backbone, width=0.25), "dino", 16),
                 cls.Args(out_dim=32, proj_hidden_dim=16, bottleneck_dim=8, head_batch_norm=setting), total_steps=4)
    has_bn = any(isinstance(m, torch.nn.BatchNorm1d) for m in method.head.modules())
    assert has_bn is expected
    assert method.resolved_args() == {"method_args.head_batch_norm": expected}


def test_dino_prototypes_take_no_gradient_while_the_last_layer_is_frozen():
    """DINO's --freeze_last_layer: for its first steps the prototypes get a zero gradient (AdamW's moments stay at
    zero, so they do not move), the rest of the network its usual one."""
    from ssl_runtime.backbones import build_backbone
    from ssl_runtime.catalogue import method_class
    from ssl_runtime.config import BackboneConfig

    torch.manual_seed(0)
    cls = method_class("dino")
    method = cls(build_backbone(BackboneConfig(name="small_cnn", width=0.25), "dino", 16),
                 cls.Args(out_dim=32, proj_hidden_dim=16, bottleneck_dim=8, freeze_last_layer_steps=3), total_steps=6)
    views = [torch.randn(8, 3, 16, 16) for _ in range(2)]
    for step, learns in ((2, False), (3, True)):
        method.zero_grad()
        method.training_step(views, step)["loss"].backward()
        assert bool(method.head.prototypes.weight.grad.abs().sum() > 0) is learns
        assert method.head.mlp[0].weight.grad.abs().sum() > 0
