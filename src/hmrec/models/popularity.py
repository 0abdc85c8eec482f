"""Popularity baselines: what sells, recently, for everyone or for the customer's age group; and random.

All of them score articles once at ``fit`` (a polars group-by over the transactions) and rank the same list
for a whole group of customers, so recommending for every customer costs a gather of ``k`` columns, plus a
vectorized look-up of the customer's purchases when ``filter_bought`` is on.
"""

from __future__ import annotations

from typing import Self

import numpy as np
import scipy.sparse as sp

from hmrec.data.dataset import Dataset
from hmrec.data.schema import ARTICLE_IDX
from hmrec.errors import ParameterError
from hmrec.models._params import check_bool, check_customers, check_pairs, check_positive
from hmrec.models.base import Recommender, check_k, register
from hmrec.models.lists import below, group_recommend, positive_or_neg_inf, ranked_finite, stack_ranked, top_k_excluding
from hmrec.models.sales import (
    article_sales,
    pair_lookup,
    recent_articles,
    seen_matrix,
    store_csr,
    stored_csr,
)

#: default half-life of the time decay of sales, in days. Chosen on backtest weeks (test weeks ending
#: 2020-08-25..09-15, never the final week) of the synthetic data: popularity-decay MAP@12 with half-lives
#: 1/3/7/14/28 days was 0.01469/0.01474/0.01372/0.01239/0.01120 on medium (3 weeks, ~80K buyers) and
#: 0.03372/0.03557/0.03538/0.03547/0.03507 on small (4 weeks); popularity-age 0.01563 (3) vs 0.01491 (7) on
#: medium, 0.0357 vs 0.0372 on small. Fashion demand turns over fast: the last few days say most.
DEFAULT_HALF_LIFE_DAYS = 3.0
#: default age buckets of popularity-age: five equal-count groups. Backtest MAP@12 for 5-year / 10-year /
#: quintiles / deciles: 0.03720/0.03740/0.03829/0.03772 on small (4 weeks), 0.01491/0.01484/0.01507/0.01500
#: on medium (3 weeks).
DEFAULT_AGE_BUCKETS = "quintiles"


class SeenMixin:
    """Keeps the customers x articles "already bought" matrix as plain arrays (saved with the model)."""

    seen_indptr_: np.ndarray
    seen_indices_: np.ndarray
    n_articles_: int
    _seen_cache: tuple[int, sp.csr_matrix] | None = None

    def _reset(self) -> None:
        # the cached matrix belongs to the learned state: a refit or a restore must not reuse it
        self._seen_cache = None
        super()._reset()  # type: ignore[misc]

    def _store_seen(self, train: Dataset) -> None:
        store_csr(self, "seen_", seen_matrix(train), values=False)

    def _seen(self) -> sp.csr_matrix:
        # rebuilt once per fitted/restored state; keyed by the identity of the stored arrays
        key = id(self.seen_indptr_)
        if self._seen_cache is None or self._seen_cache[0] != key:
            self._seen_cache = (key, stored_csr(self, "seen_", self.n_articles_))
        return self._seen_cache[1]


class GroupPopularity(SeenMixin, Recommender):
    """Shared machinery: one score per (customer group, article) (a single group for the global models).

    ``score(c, a) = group_scores_[group_of_[c], a]`` (-inf for an article that is not a candidate, and for
    one the customer bought when ``filter_bought``); the candidates are each group's articles with a finite
    score, ranked once at ``fit``.

    Learned: ``group_scores_`` ``(G, n_articles)``, ``ranked_ids_``/``ranked_scores_`` ``(G, depth)``,
    ``group_of_`` (customer_idx -> group), ``n_customers_``, ``n_articles_`` and, with ``filter_bought``, the
    seen matrix.
    """

    filter_bought: bool
    recent_weeks: float | None

    group_scores_: np.ndarray
    ranked_ids_: np.ndarray
    ranked_scores_: np.ndarray
    group_of_: np.ndarray
    n_customers_: int

    def _group_scores(self, train: Dataset) -> tuple[np.ndarray, np.ndarray]:
        """``(group_scores (G, n_articles) with -inf for non-candidates, group_of)``; one per model."""
        raise NotImplementedError

    def _validate(self) -> None:
        check_bool("filter_bought", self.filter_bought, model=self.name)
        check_positive("recent_weeks", self.recent_weeks, model=self.name, allow_none=True)

    def _restrict(self, scores: np.ndarray, train: Dataset) -> np.ndarray:
        """Zero the scores of articles not sold in the last ``recent_weeks`` weeks (no-op without it)."""
        mask = recent_articles(train, self.recent_weeks)
        return scores if mask is None else np.where(mask, scores, 0).astype(np.float32)

    def fit(self, train: Dataset) -> Self:
        self._validate()
        self._reset()
        self.n_customers_ = train.n_customers
        self.n_articles_ = train.n_articles
        group_scores, group_of = self._group_scores(train)
        self.group_scores_ = np.asarray(group_scores, dtype=np.float32)
        # one ranked list per group (a handful of groups: a loop over groups, not customers)
        self.ranked_ids_, self.ranked_scores_ = stack_ranked([ranked_finite(row) for row in self.group_scores_])
        self.group_of_ = group_of.astype(np.int16)
        if self.filter_bought:
            self._store_seen(train)
        return self

    def score(self, customers: np.ndarray, articles: np.ndarray) -> np.ndarray:
        self._check_fitted()
        customers, articles = check_pairs(customers, articles, self.n_customers_, self.n_articles_, self.name)
        out = self.group_scores_[self.group_of_[customers].astype(np.int64), articles]
        if self.filter_bought:
            out = np.where(pair_lookup(self._seen(), customers, articles) > 0, np.float32(-np.inf), out)
        return out.astype(np.float32)

    def candidates(self, customers: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
        self._check_fitted()
        n = check_k(n)
        customers = check_customers(customers, self.n_customers_, self.name)
        exclude = self._seen()[customers] if self.filter_bought else None
        return group_recommend(
            self.ranked_ids_,
            self.ranked_scores_,
            self.group_of_[customers].astype(np.int64),
            n,
            exclude=exclude,
        )


@register("popularity", "Most sold articles of the last `days` days (default 7); the same list for everyone.")
class Popularity(GroupPopularity):
    """Score of article ``a`` = number of purchase rows of ``a`` in the last ``days`` days of train.

    Args:
        days: length of the counting window, ending on train's last day.
        filter_bought: skip articles the customer already bought (the list is filled from further down).
        recent_weeks: only articles sold in the last ``recent_weeks`` weeks (None: no extra limit).
    """

    def __init__(
        self, days: float = 7, filter_bought: bool = False, recent_weeks: float | None = None
    ) -> None:
        self.days = days
        self.filter_bought = filter_bought
        self.recent_weeks = recent_weeks

    def _validate(self) -> None:
        super()._validate()
        check_positive("days", self.days, model=self.name)

    def _group_scores(self, train: Dataset) -> tuple[np.ndarray, np.ndarray]:
        scores = positive_or_neg_inf(self._restrict(article_sales(train, days=self.days), train))
        return scores[None, :], np.zeros(train.n_customers, dtype=np.int16)


@register(
    "popularity-decay",
    "Time-decayed sales, weight 0.5 ** (age_days / half_life_days); the same list for everyone.",
)
class PopularityDecay(GroupPopularity):
    """Score of article ``a`` = ``sum_r 0.5 ** ((end - t_dat_r) / half_life_days)`` over its purchases ``r``.

    ``end`` is train's last day, so a sale today counts 1, one ``half_life_days`` ago 1/2, two ago 1/4.
    Unlike a hard window this keeps a long tail of still-selling articles and ranks them smoothly.

    Args:
        half_life_days: days after which a sale counts half (default 3, best of 1/3/7/14/28 on backtest
            weeks of the synthetic data; see ``DEFAULT_HALF_LIFE_DAYS``).
        days: only the last ``days`` days are counted (None: all of train; older sales weigh ~0 anyway).
        filter_bought, recent_weeks: as for ``popularity``.
    """

    def __init__(
        self,
        half_life_days: float = DEFAULT_HALF_LIFE_DAYS,
        days: float | None = None,
        filter_bought: bool = False,
        recent_weeks: float | None = None,
    ) -> None:
        self.half_life_days = half_life_days
        self.days = days
        self.filter_bought = filter_bought
        self.recent_weeks = recent_weeks

    def _validate(self) -> None:
        super()._validate()
        check_positive("half_life_days", self.half_life_days, model=self.name)
        check_positive("days", self.days, model=self.name, allow_none=True)

    def _group_scores(self, train: Dataset) -> tuple[np.ndarray, np.ndarray]:
        scores = article_sales(train, days=self.days, half_life_days=self.half_life_days)
        return positive_or_neg_inf(self._restrict(scores, train))[None, :], np.zeros(train.n_customers, np.int16)


def age_groups(ages: np.ndarray, buckets: int | str) -> tuple[np.ndarray, np.ndarray]:
    """Bucket every customer by age: ``(group_of, edges)``, group -1 for an unknown age.

    ``buckets`` is a width in years (``5``: 15-19, 20-24, ...; group = ``floor(age / width)`` renumbered
    from 0) or ``"deciles"`` / ``"quintiles"`` / ``"quartiles"`` (equal-count groups of the known ages).
    ``edges`` are the lower bounds of the groups (the first one is -inf for quantile buckets).
    """
    ages = np.asarray(ages, dtype=np.float64)
    known = np.isfinite(ages)
    group_of = np.full(ages.size, -1, dtype=np.int64)
    quantiles = {"deciles": 10, "quintiles": 5, "quartiles": 4}
    if isinstance(buckets, str):
        if buckets not in quantiles:
            raise ParameterError(
                f"popularity-age: parameter 'buckets' must be a width in years (>= 1) or one of "
                f"{', '.join(quantiles)}, got {buckets!r}"
            )
        if not known.any():
            return group_of, np.array([-np.inf])
        cuts = np.unique(np.quantile(ages[known], np.linspace(0, 1, quantiles[buckets] + 1)[1:-1]))
        edges = np.concatenate([[-np.inf], cuts])
        group_of[known] = np.searchsorted(cuts, ages[known], side="right")
        return group_of, edges
    if isinstance(buckets, bool) or not isinstance(buckets, (int, np.integer)) or buckets < 1:
        raise ParameterError(
            f"popularity-age: parameter 'buckets' must be a width in years (>= 1) or one of "
            f"{', '.join(quantiles)}, got {buckets!r}"
        )
    if not known.any():
        return group_of, np.array([-np.inf])
    raw = np.floor(ages[known] / buckets).astype(np.int64)
    lowest = int(raw.min())
    group_of[known] = raw - lowest
    edges = (np.arange(int(raw.max()) - lowest + 1) + lowest) * float(buckets)
    return group_of, edges


@register(
    "popularity-age",
    "Time-decayed popularity within the customer's age bucket, filled from the global list.",
)
class PopularityAge(GroupPopularity):
    """Per age bucket ``b``: ``score_b(a) = sum over purchase rows of a by customers in b of
    0.5 ** (age_days / half_life_days)``; each bucket's ranked list is followed by the global
    (``popularity-decay``) list for articles the bucket did not buy. Customers with an unknown age get the
    global list. ``score(u, a) = score_b(a)`` where the bucket bought ``a``, else ``below(0, S(a))`` with
    ``S`` the global time-decayed sales (:func:`hmrec.models.lists.below`: ``-1 / (1 + S(a))``), so the
    bucket's articles come first and the global order is kept after them, as in a ``Fill``.

    Args:
        buckets: width of an age bucket in years, or ``"deciles"``/``"quintiles"``/``"quartiles"`` (default
            quintiles, see ``DEFAULT_AGE_BUCKETS``).
        half_life_days: time decay of a sale, as for ``popularity-decay``.
        filter_bought, recent_weeks: as for ``popularity``.
    """

    edges_: np.ndarray

    def __init__(
        self,
        buckets: int | str = DEFAULT_AGE_BUCKETS,
        half_life_days: float = DEFAULT_HALF_LIFE_DAYS,
        filter_bought: bool = False,
        recent_weeks: float | None = None,
    ) -> None:
        self.buckets = buckets
        self.half_life_days = half_life_days
        self.filter_bought = filter_bought
        self.recent_weeks = recent_weeks

    def _validate(self) -> None:
        super()._validate()
        check_positive("half_life_days", self.half_life_days, model=self.name)
        age_groups(np.empty(0), self.buckets)  # refuses a bad 'buckets' (on no ages: costs nothing)

    def _group_scores(self, train: Dataset) -> tuple[np.ndarray, np.ndarray]:
        if "age" in train.customers.columns:
            ages = train.customers["age"].cast(float).fill_null(np.nan).to_numpy()
        else:
            ages = np.full(train.n_customers, np.nan)
        group_of, self.edges_ = age_groups(ages, self.buckets)
        n_groups = int(group_of.max(initial=-1)) + 1
        overall = self._restrict(article_sales(train, half_life_days=self.half_life_days), train)
        per_group = article_sales(
            train, half_life_days=self.half_life_days, groups=group_of, n_groups=n_groups
        )
        mask = recent_articles(train, self.recent_weeks)
        if mask is not None:
            per_group[:, ~mask] = 0
        # the bucket's own sales where it bought the article, else the overall sales mapped below 0; the
        # last row is "unknown age": the overall part alone
        fill = below(0.0, positive_or_neg_inf(overall))
        scores = np.vstack([np.where(per_group > 0, per_group, fill[None, :]), fill[None, :]])
        group_of = np.where(group_of < 0, n_groups, group_of)
        return scores.astype(np.float32), group_of


def splitmix64(x: np.ndarray) -> np.ndarray:
    """SplitMix64 finalizer: a well-mixed uint64 hash of each uint64, vectorized.

    Used to derive per-customer random draws from ``(seed, customer_idx)`` so that a customer's random list
    does not depend on which other customers are in the batch.
    """
    z = np.asarray(x, dtype=np.uint64) + np.uint64(0x9E3779B97F4A7C15)
    z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return z ^ (z >> np.uint64(31))


@register("random", "Uniformly random articles among those sold in the last `recent_weeks` weeks (seeded).")
class RandomModel(SeenMixin, Recommender):
    """A floor for every metric: a seeded random order of the recently sold articles for each customer.

    The order for customer ``c`` depends only on ``(seed, c)``: with ``C`` candidates, ``a = unit(hash)``
    coprime to ``C`` and ``b = hash' mod C``, positions ``(a * j + b) mod C`` for ``j = 0..C-1`` are a
    permutation of the candidates, each one uniform over them. So a customer's list is the same alone or in a
    batch. ``score(c, x) = 1 - j / C`` where ``x`` is the ``j``-th article of ``c``'s permutation (found
    from ``x``'s position ``p`` as ``j = (p - b) * a⁻¹ mod C``): a rank in a seeded uniform draw, hence
    ``score_kind = "rank"``; -inf outside the candidates (and for bought articles with ``filter_bought``).

    Args:
        recent_weeks: candidates are the articles sold in the last ``recent_weeks`` weeks (None: ever sold).
        filter_bought: skip articles the customer already bought.
        seed: the random seed.
    """

    score_kind = "rank"

    candidates_: np.ndarray
    units_: np.ndarray
    inverses_: np.ndarray
    n_customers_: int

    def __init__(self, recent_weeks: float | None = 1, filter_bought: bool = False, seed: int = 0) -> None:
        self.recent_weeks = recent_weeks
        self.filter_bought = filter_bought
        self.seed = seed

    def _validate(self) -> None:
        check_positive("recent_weeks", self.recent_weeks, model=self.name, allow_none=True)
        check_bool("filter_bought", self.filter_bought, model=self.name)
        if isinstance(self.seed, bool) or not isinstance(self.seed, (int, np.integer)) or self.seed < 0:
            raise ParameterError(f"random: parameter 'seed' must be an integer >= 0, got {self.seed!r}")

    def fit(self, train: Dataset) -> Self:
        self._validate()
        self._reset()
        self.n_customers_ = train.n_customers
        self.n_articles_ = train.n_articles
        mask = recent_articles(train, self.recent_weeks)
        if mask is None:
            mask = np.zeros(train.n_articles, dtype=bool)
            mask[train.transactions[ARTICLE_IDX].unique().to_numpy()] = True
        self.candidates_ = np.flatnonzero(mask).astype(np.int32)
        c = self.candidates_.size
        # multipliers coprime to C make j -> (a j + b) mod C a permutation of the candidates
        self.units_ = np.flatnonzero(np.gcd(np.arange(c, dtype=np.int64), c) == 1).astype(np.int64)
        if self.units_.size == 0:  # no candidates (or C = 1, where gcd(0, 1) = 1 already gives [0])
            self.units_ = np.ones(1, dtype=np.int64)
        # a⁻¹ mod C for score(): one modular inverse per unit (at most C of them, once per fit)
        self.inverses_ = np.array([pow(int(u), -1, c) if c > 1 else 0 for u in self.units_], dtype=np.int64)
        if self.filter_bought:
            self._store_seen(train)
        return self

    def _keys(self, customers: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The unit index and the offset ``b`` of each customer's permutation."""
        c = self.candidates_.size
        key = splitmix64(customers.astype(np.uint64) * np.uint64(2) + (np.uint64(self.seed) << np.uint64(33)))
        key2 = splitmix64(key)
        return (key % np.uint64(self.units_.size)).astype(np.int64), (key2 % np.uint64(c)).astype(np.int64)

    def _lists(self, customers: np.ndarray, depth: int) -> tuple[np.ndarray, np.ndarray]:
        """``(n, depth)`` distinct candidates per customer (depth <= C) and their scores ``1 - j / C``."""
        c = self.candidates_.size
        unit, b = self._keys(customers)
        j = np.arange(depth, dtype=np.int64)
        pos = (self.units_[unit][:, None] * j[None, :] + b[:, None]) % c
        scores = (1.0 - j.astype(np.float32) / np.float32(c)).astype(np.float32)
        return self.candidates_[pos], np.broadcast_to(scores, pos.shape)

    def score(self, customers: np.ndarray, articles: np.ndarray) -> np.ndarray:
        self._check_fitted()
        customers, articles = check_pairs(customers, articles, self.n_customers_, self.n_articles_, self.name)
        c = self.candidates_.size
        out = np.full(customers.size, -np.inf, dtype=np.float32)
        if c == 0 or customers.size == 0:
            return out
        p = np.searchsorted(self.candidates_, articles)
        known = (p < c) & (self.candidates_[np.minimum(p, c - 1)] == articles)
        unit, b = self._keys(customers)
        j = ((p - b) % c) * self.inverses_[unit] % c
        out[known] = (1.0 - j[known].astype(np.float32) / np.float32(c)).astype(np.float32)
        if self.filter_bought:
            out[pair_lookup(self._seen(), customers, articles) > 0] = -np.inf
        return out

    def candidates(self, customers: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
        self._check_fitted()
        n = check_k(n)
        customers = check_customers(customers, self.n_customers_, self.name)
        rows, c = customers.size, self.candidates_.size
        ids = np.full((rows, n), -1, dtype=np.int32)
        scores = np.full((rows, n), -np.inf, dtype=np.float32)
        if c == 0 or rows == 0:
            return ids, scores
        if not self.filter_bought:
            depth = min(n, c)
            ids[:, :depth], scores[:, :depth] = self._lists(customers, depth)
            return ids, scores
        seen = self._seen()[customers]
        return top_k_excluding(lambda r, depth: self._lists(customers[r], depth), rows, n, c, seen)
