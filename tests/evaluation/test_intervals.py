"""Bootstrap intervals of MAP@k and paired differences (hmrec.evaluation.intervals)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from hmrec.errors import ParameterError
from hmrec.evaluation.intervals import (
    BLOCK_CELLS,
    INTERVAL_FIELDS,
    bootstrap_means,
    combined_means,
    map_intervals,
    percentile_interval,
    resample_counts,
)


def test_each_resample_draws_n_customers() -> None:
    blocks = list(resample_counts(7, 300, np.random.default_rng(0)))
    counts = np.concatenate(blocks)
    assert counts.shape == (300, 7)
    assert (counts.sum(axis=1) == 7).all() and (counts >= 0).all()
    # every customer is drawn about once per resample on average
    assert counts.mean(axis=0) == pytest.approx(np.ones(7), abs=0.1)


def test_large_populations_come_in_blocks() -> None:
    n = BLOCK_CELLS // 3 + 1  # two rows per block at most
    blocks = list(resample_counts(n, 5, np.random.default_rng(0)))
    assert [b.shape[0] for b in blocks] == [2, 2, 1]


def test_two_customers_hand_computed() -> None:
    """AP 0 and 1: resampled means 0, 1/2, 1 with probabilities 1/4, 1/2, 1/4, so the 95 % interval is [0, 1]."""
    means = bootstrap_means(np.array([[0.0], [1.0]]), 4000, np.random.default_rng(0))[:, 0]
    assert set(np.unique(means)) == {0.0, 0.5, 1.0}
    assert np.mean(means == 0.5) == pytest.approx(1 / 2, abs=0.03)
    assert np.mean(means == 0.0) == pytest.approx(1 / 4, abs=0.03)
    low, high = percentile_interval(means[:, None])
    assert (low[0], high[0]) == (0.0, 1.0)
    # the central 40 % is the single value 1/2: more than 30 % of the draws on each side of it
    low, high = percentile_interval(means[:, None], 0.4)
    assert (low[0], high[0]) == (0.5, 0.5)


def test_bernoulli_interval_matches_the_normal_approximation() -> None:
    """100 of 400 customers with AP 1: the mean of a resample is Binomial(400, 1/4) / 400, sd sqrt(3) / 80.

    The 95 % interval is then about 1/4 +- 1.96 sqrt(3) / 80 = [0.2076, 0.2924] (the exact binomial quantiles
    83/400 and 117/400 give [0.2075, 0.2925]); the bootstrap's own noise is a fraction of one step of 1/400.
    """
    ap = np.zeros(400)
    ap[:100] = 1.0
    frame = map_intervals([{"m": ap}], "m", n_resamples=4000, seed=0)
    row = frame.row(0, named=True)
    half = 1.96 * math.sqrt(3) / 80
    assert row["map_at_k_low"] == pytest.approx(1 / 4 - half, abs=0.0051)
    assert row["map_at_k_high"] == pytest.approx(1 / 4 + half, abs=0.0051)


def _planted(seed: int = 0, n: int = 3000) -> dict[str, np.ndarray]:
    """A noisy model, one a little better on every customer, one a little worse, and an exact copy."""
    rng = np.random.default_rng(seed)
    base = np.where(rng.random(n) < 0.1, rng.random(n), 0.0)
    better = np.minimum(base + np.where(rng.random(n) < 0.2, 0.02, 0.0), 1.0)  # +0.004 on average
    worse = base * 0.97  # -3 %
    return {"base": base, "better": better, "worse": worse, "copy": base.copy()}


def test_paired_difference_has_the_planted_sign() -> None:
    models = _planted()
    frame = map_intervals([models], "base", n_resamples=1000, seed=3)
    rows = {row["model"]: row for row in frame.iter_rows(named=True)}
    better, worse, copy, base = rows["better"], rows["worse"], rows["copy"], rows["base"]
    assert better["map_diff"] == pytest.approx(models["better"].mean() - models["base"].mean())
    assert 0 < better["map_diff_low"] < better["map_diff"] < better["map_diff_high"]
    assert better["map_diff_excludes_zero"]
    assert worse["map_diff_low"] < worse["map_diff"] < worse["map_diff_high"] < 0
    assert worse["map_diff_excludes_zero"]
    # a copy of the baseline, and the baseline itself: no difference at all, not distinguishable
    assert (copy["map_diff_low"], copy["map_diff_high"]) == (0.0, 0.0) and not copy["map_diff_excludes_zero"]
    assert (base["map_diff"], base["map_diff_low"], base["map_diff_high"]) == (0.0, 0.0, 0.0)
    assert not base["map_diff_excludes_zero"]
    # pairing is what finds it: the two models' own intervals overlap
    assert better["map_at_k_low"] < base["map_at_k_high"]


def test_noise_alone_is_not_distinguishable() -> None:
    rng = np.random.default_rng(5)
    n = 3000
    a = np.where(rng.random(n) < 0.1, rng.random(n), 0.0)
    shuffled = a[rng.permutation(n)]  # the same distribution, another customer each
    frame = map_intervals([{"a": a, "b": shuffled}], "a", n_resamples=1000, seed=0)
    row = frame.row(1, named=True)
    assert row["map_diff_low"] < 0 < row["map_diff_high"] and not row["map_diff_excludes_zero"]


def test_the_same_seed_gives_the_same_intervals() -> None:
    weeks = [_planted(0), _planted(1, 2000)]
    first = map_intervals(weeks, "base", n_resamples=200, seed=7)
    assert first.equals(map_intervals(weeks, "base", n_resamples=200, seed=7))
    assert not first.equals(map_intervals(weeks, "base", n_resamples=200, seed=8))
    assert first.columns == ["model", *INTERVAL_FIELDS]


def test_windows_are_averaged_as_the_point_estimate() -> None:
    """Two windows of different sizes weigh the same; a model that skipped one is averaged over the other."""
    week1 = {"a": np.array([0.0, 1.0, 1.0, 0.0]), "b": np.array([0.5, 0.5, 0.5, 0.5])}
    week2 = {"a": np.array([1.0, 1.0])}
    point, boot = combined_means(
        [np.column_stack([week1["a"], week1["b"]]), np.column_stack([week2["a"], np.full(2, np.nan)])],
        500,
        np.random.default_rng(0),
    )
    assert point.tolist() == [(1 / 2 + 1) / 2, 1 / 2]
    # week 2's AP never varies, b's never varies: each window's share of the spread is the window's own
    assert set(np.unique(boot[:, 1])) == {0.5}
    assert set(np.unique(boot[:, 0])) <= {0.5, 0.5 + 1 / 8, 0.75, 0.75 + 1 / 8, 1.0}
    frame = map_intervals([week1, week2], "b", n_resamples=500, seed=0)
    assert frame["map_diff"].to_list() == pytest.approx([0.75 - 0.5, 0.0])


def test_errors() -> None:
    with pytest.raises(ParameterError, match="--resamples must be an integer >= 100"):
        map_intervals([{"a": np.ones(3)}], "a", n_resamples=10)
    with pytest.raises(ParameterError, match="baseline model 'nope' was not evaluated"):
        map_intervals([{"a": np.ones(3)}], "nope")
    with pytest.raises(ParameterError, match="confidence must be"):
        percentile_interval(np.ones((3, 1)), 1.5)
    with pytest.raises(ParameterError, match="aligned"):
        map_intervals([{"a": np.ones(3), "b": np.ones(2)}], "a")


def test_interval_cells() -> None:
    from hmrec.evaluation.intervals import interval_cells

    row = {"model": "a", "map_at_k_low": 0.0252, "map_at_k_high": 0.032, "map_diff": -0.0006,
           "map_diff_low": -0.00101, "map_diff_high": -0.00003, "map_diff_excludes_zero": True}
    # an upper bound just below zero is not printed as -0.0000, which would read as zero
    assert interval_cells(row, "b") == ["0.0252–0.0320", "-0.0006", "-0.0010 to -3e-05", "yes"]
    assert interval_cells(row, "a") == ["0.0252–0.0320", "0", "-", "baseline"]
    assert interval_cells({"model": "c"}, "a") == ["-", "-", "-", "-"]
