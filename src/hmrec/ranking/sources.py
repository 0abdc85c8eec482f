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
- ``popularity``: time-decayed sales of the last weeks (the same list for everyone);
- ``age``: the same within the customer's age quintile (the global list for an unknown age);
- ``trending``: last week's sales times their growth over the week before, ``s7 * (s7 + 1) / (s_prev7 + 1)``;
- ``als``: implicit-feedback ALS, ``p_c . q_a`` over the articles sold in the last week;
- ``cluster``: what the customer's k-means cluster (``kmeans-customers``) bought lately;
- ``taste``: the best sellers of the values of a taste key (a combination of article columns that the ranker
  learns from the data, :mod:`hmrec.ranking.taste`) the customer buys most: ``share_c(h) * sales_7d(a) /
  sales_7d(h)`` for the article ``a`` of value ``h``, with ``share_c(h)`` the customer's share of their rows
  in ``h``.

:func:`candidate_union` merges several sources' lists into one deduplicated set of (customer, article) pairs
that remembers which sources proposed each pair, and its rank and score there; :func:`source_recall` measures
each source's and the union's recall of a test week's purchases.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np
import polars as pl
import scipy.sparse as sp

from hmrec.data.dataset import Dataset
from hmrec.data.schema import ARTICLE_IDX, CUSTOMER_IDX, T_DAT
from hmrec.errors import ParameterError
from hmrec.models.lists import csr_lookup, csr_row_top_k, group_recommend, ranked_articles, stack_ranked
from hmrec.models.popularity import age_groups
from hmrec.models.sales import article_sales
from hmrec.ranking.taste import attribute_codes, taste_tables

#: time decay of the customer's own purchases (the ``repurchase`` model's tuned default)
OWN_HALF_LIFE_DAYS = 14.0
#: time decay of sales for the popularity sources (the ``popularity-decay`` model's tuned default)
POPULARITY_HALF_LIFE_DAYS = 3.0
#: how long a ranked list the group sources keep (lists of one group are shared by all its customers)
GROUP_LIST_DEPTH = 1000


def _empty(n: int, k: int) -> tuple[np.ndarray, np.ndarray]:
    return np.full((n, k), -1, dtype=np.int32), np.full((n, k), -np.inf, dtype=np.float32)


def own_weights(train: Dataset, half_life_days: float) -> sp.csr_matrix:
    """Customers x articles ``sum_r w(r)`` over the customer's purchase rows of the article (float32 CSR)."""
    return train.interactions(half_life_days=half_life_days, reference=train.end_date)


@dataclass(frozen=True)
class SourceContext:
    """What the ranker hands every source it creates: the seed, the threads and the taste keys it learned
    (column combinations, best first; :func:`hmrec.ranking.taste.learn_keys`)."""

    seed: int = 0
    threads: int = 0
    taste_keys: tuple[tuple[str, ...], ...] = ()


class Source:
    """Base of the candidate sources: learned attributes end in ``_`` and are arrays or numbers.

    What is particular to a source is said on its class, so that a new source is one class:
    ``full_for_inactive`` (inactive customers get its whole list, not a shortened one),
    ``cold_by_age`` (for a customer without purchases its list depends on their age at most: the ranker then
    ranks one customer per age for all of them; False, the safe default, turns that shortcut off) and
    :meth:`create` (what it takes from the ranker's :class:`SourceContext`, e.g. the seed).
    """

    name: ClassVar[str] = ""
    full_for_inactive: ClassVar[bool] = False
    cold_by_age: ClassVar[bool] = False
    #: the name of the ranker's pair feature this source computes (:meth:`pair_values`), if any
    pair_feature: ClassVar[str | None] = None

    def pair_values(self, customers: np.ndarray, cands: Candidates) -> np.ndarray:
        """The source's own strength of each candidate pair (``customers[cands.row]``, ``cands.article``),
        float32, for the feature :attr:`pair_feature`."""
        raise NotImplementedError

    @classmethod
    def create(cls, context: SourceContext) -> Source:
        """A new unfitted source for the ranker (by default with its default parameters)."""
        return cls()

    def fit(self, train: Dataset) -> Source:
        raise NotImplementedError

    def candidates(self, customers: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
        raise NotImplementedError

    # ------------------------------------------------------------------ state for saving
    def state(self) -> dict[str, Any]:
        """The learned attributes (arrays and numbers), for the ranker's save."""
        return {k: v for k, v in vars(self).items() if k.endswith("_") and not k.startswith("_")}

    def set_state(self, state: Mapping[str, Any]) -> Source:
        for key, value in state.items():
            setattr(self, key, value)
        return self


class _OwnMatrix(Source):
    """Holds a customers x articles CSR as three arrays."""

    indptr_: np.ndarray
    indices_: np.ndarray
    data_: np.ndarray
    n_articles_: int

    def _store(self, matrix: sp.csr_matrix) -> None:
        matrix = sp.csr_matrix(matrix)
        matrix.sort_indices()
        self.indptr_ = matrix.indptr.astype(np.int64)
        self.indices_ = matrix.indices.astype(np.int32)
        self.data_ = matrix.data.astype(np.float32)
        self.n_articles_ = int(matrix.shape[1])

    def matrix(self) -> sp.csr_matrix:
        return sp.csr_matrix(
            (self.data_, self.indices_, self.indptr_), shape=(self.indptr_.size - 1, self.n_articles_)
        )


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
        self.sub_indptr_ = best.indptr.astype(np.int64)
        self.sub_indices_ = best.indices.astype(np.int32)
        self.sub_data_ = best.data.astype(np.float32)
        self.n_articles_ = train.n_articles
        return self

    def best_sellers(self) -> sp.csr_matrix:
        """Values x articles: each value's best sellers with their share of its sales."""
        return sp.csr_matrix(
            (self.sub_data_, self.sub_indices_, self.sub_indptr_), shape=(self.sub_indptr_.size - 1, self.n_articles_)
        )

    def matrix(self) -> sp.csr_matrix:
        return sp.csr_matrix(
            (self.data_, self.indices_, self.indptr_), shape=(self.indptr_.size - 1, self.sub_indptr_.size - 1)
        )

    def candidates(self, customers: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
        scores = (self.matrix()[np.asarray(customers, dtype=np.int64)] @ self.best_sellers()).tocsr()
        return csr_row_top_k(scores, np.arange(scores.shape[0]), n)


def _dedup_days(train: Dataset, start: dt.date | None) -> pl.DataFrame:
    """One row per (customer, article, day) from ``start`` on: ``customer_idx, article_idx, day`` (Int32)."""
    tx = train.transactions.lazy()
    if start is not None:
        tx = tx.filter(pl.col(T_DAT) >= start)
    return (
        tx.select(
            pl.col(CUSTOMER_IDX),
            pl.col(ARTICLE_IDX),
            pl.col(T_DAT).cast(pl.Int32).alias("day"),
        )
        .unique()
        .collect()
    )


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
        m = train.n_articles
        end = train.end_date
        start = end - dt.timedelta(days=int(7 * self.weeks) - 1) if end is not None else None
        self._store(train.interactions(start, end, half_life_days=self.half_life_days, reference=end))
        rows = _dedup_days(train, start)
        buyers = rows.group_by(ARTICLE_IDX).agg(pl.col(CUSTOMER_IDX).n_unique().alias("buyers"))
        right = rows.rename({ARTICLE_IDX: "b", "day": "day_b"})
        pairs = (
            rows.lazy()
            .join(right.lazy(), on=CUSTOMER_IDX)
            .filter((pl.col(ARTICLE_IDX) != pl.col("b")) & ((pl.col("day") - pl.col("day_b")).abs() <= self.days))
            .select(CUSTOMER_IDX, ARTICLE_IDX, "b")
            .unique()
            .group_by(ARTICLE_IDX, "b")
            .agg(pl.len().alias("pairs"))
            .join(buyers.lazy(), on=ARTICLE_IDX)
            .with_columns((pl.col("pairs") / pl.col("buyers")).cast(pl.Float32).alias("p"))
            # strongest first, ties to the lower article: a deterministic cut at `neighbours`
            .sort([ARTICLE_IDX, "p", "b"], descending=[False, True, False])
            .with_columns(pl.int_range(pl.len()).over(ARTICLE_IDX).alias("rank"))
            .filter(pl.col("rank") < self.neighbours)
            .collect()
        )
        nb = sp.csr_matrix(
            (pairs["p"].to_numpy(), (pairs[ARTICLE_IDX].to_numpy(), pairs["b"].to_numpy())), shape=(m, m)
        )
        nb.sort_indices()
        self.nb_indptr_ = nb.indptr.astype(np.int64)
        self.nb_indices_ = nb.indices.astype(np.int32)
        self.nb_data_ = nb.data.astype(np.float32)
        return self

    def neighbour_matrix(self) -> sp.csr_matrix:
        m = self.nb_indptr_.size - 1
        return sp.csr_matrix((self.nb_data_, self.nb_indices_, self.nb_indptr_), shape=(m, m))

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

    def __init__(self, half_life_days: float = POPULARITY_HALF_LIFE_DAYS, weeks: float = 4) -> None:
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


class ALSSource(Source):
    """Implicit-feedback ALS (the ``als`` model), ``p_c . q_a`` over articles sold in the last week.

    Customers without purchases get no candidates from it (their factors are zero).
    """

    name = "als"
    cold_by_age = True
    pair_feature = "p_als_dot"

    user_factors_: np.ndarray
    item_factors_: np.ndarray
    candidates_: np.ndarray
    has_history_: np.ndarray

    def __init__(self, factors: int = 32, iterations: int = 8, seed: int = 0, threads: int = 0) -> None:
        self.factors = factors
        self.iterations = iterations
        self.seed = seed
        self.threads = threads

    @classmethod
    def create(cls, context: SourceContext) -> ALSSource:
        return cls(seed=context.seed, threads=context.threads)

    def fit(self, train: Dataset) -> ALSSource:
        from hmrec.models.als import ALS

        model = ALS(
            factors=self.factors, iterations=self.iterations, seed=self.seed, threads=self.threads, track_loss=False
        )
        model.name = "als"  # type: ignore[misc]
        model.fit(train)
        self.user_factors_ = model.user_factors_
        self.item_factors_ = model.item_factors_
        self.candidates_ = model.candidates_
        self.has_history_ = model.has_history_
        return self

    def pair_values(self, customers: np.ndarray, cands: Candidates) -> np.ndarray:
        return self.dot(customers[cands.row], cands.article)

    def dot(self, customers: np.ndarray, articles: np.ndarray) -> np.ndarray:
        """``p_c . q_a`` for aligned arrays of customers and articles (float32)."""
        p = self.user_factors_[np.asarray(customers, dtype=np.int64)]
        q = self.item_factors_[np.asarray(articles, dtype=np.int64)]
        return np.einsum("ij,ij->i", p, q).astype(np.float32)

    def candidates(self, customers: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
        from hmrec.models.scoring import resolve_threads, score_top_k

        customers = np.asarray(customers, dtype=np.int64)
        ids, scores = _empty(customers.size, n)
        warm = np.flatnonzero(self.has_history_[customers])
        if warm.size:
            ids[warm], scores[warm] = score_top_k(
                self.user_factors_, self.item_factors_, customers[warm], self.candidates_, n,
                threads=resolve_threads(self.threads, "als"),
            )
        return ids, scores


class ClusterSource(_GroupSource):
    """The best sellers of the customer's k-means cluster (the ``kmeans-customers`` model's lists)."""

    name = "cluster"

    def __init__(self, k: int = 24, seed: int = 0) -> None:
        self.k = k
        self.seed = seed

    @classmethod
    def create(cls, context: SourceContext) -> ClusterSource:
        return cls(seed=context.seed)

    def fit(self, train: Dataset) -> ClusterSource:
        from hmrec.models.clustering import KMeansCustomers

        model = KMeansCustomers(k=self.k, seed=self.seed)
        model.name = "kmeans-customers"  # type: ignore[misc]
        model.fit(train)
        self.ranked_ids_ = model.ranked_ids_
        self.ranked_scores_ = model.ranked_scores_
        self.group_of_ = model.labels_.astype(np.int16)
        return self


SOURCES: dict[str, type[Source]] = {
    cls.name: cls
    for cls in (
        RepurchaseSource,
        ProductSource,
        CoPurchaseSource,
        PopularitySource,
        AgePopularitySource,
        TrendingSource,
        ALSSource,
        ClusterSource,
        TasteSource,
    )
}


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


# ---------------------------------------------------------------------- the union
@dataclass
class Candidates:
    """The deduplicated candidates of a block of customers, sorted by (row, article).

    Attributes:
        row: position of the customer in the requested ``customers`` array (int32).
        article: article index (int32).
        rank: ``(len, S)`` float32, the 0-based rank of the pair in source ``s``'s list, NaN if ``s`` did
            not propose it.
        score: ``(len, S)`` float32, the source's score, NaN if absent.
        sources: the source names, in column order.
    """

    row: np.ndarray
    article: np.ndarray
    rank: np.ndarray
    score: np.ndarray
    sources: list[str]

    def __len__(self) -> int:
        return int(self.row.size)

    @property
    def proposed(self) -> np.ndarray:
        """``(len, S)`` bool: which source(s) proposed each pair."""
        return ~np.isnan(self.rank)


def candidate_union(
    lists: Sequence[tuple[str, np.ndarray, np.ndarray]], n_articles: int
) -> Candidates:
    """Merge ranked lists ``(name, ids, scores)`` (each ``(n, depth)``, same rows) into :class:`Candidates`.

    A pair proposed by several sources becomes one row with each source's rank and score; padding (-1) is
    dropped. Vectorized: pairs become int64 keys ``row * n_articles + article``, deduplicated by ``np.unique``.
    """
    keys_parts, src_parts, rank_parts, score_parts = [], [], [], []
    for s, (_, ids, scores) in enumerate(lists):
        ids = np.asarray(ids)
        r, j = np.nonzero(ids >= 0)
        keys_parts.append(r.astype(np.int64) * n_articles + ids[r, j])
        src_parts.append(np.full(r.size, s, dtype=np.int16))
        rank_parts.append(j.astype(np.float32))
        score_parts.append(np.asarray(scores)[r, j].astype(np.float32))
    names = [name for name, _, _ in lists]
    if not keys_parts:
        empty = np.zeros(0, dtype=np.int32)
        return Candidates(empty, empty, np.zeros((0, 0), np.float32), np.zeros((0, 0), np.float32), names)
    keys = np.concatenate(keys_parts)
    uniq, inverse = np.unique(keys, return_inverse=True)
    src = np.concatenate(src_parts)
    rank = np.full((uniq.size, len(lists)), np.nan, dtype=np.float32)
    score = np.full((uniq.size, len(lists)), np.nan, dtype=np.float32)
    rank[inverse, src] = np.concatenate(rank_parts)
    score[inverse, src] = np.concatenate(score_parts)
    return Candidates(
        row=(uniq // n_articles).astype(np.int32),
        article=(uniq % n_articles).astype(np.int32),
        rank=rank,
        score=score,
        sources=names,
    )


def gather_candidates(
    sources: Mapping[str, Source], counts: Mapping[str, int], customers: np.ndarray, n_articles: int
) -> Candidates:
    """Every source's top ``counts[name]`` for ``customers``, merged by :func:`candidate_union`."""
    lists = []
    for name, n in counts.items():
        ids, scores = sources[name].candidates(customers, n)
        lists.append((name, ids, scores))
    return candidate_union(lists, n_articles)


# ---------------------------------------------------------------------- recall
def pair_hits(cands: Candidates, truth: sp.csr_matrix) -> np.ndarray:
    """Bool per candidate: the customer (row of ``truth``, aligned with ``cands.row``) bought the article."""
    return csr_lookup(truth, cands.row, cands.article) > 0


def source_recall(
    sources: Mapping[str, Source],
    customers: np.ndarray,
    truth: sp.csr_matrix,
    ns: Sequence[int] = (12, 24, 50, 100, 200, 300),
    n_articles: int | None = None,
    block: int = 20_000,
) -> pl.DataFrame:
    """Recall of the test week's (customer, article) pairs by each source and by their union, at each ``n``.

    ``truth`` has one row per customer of ``customers`` (1 where they bought the article in the test week).
    ``recall = pairs found / pairs bought`` (each distinct pair once; customers as given, e.g. those who bought
    in the test week). Columns: ``source`` (a source's name, or ``union``), ``n`` (per source),
    ``recall``, ``candidates_per_customer`` (mean list length, after deduplication for the union).
    Customers are taken ``block`` at a time: the union at n = 300 is hundreds of candidates per customer.
    """
    truth = sp.csr_matrix(truth)
    truth.data[:] = 1
    total = max(int(truth.nnz), 1)
    m = n_articles if n_articles is not None else truth.shape[1]
    customers = np.asarray(customers)
    n_cust = max(int(customers.size), 1)
    names = [*sources, "union"]
    found = {(name, int(n)): 0 for n in ns for name in names}
    listed = dict.fromkeys(found, 0)
    for lo in range(0, customers.size, block):
        part, part_truth = customers[lo : lo + block], truth[lo : lo + block]
        for n in ns:
            lists = []
            for name, source in sources.items():
                ids, scores = source.candidates(part, n)
                lists.append((name, ids, scores))
                one = candidate_union([(name, ids, scores)], m)
                found[name, int(n)] += int(pair_hits(one, part_truth).sum())
                listed[name, int(n)] += len(one)
            union = candidate_union(lists, m)
            found["union", int(n)] += int(pair_hits(union, part_truth).sum())
            listed["union", int(n)] += len(union)
    rows = [
        {"source": name, "n": n, "recall": found[name, n] / total, "candidates_per_customer": listed[name, n] / n_cust}
        for (name, n) in found
    ]
    return pl.DataFrame(rows, schema={"source": pl.String, "n": pl.Int64, "recall": pl.Float64,
                                      "candidates_per_customer": pl.Float64})
