"""Shared building blocks of the baseline models: sales counts, recent articles, the seen matrix, row top-k.

Everything here is vectorized (polars group-bys, numpy over whole arrays or blocks of rows); nothing loops
over customers or transactions in Python. Articles are ``article_idx`` and customers ``customer_idx``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import numpy as np
import polars as pl
import scipy.sparse as sp

from hmrec.data.dataset import Dataset
from hmrec.data.schema import ARTICLE_IDX, CUSTOMER_IDX, T_DAT
from hmrec.errors import ParameterError

#: upper bound on the cells of one ``(rows, depth)`` working block (int32/bool arrays of ~64 MB at most)
BLOCK_CELLS = 1 << 24


# ---------------------------------------------------------------------- parameter checks
def check_positive(name: str, value: float | None, *, model: str, allow_none: bool = False) -> float | None:
    """``value`` if it is a number > 0 (or None when allowed), else a ParameterError naming it."""
    if value is None and allow_none:
        return None
    number = isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, bool)
    if not number or not value > 0:  # type: ignore[operator]
        allowed = "a number > 0" + (" or null" if allow_none else "")
        raise ParameterError(f"{model}: parameter '{name}' must be {allowed}, got {value!r}")
    return value


def check_bool(name: str, value: object, *, model: str) -> bool:
    if not isinstance(value, (bool, np.bool_)):
        raise ParameterError(f"{model}: parameter '{name}' must be true or false, got {value!r}")
    return bool(value)


def check_customers(customers: np.ndarray, n_customers: int, model: str) -> np.ndarray:
    """Customer indices as int64, each in ``[0, n_customers)``."""
    arr = np.asarray(customers)
    if arr.ndim != 1 or (arr.size and not np.issubdtype(arr.dtype, np.integer)):
        raise ParameterError(
            f"{model}: customers must be a 1-d array of customer indices, got shape {arr.shape}"
        )
    arr = arr.astype(np.int64, copy=False)
    if arr.size and (arr.min() < 0 or arr.max() >= n_customers):
        raise ParameterError(
            f"{model}: customer index out of range [0, {n_customers}) "
            f"(got {int(arr.min())}..{int(arr.max())})"
        )
    return arr


# ---------------------------------------------------------------------- windows and sales
def window_start(train: Dataset, days: float | None) -> dt.date | None:
    """First day of the last ``days`` days of ``train`` (inclusive), or None for "all of it".

    With ``end`` the last transaction day, the window is ``end - (days - 1) <= t_dat <= end``: ``days=7`` is
    the final week.
    """
    end = train.end_date
    if days is None or end is None:
        return None
    return end - dt.timedelta(days=int(np.ceil(days)) - 1)


def decay_weights(dates: pl.Expr, reference: dt.date, half_life_days: float | None) -> pl.Expr:
    """Weight ``0.5 ** (age_days / half_life_days)``, ``age_days = reference - t_dat`` (1 without decay)."""
    if half_life_days is None:
        return pl.lit(1.0, dtype=pl.Float64)
    age = (pl.lit(reference, dtype=pl.Date) - dates).dt.total_days().cast(pl.Float64)
    return pl.lit(0.5, dtype=pl.Float64).pow(age / float(half_life_days))


def article_sales(
    train: Dataset,
    *,
    days: float | None = None,
    half_life_days: float | None = None,
    groups: np.ndarray | None = None,
    n_groups: int = 0,
) -> np.ndarray:
    """Purchase rows per article, optionally time-decayed and per customer group.

    ``sales[a] = sum over purchase rows r of a in the window of 0.5 ** (age_days(r) / half_life_days)``,
    ``age_days = end - t_dat`` with ``end`` the last day of ``train``; without ``half_life_days`` every row
    counts 1. Only the last ``days`` days are counted when ``days`` is given.

    With ``groups`` (an int array: customer_idx -> group in ``[0, n_groups)``, -1 for "no group") the result
    is ``(n_groups, n_articles)``: the sales to each group's customers. Without it, a ``(n_articles,)``
    float32 vector.
    """
    tx = train.transactions
    end = train.end_date
    shape: tuple[int, ...] = (n_groups, train.n_articles) if groups is not None else (train.n_articles,)
    if end is None:
        return np.zeros(shape, dtype=np.float32)
    start = window_start(train, days)
    if start is not None:
        tx = tx.filter(pl.col(T_DAT) >= start)
    # summed by numpy in row order: polars' parallel group-by sums floats in an order that changes from run
    # to run (measured: 6 different results in 6 runs), and these sums rank articles
    weights = tx.select(decay_weights(pl.col(T_DAT), end, half_life_days).alias("w"))["w"].to_numpy()
    weights = np.broadcast_to(weights, (tx.height,)).astype(np.float64)  # a literal 1.0 comes back as one value
    articles = tx[ARTICLE_IDX].to_numpy().astype(np.int64)
    if groups is None:
        return np.bincount(articles, weights=weights, minlength=train.n_articles).astype(np.float32)
    # the group of each purchase row comes from a numpy gather (customer_idx is a row position)
    group_col = np.asarray(groups, dtype=np.int64)[tx[CUSTOMER_IDX].to_numpy()]
    keep = group_col >= 0
    cells = group_col[keep] * train.n_articles + articles[keep]
    sums = np.bincount(cells, weights=weights[keep], minlength=n_groups * train.n_articles)
    return sums.reshape(shape).astype(np.float32)


def recent_articles(train: Dataset, weeks: float | None) -> np.ndarray | None:
    """Mask over articles: sold at least once in the last ``weeks`` weeks of ``train`` (None: no limit)."""
    if weeks is None:
        return None
    start = window_start(train, 7 * weeks)
    mask = np.zeros(train.n_articles, dtype=bool)
    tx = train.transactions if start is None else train.transactions.filter(pl.col(T_DAT) >= start)
    mask[tx[ARTICLE_IDX].unique().to_numpy()] = True
    return mask


def seen_matrix(train: Dataset) -> sp.csr_matrix:
    """Customers x articles, 1 where the customer bought the article at least once in ``train`` (memoized)."""
    return train.interactions(binary=True)


def csr_to_arrays(matrix: sp.csr_matrix, prefix: str) -> dict[str, np.ndarray]:
    """A binary CSR's structure as plain arrays (so that the generic npz save/restore can keep it)."""
    return {
        f"{prefix}_indptr_": matrix.indptr.astype(np.int64),
        f"{prefix}_indices_": matrix.indices.astype(np.int32),
    }


def csr_from_arrays(indptr: np.ndarray, indices: np.ndarray, n_cols: int) -> sp.csr_matrix:
    """Inverse of :func:`csr_to_arrays` (values all 1)."""
    data = np.ones(indices.size, dtype=np.float32)
    return sp.csr_matrix((data, indices, indptr), shape=(indptr.size - 1, n_cols))


# ---------------------------------------------------------------------- ranking helpers
def csr_row_top_k(matrix: sp.csr_matrix, rows: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """The ``k`` largest stored entries of each requested row of a CSR matrix, best first.

    Only stored (non-zero) entries are candidates, so a customer's own purchases are ranked without an
    ``(n, n_articles)`` dense matrix. Ties go to the lower column index. Returns ``(ids, scores)`` padded with
    -1 / -inf, shapes ``(len(rows), k)``.
    """
    rows = np.asarray(rows, dtype=np.int64)
    n = rows.size
    ids = np.full((n, k), -1, dtype=np.int32)
    scores = np.full((n, k), -np.inf, dtype=np.float32)
    if n == 0 or matrix.nnz == 0:
        return ids, scores
    sub = matrix[rows]
    sub.sort_indices()
    counts = np.diff(sub.indptr)
    row_of = np.repeat(np.arange(n, dtype=np.int64), counts)
    # primary: row; then descending score; then ascending column for deterministic ties
    order = np.lexsort((sub.indices, -sub.data, row_of))
    # row_of is sorted, so the position minus the row's start is the rank within the row
    rank = np.arange(sub.nnz, dtype=np.int64) - sub.indptr[row_of]
    keep = rank < k
    taken = order[keep]
    ids[row_of[keep], rank[keep]] = sub.indices[taken]
    scores[row_of[keep], rank[keep]] = sub.data[taken]
    return ids, scores


def drop_excluded(
    ids: np.ndarray, scores: np.ndarray, exclude: sp.csr_matrix, k: int
) -> tuple[np.ndarray, np.ndarray]:
    """Drop from each row of ``ids`` the articles stored in the same row of ``exclude``; keep the first ``k``.

    ``ids``/``scores`` are ``(n, depth)`` ranked lists (padding -1 / -inf), ``exclude`` is ``(n, n_articles)``
    with its rows aligned with ``ids``. The survivors keep their order and scores. Vectorized by turning each
    (row, article) pair into one int64 key and looking the list's keys up in the sorted excluded keys.
    """
    n, depth = ids.shape
    m = exclude.shape[1]
    ex = sp.csr_matrix(exclude)
    ex.sort_indices()
    ex_rows = np.repeat(np.arange(n, dtype=np.int64), np.diff(ex.indptr))
    ex_keys = ex_rows * m + ex.indices  # sorted: rows ascending, columns sorted within rows
    list_keys = np.arange(n, dtype=np.int64)[:, None] * m + np.maximum(ids, 0)
    pos = np.searchsorted(ex_keys, list_keys)
    pos = np.minimum(pos, max(ex_keys.size - 1, 0))
    banned = (ex_keys[pos] == list_keys) if ex_keys.size else np.zeros(ids.shape, dtype=bool)
    banned |= ids < 0
    order = np.argsort(banned, axis=1, kind="stable")[:, :k]
    got = ~np.take_along_axis(banned, order, axis=1)
    out_ids = np.where(got, np.take_along_axis(ids, order, axis=1), -1).astype(np.int32)
    out_scores = np.where(got, np.take_along_axis(scores, order, axis=1), -np.inf).astype(np.float32)
    if out_ids.shape[1] < k:
        pad = k - out_ids.shape[1]
        out_ids = np.pad(out_ids, ((0, 0), (0, pad)), constant_values=-1)
        out_scores = np.pad(out_scores, ((0, 0), (0, pad)), constant_values=-np.inf)
    return out_ids, out_scores


def ranked_articles(scores: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """All articles with a positive score, best first (ties: lower index first): ``(ids, scores)`` 1-d."""
    scores = np.asarray(scores, dtype=np.float32)
    candidates = np.flatnonzero(scores > 0)
    order = np.lexsort((candidates, -scores[candidates]))
    ids = candidates[order].astype(np.int32)
    return ids, scores[ids]


def top_k_excluding(
    make_lists: Callable[[np.ndarray, int], tuple[np.ndarray, np.ndarray]],
    n: int,
    k: int,
    full_depth: int,
    exclude: sp.csr_matrix,
) -> tuple[np.ndarray, np.ndarray]:
    """Top-``k`` of ranked lists after removing each row's excluded articles, in two passes.

    ``make_lists(rows, depth)`` gives the first ``depth`` entries (ids, scores) of the ranked lists of request
    rows ``rows``; ``exclude`` has one row per request row. Pass 1 reads a shallow prefix (``2k + 8``) for
    every row: enough for nearly everyone, since a customer rarely bought many of the top articles. Pass 2
    re-reads only the rows left short, to depth ``k + (their number of exclusions)``, which is always
    enough. The result equals filtering the full lists; the cost is ``O(n k)`` plus the few heavy buyers.
    """
    out_ids = np.full((n, k), -1, dtype=np.int32)
    out_scores = np.full((n, k), -np.inf, dtype=np.float32)
    per_row = np.diff(exclude.indptr)
    shallow = min(full_depth, 2 * k + 8)
    step = max(1, BLOCK_CELLS // (shallow + 1))
    for lo in range(0, n, step):
        rows = np.arange(lo, min(n, lo + step))
        ids, scores = make_lists(rows, shallow)
        out_ids[rows], out_scores[rows] = drop_excluded(ids, scores, exclude[lo : rows[-1] + 1], k)
    if full_depth <= shallow:
        return out_ids, out_scores
    short = np.flatnonzero((out_ids[:, k - 1] < 0) & (per_row > 0))
    short = short[np.argsort(per_row[short], kind="stable")]  # similar depths share a block
    lo = 0
    while lo < short.size:
        # rows are sorted by exclusions, so the depth of a block is bounded by that of the window's last row
        window_end = min(lo + 65_536, short.size)
        worst = k + int(per_row[short[window_end - 1]])
        hi = lo + max(1, min(window_end - lo, BLOCK_CELLS // (worst + 1)))
        rows = short[lo:hi]
        depth = min(full_depth, k + int(per_row[rows].max()))
        ids, scores = make_lists(rows, depth)
        out_ids[rows], out_scores[rows] = drop_excluded(ids, scores, exclude[rows], k)
        lo = hi
    return out_ids, out_scores


def group_recommend(
    group_ids: np.ndarray,
    group_scores: np.ndarray,
    group_of: np.ndarray,
    k: int,
    *,
    exclude: sp.csr_matrix | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Per-customer top-``k`` from one ranked list per group, skipping each customer's excluded articles.

    ``group_ids``/``group_scores`` are ``(G, depth)`` ranked lists (padding -1 / -inf); ``group_of[i]`` is the
    group of the i-th requested customer; ``exclude`` (rows aligned with the customers) removes articles,
    the list being filled from further down. A global list is the case ``G = 1``.
    """
    n = group_of.size
    full_depth = group_ids.shape[1]
    if exclude is None:
        out_ids = np.full((n, k), -1, dtype=np.int32)
        out_scores = np.full((n, k), -np.inf, dtype=np.float32)
        depth = min(k, full_depth)
        out_ids[:, :depth] = group_ids[group_of, :depth]
        out_scores[:, :depth] = group_scores[group_of, :depth]
        return out_ids, out_scores

    def make_lists(rows: np.ndarray, depth: int) -> tuple[np.ndarray, np.ndarray]:
        g = group_of[rows]
        return group_ids[g, :depth], group_scores[g, :depth]

    return top_k_excluding(make_lists, n, k, full_depth, exclude)


def stack_ranked(lists: list[tuple[np.ndarray, np.ndarray]]) -> tuple[np.ndarray, np.ndarray]:
    """1-d ranked lists of different lengths -> ``(G, max_len)`` arrays padded with -1 / -inf."""
    depth = max([ids.size for ids, _ in lists] + [1])
    out_ids = np.full((len(lists), depth), -1, dtype=np.int32)
    out_scores = np.full((len(lists), depth), -np.inf, dtype=np.float32)
    for g, (ids, scores) in enumerate(lists):  # one iteration per group (a handful), not per customer
        out_ids[g, : ids.size] = ids
        out_scores[g, : scores.size] = scores
    return out_ids, out_scores


# ---------------------------------------------------------------------- hashing (per-customer randomness)
def splitmix64(x: np.ndarray) -> np.ndarray:
    """SplitMix64 finalizer: a well-mixed uint64 hash of each uint64, vectorized.

    Used to derive per-customer random draws from ``(seed, customer_idx)`` so that a customer's random list
    does not depend on which other customers are in the batch.
    """
    z = np.asarray(x, dtype=np.uint64) + np.uint64(0x9E3779B97F4A7C15)
    z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return z ^ (z >> np.uint64(31))
