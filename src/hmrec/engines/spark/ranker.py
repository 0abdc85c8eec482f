"""The two-stage ``ranker`` on Spark: labelled rows and scores built on the executors, LightGBM on the driver.

* **The window.** The ranker reads only the transactions of its window (:meth:`Ranker.first_day_read`: the
  training weeks and the ``history_weeks`` its sources and features look back, 31 weeks by default). Spark
  filters the cached transactions to that window and the driver collects them (Arrow).
* **Training.** At each training cut-off the driver fits the sources and the feature tables (the state), which
  is broadcast to the executors; the week's buyers go to them in the local engine's blocks, each block with its
  label-week purchases, and each executor builds its blocks' candidates, labels, negative sample and feature
  rows with the local code. The rows (the sample) reach the driver as ``.npy`` files in a temporary directory
  beside the cache (a path the driver and the executors share, as the cache itself), read in block order, and
  LightGBM trains on them there.
* **Scoring.** The fitted ranker (the final state and the booster) is broadcast once per ``recommend``; each
  partition of customers builds its candidates and features and scores them with the booster.

Every step runs the local engine's code on the same blocks in the same order, so the Spark ranker is the
local ranker: the same training rows, booster and lists (tests check it). What stays on the driver, and is the
limit beyond one machine's memory: the window's transactions (at H&M scale 9.88M rows, 0.17 GB), the
states it fits and broadcasts, and the training sample (docs/scale-out.md).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import math
import shutil
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar

import numpy as np
import pandas as pd
import polars as pl
import scipy.sparse as sp

from hmrec.atomic import atomic_file
from hmrec.data.dataset import Dataset
from hmrec.data.schema import CUSTOMER_IDX, T_DAT, TRANSACTIONS_SCHEMA
from hmrec.engines.spark.fitted import SparkData, SparkFitted, only_customers, scatter_lists, unique_customers
from hmrec.engines.spark.session import broadcast
from hmrec.errors import ParameterError
from hmrec.models.base import check_k
from hmrec.ranking.cutoff import CutoffState, Rows
from hmrec.ranking.ranker import BLOCK_CUSTOMERS, Ranker

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession



def window(ranker: Ranker, data: SparkData, train: Dataset, until: dt.date | None) -> Dataset:
    """``train``'s customers and articles with the transactions the ranker's fit reads, collected from Spark."""
    from pyspark.sql import functions as F

    tx, end = data.until(until)
    if end is None:
        raise ParameterError(f"{ranker.name}: no transactions to train on (fix: choose a later --test-end)")
    first = ranker.first_day_read(end)
    if first is not None:
        tx = tx.filter(F.col(T_DAT) >= F.lit(first))
    # the cache's column order and types; the rows keep the cache's order, as the local engine reads them
    collected = pl.from_arrow(tx.select(*TRANSACTIONS_SCHEMA).toArrow())
    if not isinstance(collected, pl.DataFrame):  # a table becomes a frame; satisfies the type checker
        raise TypeError("expected a table of transactions")
    transactions = collected.cast(TRANSACTIONS_SCHEMA)  # type: ignore[arg-type]
    return dataclasses.replace(train, transactions=transactions, _memo={})


def score_partition(batches: Iterator[pd.DataFrame], ranker: Ranker, k: int) -> Iterator[pd.DataFrame]:
    """On an executor: the top ``k`` of the ranker's candidates for each customer of the partition."""
    from hmrec.progress import set_quiet

    set_quiet(True)  # an executor has no terminal to draw progress bars on
    for batch in batches:
        customers = batch[CUSTOMER_IDX].to_numpy(np.int32)
        if customers.size == 0:
            continue
        ids, scores = ranker.candidates(customers, k)
        yield pd.DataFrame({CUSTOMER_IDX: customers, "ids": list(ids), "scores": list(scores)})


@dataclass
class SparkRanker(SparkFitted):
    """A ranker fitted from the executors' rows whose ``recommend`` runs on the executors."""

    name: ClassVar[str] = "ranker"

    spark: SparkSession
    model: Ranker
    customers: DataFrame  # customer_idx of every customer, on Spark
    n_customers: int

    def candidates(self, customers: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
        k = check_k(n)
        uniq, inverse = unique_customers(customers, self.n_customers, self.name)
        if uniq.size == 0:
            return np.zeros((0, k), dtype=np.int32), np.zeros((0, k), dtype=np.float32)
        wanted = only_customers(self.customers, uniq, self.n_customers)
        # at least one task per core, and blocks no larger than the local engine's
        parts = max(self.spark.sparkContext.defaultParallelism, math.ceil(uniq.size / BLOCK_CUSTOMERS))
        schema = f"{CUSTOMER_IDX} int, ids array<int>, scores array<float>"
        with broadcast(self.spark, self.model) as shared:

            def score(batches: Iterator[pd.DataFrame]) -> Iterator[pd.DataFrame]:
                return score_partition(batches, shared.value, k)

            frame = wanted.repartition(parts).mapInPandas(score, schema).toPandas()
        ids, scores, _ = scatter_lists(frame, uniq, k)
        return ids[inverse], scores[inverse]

    def diagnostics(self, customers: np.ndarray, truth: sp.csr_matrix) -> dict[str, pl.DataFrame]:
        """The fitted ranker's own report (source recall and feature importance), computed on the driver."""
        return self.model.diagnostics(customers, truth)


ROW_FILES = ("x", "y", "g")


def _save(array: np.ndarray, path: Path) -> None:
    """``array`` to ``path`` whole or not at all: a retried or speculative task rewrites the same bytes."""
    with atomic_file(path) as out:
        np.save(out, array, allow_pickle=False)


def _row_path(directory: Path, block: int, name: str) -> Path:
    return directory / f"block-{block:06d}.{name}.npy"


def block_rows_partition(
    group: pd.DataFrame, ranker: Ranker, state: CutoffState, week: int, keep: np.ndarray, sample: bool,
    n_articles: int, directory: Path,
) -> pd.DataFrame:
    """On an executor: one block of buyers (``block``, ``customer_idx``, ``bought``: their label-week articles)
    -> its labelled rows, written to ``directory`` (features ``x``, labels ``y``, group sizes ``g``); returns
    the block and its number of rows (0: no candidate was bought, no files)."""
    from hmrec.progress import set_quiet

    set_quiet(True)
    group = group.sort_values(CUSTOMER_IDX)
    number = int(group["block"].iloc[0])
    block = group[CUSTOMER_IDX].to_numpy(np.int32)
    bought = [np.asarray(a, dtype=np.int32) for a in group["bought"]]
    indptr = np.concatenate([[0], np.cumsum([a.size for a in bought])]).astype(np.int64)
    indices = np.concatenate(bought) if bought else np.zeros(0, dtype=np.int32)
    truth = sp.csr_matrix((np.ones(indices.size, dtype=np.float32), indices, indptr), shape=(block.size, n_articles))
    rows = ranker.block_rows(state, block, truth, week, keep, sample)
    if rows is None:
        return pd.DataFrame({"block": [number], "rows": [0]})
    for name, array in zip(ROW_FILES, rows, strict=True):
        _save(array, _row_path(directory, number, name))
    return pd.DataFrame({"block": [number], "rows": [int(rows[1].size)]})


def rows_on_executors(
    spark: SparkSession, ranker: Ranker, state: CutoffState, blocks: list[np.ndarray], truth: sp.csr_matrix,
    week: int, keep: np.ndarray, sample: bool, scratch: Path,
) -> list[Rows | None]:
    """:meth:`Ranker._rows_of_blocks` on the executors: the same blocks, rows and order as in one process.

    The rows travel through files in a temporary directory under ``scratch`` (a path every executor and the
    driver see), not through Spark: collected, a week's unsampled validation rows (gigabytes at H&M scale)
    are pickled inside the driver's JVM and exhaust its heap.
    """
    try:
        directory = Path(tempfile.mkdtemp(prefix=".ranker-rows-", dir=scratch))
    except OSError as exc:
        raise ParameterError(
            f"ranker on spark: cannot write its training rows in {scratch} ({exc.strerror}) (fix: make the cache "
            "directory writable by the driver and the executors, or give a writable one with --cache)"
        ) from None
    customers = np.concatenate(blocks)
    frame = pd.DataFrame({
        "block": np.repeat(np.arange(len(blocks), dtype=np.int32), [b.size for b in blocks]),
        CUSTOMER_IDX: customers,
        "bought": [truth.indices[truth.indptr[c] : truth.indptr[c + 1]].astype(np.int32) for c in customers],
    })
    n_articles = truth.shape[1]
    try:
        source = spark.createDataFrame(frame, f"block int, {CUSTOMER_IDX} int, bought array<int>")
        # the parameters alone: nothing of the fit under way needs to travel
        with broadcast(spark, (type(ranker)(**ranker.get_params()), state)) as shared:

            def build(group: pd.DataFrame) -> pd.DataFrame:
                model, cut = shared.value
                return block_rows_partition(group, model, cut, week, keep, sample, n_articles, directory)

            counts = {
                int(row["block"]): int(row["rows"])
                for row in source.groupBy("block").applyInPandas(build, "block int, rows long").collect()
            }
        out: list[Rows | None] = []
        for b in range(len(blocks)):
            if counts.get(b, 0) == 0:
                out.append(None)
                continue
            x, y, g = (np.load(_row_path(directory, b, name), allow_pickle=False) for name in ROW_FILES)
            if y.size != counts[b] or x.shape[0] != y.size:
                raise RuntimeError(f"ranker: block {b}'s rows in {directory} are not the ones its task wrote")
            out.append((x, y, g))
        return out
    finally:
        shutil.rmtree(directory, ignore_errors=True)


def fit(model: Ranker, data: SparkData, train: Dataset, until: dt.date | None) -> SparkRanker:
    """``model`` trained on the window Spark cuts: rows on the executors, LightGBM on the driver."""

    def rows_of_blocks(
        state: CutoffState, blocks: list[np.ndarray], truth: sp.csr_matrix, week: int, keep: np.ndarray,
        sample: bool,
    ) -> list[Rows | None]:
        return rows_on_executors(data.spark, model, state, blocks, truth, week, keep, sample, data.scratch)

    model.fit(window(model, data, train, until), rows_of_blocks=rows_of_blocks)
    return SparkRanker(data.spark, model, data.customers.select(CUSTOMER_IDX), data.n_customers)


__all__ = ["SparkRanker", "block_rows_partition", "fit", "rows_on_executors", "score_partition", "window"]
