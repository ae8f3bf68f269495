"""Label-free quality signals (issue 24) against their papers' definitions, on embeddings built to have a known
answer: LiDAR (Thilak et al. 2023) and alpha-ReQ (Agrawal et al. 2022)."""

import math

import torch

from ssl_runtime.health import alpha_req, lidar


def _views(means: torch.Tensor, q: int, noise: float, seed: int = 0) -> list[torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    return [means + noise * torch.randn(means.shape, generator=g) for _ in range(q)]


def test_lidar_counts_the_directions_that_separate_images():
    """Image means at +-e_k for k < r (equal between-image variance on r axes), views scattered isotropically
    and closely around them: the LDA matrix has r equal eigenvalues and the rest near 0, so LiDAR is r (exactly
    so as the views' noise goes to 0; at 0.01 it reads 12.05 for r = 12)."""
    d, r = 64, 12
    means = torch.zeros(16 * r, d)
    for i in range(16 * r):
        means[i, i % r] = 1.0 if i < 8 * r else -1.0
    value = float(lidar(_views(means, q=8, noise=0.01)))
    assert abs(value - r) < 0.05 * r, value


def test_lidar_falls_with_dimensional_collapse():
    """Images spread over 2 of 32 directions (their views close by) read about 2; spread over all 32, about 32."""
    g = torch.Generator().manual_seed(1)
    full = torch.randn(256, 32, generator=g)
    flat = full.clone()
    flat[:, 2:] = 0
    low, high = float(lidar(_views(flat, q=4, noise=0.05))), float(lidar(_views(full, q=4, noise=0.05)))
    assert low < 3 and high > 20, (low, high)


def test_lidar_solves_wide_embeddings_in_the_views_span():
    """d far above n*q (VICReg's 8192-wide head): the same value as in the basis of the views' span."""
    torch.manual_seed(0)
    narrow = _views(torch.randn(16, 8), q=2, noise=0.1)
    lift = torch.linalg.qr(torch.randn(200, 8)).Q  # an isometry R^8 -> R^200
    wide = [v @ lift.T for v in narrow]
    assert abs(float(lidar(wide)) - float(lidar(narrow))) < 0.02


def test_alpha_req_recovers_a_power_law_spectrum():
    """Covariance eigenvalues k^-alpha by construction: the fitted decay is alpha."""
    torch.manual_seed(0)
    d, n = 48, 20000
    for alpha in (0.8, 1.0, 2.0):
        scale = torch.arange(1, d + 1, dtype=torch.float64).pow(-alpha / 2)
        z = torch.randn(n, d, dtype=torch.float64) * scale
        assert abs(float(alpha_req(z)) - alpha) < 0.1, alpha


def test_signals_are_nan_not_a_crash_on_broken_input():
    bad = torch.full((8, 4), float("nan"))
    assert math.isnan(float(lidar([bad, bad]))) and math.isnan(float(alpha_req(bad)))
    constant = torch.ones(16, 4)
    assert math.isnan(float(alpha_req(constant))) or float(alpha_req(constant)) >= 0


def test_lidar_reads_a_diverging_runs_huge_embeddings_instead_of_failing():
    """Embeddings of scale 1e8-1e10 spanning 5 directions (a run whose learning rate blew them up after one step):
    the regulariser delta is lost in rounding, so S_w is often not numerically positive-definite and its Cholesky
    fails (9 of these 12 cases on the machine this was written on). The health measurement once ended such a run
    with a LinAlgError; LiDAR now reads each case, whichever way the rounding falls."""
    for scale in (1e8, 1e9, 1e10):
        for seed in range(4):
            g = torch.Generator().manual_seed(seed)
            base = torch.randn(256, 5, generator=g) @ torch.randn(5, 256, generator=g)
            moved = base + 0.01 * torch.randn(256, 5, generator=g) @ torch.randn(5, 256, generator=g)
            value = float(lidar([scale * base, scale * moved]))
            assert 1.0 <= value <= 5.5, (scale, seed, value)  # at most the 5 directions the images span


def test_lidar_by_eigenvalues_matches_lidar_by_cholesky(monkeypatch):
    """Where both paths can run they compute one matrix's spectrum: the fallback agrees with the usual path."""
    views = _views(torch.randn(64, 16, generator=torch.Generator().manual_seed(2)), q=4, noise=0.2)
    usual = float(lidar(views))
    failed = torch.linalg.cholesky_ex
    monkeypatch.setattr(torch.linalg, "cholesky_ex", lambda a: (failed(a)[0], torch.tensor(1)))  # as if it failed
    assert abs(float(lidar(views)) - usual) < 1e-6 * usual, (float(lidar(views)), usual)
