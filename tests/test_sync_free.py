"""The per-step GPU path without host syncs, checked where a CPU can check it: the crop that replaced kornia's
crop_and_resize samples the same pixels, and kornia's random draws stay on the host wherever the pipeline moves.
(benchmarks/gpu_check.py --parts syncs counts the syncs themselves on a GPU.)"""

from __future__ import annotations

import torch
from kornia.geometry.transform import crop_and_resize

from ssl_runtime.augment import ViewPipeline, byol_views, dino_views
from ssl_runtime.crops import box_corners, crop_resize, sample_boxes, step_generator


def test_crop_resize_samples_what_kornia_samples():
    torch.manual_seed(0)
    canvas = torch.randint(0, 256, (32, 3, 80, 80), dtype=torch.uint8)
    sizes = torch.randint(12, 81, (32, 2))
    corners = box_corners(sample_boxes(sizes, (0.08, 1.0), step_generator(0, 3)))
    for size in (16, 80, 112):
        ours = crop_resize(canvas, corners, size)
        theirs = crop_and_resize(canvas.float() / 255, corners, (size, size), mode="bilinear", align_corners=True)
        assert ours.shape == (32, 3, size, size)
        assert (ours - theirs).abs().max() < 1e-4  # kornia solves a 3x3 system per box: float rounding only


def test_crop_resize_of_a_whole_canvas_is_the_canvas():
    canvas = torch.randint(0, 256, (4, 3, 24, 24), dtype=torch.uint8)
    whole = box_corners(torch.tensor([[0, 0, 24, 24]] * 4))
    assert torch.allclose(crop_resize(canvas, whole, 24), canvas.float() / 255, atol=1e-5)


def test_random_draws_stay_on_the_host_when_the_pipeline_moves(monkeypatch):
    from kornia.augmentation.base import _BasicAugmentationBase
    from kornia.augmentation.random_generator.base import RandomGeneratorBase

    def follow(self, fn, *args, **kwargs):  # kornia's own move: its samplers follow the tensors (to a GPU, say)
        out = torch.nn.Module._apply(self, fn, *args, **kwargs)
        self.device = torch.device("meta")
        return out

    monkeypatch.setattr(_BasicAugmentationBase, "_apply", follow, raising=False)  # older kornia: no _apply of its own
    monkeypatch.setattr(RandomGeneratorBase, "_apply", follow, raising=False)
    pipe = ViewPipeline(byol_views(64) + dino_views(64, 1), 1.0, torch.full((3,), 0.5), torch.full((3,), 0.2))
    samplers = [m for m in pipe.modules() if m is not pipe and hasattr(m, "set_rng_device_and_dtype")]
    assert len(samplers) >= 10  # crops, flips, jitters, greys, blurs, solarisations and their generators
    pipe.to(torch.float32)
    assert {str(m.device) for m in samplers} == {"cpu"}
    views = [pipe.augment(v, torch.rand(2, 3, 64, 64)) for v in range(2)]  # and they still draw
    assert all(v.shape == (2, 3, 64, 64) and torch.isfinite(v).all() for v in views)


def test_clip_crops_are_drawn_on_the_host_per_step_whatever_the_process_count(monkeypatch):
    from ssl_runtime import distributed as dist_utils
    from ssl_runtime.configure import build_config
    from ssl_runtime.trainer import prepare

    task = prepare(build_config({"method": "clip", "data": {"name": "shapes", "num_samples": 160},
                                 "train": {"steps": 4, "batch_size": 16, "device": "cpu"}}))
    side = task.images.shape[-1]
    one = task._corners(3)
    assert one.shape == (16, 4, 2) and one.device.type == "cpu"
    assert torch.equal(one, task._corners(3)) and not torch.equal(one, task._corners(4))  # a function of the step
    assert one.min() >= 0 and one.max() <= side - 1
    assert (one[:, 2] - one[:, 0]).min() >= 1  # real boxes, not points
    monkeypatch.setattr(dist_utils, "world_size", lambda: 2)
    halves = []
    for r in (0, 1):
        monkeypatch.setattr(dist_utils, "rank", lambda r=r: r)
        halves.append(task._corners(3))
    assert torch.equal(torch.cat(halves), one)  # each process takes its slice of the same draw
    views = task.batch(torch.arange(8), 3)["images"]
    assert views.shape == (8, 3, side, side) and torch.isfinite(views).all()


def test_to_device_is_a_plain_copy_off_the_gpu():
    from ssl_runtime.device import to_device

    t = torch.arange(5)
    assert to_device(t, torch.device("cpu")) is t  # no pinning (a CPU-only torch cannot pin), no copy
    assert to_device(t, torch.device("meta")).device.type == "meta"  # any other device: a plain .to
