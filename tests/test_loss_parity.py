"""Every loss equals its published formula (tests/loss_formulas.py, NumPy float64) on seeded inputs."""

import pytest
from loss_formulas import parity_rows

ROWS = parity_rows(seed=0) + parity_rows(seed=1, n=9, d=5)


@pytest.mark.parametrize("name,ours,formula", ROWS, ids=[f"{r[0]}#{i}" for i, r in enumerate(ROWS)])
def test_loss_matches_formula(name, ours, formula):
    # float64 on both sides: only summation order differs, so 1e-9 relative is a wide margin
    assert ours == pytest.approx(formula, rel=1e-9, abs=1e-12), name


def test_barlow_twins_uses_biased_statistics():
    """The unbiased std (what the runtime used before) gives a different value on the same inputs."""
    import loss_formulas as F
    import numpy as np

    rng = np.random.default_rng(0)
    a, b = rng.normal(size=(16, 8)), rng.normal(size=(16, 8))
    biased = F.barlow_twins(a, b, 0.0051)
    an = (a - a.mean(0)) / a.std(0, ddof=1)
    bn = (b - b.mean(0)) / b.std(0, ddof=1)
    c = an.T @ bn / 16
    unbiased = ((1 - np.diag(c)) ** 2).sum() + 0.0051 * ((c ** 2).sum() - (np.diag(c) ** 2).sum())
    assert abs(biased - unbiased) > 1e-3 * abs(biased)
