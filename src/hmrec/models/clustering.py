"""Cluster recommenders: k-means segments of customers, or of articles, turned into ranked lists.

- ``kmeans-customers``: customers are clustered on :func:`hmrec.clustering.customer_features` (age, purchase
  mix, price level, channel, activity); a customer gets what sells best lately *to their cluster*, blended
  with what sells best to everyone. Customers without history join the cluster nearest on demographics
  alone, so a new 22-year-old gets what the young clusters buy, not only the global best sellers.
- ``kmeans-customers+repurchase``: the customer's own likely repurchases first (``history``), then the
  cluster's list (a :class:`hmrec.models.compose.Fill`).
- ``kmeans-articles``: articles are clustered on :func:`hmrec.clustering.article_features`; a customer's
  time-decayed share of purchases in each article cluster weighs the currently popular articles of that
  cluster.

Every list goes on, after the articles the model scores positively, with the global time-decayed popularity
(scored below 0 by :func:`hmrec.models.lists.below`, as a ``Fill`` does). ``k = None`` chooses the
number of clusters with :func:`hmrec.clustering.choose_k` (Kneedle elbow + silhouette) over
``k_min..k_max``; an integer fixes it.

**Defaults** (chosen on the small synthetic data set, seed 0, on the backtest week *before* the final one,
2020-09-09..15, so that the final week stays a fair test; MAP@12 there, ``popularity`` 0.0332):
``kmeans-customers`` with the elbow's k (8) scores 0.0388 (blend 0.25, half-life 7 days); finer clusters
make sharper lists, k = 16 / 24 / 32 give 0.0415 / 0.0424 / 0.0424; half-lives of 3 / 7 / 14 days give
0.0401 / 0.0415 / 0.0398 at k = 16 (10 days: 0.0419 against 0.0424 at k = 24), and blends of
0 / 0.25 / 0.5 / 0.75 give 0.0407 / 0.0415 / 0.0399 / 0.0363. Hence k = 24, half-life 7 days, blend 0.25.
The elbow's k is the number of *segments* the data supports (what ``hmrec cluster`` reports); the number of
*lists* that serves recommendations best is larger, since a cluster's list only has to be better than the
global one for most of its members.

``kmeans-articles`` gains even more from many small clusters, which come close to "more of the kinds of
articles this customer buys" (a cluster of a few dozen similar articles): with the elbow's k (12) 0.0401,
k = 24 / 48 / 96 / 128 / 192 give 0.0435 / 0.0531 / 0.0595 / 0.0613 / 0.0636 (popularity half-life 7 days,
share half-life 60 days); at k = 128 a share half-life of 120 days and a popularity half-life of 14 days give
0.0637. Hence k = 128 (192 costs a third more fitting time for nothing), 14 and 120 days.

**Retuned on the recalibrated data** (second calibration pass, docs/calibration.md), small, seed 0, mean MAP@12
of the backtest weeks ending 2020-09-08 and 2020-09-15 (``benchmarks/tune_baselines.py --grid kmeans --weeks 2
--test-end 2020-09-15``; ``popularity`` 0.0233). The crowd of weekly hits now dominates, and a list close to
the global one wins: fewer, broader clusters.
``kmeans-customers`` (half-life 3 days, blend 0.25): k = 4 / 8 / 12 / 16 / 24 (old default) / 48 / 96 give
0.0265 / 0.0294 / 0.0299 / 0.0295 / 0.0261 / 0.0241 / 0.0214; at k = 24 half-lives of 1 / 7 days 0.0224 /
0.0267, blends of 0 / 0.5 0.0251 / 0.0271; at k = 12 a 7-day half-life 0.0290, blend 0.5 0.0296. Hence k = 12
(+28 % over popularity; +15 % over k = 24), half-life 3 days and blend 0.25 unchanged.
``kmeans-articles``: the old defaults (k = 128, 14 and 120 days) 0.0211, below popularity; at k = 128
popularity half-lives of 1 / 3 / 7 days 0.0198 / 0.0220 / 0.0220, share half-lives of 14 / 30 / 365 days
0.0192 / 0.0197 / 0.0210, k = 32 / 256 0.0219 / 0.0197; with a 3-day half-life k = 4 / 8 / 16 / 32 give
0.0258 / 0.0260 / 0.0261 / 0.0248. Hence k = 16 and a 3-day popularity half-life (+12 % over popularity,
+24 % over the old defaults), share half-life 120 days unchanged. The novelty redraw of the generator moved
purchases away from articles like those already owned, so narrow clusters of "more of the same" no longer pay.
"""

from __future__ import annotations

from typing import Self

import numpy as np

from hmrec.clustering.articles import article_features
from hmrec.clustering.choose_k import DEFAULT_SCAN_SAMPLE, Clustering, fit_clusters
from hmrec.clustering.customers import customer_features
from hmrec.clustering.features import FeatureSet
from hmrec.data.dataset import Dataset
from hmrec.errors import ParameterError
from hmrec.models._params import check_customers, check_int, check_pairs, check_positive
from hmrec.models.base import BLOCK_ROWS, Recommender, check_k, register, top_k
from hmrec.models.compose import register_fill
from hmrec.models.lists import (
    below,
    concat_distinct,
    group_recommend,
    positive_or_neg_inf,
    ranked_finite,
    stack_ranked,
)
from hmrec.models.popularity import DEFAULT_HALF_LIFE_DAYS
from hmrec.models.sales import article_sales

#: default number of customer clusters and weight of the global popularity (module docstring: figures)
DEFAULT_CUSTOMER_CLUSTERS = 12
DEFAULT_BLEND = 0.25
#: defaults of kmeans-articles (module docstring: figures)
DEFAULT_ARTICLE_CLUSTERS = 16
DEFAULT_ARTICLE_HALF_LIFE_DAYS = 3.0
DEFAULT_SHARE_HALF_LIFE_DAYS = 120.0


def _check_k_param(model: str, k: object, k_min: object, k_max: object, sample: object, seed: object) -> None:
    """Validate the clustering hyperparameters, naming the offending one."""
    if k is not None and (isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k < 1):
        raise ParameterError(f"{model}: parameter 'k' must be an integer >= 1 or null (choose), got {k!r}")
    for name, value, low in (
        ("k_min", k_min, 2),
        ("k_max", k_max, 2),
        ("sample", sample, 3),
        ("seed", seed, 0),
    ):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < low:
            raise ParameterError(f"{model}: parameter '{name}' must be an integer >= {low}, got {value!r}")
    if int(k_max) < int(k_min):  # type: ignore[call-overload]
        raise ParameterError(f"{model}: parameter 'k_max' ({k_max}) must be >= 'k_min' ({k_min})")


def _usable_k(k: int | None, features: FeatureSet) -> int | None:
    """A fixed ``k`` capped at the rows there are to cluster: a default tuned on a full catalogue (e.g. 128
    article clusters) must still fit a small data set, where it means one cluster per row at most."""
    if k is None:
        return None
    rows = int(features.fit_rows.sum()) or int(features.fit_rows.size)
    return max(1, min(int(k), rows))


class _ClusteredModel(Recommender):
    """Shared hyperparameter handling of the cluster models."""

    k: int | None
    k_min: int
    k_max: int
    sample: int
    seed: int
    half_life_days: float

    k_: int
    chosen_reason_: str
    n_customers_: int
    n_articles_: int

    def _validate(self) -> None:
        _check_k_param(self.name, self.k, self.k_min, self.k_max, self.sample, self.seed)
        check_positive("half_life_days", self.half_life_days, model=self.name)

    def _fit_clusters(self, train: Dataset) -> Clustering:
        raise NotImplementedError

    def _start_fit(self, train: Dataset) -> Clustering:
        """The start of both models' ``fit``: checked parameters, the sizes, the clusters (and their k)."""
        self._validate()
        self._reset()
        self.n_customers_ = train.n_customers
        self.n_articles_ = train.n_articles
        clustering = self._fit_clusters(train)
        self.k_ = int(clustering.k)
        self.chosen_reason_ = (
            clustering.choice.reason if clustering.choice is not None else f"k fixed at {self.k}"
        )
        return clustering


@register(
    "kmeans-customers",
    "Customers clustered by k-means (demographics, purchase mix, price, channel, activity); "
    "each gets the time-decayed best sellers of their cluster.",
)
class KMeansCustomers(_ClusteredModel):
    """What sells best lately in the customer's k-means cluster, blended with what sells best overall.

    With ``w_r = 0.5 ** ((end - t_dat_r) / half_life_days)`` (``end`` the last day of train),
    ``S_c(a) = sum of w_r over the purchase rows of a by customers of cluster c`` and ``S(a)`` the same over
    every customer::

        score(u, a) = (1 - blend) * S_c(a) / sum_a' S_c(a') + blend * S(a) / sum_a' S(a'),  c = cluster(u)

    Both parts are shares, so the blend weighs a small cluster's list as much as a big one's. The global part
    steadies the lists of small clusters (a few dozen purchases make a noisy ranking). Customers without
    history are placed in the cluster nearest on their demographics. ``score(u, a)`` is the formula above where
    it is positive, else ``below(0, S(a))`` (``-1 / (1 + S(a))``: the global order after the cluster's list,
    which only matters with ``blend = 0``), -inf for articles nobody bought.

    Args:
        k: number of clusters (None: chosen by the elbow + silhouette rule over ``k_min..k_max``).
        half_life_days: time decay of the sales counted for each cluster.
        blend: weight of the global popularity in the score, in ``[0, 1]`` (0: the cluster's list only).
        k_min, k_max: the range scanned when ``k`` is None.
        sample: rows the k scan fits on.
        seed: seeds the samples and k-means.
    """

    labels_: np.ndarray
    centers_: np.ndarray
    cluster_scores_: np.ndarray
    ranked_ids_: np.ndarray
    ranked_scores_: np.ndarray

    def __init__(
        self,
        k: int | None = DEFAULT_CUSTOMER_CLUSTERS,
        half_life_days: float = DEFAULT_HALF_LIFE_DAYS,
        blend: float = DEFAULT_BLEND,
        k_min: int = 2,
        k_max: int = 16,
        sample: int = DEFAULT_SCAN_SAMPLE,
        seed: int = 0,
    ) -> None:
        self.k = k
        self.half_life_days = half_life_days
        self.blend = blend
        self.k_min = k_min
        self.k_max = k_max
        self.sample = sample
        self.seed = seed

    def _fit_clusters(self, train: Dataset) -> Clustering:
        # memoized on the training window: kmeans-customers and kmeans-customers+repurchase with the same
        # clustering parameters fit on one split share the features and the clusters
        key = ("kmeans-customers", self.k, self.seed, self.k_min, self.k_max, self.sample)
        cached = train._memo.get(key)
        if isinstance(cached, Clustering):
            return cached
        features = customer_features(train)
        clustering = fit_clusters(
            features, _usable_k(self.k, features), seed=self.seed, k_min=self.k_min, k_max=self.k_max,
            sample=self.sample,
        )
        train._memo[key] = clustering
        return clustering

    def _validate(self) -> None:
        super()._validate()
        if isinstance(self.blend, bool) or not isinstance(self.blend, (int, float)) or not 0 <= self.blend <= 1:
            raise ParameterError(f"{self.name}: parameter 'blend' must be a number in [0, 1], got {self.blend!r}")

    def fit(self, train: Dataset) -> Self:
        clustering = self._start_fit(train)
        self.labels_ = clustering.labels.astype(np.int32)
        self.centers_ = clustering.centers
        sales = article_sales(
            train, half_life_days=float(self.half_life_days), groups=self.labels_, n_groups=clustering.k
        ).astype(np.float64)
        overall = sales.sum(axis=0)
        cluster_totals = sales.sum(axis=1, keepdims=True)
        shares = np.divide(sales, cluster_totals, out=np.zeros_like(sales), where=cluster_totals > 0)
        if overall.sum() > 0:
            shares = (1.0 - float(self.blend)) * shares + float(self.blend) * (overall / overall.sum())[None, :]
        fill = below(0.0, positive_or_neg_inf(sales.sum(axis=0)))
        self.cluster_scores_ = np.where(shares > 0, shares, fill[None, :]).astype(np.float32)
        # One ranked list per cluster (a few dozen clusters: a loop over clusters, not customers).
        self.ranked_ids_, self.ranked_scores_ = stack_ranked([ranked_finite(row) for row in self.cluster_scores_])
        return self

    def score(self, customers: np.ndarray, articles: np.ndarray) -> np.ndarray:
        self._check_fitted()
        customers, articles = check_pairs(customers, articles, self.n_customers_, self.n_articles_, self.name)
        return self.cluster_scores_[self.labels_[customers].astype(np.int64), articles]

    def candidates(self, customers: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
        self._check_fitted()
        n = check_k(n)
        customers = check_customers(customers, self.n_customers_, self.name)
        return group_recommend(self.ranked_ids_, self.ranked_scores_, self.labels_[customers].astype(np.int64), n)


register_fill(
    "kmeans-customers+repurchase",
    "The customer's own past purchases (history) first, then kmeans-customers' list.",
    primary="history",
    fallback="kmeans-customers",
)


@register(
    "kmeans-articles",
    "Articles clustered by k-means (type, colour, index, price, description, co-purchases); each customer's "
    "share of purchases per cluster weighs that cluster's popular articles.",
)
class KMeansArticles(_ClusteredModel):
    """Current best sellers of the article clusters a customer buys from.

    With ``c(a)`` the cluster of article ``a``, ``pop(a) = sum_r 0.5 ** ((end - t_dat_r) / half_life_days)``
    its time-decayed sales, ``p(a) = pop(a) / sum_{a': c(a') = c(a)} pop(a')`` its popularity within its
    cluster, and ``share(u, c)`` the customer's purchases in cluster ``c`` (each weighed
    ``0.5 ** (age / share_half_life_days)``) divided by all of them::

        score(u, a) = sum_c share(u, c) * [c(a) = c] * p(a) = share(u, c(a)) * p(a)

    i.e. the product ``S @ P`` of the customers x clusters shares and the clusters x articles within-cluster
    popularity, computed in row blocks on the top ``k`` articles of each cluster (within a cluster the score
    follows ``p``, so no other article can reach the top ``k``). A customer without history gets the
    clusters' shares of all sales, which ranks articles by global popularity. Where ``share(u, c(a)) * p(a)``
    is 0 the score is ``below(0, pop(a))`` (``-1 / (1 + pop(a))``): a list that runs out of the customer's
    clusters goes on with the global popularity; -inf for articles never sold.

    Args:
        k: number of article clusters (None: chosen over ``k_min..k_max``).
        half_life_days: time decay of the article popularity.
        share_half_life_days: time decay of the customer's own purchases in the shares.
        text_components, copurchase_components: sizes of the article embeddings (see article_features).
        k_min, k_max, sample, seed: as for ``kmeans-customers``.
    """

    article_labels_: np.ndarray
    shares_: np.ndarray
    default_share_: np.ndarray
    within_: np.ndarray
    popularity_: np.ndarray
    fallback_ids_: np.ndarray
    fallback_scores_: np.ndarray
    cluster_order_: np.ndarray
    cluster_start_: np.ndarray

    def __init__(
        self,
        k: int | None = DEFAULT_ARTICLE_CLUSTERS,
        half_life_days: float = DEFAULT_ARTICLE_HALF_LIFE_DAYS,
        share_half_life_days: float = DEFAULT_SHARE_HALF_LIFE_DAYS,
        k_min: int = 2,
        k_max: int = 30,
        sample: int = DEFAULT_SCAN_SAMPLE,
        seed: int = 0,
        text_components: int = 16,
        copurchase_components: int = 8,
    ) -> None:
        self.k = k
        self.half_life_days = half_life_days
        self.share_half_life_days = share_half_life_days
        self.k_min = k_min
        self.k_max = k_max
        self.sample = sample
        self.seed = seed
        self.text_components = text_components
        self.copurchase_components = copurchase_components

    def _validate(self) -> None:
        super()._validate()
        check_positive("share_half_life_days", self.share_half_life_days, model=self.name)
        for name in ("text_components", "copurchase_components"):  # 0 leaves that embedding out
            check_int(name, getattr(self, name), model=self.name, low=0)

    def _fit_clusters(self, train: Dataset) -> Clustering:
        # memoized on the training window, as for kmeans-customers: settings that differ only in the half-lives
        # (a tuning grid, several variants in one evaluation) share the article features and the clusters
        key = (
            "kmeans-articles", self.k, self.seed, self.k_min, self.k_max, self.sample, self.text_components,
            self.copurchase_components,
        )
        cached = train._memo.get(key)
        if isinstance(cached, Clustering):
            return cached
        features = article_features(
            train,
            text_components=self.text_components,
            copurchase_components=self.copurchase_components,
            seed=self.seed,
        )
        clustering = fit_clusters(
            features, _usable_k(self.k, features), seed=self.seed, k_min=self.k_min, k_max=self.k_max,
            sample=self.sample,
        )
        train._memo[key] = clustering
        return clustering

    def fit(self, train: Dataset) -> Self:
        clustering = self._start_fit(train)
        labels = clustering.labels.astype(np.int32)
        n_clusters = clustering.k
        self.article_labels_ = labels
        pop = article_sales(train, half_life_days=float(self.half_life_days)).astype(np.float64)
        cluster_pop = np.bincount(labels, weights=pop, minlength=n_clusters)
        within = np.divide(pop, cluster_pop[labels], out=np.zeros_like(pop), where=cluster_pop[labels] > 0)
        self.within_ = within.astype(np.float32)
        self.popularity_ = pop.astype(np.float32)
        # every cluster's articles with p > 0, best first, one cluster after another (cluster_start_ bounds)
        sold = np.flatnonzero(self.within_ > 0)
        order = np.lexsort((sold, -self.within_[sold], labels[sold]))
        self.cluster_order_ = sold[order].astype(np.int32)
        self.cluster_start_ = np.searchsorted(labels[self.cluster_order_], np.arange(n_clusters + 1)).astype(np.int64)
        # Customers x clusters purchase shares: one sparse product (customers x articles) @ onehot(labels).
        import scipy.sparse as sp

        decayed = train.interactions(half_life_days=float(self.share_half_life_days))
        onehot = sp.csr_matrix(
            (np.ones(labels.size, dtype=np.float32), (np.arange(labels.size), labels)),
            shape=(labels.size, n_clusters),
        )
        shares = np.asarray((decayed @ onehot).toarray(), dtype=np.float32)
        totals = shares.sum(axis=1, keepdims=True)
        np.divide(shares, totals, out=shares, where=totals > 0)
        self.shares_ = shares
        self.default_share_ = (
            cluster_pop / cluster_pop.sum()
            if cluster_pop.sum() > 0
            else np.full(n_clusters, 1.0 / n_clusters)
        ).astype(np.float32)
        self.fallback_ids_, self.fallback_scores_ = ranked_finite(below(0.0, positive_or_neg_inf(pop)))
        return self

    def _shares(self, customers: np.ndarray) -> np.ndarray:
        """Rows of ``shares_``, the default shares for customers without history."""
        share = self.shares_[customers]
        share[share.sum(axis=1) == 0] = self.default_share_
        return share

    def score(self, customers: np.ndarray, articles: np.ndarray) -> np.ndarray:
        self._check_fitted()
        customers, articles = check_pairs(customers, articles, self.n_customers_, self.n_articles_, self.name)
        out = np.empty(customers.size, dtype=np.float32)
        fill = below(0.0, positive_or_neg_inf(self.popularity_))
        for lo in range(0, customers.size, BLOCK_ROWS):  # blocks bound the (rows, clusters) share gather
            c, a = customers[lo : lo + BLOCK_ROWS], articles[lo : lo + BLOCK_ROWS]
            share = np.take_along_axis(self._shares(c), self.article_labels_[a].astype(np.int64)[:, None], axis=1)
            value = (share[:, 0] * self.within_[a]).astype(np.float32)
            out[lo : lo + BLOCK_ROWS] = np.where(value > 0, value, fill[a])
        return out

    def candidates(self, customers: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
        self._check_fitted()
        k = check_k(n)
        customers = check_customers(customers, self.n_customers_, self.name)
        # Within a cluster a customer's scores follow p(a): the top k lie among each cluster's top k.
        sizes = np.diff(self.cluster_start_)
        take = np.minimum(sizes, k)
        first = np.repeat(self.cluster_start_[:-1], take)
        offset = np.arange(int(take.sum())) - np.repeat(np.cumsum(take) - take, take)
        # in article order, so that top_k's ties (lower column first) go to the lower article at any depth
        cand_ids = np.sort(self.cluster_order_[first + offset])
        cand_p = self.within_[cand_ids]
        cand_c = self.article_labels_[cand_ids].astype(np.int64)
        out_ids = np.full((customers.size, k), -1, dtype=np.int32)
        out_scores = np.full((customers.size, k), -np.inf, dtype=np.float32)
        # rows per block so that the (rows x candidates) score block stays near 64 MB
        step = max(1, min(BLOCK_ROWS, (1 << 24) // max(1, cand_ids.size)))
        for lo in range(0, customers.size, step):
            rows = customers[lo : lo + step]
            share = self._shares(rows)
            # score = share(u, c(a)) * p(a): S @ P with P's single non-zero per candidate column
            block = share[:, cand_c] * cand_p[None, :]
            block[block <= 0] = -np.inf
            pos, sc = top_k(block, k)
            got = pos >= 0
            out_ids[lo : lo + rows.size] = np.where(got, cand_ids[np.maximum(pos, 0)], -1)
            out_scores[lo : lo + rows.size] = sc
        short = np.flatnonzero(out_ids[:, -1] < 0) if out_ids.size else np.zeros(0, dtype=np.int64)
        if short.size:
            # lists that ran out of the customer's clusters go on with the global popularity (below 0)
            depth = min(k, self.fallback_ids_.size)
            fb_ids = np.broadcast_to(self.fallback_ids_[:depth], (short.size, depth))
            fb_scores = np.broadcast_to(self.fallback_scores_[:depth], (short.size, depth))
            out_ids[short], out_scores[short], _ = concat_distinct(
                out_ids[short], out_scores[short], fb_ids, fb_scores, k
            )
        return out_ids, out_scores


__all__ = [
    "DEFAULT_ARTICLE_CLUSTERS",
    "DEFAULT_BLEND",
    "DEFAULT_CUSTOMER_CLUSTERS",
    "KMeansArticles",
    "KMeansCustomers",
]
