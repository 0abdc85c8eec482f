"""Co-purchase counting: which articles the same customers buy within a few days of each other.

One computation behind two users: the ``copurchase`` candidate source (:mod:`hmrec.ranking.sources`) and the
"bought together" lists of :mod:`hmrec.ranking.neighbours`.

From the purchases from ``start`` on (one row per customer, article and day), with ``w(d) = 0.5 ** ((end -
d) / half_life_days)`` the time decay of a purchase on day ``d`` (``w = 1`` without a half-life):

- ``buyers(a) = sum_c max_d w(d)`` over the customers ``c`` who bought ``a`` (on days ``d``);
- ``pairs(a, b) = sum_c max_d w(d)`` over the customers who bought ``b != a`` at most ``days`` days from buying
  ``a`` on day ``d``;
- ``P(b | a) = pairs(a, b) / buyers(a)``: the (time-weighted) share of ``a``'s buyers who also bought ``b``
  within ``days`` days of it; each article keeps its ``neighbours`` strongest, ties to the lower article.

Without a half-life these are counts of customers, and ``P(b | a)`` the plain share.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import polars as pl
import scipy.sparse as sp

from hmrec.data.dataset import Dataset
from hmrec.data.schema import ARTICLE_IDX, CUSTOMER_IDX, T_DAT


def purchase_days(train: Dataset, start: dt.date | None) -> pl.DataFrame:
    """One row per (customer, article, day) from ``start`` on: ``customer_idx, article_idx, day`` (Int32)."""
    tx = train.transactions.lazy()
    if start is not None:
        tx = tx.filter(pl.col(T_DAT) >= start)
    return (
        tx.select(
            pl.col(CUSTOMER_IDX),
            pl.col(ARTICLE_IDX),
            pl.col(T_DAT).cast(pl.Int32).alias("day"),
        )
        .unique()
        .collect()
    )


def window_start(train: Dataset, weeks: float) -> dt.date | None:
    """The first day of the last ``weeks`` weeks of ``train`` (None: data without purchases)."""
    end = train.end_date
    return end - dt.timedelta(days=int(7 * weeks) - 1) if end is not None else None


def copurchase_neighbours(
    train: Dataset, *, weeks: float, days: int, neighbours: int, half_life_days: float | None = None
) -> sp.csr_matrix:
    """Articles x articles ``P(b | a)`` (module docstring) over the last ``weeks`` weeks, each row's
    ``neighbours`` strongest kept (float32 CSR, sorted indices)."""
    m = train.n_articles
    rows = purchase_days(train, window_start(train, weeks))
    end = train.end_date
    if half_life_days is None or end is None:
        weight = pl.lit(1.0, dtype=pl.Float64)
        total = pl.col("w").sum()  # sums of ones: exact in any order
    else:
        age = pl.lit(int((end - dt.date(1970, 1, 1)).days), dtype=pl.Int32) - pl.col("day")
        weight = pl.lit(0.5, dtype=pl.Float64).pow(age.cast(pl.Float64) / float(half_life_days))
        # summed in sorted order: the same float whatever order the threads grouped the rows in
        total = pl.col("w").sort().sum()
    rows = rows.with_columns(weight.alias("w"))
    buyers = (
        rows.lazy()
        .group_by(CUSTOMER_IDX, ARTICLE_IDX)
        .agg(pl.col("w").max())
        .group_by(ARTICLE_IDX)
        .agg(total.alias("buyers"))
    )
    right = rows.select(CUSTOMER_IDX, pl.col(ARTICLE_IDX).alias("b"), pl.col("day").alias("day_b"))
    pairs = (
        rows.lazy()
        .join(right.lazy(), on=CUSTOMER_IDX)
        .filter((pl.col(ARTICLE_IDX) != pl.col("b")) & ((pl.col("day") - pl.col("day_b")).abs() <= days))
        .group_by(CUSTOMER_IDX, ARTICLE_IDX, "b")
        .agg(pl.col("w").max())
        .group_by(ARTICLE_IDX, "b")
        .agg(total.alias("pairs"))
        .join(buyers, on=ARTICLE_IDX)
        .with_columns((pl.col("pairs") / pl.col("buyers")).cast(pl.Float32).alias("p"))
        # strongest first, ties to the lower article: a deterministic cut at `neighbours`
        .sort([ARTICLE_IDX, "p", "b"], descending=[False, True, False])
        .with_columns(pl.int_range(pl.len()).over(ARTICLE_IDX).alias("rank"))
        .filter(pl.col("rank") < neighbours)
        .collect()
    )
    nb = sp.csr_matrix(
        (pairs["p"].to_numpy(), (pairs[ARTICLE_IDX].to_numpy(), pairs["b"].to_numpy())), shape=(m, m),
        dtype=np.float32,
    )
    nb.sort_indices()
    return nb
