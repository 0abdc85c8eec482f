"""Candidate sources (stage 1 of the ranker): each proposes, per customer, a short ranked list of articles.

A source is fitted on the transactions up to a cut-off (a :class:`Dataset` whose last day is the cut-off)
and then answers ``candidates(customers, n) -> (ids, scores)``: ``(len(customers), n)`` arrays of article
indices (int32, padded with -1) and the source's own scores (float32, padded with -inf), best first, ties to
the lower article index. Every learned attribute is a numpy array or a number whose name ends in ``_`` (what
``npz`` + JSON hold without pickle), so the ranker saves its sources with its other arrays.

The sources, and the score each ranks by (``w(r) = 0.5 ** (age_days(r) / half_life)`` the time decay of a
purchase row ``r``, ``age_days`` counted back from the cut-off):

- ``repurchase``: the customer's own purchases, ``sum_r w(r)`` over the customer's rows of the article;
- ``product``: other colours of the products the customer bought: ``sum_r w(r)`` over the customer's rows of
  *other* articles of the same ``product_code``;
- ``copurchase``: item-to-item neighbours of what the customer bought: ``sum_a own(c, a) * P(b | a)``, with
  ``P(b | a)`` the share of ``a``'s recent buyers who also bought ``b`` within ``days`` days of it;
- ``popularity``: time-decayed sales of the last weeks (the same list for everyone; not decayed without a
  half-life);
- ``age``: the same within the customer's age quintile (the global list for an unknown age);
- ``trending``: last week's sales times their growth over the week before, ``s7 * (s7 + 1) / (s_prev7 + 1)``;
- ``als``: implicit-feedback ALS (the ``als`` model), ``p_c . q_a`` over the articles sold in the last week,
  nothing for customers without purchases;
- ``cluster``: what the customer's k-means cluster (the ``kmeans-customers`` model) bought lately;
- ``bpr``: BPR matrix factorization (the ``sgd-bpr`` model), as ``als``;
- ``taste``: the best sellers of the values of a taste key (a combination of article columns that the ranker
  learns from the data, :mod:`hmrec.ranking.taste`) the customer buys most: ``share_c(h) * sales_7d(a) /
  sales_7d(h)`` for the article ``a`` of value ``h``, with ``share_c(h)`` the customer's share of their rows
  in ``h``.

``als`` and ``cluster`` are of the kind :class:`~hmrec.ranking.model_source.ModelSource`: a registered
model's ``candidates(customers, n)`` as a source, each one line of :data:`SOURCES`
(:func:`~hmrec.ranking.model_source.model_source`), its model's parameters reachable from the ranker's
(``source__als__factors``) and its learned state the model's own.

:func:`hmrec.ranking.candidates.candidate_union` merges several sources' lists into one deduplicated set of
(customer, article) pairs that remembers which sources proposed each pair, and its rank and score there;
:func:`hmrec.ranking.candidates.source_recall` measures each source's and the union's recall of a test week's
purchases.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import polars as pl
import scipy.sparse as sp

from hmrec.data.dataset import Dataset
from hmrec.errors import ParameterError
from hmrec.models.compose import SEP
from hmrec.models.history import DEFAULT_OWN_HALF_LIFE_DAYS as OWN_HALF_LIFE_DAYS
from hmrec.models.lists import csr_lookup, csr_row_top_k, group_recommend, ranked_articles, stack_ranked
from hmrec.models.popularity import age_groups
from hmrec.models.sales import article_sales, store_csr, stored_csr
from hmrec.ranking.candidates import Candidates
from hmrec.ranking.copurchase import copurchase_neighbours, window_start
from hmrec.ranking.model_source import SOURCE_PARAM_PREFIX, ModelSource
from hmrec.ranking.source import Source, SourceContext
from hmrec.ranking.taste import attribute_codes, taste_tables

# OWN_HALF_LIFE_DAYS, the time decay of the customer's own purchases, is the history model's tuned default
#: time decay of sales for the popularity sources (the ``popularity-decay`` model's tuned default)
POPULARITY_HALF_LIFE_DAYS = 3.0
#: how long a ranked list the group sources keep (lists of one group are shared by all its customers)
GROUP_LIST_DEPTH = 1000


def own_weights(train: Dataset, half_life_days: float) -> sp.csr_matrix:
    """Customers x articles ``sum_r w(r)`` over the customer's purchase rows of the article (float32 CSR)."""
    return train.interactions(half_life_days=half_life_days, reference=train.end_date)


class _OwnMatrix(Source):
    """Holds a customers x articles CSR as three arrays."""

    indptr_: np.ndarray
    indices_: np.ndarray
    data_: np.ndarray
    n_articles_: int

    def _store(self, matrix: sp.csr_matrix) -> None:
        matrix = sp.csr_matrix(matrix)
        matrix.sort_indices()
        store_csr(self, "", matrix)
        self.n_articles_ = int(matrix.shape[1])

    def matrix(self) -> sp.csr_matrix:
        return stored_csr(self, "", self.n_articles_)


class RepurchaseSource(_OwnMatrix):
    """The customer's own purchases by time-decayed frequency."""

    name = "repurchase"
    cold_by_age = True

    def __init__(self, half_life_days: float = OWN_HALF_LIFE_DAYS) -> None:
        self.half_life_days = half_life_days

    def fit(self, train: Dataset) -> RepurchaseSource:
        self._store(own_weights(train, self.half_life_days))
        return self

    def candidates(self, customers: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
        return csr_row_top_k(self.matrix(), customers, n)


def product_codes(train: Dataset) -> np.ndarray:
    """Per article its product index ``0..P-1`` (dense renumbering of ``product_code``; int32)."""
    if "product_code" not in train.articles.columns:
        return np.arange(train.n_articles, dtype=np.int32)  # no product information: each its own product
    codes = train.articles["product_code"].fill_null(-1).to_numpy()
    _, dense = np.unique(codes, return_inverse=True)
    return dense.astype(np.int32)


class ProductSource(_OwnMatrix):
    """Other colours of the products the customer bought (same ``product_code``, another article)."""

    name = "product"
    cold_by_age = True

    product_of_: np.ndarray

    def __init__(self, half_life_days: float = OWN_HALF_LIFE_DAYS) -> None:
        self.half_life_days = half_life_days

    def fit(self, train: Dataset) -> ProductSource:
        self._store(own_weights(train, self.half_life_days))
        self.product_of_ = product_codes(train)
        return self

    def _siblings(self) -> sp.csr_matrix:
        """Articles x articles, 1 where two different articles share a product."""
        m = self.product_of_.size
        a2p = sp.csr_matrix(
            (np.ones(m, dtype=np.float32), (np.arange(m), self.product_of_)),
            shape=(m, int(self.product_of_.max(initial=-1)) + 1),
        )
        same = (a2p @ a2p.T).tocsr()
        same.setdiag(0)
        same.eliminate_zeros()
        return same

    def candidates(self, customers: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
        scores = (self.matrix()[np.asarray(customers, dtype=np.int64)] @ self._siblings()).tocsr()
        return csr_row_top_k(scores, np.arange(scores.shape[0]), n)


class TasteSource(_OwnMatrix):
    """The best sellers of last week within the values of a taste key that the customer buys most.

    The key (a combination of article attribute columns) is learned from the data by the ranker
    (:func:`hmrec.ranking.taste.learn_keys`); with none, every article has the same value and the source is
    last week's best sellers. ``share_c(h)`` is the customer's share of their rows (in the data the source is
    fitted on) in value ``h``, kept for their ``top`` largest shares (ties to the lower value); each value keeps
    its ``depth`` best-selling articles of the last ``days`` days with ``sales(a) / sales(h)``. The score is
    their product (an article has one value). The ``top`` bound keeps the cost per customer flat for the few
    who bought in hundreds of values.
    """

    name = "taste"
    cold_by_age = True

    sub_indptr_: np.ndarray
    sub_indices_: np.ndarray
    sub_data_: np.ndarray

    def __init__(self, columns: Sequence[str] = (), days: int = 7, depth: int = 30, top: int = 5) -> None:
        self.columns = tuple(columns)
        self.days = days
        self.depth = depth
        self.top = top

    @classmethod
    def create(cls, context: SourceContext) -> TasteSource:
        return cls(columns=context.taste_keys[0] if context.taste_keys else ())

    def fit(self, train: Dataset) -> TasteSource:
        codes = attribute_codes(train.articles, self.columns)
        share, best = taste_tables(
            train.interactions(), codes, article_sales(train, days=self.days), top=self.top, depth=self.depth
        )
        self._store(share)  # customers x values
        store_csr(self, "sub_", best)
        self.n_articles_ = train.n_articles
        return self

    def best_sellers(self) -> sp.csr_matrix:
        """Values x articles: each value's best sellers with their share of its sales."""
        return stored_csr(self, "sub_", self.n_articles_)

    def matrix(self) -> sp.csr_matrix:
        return stored_csr(self, "", self.sub_indptr_.size - 1)

    def candidates(self, customers: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
        scores = (self.matrix()[np.asarray(customers, dtype=np.int64)] @ self.best_sellers()).tocsr()
        return csr_row_top_k(scores, np.arange(scores.shape[0]), n)


class CoPurchaseSource(_OwnMatrix):
    """Item-to-item neighbours: articles bought by the same customers within ``days`` days of each other.

    From the last ``weeks`` weeks: ``pairs(a, b)`` = customers who bought ``b`` at most ``days`` days from
    buying ``a`` (``b != a``), ``buyers(a)`` = customers who bought ``a``, ``P(b | a) = pairs(a, b) /
    buyers(a)``; each article keeps its ``neighbours`` strongest. A customer's score for ``b`` is
    ``sum_a own(c, a) * P(b | a)`` over their time-decayed purchases ``own`` of the last ``weeks`` weeks.
    """

    name = "copurchase"
    cold_by_age = True
    pair_feature = "p_copurchase"

    nb_indptr_: np.ndarray
    nb_indices_: np.ndarray
    nb_data_: np.ndarray

    def __init__(
        self, weeks: float = 8, days: int = 3, neighbours: int = 20, half_life_days: float = OWN_HALF_LIFE_DAYS
    ) -> None:
        self.weeks = weeks
        self.days = days
        self.neighbours = neighbours
        self.half_life_days = half_life_days

    def fit(self, train: Dataset) -> CoPurchaseSource:
        start = window_start(train, self.weeks)
        self._store(train.interactions(start, train.end_date, half_life_days=self.half_life_days,
                                       reference=train.end_date))
        nb = copurchase_neighbours(train, weeks=self.weeks, days=self.days, neighbours=self.neighbours)
        store_csr(self, "nb_", nb)
        return self

    def neighbour_matrix(self) -> sp.csr_matrix:
        return stored_csr(self, "nb_")

    def pair_values(self, customers: np.ndarray, cands: Candidates) -> np.ndarray:
        return csr_lookup(self.scores(customers), cands.row, cands.article)

    def scores(self, customers: np.ndarray) -> sp.csr_matrix:
        """Customers x articles co-purchase strength ``sum_a own(c, a) * P(b | a)`` (rows = ``customers``)."""
        return (self.matrix()[np.asarray(customers, dtype=np.int64)] @ self.neighbour_matrix()).tocsr()

    def candidates(self, customers: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
        scores = self.scores(customers)
        return csr_row_top_k(scores, np.arange(scores.shape[0]), n)


class _GroupSource(Source):
    """One ranked list per customer group (a single group for the global sources)."""

    ranked_ids_: np.ndarray
    ranked_scores_: np.ndarray
    group_of_: np.ndarray

    def candidates(self, customers: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
        customers = np.asarray(customers, dtype=np.int64)
        return group_recommend(self.ranked_ids_, self.ranked_scores_, self.group_of_[customers].astype(np.int64), n)


class PopularitySource(_GroupSource):
    """Time-decayed sales over the last ``weeks`` weeks, the same list for everyone."""

    name = "popularity"
    cold_by_age = True
    full_for_inactive = True

    # half_life_days None: rows counted alike (the calibration's "most rows in the last 7 days")
    def __init__(self, half_life_days: float | None = POPULARITY_HALF_LIFE_DAYS, weeks: float = 4) -> None:
        self.half_life_days = half_life_days
        self.weeks = weeks

    def fit(self, train: Dataset) -> PopularitySource:
        sales = article_sales(train, days=7 * self.weeks, half_life_days=self.half_life_days)
        ids, scores = ranked_articles(sales)
        self.ranked_ids_, self.ranked_scores_ = stack_ranked([(ids[:GROUP_LIST_DEPTH], scores[:GROUP_LIST_DEPTH])])
        self.group_of_ = np.zeros(train.n_customers, dtype=np.int16)
        return self


class AgePopularitySource(_GroupSource):
    """Time-decayed sales within the customer's age quintile; customers of unknown age get the global list."""

    name = "age"
    cold_by_age = True

    def __init__(self, half_life_days: float = POPULARITY_HALF_LIFE_DAYS, weeks: float = 4) -> None:
        self.half_life_days = half_life_days
        self.weeks = weeks

    def fit(self, train: Dataset) -> AgePopularitySource:
        if "age" in train.customers.columns:
            ages = train.customers["age"].cast(pl.Float64).fill_null(np.nan).to_numpy()
        else:
            ages = np.full(train.n_customers, np.nan)
        group_of, _ = age_groups(ages, "quintiles")
        n_groups = int(group_of.max(initial=-1)) + 1
        days = 7 * self.weeks
        per_group = article_sales(
            train, days=days, half_life_days=self.half_life_days, groups=group_of, n_groups=n_groups
        )
        overall = article_sales(train, days=days, half_life_days=self.half_life_days)
        lists = [ranked_articles(row) for row in per_group] + [ranked_articles(overall)]  # one per group
        self.ranked_ids_, self.ranked_scores_ = stack_ranked(
            [(i[:GROUP_LIST_DEPTH], s[:GROUP_LIST_DEPTH]) for i, s in lists]
        )
        self.group_of_ = np.where(group_of < 0, n_groups, group_of).astype(np.int16)
        return self


class TrendingSource(_GroupSource):
    """Last week's sales times their growth: ``s7 * (s7 + 1) / (s_prev7 + 1)`` (rows, not decayed)."""

    name = "trending"
    cold_by_age = True

    def fit(self, train: Dataset) -> TrendingSource:
        last = article_sales(train, days=7).astype(np.float64)
        both = article_sales(train, days=14).astype(np.float64)
        previous = both - last
        score = (last * (last + 1.0) / (previous + 1.0)).astype(np.float32)
        ids, scores = ranked_articles(score)
        self.ranked_ids_, self.ranked_scores_ = stack_ranked([(ids[:GROUP_LIST_DEPTH], scores[:GROUP_LIST_DEPTH])])
        self.group_of_ = np.zeros(train.n_customers, dtype=np.int16)
        return self


def model_source(
    name: str,
    model: str,
    *,
    defaults: Mapping[str, Any] | None = None,
    warm_only: bool = False,
    cold_by_age: bool = False,
    full_for_inactive: bool = False,
    pair_feature: str | None = None,
    pair_method: str = "score",
) -> type[ModelSource]:
    """The source ``name`` of the registered model ``model``: one line of :data:`SOURCES` (see
    :class:`ModelSource`; ``cold_by_age`` only for a model whose lists for customers without purchases
    depend on their age at most)."""
    attributes = {
        "__doc__": f"The ``{model}`` model as the candidate source ``{name}``.",
        "name": name, "model": model, "defaults": dict(defaults or {}), "warm_only": warm_only,
        "cold_by_age": cold_by_age, "full_for_inactive": full_for_inactive, "pair_feature": pair_feature,
        "pair_method": pair_method,
    }
    cls = type("ModelSource_" + re.sub(r"\W", "_", name), (ModelSource,), attributes)
    # a module attribute, so that pickle (the Spark engine ships sources to its executors) finds the class by name
    globals()[cls.__name__] = cls
    return cls


SOURCES: dict[str, type[Source]] = {
    cls.name: cls
    for cls in (
        RepurchaseSource,
        ProductSource,
        CoPurchaseSource,
        PopularitySource,
        AgePopularitySource,
        TrendingSource,
        # implicit ALS, p_c . q_a over the articles sold in the last week; nothing for customers without purchases
        model_source("als", "als", defaults={"factors": 32, "iterations": 8, "track_loss": False}, warm_only=True,
                     cold_by_age=True, pair_feature="p_als_dot", pair_method="dot"),
        # the best sellers of the customer's k-means cluster (clusters use more than the age)
        model_source("cluster", "kmeans-customers", defaults={"k": 24}),
        TasteSource,
        # BPR matrix factorization by SGD, p_c . q_a over the articles sold in the last week (not a default)
        model_source("bpr", "sgd-bpr", warm_only=True, cold_by_age=True),
    )
}


def model_sources() -> dict[str, type[ModelSource]]:
    """The sources of :data:`SOURCES` that are registered models, by name."""
    return {name: cls for name, cls in SOURCES.items() if issubclass(cls, ModelSource)}


def source_param_names() -> list[str]:
    """The ranker's parameters of its model sources, ``source__<source>__<param>``, in :data:`SOURCES` order."""
    return [f"{SOURCE_PARAM_PREFIX}{name}{SEP}{p}" for name, cls in model_sources().items() for p in cls.param_names()]


def make_source(name: str, context: SourceContext | None = None) -> Source:
    """A new source by name, made by its class from the ranker's ``context`` (seed, threads, taste keys)."""
    if name not in SOURCES:
        raise ParameterError(
            f"ranker: unknown candidate source '{name}' (fix: choose from {', '.join(SOURCES)})"
        )
    return SOURCES[name].create(context or SourceContext())


def parse_sources(spec: str | Mapping[str, int], default_n: int = 12) -> dict[str, int]:
    """``"repurchase:24,product:12,popularity"`` (or a mapping) -> ``{name: n}`` in the order given."""
    items: list[tuple[str, object]] = []
    if isinstance(spec, Mapping):
        items = [(str(k), v) for k, v in spec.items()]
    else:
        for part in str(spec).split(","):
            part = part.strip()
            if not part:
                continue
            name, _, count_text = part.partition(":")
            items.append((name.strip(), count_text.strip() or default_n))
    out: dict[str, int] = {}
    for name, n in items:
        if name not in SOURCES:
            raise ParameterError(
                f"ranker: unknown candidate source '{name}' in 'sources' (fix: choose from {', '.join(SOURCES)})"
            )
        try:
            count = int(n)  # type: ignore[call-overload]
        except (TypeError, ValueError):
            count = -1
        if count < 1:
            raise ParameterError(f"ranker: source '{name}' needs a count >= 1 (e.g. '{name}:12'), got {n!r}")
        out[name] = count
    if not out:
        raise ParameterError("ranker: parameter 'sources' names no source (fix: e.g. 'repurchase:24,popularity:12')")
    return out


