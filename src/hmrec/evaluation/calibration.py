"""The figures that compare a data set with the published facts of the real competition data.

They judge the synthetic generator (docs/calibration.md): a ranker learned on generated data is only worth
something when the generated signals are as strong, relative to each other, as the real ones. Every figure is
measured on the final week (train until the day before the last 7 days, test on those 7 days):

* ``map_popularity``, ``map_repurchase``, ``map_oracle``: MAP@12 of the models of those names (defaults);
* ``recall_<source>``: recall of the test week's distinct (customer, article) pairs by a candidate source,
  matched pairs / all distinct test pairs (customers who bought in the test week), for the sources of
  :data:`SOURCES` and their union ``recall_all``; ``candidates_per_buyer`` is the mean size of the union;
* ``never_sold``: share of articles without a transaction; ``department_names``: distinct names;
* ``warmup_ratio``: seasonally adjusted volume of the first 13 weeks: (rows per day in weeks 0-12 / rows per day
  in weeks 13-25), divided by the same ratio one year later (52 weeks on), so that the season cancels; 1 when
  the first months look like the ones after;
* ``recency_bump``: customers whose last purchase was 96-104 weeks before the end, per week, over the same in
  weeks 80-95 (a bump above 1 means an artefact of the first weeks; the real curve falls with recency).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import numpy as np
import polars as pl
import scipy.sparse as sp

from hmrec.data.dataset import Dataset
from hmrec.data.schema import ARTICLE_IDX, CUSTOMER_IDX, T_DAT
from hmrec.data.split import time_split
from hmrec.metrics import map_at_k

K = 12
#: candidates per buyer of each source (their union is at most 230, like the 11th place's ~230)
SOURCES: dict[str, int] = {"popularity": 60, "repurchase": 60, "same_product": 60, "copurchase": 50}
#: co-purchase neighbours of a: articles bought by the same customer on the day of a or in the COPURCHASE_DAYS
#: after it, counted over the last COPURCHASE_WEEKS of train
COPURCHASE_WEEKS = 12
COPURCHASE_DAYS = 28
COPURCHASE_RECENT = 10  # the customer's most recent distinct articles whose neighbours are taken ...
COPURCHASE_PER_ARTICLE = 5  # ... this many neighbours each (at most 50)
#: what the real data gives (HM_FACTS.md)
REAL: dict[str, float] = {
    "map_popularity": 0.0087,
    "map_repurchase": 0.0217,
    "recall_all": 0.140,
    "recall_popularity": 0.055,
    "recall_repurchase": 0.039,
    "recall_same_product": 0.037,
    "recall_copurchase": 0.024,
    "never_sold": 995 / 105_542,
    "department_names": 250,
}


def model_maps(train: Dataset, buyers: np.ndarray, truth: sp.csr_matrix, names: tuple[str, ...]) -> dict[str, float]:
    """MAP@12 of each named model (default hyperparameters) fitted on ``train``."""
    from hmrec.registry import create

    out = {}
    for name in names:
        ids, _ = create(name).fit(train).recommend(buyers, K)
        out[f"map_{name}"] = map_at_k(ids, truth, K)
    return out


def _pairs(frame: pl.DataFrame) -> pl.DataFrame:
    return frame.select(CUSTOMER_IDX, ARTICLE_IDX).unique()


def source_candidates(train: pl.DataFrame, articles: pl.DataFrame, buyers: pl.Series) -> dict[str, pl.DataFrame]:
    """(customer_idx, article_idx) candidates of every source of :data:`SOURCES` for ``buyers``.

    popularity: the 60 articles with most rows in the last 7 days of ``train``, for everyone; repurchase:
    the customer's distinct past articles, the 60 most recently bought; same_product: the other colours
    (articles of the same product_code) of products the customer bought, the 60 of the most recently bought
    products; copurchase: for the customer's 10 most recently bought distinct articles, the 5 articles most
    often bought by the same customers on the same day or in the 28 days after them (counted over the last
    12 weeks of train), not bought by the customer already.

    These are the definitions the published recall figures (:data:`REAL`) were measured with, not the ranker's
    sources (:mod:`hmrec.ranking.sources`: decayed purchase frequency, co-purchases within a few days over 8
    weeks, ...): the figures are only comparable with the real ones under the same definitions."""
    end: dt.date = train[T_DAT].max()  # type: ignore[assignment]
    mine = train.filter(pl.col(CUSTOMER_IDX).is_in(buyers.implode()))
    last = (
        mine.group_by(CUSTOMER_IDX, ARTICLE_IDX)
        .agg(pl.col(T_DAT).max().alias("last"))
        .sort(CUSTOMER_IDX, "last", ARTICLE_IDX, descending=[False, True, False])
    )
    ranked = last.with_columns(pl.int_range(pl.len()).over(CUSTOMER_IDX).alias("rank"))
    top_pop = (
        train.filter(pl.col(T_DAT) > end - dt.timedelta(days=7))
        .group_by(ARTICLE_IDX)
        .len()
        .sort("len", ARTICLE_IDX, descending=[True, False])
        .head(SOURCES["popularity"])
    )
    popularity = pl.DataFrame({CUSTOMER_IDX: buyers}).join(top_pop.select(ARTICLE_IDX), how="cross")
    repurchase = ranked.filter(pl.col("rank") < SOURCES["repurchase"]).select(CUSTOMER_IDX, ARTICLE_IDX)
    product = articles.select(ARTICLE_IDX, "product_code")
    prods = ranked.join(product, on=ARTICLE_IDX).group_by(CUSTOMER_IDX, "product_code").agg(pl.col("last").max())
    same = (
        prods.join(product, on="product_code")
        .join(last.select(CUSTOMER_IDX, ARTICLE_IDX), on=[CUSTOMER_IDX, ARTICLE_IDX], how="anti")
        .sort(CUSTOMER_IDX, "last", ARTICLE_IDX, descending=[False, True, False])
        .with_columns(pl.int_range(pl.len()).over(CUSTOMER_IDX).alias("rank"))
        .filter(pl.col("rank") < SOURCES["same_product"])
        .select(CUSTOMER_IDX, ARTICLE_IDX)
    )
    # "bought together": b on the same day as a or in the COPURCHASE_DAYS after, by the same customer
    baskets = (
        train.filter(pl.col(T_DAT) > end - dt.timedelta(weeks=COPURCHASE_WEEKS))
        .select(CUSTOMER_IDX, T_DAT, ARTICLE_IDX)
        .unique()
    )
    other = f"{ARTICLE_IDX}_other"
    pairs = (
        baskets.join(baskets, on=CUSTOMER_IDX, suffix="_other")
        .filter(
            (pl.col(ARTICLE_IDX) != pl.col(other))
            & (pl.col(f"{T_DAT}_other") >= pl.col(T_DAT))
            & (pl.col(f"{T_DAT}_other") <= pl.col(T_DAT) + dt.timedelta(days=COPURCHASE_DAYS))
        )
        .group_by(ARTICLE_IDX, other)
        .len()
        .sort(ARTICLE_IDX, "len", other, descending=[False, True, False])
        .with_columns(pl.int_range(pl.len()).over(ARTICLE_IDX).alias("nb"))
        .filter(pl.col("nb") < COPURCHASE_PER_ARTICLE)
    )
    copurchase = (
        ranked.filter(pl.col("rank") < COPURCHASE_RECENT)
        .join(pairs, on=ARTICLE_IDX)
        .select(CUSTOMER_IDX, pl.col(f"{ARTICLE_IDX}_other").alias(ARTICLE_IDX))
        .unique()
        .join(last.select(CUSTOMER_IDX, ARTICLE_IDX), on=[CUSTOMER_IDX, ARTICLE_IDX], how="anti")
    )
    return {
        "popularity": _pairs(popularity),
        "repurchase": _pairs(repurchase),
        "same_product": _pairs(same),
        "copurchase": _pairs(copurchase),
    }


def source_recalls(train: Dataset, test: Dataset) -> dict[str, float]:
    """``recall_<source>``, ``recall_all`` and ``candidates_per_buyer`` (see the module docstring)."""
    truth = _pairs(test.transactions).with_columns(pl.lit(True).alias("hit"))
    buyers = truth[CUSTOMER_IDX].unique()
    cands = source_candidates(train.transactions, train.articles, buyers)
    out: dict[str, float] = {}
    n_truth = truth.height
    for name, frame in cands.items():
        out[f"recall_{name}"] = frame.join(truth, on=[CUSTOMER_IDX, ARTICLE_IDX]).height / n_truth
    union = pl.concat(list(cands.values())).unique()
    out["recall_all"] = union.join(truth, on=[CUSTOMER_IDX, ARTICLE_IDX]).height / n_truth
    out["candidates_per_buyer"] = union.height / buyers.len()
    return out


def shape_figures(data: Dataset) -> dict[str, float]:
    """``never_sold``, ``department_names``, ``warmup_ratio`` and ``recency_bump`` (module docstring)."""
    tx = data.transactions
    sold = tx[ARTICLE_IDX].n_unique()
    start: dt.date = tx[T_DAT].min()  # type: ignore[assignment]
    end: dt.date = tx[T_DAT].max()  # type: ignore[assignment]
    week = ((pl.col(T_DAT) - pl.lit(start)).dt.total_days() // 7).alias("week")
    per_week = np.bincount(tx.select(week)["week"].to_numpy(), minlength=105).astype(np.float64)

    def ratio(at: int) -> float:
        return float(per_week[at : at + 13].sum() / max(per_week[at + 13 : at + 26].sum(), 1.0))

    warmup = ratio(0) / ratio(52) if per_week.size >= 78 else float("nan")
    ago = (
        tx.group_by(CUSTOMER_IDX)
        .agg(pl.col(T_DAT).max())
        .select(((pl.lit(end) - pl.col(T_DAT)).dt.total_days() // 7).alias("ago"))["ago"]
        .to_numpy()
    )
    hist = np.bincount(ago, minlength=105).astype(np.float64)
    bump = float(hist[96:105].mean() / max(hist[80:96].mean(), 1e-9)) if ago.max() >= 96 else float("nan")
    return {
        "never_sold": 1.0 - sold / data.n_articles,
        "department_names": float(data.articles["department_name"].n_unique()),
        "warmup_ratio": warmup,
        "recency_bump": bump,
    }


def calibration_figures(
    data: Dataset, models: tuple[str, ...] = ("popularity", "repurchase", "oracle")
) -> dict[str, Any]:
    """Every figure of the module docstring for one data set (the oracle needs generated data)."""
    split = time_split(data)
    truth = split.test.interactions(binary=True)
    buyers = np.flatnonzero(np.diff(truth.indptr) > 0)
    out: dict[str, Any] = {"buyers": int(buyers.size)}
    out.update(model_maps(split.train, buyers, truth[buyers], models))
    if "map_repurchase" in out and "map_popularity" in out:
        out["repurchase_over_popularity"] = out["map_repurchase"] / out["map_popularity"]
    if "map_oracle" in out and "map_repurchase" in out:
        out["oracle_over_repurchase"] = out["map_oracle"] / out["map_repurchase"]
    out.update(source_recalls(split.train, split.test))
    out.update(shape_figures(data))
    return out
