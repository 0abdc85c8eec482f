"""The figures that compare a data set with the published facts of the real competition data.

They judge the synthetic generator (docs/calibration.md): a ranker learned on generated data is only worth
something when the generated signals are as strong, relative to each other, as the real ones. Every figure is
measured on the final week (train until the day before the last 7 days, test on those 7 days):

* ``map_popularity``, ``map_repurchase``, ``map_oracle``: MAP@12 of the models of those names (defaults);
* ``recall_<source>``: recall of the test week's distinct (customer, article) pairs by a candidate source,
  matched pairs / all distinct test pairs (customers who bought in the test week), for the sources of
  :data:`SOURCES` and their union ``recall_all``; ``candidates_per_buyer`` is the mean size of the union. The
  sources are the ranker's own (:mod:`hmrec.ranking.sources`), set as close as their parameters allow to the
  definitions the published figures were measured with (:data:`SOURCE_SETUP`), so that the calibration judges
  the candidates the ranker really draws;
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
from hmrec.ranking.source import Source
from hmrec.ranking.sources import SOURCES as RANKER_SOURCES

K = 12
#: candidates per buyer of each source (their union is at most 230, like the 11th place's ~230)
SOURCES: dict[str, int] = {"popularity": 60, "repurchase": 60, "same_product": 60, "copurchase": 50}
#: each figure's source among the ranker's own (:data:`hmrec.ranking.sources.SOURCES`), with the parameters that
#: bring it closest to the definition the published recall was measured with: the last 7 days' sales, not
#: decayed; co-purchases within 28 days over the last 12 weeks, 5 neighbours per article
SOURCE_SETUP: dict[str, tuple[str, dict[str, Any]]] = {
    "popularity": ("popularity", {"weeks": 1, "half_life_days": None}),
    "repurchase": ("repurchase", {}),
    "same_product": ("product", {}),
    "copurchase": ("copurchase", {"weeks": 12, "days": 28, "neighbours": 5}),
}
#: the sources whose published recall counts only articles the customer has not bought yet
NEW_ONLY = frozenset({"same_product", "copurchase"})
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


def calibration_sources(train: Dataset) -> dict[str, Source]:
    """The sources of :data:`SOURCE_SETUP`, fitted on ``train``, by figure name."""
    return {figure: RANKER_SOURCES[name](**params).fit(train) for figure, (name, params) in SOURCE_SETUP.items()}


def source_candidates(train: Dataset, buyers: np.ndarray, block: int = 10_000) -> dict[str, sp.csr_matrix]:
    """Per source of :data:`SOURCES`, its candidates for ``buyers`` as a buyers x articles 0/1 matrix.

    The sources of articles new to the customer (:data:`NEW_ONLY`) keep their best ``n`` not bought yet, as
    the published definitions do: they are asked for ``n`` plus the most distinct articles a buyer of the
    block has bought, and the customer's own are dropped."""
    buyers = np.asarray(buyers, dtype=np.int64)
    own = train.interactions(binary=True)[buyers]
    own_count = np.diff(own.indptr)
    out = {}
    for figure, source in calibration_sources(train).items():
        n = SOURCES[figure]
        parts = []
        for lo in range(0, buyers.size, block):
            hi = min(lo + block, buyers.size)
            extra = int(own_count[lo:hi].max(initial=0)) if figure in NEW_ONLY else 0
            ids, _ = source.candidates(buyers[lo:hi], n + extra)
            if extra:
                ids = _first_new(ids, own[lo:hi], n)
            parts.append(_as_matrix(ids, train.n_articles))
        out[figure] = sp.vstack(parts, format="csr") if parts else sp.csr_matrix((0, train.n_articles))
    return out


def _as_matrix(ids: np.ndarray, n_articles: int) -> sp.csr_matrix:
    """Lists of article indices (padded with -1) as a lists x articles 0/1 matrix."""
    rows, cols = np.nonzero(ids >= 0)
    return sp.csr_matrix(
        (np.ones(rows.size, dtype=np.float32), (rows, ids[rows, cols])), shape=(ids.shape[0], n_articles)
    )


def _first_new(ids: np.ndarray, own: sp.csr_matrix, n: int) -> np.ndarray:
    """Of each list of ``ids``, the first ``n`` articles its customer (a row of ``own``) has not bought."""
    rows = np.broadcast_to(np.arange(ids.shape[0])[:, None], ids.shape)
    bought = np.asarray(own[rows.ravel(), np.maximum(ids, 0).ravel()]).reshape(ids.shape) > 0
    keep = (ids >= 0) & ~bought
    return np.where(keep & (np.cumsum(keep, axis=1) <= n), ids, -1)


def source_recalls(train: Dataset, test: Dataset) -> dict[str, float]:
    """``recall_<source>``, ``recall_all`` and ``candidates_per_buyer`` (see the module docstring)."""
    truth = test.interactions(binary=True)
    buyers = np.flatnonzero(np.diff(truth.indptr) > 0)
    truth = truth[buyers]
    cands = source_candidates(train, buyers)
    out: dict[str, float] = {}
    n_truth = max(int(truth.nnz), 1)
    for name, found in cands.items():
        out[f"recall_{name}"] = found.multiply(truth).nnz / n_truth
    union = sum(cands.values(), sp.csr_matrix(truth.shape, dtype=np.float32)).tocsr()
    union.eliminate_zeros()
    out["recall_all"] = union.multiply(truth).nnz / n_truth
    out["candidates_per_buyer"] = union.nnz / max(buyers.size, 1)
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
