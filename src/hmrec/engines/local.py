"""The local engine: hmrec's own loader and models, in this process (polars, numpy, numba)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from pathlib import Path

import polars as pl

from hmrec.data.dataset import Dataset
from hmrec.data.load import cache_is_fresh, default_cache_dir, load_dataset
from hmrec.data.schema import ARTICLE_IDX, CUSTOMER_IDX, T_DAT
from hmrec.engines.base import Fitted, IngestReport
from hmrec.models.base import Recommender
from hmrec.models.sales import window_start


class LocalEngine:
    name = "local"

    def ingest(self, data_dir: Path, cache: Path | None, *, force: bool, progress: bool) -> IngestReport:
        fresh = not force and cache_is_fresh(data_dir, cache)
        dataset = load_dataset(data_dir, cache, progress=progress, refresh=force)
        location = cache if cache is not None else default_cache_dir(data_dir)
        return IngestReport(dataset.summary(), dataset.fingerprint, location, fresh)

    def load(self, data_dir: Path, cache: Path | None, *, progress: bool, transactions: bool = True) -> Dataset:
        return load_dataset(data_dir, cache, progress=progress)

    def check_models(self, names: Sequence[str]) -> None:
        """Every registered model runs locally."""

    def fit(self, model: Recommender, train: Dataset, until: dt.date | None = None) -> Fitted:
        return model.fit(train)

    def close(self) -> None:
        """Nothing to release."""


def co_purchase_counts(train: Dataset, *, days: float | None = None, min_customers: int = 1) -> pl.DataFrame:
    """``(article_idx, other_idx, customers)``: customers who bought both articles in the last ``days`` days.

    The local form of :func:`hmrec.engines.spark.aggregates.co_purchase_counts` (same definition).
    """
    start = window_start(train, days)
    tx = train.transactions if start is None else train.transactions.filter(pl.col(T_DAT) >= start)
    bought = tx.lazy().select(CUSTOMER_IDX, ARTICLE_IDX).unique()
    pairs = bought.join(bought.rename({ARTICLE_IDX: "other_idx"}), on=CUSTOMER_IDX).filter(
        pl.col(ARTICLE_IDX) != pl.col("other_idx")
    )
    counts = pairs.group_by(ARTICLE_IDX, "other_idx").agg(pl.len().cast(pl.Int64).alias("customers"))
    return counts.filter(pl.col("customers") >= min_customers).collect()


__all__ = ["LocalEngine", "co_purchase_counts"]
