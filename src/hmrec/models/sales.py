"""Sales counts, time windows and purchase matrices: what the models count at ``fit``.

Everything here is vectorized (polars group-bys, numpy over whole arrays); nothing loops over customers or
transactions in Python. Articles are ``article_idx`` and customers ``customer_idx``.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import polars as pl
import scipy.sparse as sp

from hmrec.data.dataset import Dataset
from hmrec.data.schema import ARTICLE_IDX, CUSTOMER_IDX, T_DAT


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


def store_csr(owner: object, prefix: str, matrix: sp.csr_matrix, *, values: bool = True) -> None:
    """Keep ``matrix`` on ``owner`` as plain learned arrays, so that the generic npz save and restore keep it:
    ``{prefix}indptr_`` (int64), ``{prefix}indices_`` (int32) and, with ``values``, ``{prefix}data_`` (float32;
    without, :func:`stored_csr` gives every stored entry the value 1)."""
    setattr(owner, f"{prefix}indptr_", matrix.indptr.astype(np.int64))
    setattr(owner, f"{prefix}indices_", matrix.indices.astype(np.int32))
    if values:
        setattr(owner, f"{prefix}data_", matrix.data.astype(np.float32))


def stored_csr(owner: object, prefix: str, n_cols: int | None = None) -> sp.csr_matrix:
    """The CSR that :func:`store_csr` kept on ``owner`` under ``prefix``, ``n_cols`` wide (None: square)."""
    indptr: np.ndarray = getattr(owner, f"{prefix}indptr_")
    indices: np.ndarray = getattr(owner, f"{prefix}indices_")
    data = getattr(owner, f"{prefix}data_", None)
    if data is None:
        data = np.ones(indices.size, dtype=np.float32)
    rows = indptr.size - 1
    return sp.csr_matrix((data, indices, indptr), shape=(rows, rows if n_cols is None else n_cols))


def pair_lookup(matrix: object, customers: np.ndarray, articles: np.ndarray) -> np.ndarray:
    """The entries ``matrix[customers[i], articles[i]]`` of a scipy sparse matrix as a flat float array."""
    if customers.size == 0:
        return np.zeros(0, dtype=np.float64)
    return np.asarray(matrix[customers, articles], dtype=np.float64).ravel()  # type: ignore[index]
