import math

import torch

from ssl_runtime import health


def test_std_isotropic_and_collapsed():
    torch.manual_seed(0)
    d = 128
    z = torch.randn(4000, d)
    assert abs(float(health.std_of_l2_normalized(z)) - 1 / math.sqrt(d)) < 0.005
    collapsed = torch.randn(1, d).repeat(500, 1) + 1e-6 * torch.randn(500, d)
    assert float(health.std_of_l2_normalized(collapsed)) < 1e-4


def test_rankme_gaussian_and_low_rank():
    torch.manual_seed(0)
    z = torch.randn(2000, 128)
    assert float(health.rankme(z)) > 120  # ~127 as reported for a 2000x128 Gaussian
    low = torch.randn(2000, 4) @ torch.randn(4, 128)
    assert float(health.rankme(low)) < 6


def test_alignment_uniformity_bounds():
    torch.manual_seed(0)
    z = torch.randn(1000, 128)
    u = float(health.uniformity(z))
    assert -4.0 < u < -3.5
    same = torch.ones(100, 16)
    assert abs(float(health.uniformity(same))) < 1e-6
    assert float(health.alignment(z, z)) == 0.0
    assert float(health.alignment(z, -z)) == 4.0


def test_a_vision_task_makes_more_health_views_than_two():
    """LiDAR as its paper computes it needs several augmented views per image: health_views(ids, 4) keeps the health
    batch's two views (the same tensors the monitor measures) and adds two more, different ones."""
    from conftest import tiny_config

    from ssl_runtime.configure import build_config
    from ssl_runtime.tasks import build_task

    task = build_task(build_config(tiny_config("simclr")), None, torch.device("cpu"), "32")
    ids = task.train_ids[:16]
    two, four = task.health_views(ids, 2), task.health_views(ids, 4)
    assert len(four) == 4 and all(v.shape == two[0].shape for v in four)
    assert torch.equal(four[0], two[0]) and torch.equal(four[1], two[1])
    assert not torch.equal(four[2], four[0]) and not torch.equal(four[3], four[1])
    with torch.no_grad():
        z = [task.method.project(v) for v in four]
    assert float(health.lidar(z)) > 1.0  # a defined LiDAR over four views of 16 images


def test_view_retrieval_is_the_reciprocal_rank_of_each_views_own_image():
    from ssl_runtime.health import matching_ranks, view_retrieval

    eye = torch.eye(8)
    assert float(view_retrieval([eye, eye.clone(), eye.clone()])) == 1.0  # identical views: every view finds its image
    swapped = eye.clone()  # half the images' second view leans towards the next image's: each of those four finds
    swapped[4:] = 0.6 * eye[4:] + 0.8 * eye[[5, 6, 7, 4]]
    assert matching_ranks([eye, swapped]).tolist() == [0] * 4 + [1] * 4 + [0] * 4 + [1] * 4  # one image before its own
    assert float(view_retrieval([eye, swapped])) == 0.75  # (4 x 1 + 4 x 1/2) / 8, both ways
    point = torch.ones(8, 4)  # every image at one point: ties count against the match, so each finds it last
    assert float(view_retrieval([point, point])) == 0.125
    assert torch.isnan(view_retrieval([eye])) and torch.isnan(view_retrieval([eye, eye * float("nan")]))


def test_view_retrieval_is_not_decided_by_a_few_wide_features():
    """Sixteen features carry each image's identity; three more, a hundred times wider, change with every view and
    say nothing of the image. On raw cosines the wide features decide every neighbour (0.09, near chance);
    standardised over the views, the sixteen do (0.98)."""
    from ssl_runtime.health import mean_reciprocal_rank, view_retrieval

    g = torch.Generator().manual_seed(0)
    identity = torch.randn(64, 16, generator=g)
    views = [torch.cat([identity + 0.1 * torch.randn(64, 16, generator=g), 100 * torch.randn(64, 3, generator=g)], 1)
             for _ in range(4)]
    raw = float(mean_reciprocal_rank(views))
    assert raw < 0.2 and float(view_retrieval(views)) > 0.9, (raw, float(view_retrieval(views)))


def test_cluster_consistency_counts_views_kept_in_their_images_cluster():
    """Ten tight, far-apart groups of images: views that barely move stay in their image's cluster (1.0); views
    that belong to other images (rows shuffled) land in the right one about one time in ten; a non-finite view says
    nothing."""
    from ssl_runtime.health import cluster_consistency

    g = torch.Generator().manual_seed(0)
    centres = torch.randn(10, 16, generator=g) * 10
    clean = centres.repeat_interleave(40, dim=0) + 0.1 * torch.randn(400, 16, generator=g)
    kept = [clean + 0.1 * torch.randn(400, 16, generator=g) for _ in range(4)]
    moved = [clean[torch.randperm(400, generator=g)] for _ in range(4)]
    assert cluster_consistency(clean, kept) == 1.0
    assert 0.03 < cluster_consistency(clean, moved) < 0.2
    assert math.isnan(cluster_consistency(clean, [*kept[:3], kept[3] * float("nan")]))
