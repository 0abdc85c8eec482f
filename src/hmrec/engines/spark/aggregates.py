"""The aggregates hmrec's models are built from, as Spark group-bys over the cached transactions.

Each one is the Spark form of a local computation and gives the same numbers (tests compare them on the
same data):

* :func:`article_sales`: purchase rows per article over a window, optionally time-decayed and per customer
  group (``hmrec.models.sales.article_sales``);
* :func:`recent_articles`: the articles sold in the last weeks (``recent_articles``);
* :func:`purchase_weights`: each customer's purchase history as ``(customer, article, weight)`` with the
  time decay (the non-zeros of ``Dataset.interactions``).

Decay: a purchase ``r`` weighs ``0.5 ** (age_days(r) / half_life_days)`` with ``age_days = end - t_dat`` and
``end`` the last day of the training window, as locally. Weights are summed in double precision and
rounded to float32 at the end, as the local group-bys do.
"""

from __future__ import annotations

import datetime as dt
import math
from typing import TYPE_CHECKING, cast

import numpy as np
import pandas as pd

from hmrec.data.schema import ARTICLE_IDX, CUSTOMER_IDX, T_DAT

if TYPE_CHECKING:
    from pyspark.sql import Column, DataFrame

WEIGHT = "w"
GROUP = "_group"


def to_pandas(frame: DataFrame) -> pd.DataFrame:
    """Collect a (small) Spark frame to the driver, through Arrow."""
    return cast(pd.DataFrame, frame.toPandas())


def last_day(tx: DataFrame) -> dt.date | None:
    """The last transaction day of ``tx`` (None when it is empty)."""
    from pyspark.sql import functions as F

    value = tx.agg(F.max(T_DAT)).collect()[0][0]
    return value if isinstance(value, dt.date) else None


def window_start(end: dt.date, days: float | None) -> dt.date | None:
    """First day of the last ``days`` days ending at ``end`` (``hmrec.models.sales.window_start``)."""
    return None if days is None else end - dt.timedelta(days=math.ceil(days) - 1)


def since(tx: DataFrame, start: dt.date | None) -> DataFrame:
    from pyspark.sql import functions as F

    return tx if start is None else tx.filter(F.col(T_DAT) >= F.lit(start))


def decay(end: dt.date, half_life_days: float | None) -> Column:
    """The weight of a purchase row, as a Spark column (1 without decay)."""
    from pyspark.sql import functions as F

    if half_life_days is None:
        return F.lit(1.0)
    age = F.datediff(F.lit(end), F.col(T_DAT)).cast("double")
    return F.pow(F.lit(0.5), age / float(half_life_days))


def article_sales(
    tx: DataFrame,
    end: dt.date,
    n_articles: int,
    *,
    days: float | None = None,
    half_life_days: float | None = None,
    groups: DataFrame | None = None,
    n_groups: int = 0,
) -> np.ndarray:
    """``(n_articles,)`` float32 sales, or ``(n_groups, n_articles)`` with ``groups`` (customer_idx, _group).

    Customers without a group (not in ``groups``) do not count in the per-group sales.
    """
    from pyspark.sql import functions as F

    weight = decay(end, half_life_days).alias(WEIGHT)
    rows = since(tx, window_start(end, days)).select(CUSTOMER_IDX, ARTICLE_IDX, weight)
    if groups is None:
        sums = to_pandas(rows.groupBy(ARTICLE_IDX).agg(F.sum(WEIGHT).alias(WEIGHT)))
        out = np.zeros(n_articles, dtype=np.float64)
        out[sums[ARTICLE_IDX].to_numpy()] = sums[WEIGHT].to_numpy()
        return out.astype(np.float32)
    sums = to_pandas(rows.join(groups, on=CUSTOMER_IDX).groupBy(GROUP, ARTICLE_IDX).agg(F.sum(WEIGHT).alias(WEIGHT)))
    per_group = np.zeros((n_groups, n_articles), dtype=np.float64)
    per_group[sums[GROUP].to_numpy(), sums[ARTICLE_IDX].to_numpy()] = sums[WEIGHT].to_numpy()
    return per_group.astype(np.float32)


def recent_articles(tx: DataFrame, end: dt.date, n_articles: int, weeks: float | None) -> np.ndarray | None:
    """Mask over articles: sold at least once in the last ``weeks`` weeks up to ``end`` (None: no limit)."""
    if weeks is None:
        return None
    sold = to_pandas(since(tx, window_start(end, 7 * weeks)).select(ARTICLE_IDX).distinct())
    mask = np.zeros(n_articles, dtype=bool)
    mask[sold[ARTICLE_IDX].to_numpy()] = True
    return mask


def purchase_weights(
    tx: DataFrame, end: dt.date, *, half_life_days: float | None, start: dt.date | None = None
) -> DataFrame:
    """``(customer_idx, article_idx, w)``: each customer's decayed purchase count per article (float32 w).

    The non-zeros of ``Dataset.interactions(start, end, half_life_days=..., reference=end)``.
    """
    from pyspark.sql import functions as F

    weighted = since(tx, start).select(
        CUSTOMER_IDX, ARTICLE_IDX, decay(end, half_life_days).cast("float").alias(WEIGHT)
    )
    return weighted.groupBy(CUSTOMER_IDX, ARTICLE_IDX).agg(F.sum(WEIGHT).cast("float").alias(WEIGHT))


__all__ = [
    "article_sales",
    "decay",
    "last_day",
    "purchase_weights",
    "recent_articles",
    "window_start",
]
