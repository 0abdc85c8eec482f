"""The Spark engine: a session on ``--spark-master``, the cache as Spark tables, the models of ``models``."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import polars as pl

from hmrec.data import load
from hmrec.data.dataset import Dataset
from hmrec.data.schema import (
    ARTICLE_IDX,
    ARTICLES_FILE,
    CUSTOMER_IDX,
    CUSTOMERS_FILE,
    T_DAT,
    TRANSACTIONS_FILE,
    TRANSACTIONS_SCHEMA,
)
from hmrec.engines.base import Fitted, IngestReport
from hmrec.engines.spark import models
from hmrec.engines.spark.fitted import SparkData
from hmrec.engines.spark.ingest import build_cache
from hmrec.engines.spark.session import spark_session
from hmrec.models.base import Recommender

if TYPE_CHECKING:
    from pyspark.sql import SparkSession


class SparkEngine:
    name = "spark"

    def __init__(self, master: str | None, conf: Mapping[str, str]) -> None:
        self.master = master
        self.conf = dict(conf)
        self._session: SparkSession | None = None
        self._data: SparkData | None = None

    @property
    def spark(self) -> SparkSession:
        if self._session is None:
            self._session = spark_session(self.master, self.conf)
        return self._session

    def _cache(self, data_dir: Path, cache: Path | None, *, force: bool, progress: bool) -> tuple[Path, bool]:
        """The cache of ``data_dir``, built by Spark when missing or stale; and whether it was fresh."""
        location = Path(cache) if cache is not None else load.default_cache_dir(data_dir)
        fresh = not force and load.cache_is_fresh(data_dir, location)
        if not fresh:
            build_cache(self.spark, data_dir, location, progress=progress)
        return location, fresh

    def _tables(self, location: Path) -> SparkData:
        read = self.spark.read.parquet
        rows = (load._read_manifest(location) or {}).get("rows", {})
        return SparkData(
            spark=self.spark,
            transactions=read(str(location / load.CACHE_FILES[TRANSACTIONS_FILE])),
            customers=read(str(location / load.CACHE_FILES[CUSTOMERS_FILE])),
            n_customers=int(rows[CUSTOMERS_FILE]),
            n_articles=int(rows[ARTICLES_FILE]),
            scratch=location,
        )

    def ingest(self, data_dir: Path, cache: Path | None, *, force: bool, progress: bool) -> IngestReport:
        from pyspark.sql import functions as F

        location, fresh = self._cache(data_dir, cache, force=force, progress=progress)
        data = self._tables(location)
        stats = data.transactions.agg(
            F.count(F.lit(1)).alias("transactions"),
            F.countDistinct(CUSTOMER_IDX).alias("buying_customers"),
            F.countDistinct(ARTICLE_IDX).alias("sold_articles"),
            F.min(T_DAT).alias("start"),
            F.max(T_DAT).alias("end"),
        ).collect()[0]
        summary: dict[str, Any] = {
            "transactions": int(stats["transactions"]),
            "customers": data.n_customers,
            "articles": data.n_articles,
            "buying_customers": int(stats["buying_customers"]),
            "sold_articles": int(stats["sold_articles"]),
            "start_date": str(stats["start"]) if stats["start"] else None,
            "end_date": str(stats["end"]) if stats["end"] else None,
        }
        manifest = load._read_manifest(location) or {}
        return IngestReport(summary, str(manifest.get("fingerprint", "")), location, fresh)

    def load(self, data_dir: Path, cache: Path | None, *, progress: bool, transactions: bool = True) -> Dataset:
        location, _ = self._cache(data_dir, cache, force=False, progress=progress)
        self._data = self._tables(location)
        if transactions:
            return load.load_dataset(data_dir, location, progress=progress)
        manifest = load._read_manifest(location) or {}
        return Dataset(
            articles=pl.read_parquet(location / load.CACHE_FILES[ARTICLES_FILE]),
            customers=pl.read_parquet(location / load.CACHE_FILES[CUSTOMERS_FILE]),
            transactions=pl.DataFrame(schema=TRANSACTIONS_SCHEMA),
            fingerprint=str(manifest.get("fingerprint", "")),
            source=data_dir,
        )

    def check_models(self, names: Sequence[str]) -> None:
        for name in names:
            models.check_supported(name)

    def fit(self, model: Recommender, train: Dataset, until: dt.date | None = None) -> Fitted:
        if self._data is None:
            raise RuntimeError("SparkEngine.fit before load")
        return models.fit(model, self._data, train, until)

    def close(self) -> None:
        if self._session is not None:
            self._session.stop()
            self._session = None


__all__ = ["SparkEngine"]
