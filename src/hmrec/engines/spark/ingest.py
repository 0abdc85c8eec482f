"""``ingest`` on Spark: the same validation and messages as the local loader, the same cache layout.

The rules are the local loader's (:mod:`hmrec.data.load`), shared rather than copied:

* the directory, the files and their headers are checked by the loader's own ``_check_sources``;
* ``customers.csv`` and ``articles.csv`` are read, checked and numbered by the loader's readers (they define
  the id -> index maps; 1.37M and 105K rows);
* ``transactions_train.csv`` is read by Spark, every column as a string, and converted with the loader's
  rules (date ``YYYY-MM-DD``, ids looked up by a join, a lost leading zero of an article id restored, price a
  finite number >= 0, channel 1 or 2). A value that fails becomes null; one aggregation counts the nulls and
  finds the first bad row, whose raw text the loader's ``_explain_transaction`` re-reads to write the
  message, so the same file gives the same one-line error on either engine.

The transactions are written as a directory ``transactions.parquet/`` of part files in file order (Spark
reads them in parallel; the local engine reads the directory as one table), beside the customers and
articles files and the same ``manifest.json``, through the loader's write-then-rename.
"""

from __future__ import annotations

import csv
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import polars as pl

from hmrec.data import load, read
from hmrec.data.schema import (
    ARTICLE_ID,
    ARTICLE_ID_DIGITS,
    ARTICLE_IDX,
    ARTICLES_FILE,
    CUSTOMER_ID,
    CUSTOMER_IDX,
    CUSTOMERS_FILE,
    DATE_FORMAT,
    PRICE,
    SALES_CHANNEL,
    T_DAT,
    TRANSACTION_COLUMNS,
    TRANSACTIONS_FILE,
)
from hmrec.progress import console

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession

#: rows per part file of the transactions (about 10 MB of parquet each)
ROWS_PER_PART = 2_000_000
_ROW = "_row"
_CORRUPT = "_corrupt_record"
#: Spark's spelling of the loader's ``DATE_FORMAT``
SPARK_DATE_FORMAT = DATE_FORMAT.replace("%Y", "yyyy").replace("%m", "MM").replace("%d", "dd")
SPARK_TYPES = {T_DAT: "date", CUSTOMER_IDX: "int", ARTICLE_IDX: "int", PRICE: "float", SALES_CHANNEL: "byte"}


def build_cache(spark: SparkSession, data_dir: Path, cache_dir: Path | None = None, *, progress: bool = True) -> Path:
    """Validate the three CSV files of ``data_dir`` and write the typed cache with Spark; return its path.

    Raises the loader's :class:`~hmrec.errors.DataError` (the same message) on bad input, leaving no cache.
    """
    data_dir = Path(data_dir)
    cache = Path(cache_dir) if cache_dir is not None else load.default_cache_dir(data_dir)
    load._check_cache_target(cache)
    paths = read.check_sources(data_dir)
    stamps = {name: load._stat(path) for name, path in paths.items()}
    status = console() if progress else None
    seconds: dict[str, float] = {}
    started = time.perf_counter()
    customers = read.read_customers(paths[CUSTOMERS_FILE])
    articles = read.read_articles(paths[ARTICLES_FILE])
    seconds["customers+articles"] = time.perf_counter() - started
    rows: dict[str, int] = {}

    def write_transactions(tmp: Path) -> None:
        began = time.perf_counter()
        if status:
            status.print(f"Reading {TRANSACTIONS_FILE} with Spark ...")
        rows[TRANSACTIONS_FILE] = _write_transactions(spark, paths[TRANSACTIONS_FILE], tmp, customers, articles)
        seconds["transactions"] = time.perf_counter() - began

    def manifest() -> dict[str, Any]:
        began = time.perf_counter()
        digest = load._fingerprint(paths, threading.Event())
        seconds["fingerprint"] = time.perf_counter() - began
        return {
            "format": load.CACHE_FORMAT,
            "version": load.CACHE_VERSION,
            "sources": stamps,
            "fingerprint": digest,
            "rows": {
                ARTICLES_FILE: articles.height,
                CUSTOMERS_FILE: customers.height,
                TRANSACTIONS_FILE: rows[TRANSACTIONS_FILE],
            },
            "build_seconds": seconds,
            "engine": "spark",
            "spark": spark.version,
            "polars": pl.__version__,
            "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        }

    frames = {ARTICLES_FILE: articles, CUSTOMERS_FILE: customers}
    load._write_cache(cache, frames, manifest, write_transactions)
    return cache


def _header(path: Path) -> list[str]:
    with open(path, encoding="utf-8", errors="replace", newline="") as handle:
        line = handle.readline().lstrip("\ufeff")
    return next(csv.reader([line]))


def convert_transactions(raw: DataFrame, customer_ids: DataFrame, article_ids: DataFrame) -> DataFrame:
    """The loader's conversion (``_convert_transactions``) in Spark: a bad value becomes null."""
    from pyspark.sql import functions as F

    price = F.col(PRICE).cast("double")
    channel = F.col(SALES_CHANNEL).cast("int")
    article = F.col(ARTICLE_ID)
    # lpad would also cut a longer id down to 10 characters; zfill (the loader) leaves it alone
    padded = F.when(F.length(article) < ARTICLE_ID_DIGITS, F.lpad(article, ARTICLE_ID_DIGITS, "0")).otherwise(
        article
    )
    valid_price = (price >= 0) & ~F.isnan(price) & (price < float("inf"))
    converted = raw.select(
        F.col(_ROW),
        F.col(_CORRUPT),
        F.to_date(F.col(T_DAT), SPARK_DATE_FORMAT).alias(T_DAT),
        F.col(CUSTOMER_ID),
        padded.alias(ARTICLE_ID),
        F.when(valid_price, price).cast("float").alias(PRICE),
        F.when(channel.isin(*read.SALES_CHANNELS), channel).cast("byte").alias(SALES_CHANNEL),
    )
    return (
        converted.join(customer_ids, on=CUSTOMER_ID, how="left")
        .join(F.broadcast(article_ids), on=ARTICLE_ID, how="left")
        .select(_ROW, _CORRUPT, *[F.col(name).cast(kind).alias(name) for name, kind in SPARK_TYPES.items()])
    )


def _write_transactions(
    spark: SparkSession, path: Path, tmp: Path, customers: pl.DataFrame, articles: pl.DataFrame
) -> int:
    """Convert, validate and write ``transactions.parquet/`` into ``tmp``; the number of rows."""
    from pyspark.sql import functions as F
    from pyspark.sql.types import StringType, StructField, StructType

    header = _header(path)
    schema = StructType([StructField(name, StringType()) for name in header] + [StructField(_CORRUPT, StringType())])
    raw = (
        spark.read.option("header", True)
        .option("mode", "PERMISSIVE")
        .option("columnNameOfCorruptRecord", _CORRUPT)
        .schema(schema)
        .csv(str(path))
        .withColumn(_ROW, F.monotonically_increasing_id())
    )
    customer_ids = spark.read.parquet(str(tmp / load.CACHE_FILES[CUSTOMERS_FILE])).select(CUSTOMER_ID, CUSTOMER_IDX)
    article_ids = spark.read.parquet(str(tmp / load.CACHE_FILES[ARTICLES_FILE])).select(ARTICLE_ID, ARTICLE_IDX)
    converted = convert_transactions(raw, customer_ids, article_ids).cache()
    try:
        bad = F.col(_CORRUPT).isNotNull()
        for name in SPARK_TYPES:
            bad = bad | F.col(name).isNull()
        counts = converted.agg(
            F.count(F.lit(1)).alias("rows"),
            F.count(_CORRUPT).alias(_CORRUPT),
            *[F.count_if(F.col(name).isNull()).alias(name) for name in SPARK_TYPES],
            F.min(F.when(bad, F.col(_ROW))).alias("first_bad"),
        ).collect()[0].asDict()
        n_rows = int(counts["rows"])
        if n_rows == 0:
            read.check_not_empty(pl.DataFrame(), path)  # the loader's message for a header without rows
        if counts[_CORRUPT]:
            # a row with more or fewer fields than the header: the loader's own search and message
            raise read.parse_error(path, len(TRANSACTION_COLUMNS), "a malformed row")
        if counts["first_bad"] is not None:
            # monotonically_increasing_id is increasing in file order but not contiguous: count to get the row
            position = converted.filter(F.col(_ROW) < counts["first_bad"]).count()
            nulls = {name: int(counts[name]) for name in SPARK_TYPES}
            raise read.explain_transaction(path, position, nulls, customers, articles)
        parts = max(1, -(-n_rows // ROWS_PER_PART))
        out = tmp / load.CACHE_FILES[TRANSACTIONS_FILE]
        (
            converted.repartitionByRange(parts, _ROW)
            .sortWithinPartitions(_ROW)
            .select(*SPARK_TYPES)
            .write.option("compression", "snappy")
            .parquet(str(out))
        )
    finally:
        converted.unpersist()
    for stray in out.iterdir():  # Spark's _SUCCESS and .crc files are not tables
        if not stray.name.endswith(".parquet"):
            stray.unlink()
    return n_rows


__all__ = ["build_cache", "convert_transactions"]
