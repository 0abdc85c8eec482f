"""How much of a leaderboard is noise: bootstrap confidence intervals of MAP@k and paired differences.

A leaderboard's MAP@k is a mean over the customers who bought in the test week; another week, or another
draw of customers, would give another figure. The bootstrap measures that spread from the data itself:
draw the scored customers ``n`` times with replacement, take the mean of their AP@k, repeat ``B`` times;
the ``(1 - confidence) / 2`` and ``(1 + confidence) / 2`` quantiles of those ``B`` means are the percentile
interval.

**Paired differences.** Two models are scored on the same customers, and a customer who is easy for one is
usually easy for the other. Resampling the customers once for every model (the same draws in every column)
keeps each customer's pair of APs together, so the difference of two columns' resampled means is the
bootstrap of the mean per-customer difference. Its interval is much narrower than the two models' own
intervals suggest; a difference whose interval excludes zero is one the data can tell from luck.

**Several test windows** (``backtest``): the leaderboard averages the windows' MAP@k, each window weighing
the same; the bootstrap resamples the customers of each window on its own (a window's customers are not
another's) and averages the resampled means the same way. A model that skipped a window is averaged over the
windows it ran on, as its point estimate is.

**Vectorized**: a block of resamples is a count matrix ``counts[b, i]`` = how many times customer ``i`` was
drawn in resample ``b`` (each row sums to ``n``), built with one ``bincount``; ``counts @ ap / n`` gives the
block's means of every model at once, with BLAS. No Python loop runs over resamples or customers.

Worked example: two customers with AP 0 and 1. A resample draws (0, 0), (0, 1), (1, 0) or (1, 1), each with
probability 1/4, so the resampled mean is 0, 1/2 or 1 with probabilities 1/4, 1/2, 1/4; the 2.5 % and 97.5 %
quantiles, and so the 95 % interval, are 0 and 1.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

import numpy as np
import polars as pl

from hmrec.errors import ParameterError

DEFAULT_RESAMPLES = 1000
DEFAULT_CONFIDENCE = 0.95
#: the fewest resamples accepted: below that the 2.5 % quantile rests on a couple of draws
MIN_RESAMPLES = 100
#: cells (resamples x customers) of one block of the count matrix: bounds its memory (8 bytes a cell)
BLOCK_CELLS = 4_000_000

#: columns :func:`map_intervals` adds to a leaderboard row, in this order
INTERVAL_FIELDS = (
    "map_at_k_low",
    "map_at_k_high",
    "map_diff",
    "map_diff_low",
    "map_diff_high",
    "map_diff_excludes_zero",
)
INTERVAL_SCHEMA: dict[str, pl.DataType] = {
    "model": pl.String(),
    **{name: pl.Float64() for name in INTERVAL_FIELDS[:-1]},
    "map_diff_excludes_zero": pl.Boolean(),
}


def check_resamples(n_resamples: int) -> int:
    """``n_resamples`` as an int, or ParameterError naming ``--resamples`` and the fix."""
    if not isinstance(n_resamples, (int, np.integer)) or isinstance(n_resamples, bool) or n_resamples < MIN_RESAMPLES:
        raise ParameterError(
            f"--resamples must be an integer >= {MIN_RESAMPLES}, got {n_resamples!r} "
            f"(fix: e.g. --resamples {DEFAULT_RESAMPLES})"
        )
    return int(n_resamples)


def check_confidence(confidence: float) -> float:
    """``confidence`` as a float in (0, 1), or ParameterError."""
    if not isinstance(confidence, (float, int)) or isinstance(confidence, bool) or not 0 < confidence < 1:
        raise ParameterError(
            f"confidence must be a number between 0 and 1, got {confidence!r} (fix: e.g. 0.95)"
        )
    return float(confidence)


def resample_counts(n: int, n_resamples: int, rng: np.random.Generator) -> Iterator[np.ndarray]:
    """Blocks of the resample-count matrix: ``counts[b, i]`` = draws of item ``i`` in resample ``b``.

    Each row is one resample of ``n`` items drawn uniformly with replacement (a multinomial row summing to
    ``n``); the blocks together have ``n_resamples`` rows, at most :data:`BLOCK_CELLS` cells each, float64
    so that they multiply with BLAS. The block size depends on ``n`` only, so the same seed gives the same
    resamples.
    """
    if n < 1:
        raise ParameterError("there is nothing to resample: no customer was scored")
    rows = max(1, min(n_resamples, BLOCK_CELLS // n))
    for lo in range(0, n_resamples, rows):
        b = min(rows, n_resamples - lo)
        drawn = rng.integers(0, n, size=(b, n), dtype=np.int64)
        drawn += np.arange(b, dtype=np.int64)[:, None] * n  # row b's draws land in cells b * n .. b * n + n - 1
        yield np.bincount(drawn.ravel(), minlength=b * n).reshape(b, n).astype(np.float64)


def bootstrap_means(values: np.ndarray, n_resamples: int, rng: np.random.Generator) -> np.ndarray:
    """``(n_resamples, m)`` means of the columns of ``values`` (``(n, m)``) over resamples of its rows.

    Every column sees the same resamples, so the difference of two columns of the result is the bootstrap of
    the mean row-wise difference (the pairs stay paired). A NaN column (a model absent from this window) gives
    a NaN column.
    """
    values = np.asarray(values, dtype=np.float64)
    if values.ndim != 2:
        raise ParameterError(f"values must be a 2-D array (customers x models), got shape {values.shape}")
    n = values.shape[0]
    return np.concatenate([counts @ values / n for counts in resample_counts(n, n_resamples, rng)], axis=0)


def combined_means(
    weeks: Sequence[np.ndarray], n_resamples: int, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """Point estimates ``(m,)`` and resampled estimates ``(n_resamples, m)`` over one or more windows.

    ``weeks``: one ``(n_w, m)`` array per window (columns = models, in the same order in every window; a
    column of NaN where a model did not run). A model's estimate is the mean over the windows it ran on of its
    mean over the window's customers, each window weighing the same, as the leaderboard computes it; each
    window's customers are resampled on their own, in the order of ``weeks``.
    """
    if not weeks:
        raise ParameterError("there is nothing to resample: no test window")
    width = {np.shape(w)[1] for w in weeks}
    if len(width) != 1:
        raise ParameterError(f"every window needs the same models (columns), got widths {sorted(width)}")
    points = np.stack([np.asarray(w, dtype=np.float64).mean(axis=0) for w in weeks])  # (weeks, m)
    resampled = np.stack([bootstrap_means(w, n_resamples, rng) for w in weeks])  # (weeks, B, m)
    ran = ~np.isnan(points)
    runs = np.maximum(ran.sum(axis=0), 1)
    point = np.where(ran, points, 0.0).sum(axis=0) / runs
    boot = np.where(ran[:, None, :], resampled, 0.0).sum(axis=0) / runs
    never = ~ran.any(axis=0)
    point[never] = np.nan
    boot[:, never] = np.nan
    return point, boot


def percentile_interval(samples: np.ndarray, confidence: float = DEFAULT_CONFIDENCE) -> tuple[np.ndarray, np.ndarray]:
    """The ``(1 - confidence) / 2`` and ``(1 + confidence) / 2`` quantiles of each column of ``samples``.

    Example: the column ``[0, 0.5, 0.5, 1]`` repeated many times (the worked example of the module) gives
    ``(0, 1)`` at 95 %.
    """
    confidence = check_confidence(confidence)
    tail = (1.0 - confidence) / 2.0
    low, high = np.quantile(np.asarray(samples, dtype=np.float64), [tail, 1.0 - tail], axis=0)
    return low, high


def map_intervals(
    weeks: Sequence[Mapping[str, np.ndarray]],
    baseline: str,
    *,
    n_resamples: int = DEFAULT_RESAMPLES,
    confidence: float = DEFAULT_CONFIDENCE,
    seed: int = 0,
) -> pl.DataFrame:
    """Every model's MAP@k interval and its paired difference to ``baseline``, one row per model.

    Args:
        weeks: per test window, the per-customer AP@k of each model that ran on it (all arrays of one window
            aligned on the same customers).
        baseline: the reference model of the differences (``map_diff = MAP(model) - MAP(baseline)``).
        n_resamples: bootstrap resamples (>= :data:`MIN_RESAMPLES`).
        confidence: the intervals' coverage, e.g. 0.95.
        seed: the bootstrap's seed: the same seed, the same intervals.

    Returns:
        Columns ``model`` and :data:`INTERVAL_FIELDS` (:data:`INTERVAL_SCHEMA`), models in their order of
        first appearance. ``map_diff_excludes_zero`` is true when the difference's interval lies entirely
        above or below zero (never for the baseline itself, whose difference is 0 exactly).

    Raises:
        ParameterError: a bad ``n_resamples``/``confidence``, or a ``baseline`` that ran on no window.
    """
    n_resamples = check_resamples(n_resamples)
    confidence = check_confidence(confidence)
    models = list(dict.fromkeys(name for week in weeks for name in week))
    if baseline not in models:
        raise ParameterError(
            f"the baseline model '{baseline}' was not evaluated on any window "
            f"(fix: choose one of {', '.join(models) or 'the evaluated models'} with --baseline)"
        )
    matrices = []
    for week in weeks:
        n = {np.shape(ap)[0] for ap in week.values()}
        if len(n) != 1:
            raise ParameterError(f"the AP arrays of one window must be aligned, got lengths {sorted(n)}")
        size = n.pop()
        matrices.append(
            np.column_stack([np.asarray(week.get(m, np.full(size, np.nan)), dtype=np.float64) for m in models])
        )
    point, boot = combined_means(matrices, n_resamples, np.random.default_rng(seed))
    low, high = percentile_interval(boot, confidence)
    ref = models.index(baseline)
    diff_boot = boot - boot[:, [ref]]
    diff_low, diff_high = percentile_interval(diff_boot, confidence)
    diff_low[ref] = diff_high[ref] = 0.0  # exact, not the rounding of a subtraction
    diff = point - point[ref]
    return pl.DataFrame(
        {
            "model": models,
            "map_at_k_low": low,
            "map_at_k_high": high,
            "map_diff": diff,
            "map_diff_low": diff_low,
            "map_diff_high": diff_high,
            "map_diff_excludes_zero": (diff_low > 0) | (diff_high < 0),
        },
        schema=INTERVAL_SCHEMA,
    )


def interval_cells(row: Mapping[str, Any], baseline: str | None) -> list[str]:
    """The interval cells of a leaderboard row: MAP@k's CI, the difference to the baseline, its CI, and
    whether that CI excludes zero (``yes``/``no``; ``baseline`` on the baseline's row, ``-`` when unknown)."""
    low, high = row.get("map_at_k_low"), row.get("map_at_k_high")
    ci = "-" if missing(low) or missing(high) else f"{low:.4f}–{high:.4f}"
    diff, d_low, d_high = row.get("map_diff"), row.get("map_diff_low"), row.get("map_diff_high")
    if row.get("model") == baseline and baseline is not None:
        return [ci, "0", "-", "baseline"]
    if missing(diff) or missing(d_low) or missing(d_high):
        return [ci, "-", "-", "-"]
    differs = "yes" if row.get("map_diff_excludes_zero") else "no"
    return [ci, _signed(diff), f"{_signed(d_low)} to {_signed(d_high)}", differs]


def _signed(value: Any) -> str:
    """``+0.0012``; a value that four decimals would show as ``±0.0000`` keeps its size: ``-3e-05``."""
    value = float(value)
    return f"{value:+.0e}" if 0 < abs(value) < 5e-5 else f"{value:+.4f}"


def missing(value: Any) -> bool:
    """Whether a cell's value is absent (None or NaN)."""
    return value is None or (isinstance(value, float) and math.isnan(value))


__all__ = [
    "DEFAULT_CONFIDENCE",
    "DEFAULT_RESAMPLES",
    "INTERVAL_FIELDS",
    "INTERVAL_SCHEMA",
    "MIN_RESAMPLES",
    "bootstrap_means",
    "check_confidence",
    "check_resamples",
    "combined_means",
    "interval_cells",
    "map_intervals",
    "missing",
    "percentile_interval",
    "resample_counts",
]
