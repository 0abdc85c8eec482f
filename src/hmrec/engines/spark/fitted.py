"""What the Spark engine's models share: the tables as Spark sees them, the fitted models' base class, and
the helpers that cut a Spark frame to the requested customers and scatter its lists back into ``(n, k)`` arrays.

Below both :mod:`hmrec.engines.spark.models` and :mod:`hmrec.engines.spark.ranker`, which use them.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar

import numpy as np
import pandas as pd

from hmrec.data.schema import CUSTOMER_IDX, T_DAT
from hmrec.engines.spark import aggregates as agg
from hmrec.models._params import check_customers

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession


@dataclass
class SparkData:
    """The cached tables as Spark sees them, and the sizes the models need."""

    spark: SparkSession
    transactions: DataFrame
    customers: DataFrame
    n_customers: int
    n_articles: int
    scratch: Path  # a directory beside the cache, at the same path on the driver and every executor

    def until(self, day: dt.date | None) -> tuple[DataFrame, dt.date | None]:
        """Transactions on or before ``day`` (all for None) and their last day."""
        from pyspark.sql import functions as F

        tx = self.transactions if day is None else self.transactions.filter(F.col(T_DAT) <= F.lit(day))
        return tx, agg.last_day(tx)


def only_customers(frame: DataFrame, customers: np.ndarray, n_customers: int, column: str = CUSTOMER_IDX) -> DataFrame:
    """The rows of ``frame`` whose ``column`` is one of ``customers`` (sorted, unique); all for everyone."""
    if customers.size == n_customers:
        return frame
    wanted = frame.sparkSession.createDataFrame(pd.DataFrame({column: customers.astype(np.int32)}))
    return frame.join(wanted, on=column, how="left_semi")


def scatter_lists(frame: pd.DataFrame, customers: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(customer_idx, ids, scores)`` rows of lists -> ``(n, k)`` arrays in the order of ``customers`` (unique),
    and a mask of the customers that had a row."""
    n = customers.size
    ids = np.full((n, k), -1, dtype=np.int32)
    scores = np.full((n, k), -np.inf, dtype=np.float32)
    found = np.zeros(n, dtype=bool)
    if len(frame):
        order = np.argsort(customers, kind="stable")
        rows = order[np.searchsorted(customers[order], frame[CUSTOMER_IDX].to_numpy())]
        lists = np.stack(frame["ids"].to_numpy()).astype(np.int32).reshape(len(frame), -1)[:, :k]
        values = np.stack(frame["scores"].to_numpy()).astype(np.float32).reshape(len(frame), -1)[:, :k]
        ids[rows, : lists.shape[1]] = lists
        scores[rows, : values.shape[1]] = values
        found[rows] = True
    return ids, scores, found


def unique_customers(customers: np.ndarray, n_customers: int, name: str) -> tuple[np.ndarray, np.ndarray]:
    customers = check_customers(customers, n_customers, name)
    return np.unique(customers, return_inverse=True)


class SparkFitted:
    """What the Spark models share with a fitted Recommender: a name, fitted, ``recommend`` = ``candidates``."""

    name: ClassVar[str] = ""
    score_kind: ClassVar[str] = "raw"
    score_floor: ClassVar[float] = -np.inf
    covers_cold: ClassVar[bool] = True
    is_fitted = True

    def candidates(self, customers: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
        raise NotImplementedError

    def recommend(self, customers: np.ndarray, k: int = 12) -> tuple[np.ndarray, np.ndarray]:
        return self.candidates(customers, k)


__all__ = ["SparkData", "SparkFitted", "only_customers", "scatter_lists", "unique_customers"]
