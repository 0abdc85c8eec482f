"""hmrec's models fitted from Spark aggregates; recommending on the driver or on the executors.

Supported: ``popularity``, ``popularity-decay``, ``popularity-age``, ``history``, ``als``, the Fills of
those (``repurchase`` = history then popularity-decay, ``als+repurchase``) and the two-stage ``ranker``. Each
takes the registered model (its hyperparameters, checked by the model's own rules) and the transactions up to
the end of the training window, and returns an object with the models' ``candidates(customers, n)`` /
``recommend(customers, k)`` contract, with ties broken the same way (the lower article index first):

* popularity family: the sales per article (per age group) are Spark group-bys; they become the local
  model's group scores, and the local model's own ``fit`` and ``recommend`` do the rest;
* ``history``: each customer's decayed purchase counts and their top ``n`` (a window over customers) are
  computed by Spark, for the requested customers only;
* a Fill (``repurchase``): its parts are fitted here and the local Fill composes their lists;
* ``als``: Spark ML ALS with implicit preferences on hmrec's confidence ``c = 1 + alpha * w`` (``w`` the
  decayed purchase counts, Spark's ``alpha`` is the same slope). Spark scales the regularization by each
  customer's number of articles (ALS-WR); ``regParam = reg / mean(articles per customer)`` makes the average
  penalty hmrec's ``reg``. Customers are scored on the executors against the candidate articles (sold in the
  last ``recent_weeks`` weeks), broadcast to every executor, with the local engine's pruned kernel;
  customers without history get the decayed popularity of the candidates, as locally.
  ``coldStartStrategy="drop"`` keeps unknown ids out of predictions, and the session's checkpoint directory
  bounds the lineage of long runs;
* ``ranker``: trained on the driver on the window of transactions Spark cuts for it, scored on the executors
  (:mod:`hmrec.engines.spark.ranker`).

``filter_bought`` (removing already-bought articles) is not available on Spark: it needs every customer's
purchases on the driver. Asking for it is a ParameterError naming the parameter.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np
import pandas as pd

from hmrec.data.dataset import Dataset
from hmrec.data.schema import ARTICLE_IDX, CUSTOMER_IDX, T_DAT
from hmrec.engines.spark import aggregates as agg
from hmrec.engines.spark.fitted import SparkData, SparkFitted, only_customers, scatter_lists, unique_customers
from hmrec.engines.spark.session import broadcast
from hmrec.errors import ParameterError
from hmrec.models.base import Recommender, check_k
from hmrec.models.compose import Fill
from hmrec.models.lists import below, positive_or_neg_inf, ranked_articles
from hmrec.models.popularity import GroupPopularity, age_groups

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession

SUPPORTED = (
    "popularity", "popularity-decay", "popularity-age", "history", "repurchase", "als", "als+repurchase", "ranker",
)
#: ALS checkpoints its factors every this many iterations (with the session's checkpoint directory)
CHECKPOINT_INTERVAL = 5


def check_supported(name: str) -> None:
    if name not in SUPPORTED:
        raise ParameterError(
            f"model '{name}' does not run on the spark engine (fix: choose among {', '.join(SUPPORTED)}, "
            f"or use --engine local)"
        )


def _no_learned_half_life(model: Recommender) -> None:
    # learning it backtests the fallback on the last week of train, which the spark engine does not do
    if hasattr(model, "fallback_half_life_days") and model.fallback_half_life_days is None:
        raise ParameterError(
            f"{model.name}: a learned fallback_half_life_days (null) is not available on the spark engine "
            f"(fix: give it in days, e.g. --param {model.name}.fallback_half_life_days=3, or use --engine local)"
        )


def _no_filter_bought(model: Recommender) -> None:
    if getattr(model, "filter_bought", False):
        raise ParameterError(
            f"{model.name}: parameter 'filter_bought' is not available on the spark engine "
            f"(fix: drop it or use --engine local)"
        )


def fit(model: Recommender, data: SparkData, train: Dataset, until: dt.date | None = None) -> Any:
    """``model`` fitted on the transactions up to ``until``; has ``candidates`` and ``recommend``.

    ``train`` is the driver's view of the data (its customers and articles; its transactions are not read).
    """
    check_supported(model.name)
    if isinstance(model, Fill):
        model._validate()
        for part in ("primary", "fallback"):
            setattr(model, part, fit(getattr(model, part), data, train, until))
        model.n_customers_ = data.n_customers
        model.n_articles_ = data.n_articles
        return model
    _no_filter_bought(model)
    _no_learned_half_life(model)
    if model.name == "ranker":
        from hmrec.engines.spark import ranker
        from hmrec.ranking.ranker import Ranker

        if not isinstance(model, Ranker):
            raise TypeError(f"{model.name} is not the two-stage ranker")
        return ranker.fit(model, data, train, until)
    tx, end = data.until(until)
    if end is None:
        raise ParameterError(f"{model.name}: no transactions to train on (fix: choose a later --test-end)")
    tx = tx.select(T_DAT, CUSTOMER_IDX, ARTICLE_IDX).cache()
    try:
        if model.name == "history":
            return _fit_history(model, data, tx, end)
        if model.name == "als":
            return _fit_als(model, data, tx, end)
        return _fit_popularity(model, data, train, tx, end)
    finally:
        tx.unpersist()


# ---------------------------------------------------------------------- popularity family
def _fit_popularity(model: Any, data: SparkData, train: Dataset, tx: DataFrame, end: dt.date) -> Recommender:
    """The local model fitted on the group scores Spark computed (its ``fit`` ranks them, as locally)."""
    if not isinstance(model, GroupPopularity):
        raise TypeError(f"{model.name} is not a popularity model")
    model._validate()
    n = data.n_articles
    mask = agg.recent_articles(tx, end, n, model.recent_weeks)

    def restrict(scores: np.ndarray) -> np.ndarray:
        return scores if mask is None else np.where(mask, scores, 0).astype(np.float32)

    if model.name == "popularity":
        scores = agg.article_sales(tx, end, n, days=model.days)  # type: ignore[attr-defined]
    else:
        days = getattr(model, "days", None)
        scores = agg.article_sales(tx, end, n, days=days, half_life_days=model.half_life_days)  # type: ignore[attr-defined]
    if model.name == "popularity-age":
        group_scores = _age_scores(model, data, tx, end, restrict(scores), mask)
    else:
        group_scores = positive_or_neg_inf(restrict(scores))[None, :], np.zeros(data.n_customers, np.int16)
    # the model's own fit, with its group scores from Spark
    vars(model)["_group_scores"] = lambda _train: group_scores
    try:
        return model.fit(train)
    finally:
        del vars(model)["_group_scores"]


def _age_scores(
    model: Any, data: SparkData, tx: DataFrame, end: dt.date, overall: np.ndarray, mask: np.ndarray | None
) -> tuple[np.ndarray, np.ndarray]:
    """``PopularityAge``'s group scores: the bucket's sales where it bought, else the overall sales below 0."""
    from pyspark.sql import functions as F

    ages = agg.to_pandas(data.customers.select(CUSTOMER_IDX, "age")).sort_values(CUSTOMER_IDX)
    group_of, model.edges_ = age_groups(ages["age"].astype(float).to_numpy(), model.buckets)
    n_groups = int(group_of.max(initial=-1)) + 1
    # the bucket of an age = how many of the edges after the first it reaches (edges are the buckets' lower bounds)
    bucket = sum((F.col("age") >= float(edge)).cast("int") for edge in model.edges_[1:]) if n_groups > 1 else F.lit(0)
    groups = data.customers.filter(F.col("age").isNotNull()).select(CUSTOMER_IDX, F.lit(0) + bucket).toDF(
        CUSTOMER_IDX, agg.GROUP
    )
    per_group = agg.article_sales(
        tx, end, data.n_articles, half_life_days=model.half_life_days, groups=groups, n_groups=n_groups
    )
    if mask is not None:
        per_group[:, ~mask] = 0
    fill = below(0.0, positive_or_neg_inf(overall))
    scores = np.vstack([np.where(per_group > 0, per_group, fill[None, :]), fill[None, :]])
    return scores.astype(np.float32), np.where(group_of < 0, n_groups, group_of)


# ---------------------------------------------------------------------- per-customer lists on Spark
@dataclass
class SparkHistory(SparkFitted):
    """``history`` on Spark: each customer's own purchases ranked by Spark (scores: the decayed counts)."""

    name: ClassVar[str] = "history"
    score_floor: ClassVar[float] = 0.0
    covers_cold: ClassVar[bool] = False

    own: DataFrame
    n_customers: int

    def candidates(self, customers: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
        from pyspark.sql import Window
        from pyspark.sql import functions as F

        n = check_k(n)
        uniq, inverse = unique_customers(customers, self.n_customers, self.name)
        own = only_customers(self.own, uniq, self.n_customers)
        # the local csr_row_top_k order: decreasing weight, then the lower article index
        order = Window.partitionBy(CUSTOMER_IDX).orderBy(F.col(agg.WEIGHT).desc(), F.col(ARTICLE_IDX).asc())
        ranked = agg.to_pandas(
            own.withColumn("_rank", F.row_number().over(order))
            .filter(F.col("_rank") <= n)
            .select(CUSTOMER_IDX, "_rank", ARTICLE_IDX, agg.WEIGHT)
        )
        ids = np.full((uniq.size, n), -1, dtype=np.int32)
        scores = np.full((uniq.size, n), -np.inf, dtype=np.float32)
        if len(ranked):
            rows = np.searchsorted(uniq, ranked[CUSTOMER_IDX].to_numpy())  # uniq is sorted
            slots = ranked["_rank"].to_numpy() - 1
            ids[rows, slots] = ranked[ARTICLE_IDX].to_numpy()
            scores[rows, slots] = ranked[agg.WEIGHT].to_numpy()
        return ids[inverse], scores[inverse]


def _fit_history(model: Any, data: SparkData, tx: DataFrame, end: dt.date) -> SparkHistory:
    from pyspark.sql import functions as F

    model._validate()
    start = agg.window_start(end, 7 * model.max_weeks) if model.max_weeks is not None else None
    own = agg.purchase_weights(tx, end, half_life_days=float(model.half_life_days), start=start)
    if model.recent_weeks is not None:
        recent = agg.since(tx, agg.window_start(end, 7 * model.recent_weeks)).select(ARTICLE_IDX).distinct()
        own = own.join(recent, on=ARTICLE_IDX, how="left_semi")
    # a weight that underflowed to 0 is no purchase (the local model drops it too)
    own = own.filter(F.col(agg.WEIGHT) > 0)
    return SparkHistory(own.cache(), data.n_customers)


# ---------------------------------------------------------------------- ALS
def score_partition(
    batches: Iterator[pd.DataFrame], item_factors: np.ndarray, candidates: np.ndarray, k: int
) -> Iterator[pd.DataFrame]:
    """On an executor: the top ``k`` candidates of ``p·q`` for each customer row ``(id, features)``.

    The local engine's pruned kernel (:func:`hmrec.models.scoring.score_top_k`), on one thread: Spark runs a
    task per core. ``candidates`` is ascending, so ties go to the lower article index as locally.
    """
    from hmrec.models.scoring import score_top_k

    everything = np.arange(candidates.size, dtype=np.int32)
    for batch in batches:
        if batch.empty:
            continue
        users = np.stack(batch["features"].to_numpy()).astype(np.float32)
        cols, scores = score_top_k(
            users, item_factors, np.arange(len(batch), dtype=np.int64), everything, k, threads=1
        )
        ids = np.where(cols >= 0, candidates[np.maximum(cols, 0)], -1).astype(np.int32)
        yield pd.DataFrame({CUSTOMER_IDX: batch["id"].to_numpy(np.int32), "ids": list(ids), "scores": list(scores)})


@dataclass
class SparkALS(SparkFitted):
    """``als`` fitted by Spark ML; warm customers scored on the executors, cold ones get the popularity."""

    name: ClassVar[str] = "als"

    spark: SparkSession
    user_factors: DataFrame
    item_factors: np.ndarray
    candidate_ids: np.ndarray
    fallback_ids: np.ndarray
    fallback_scores: np.ndarray
    n_customers: int
    reg_param: float

    def candidates(self, customers: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
        k = check_k(n)
        uniq, inverse = unique_customers(customers, self.n_customers, self.name)
        users = only_customers(self.user_factors, uniq, self.n_customers, column="id")
        schema = f"{CUSTOMER_IDX} int, ids array<int>, scores array<float>"
        with broadcast(self.spark, (self.item_factors, self.candidate_ids)) as shared:

            def score(batches: Iterator[pd.DataFrame]) -> Iterator[pd.DataFrame]:
                factors, candidates = shared.value
                return score_partition(batches, factors, candidates, k)

            frame = agg.to_pandas(users.mapInPandas(score, schema))
        ids, scores, warm = scatter_lists(frame, uniq, k)
        depth = min(k, self.fallback_ids.size)
        cold = np.flatnonzero(~warm)
        ids[cold[:, None], np.arange(depth)] = self.fallback_ids[:depth]
        scores[cold[:, None], np.arange(depth)] = self.fallback_scores[:depth]
        return ids[inverse], scores[inverse]


def _fit_als(model: Any, data: SparkData, tx: DataFrame, end: dt.date) -> SparkALS:
    from pyspark.ml.recommendation import ALS
    from pyspark.sql import functions as F

    model._validate()
    weights = agg.purchase_weights(tx, end, half_life_days=model.half_life_days).cache()
    try:
        sizes = weights.agg(F.count(F.lit(1)).alias("pairs"), F.countDistinct(CUSTOMER_IDX).alias("customers"))
        pairs, buyers = sizes.collect()[0]
        reg_param = float(model.reg) * buyers / max(pairs, 1)
        # one block per core: Spark's default of 10 x 10 blocks is mostly scheduling overhead on small data
        blocks = max(1, data.spark.sparkContext.defaultParallelism)
        als = ALS(
            rank=int(model.factors),
            numUserBlocks=blocks,
            numItemBlocks=blocks,
            maxIter=int(model.iterations),
            regParam=reg_param,
            alpha=float(model.alpha),
            implicitPrefs=True,
            userCol=CUSTOMER_IDX,
            itemCol=ARTICLE_IDX,
            ratingCol=agg.WEIGHT,
            seed=int(model.seed),
            coldStartStrategy="drop",
            checkpointInterval=CHECKPOINT_INTERVAL,
        )
        fitted = als.fit(weights)
        user_factors = fitted.userFactors.cache()
        user_factors.count()  # materialize before the training data is released
        items = agg.to_pandas(fitted.itemFactors)
    finally:
        weights.unpersist()
    factors = np.zeros((data.n_articles, int(model.factors)), dtype=np.float32)
    if len(items):
        factors[items["id"].to_numpy()] = np.stack(items["features"].to_numpy()).astype(np.float32)
    mask = agg.recent_articles(tx, end, data.n_articles, model.recent_weeks)
    if mask is None or not mask.any():
        candidates = np.arange(data.n_articles, dtype=np.int32)
    else:
        candidates = np.flatnonzero(mask).astype(np.int32)
    sales = agg.article_sales(tx, end, data.n_articles, half_life_days=model.fallback_half_life_days)
    in_candidates = np.zeros(data.n_articles, dtype=bool)
    in_candidates[candidates] = True
    fallback_ids, fallback_scores = ranked_articles(np.where(in_candidates, sales, 0))
    return SparkALS(
        data.spark, user_factors, factors[candidates], candidates, fallback_ids, fallback_scores,
        data.n_customers, reg_param,
    )


__all__ = ["SUPPORTED", "check_supported", "fit"]
