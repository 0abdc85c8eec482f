r"""Recommending from learned factors: tiled ``P·Qᵀ`` over candidate articles, top-k, the cold fallback.

Shared by every matrix-factorization model (``als``, ``sgd-*``). The score of
customer ``u`` for candidate article ``a`` is ``pᵤ·qₐ``; a numba kernel scores tiles of customers against
tiles of candidates (one small BLAS ``sgemm`` each, the scores still in cache when the running top ``k`` is
updated) and skips the candidates that provably cannot enter a customer's top ``k``. Candidates are, by
default, the articles sold in the last ``recent_weeks`` weeks of train (fashion articles live a few weeks,
and it makes scoring several times cheaper than the whole catalogue).

Customers without any purchase in train have all-zero factors; they get the time-decayed popularity of the
candidates (``sum over purchase rows of 0.5 ** (age_days / fallback_half_life_days)``), best first: for them
``score(u, a)`` is that popularity, for everyone else the dot product ``pᵤ·qₐ`` (-inf outside the candidates,
and for bought articles with ``filter_bought``). With ``fallback_half_life_days=None`` the half-life is learned
from train (:func:`learned_half_life`): how fast popularity fades differs from one shop (or catalogue) to
another, and the customers without history are often most of a test week's buyers.

The ``+repurchase`` presets are :class:`hmrec.models.compose.Fill`\ s of ``history`` and a factor model.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Sequence
from contextlib import contextmanager

import numba
import numpy as np
import scipy.sparse as sp
from threadpoolctl import threadpool_limits

from hmrec.data.dataset import Dataset
from hmrec.errors import ParameterError
from hmrec.metrics import map_at_k
from hmrec.models import _kernels
from hmrec.models._params import check_bool, check_pairs, check_positive
from hmrec.models.base import BLOCK_ROWS, Recommender, check_k, check_memory
from hmrec.models.lists import ranked_articles
from hmrec.models.popularity import DEFAULT_HALF_LIFE_DAYS, SeenMixin, check_customers
from hmrec.models.sales import article_sales, pair_lookup, recent_articles

#: customers per scoring tile and candidates per tile: a 128 x 1024 float32 block (512 KB) stays in L2
TILE_CUSTOMERS = 128
TILE_CANDIDATES = 1024
#: default candidate window: articles sold in the last week of train. Measured with ALS on H&M-like synthetic
#: data (40K customers, 1.2M purchases, last week held out): MAP@12 0.0585 with 1 week, 0.0535 with 2, 0.0433
#: with the whole catalogue.
DEFAULT_RECENT_WEEKS: float | None = 1
#: the half-lives (days) :func:`learned_half_life` tries, from "this week only" to "the last half year"
HALF_LIFE_GRID: tuple[float, ...] = (1, 2, 3, 5, 7, 10, 14, 21, 28, 42, 56, 84, 112)
#: days held out at the end of train to choose the half-life: one week, the length of a test window
HALF_LIFE_HOLDOUT_DAYS = 7


# ---------------------------------------------------------------------- threads
def resolve_threads(threads: int, model: str) -> int:
    """``threads`` (0 = every numba thread) as a count in ``[1, numba's maximum]``."""
    if isinstance(threads, bool) or not isinstance(threads, (int, np.integer)) or threads < 0:
        raise ParameterError(
            f"{model}: parameter 'threads' must be an integer >= 0 (0 = all), got {threads!r}"
        )
    top = int(numba.config.NUMBA_NUM_THREADS)  # type: ignore[attr-defined]
    return top if threads == 0 else min(int(threads), top)


@contextmanager
def numba_threads(threads: int) -> Iterator[None]:
    """Run numba kernels on ``threads`` threads with BLAS limited to one thread meanwhile.

    The kernels keep every core busy; a BLAS thread pool woken between them (for ``YᵀY``) would compete for
    the same cores (implicit warns about the same trap), so BLAS is single-threaded inside this block.
    """
    previous = numba.get_num_threads()
    numba.set_num_threads(threads)
    try:
        with threadpool_limits(limits=1, user_api="blas"):
            yield
    finally:
        numba.set_num_threads(previous)


# ---------------------------------------------------------------------- candidates and scoring
def candidate_articles(train: Dataset, recent_weeks: float | None) -> np.ndarray:
    """Sorted article indices sold in the last ``recent_weeks`` weeks of ``train``; all articles for None
    (and when that window sold nothing)."""
    mask = recent_articles(train, recent_weeks)
    if mask is None or not mask.any():
        return np.arange(train.n_articles, dtype=np.int32)
    return np.flatnonzero(mask).astype(np.int32)


def score_top_k(
    user_factors: np.ndarray,
    item_factors: np.ndarray,
    customers: np.ndarray,
    candidates: np.ndarray,
    k: int,
    *,
    exclude: sp.csr_matrix | None = None,
    threads: int = 0,
) -> tuple[np.ndarray, np.ndarray]:
    """Top ``k`` candidates of ``user_factors[c] · item_factors[a]`` for every customer ``c``, best first.

    Exact, with Cauchy-Schwarz pruning: candidates are visited by decreasing norm ``‖qₐ‖`` in tiles, and a
    tile of customers stops as soon as each has ``k`` scores above ``‖pᵤ‖·‖qₐ‖`` of the next candidate
    (see ``_kernels.factor_top_k``). On ALS factors about 15% of the candidates get scored.

    Args:
        user_factors, item_factors: ``(n_customers, f)`` and ``(n_articles, f)`` float32.
        customers: customer indices to score.
        candidates: article indices that may be recommended.
        k: list length; rows are padded with -1 / -inf when there are fewer candidates.
        exclude: optional customers x articles matrix (all customers' rows) whose non-zeros are skipped.
        threads: numba threads (0: all).

    Returns:
        ``(ids, scores)``, ``(len(customers), k)`` int32 / float32. Ties go to the lower article index.
    """
    _kernels.compile_kernels()
    customers = np.asarray(customers, dtype=np.int64)
    candidates = np.asarray(candidates, dtype=np.int32)
    n, m = customers.size, candidates.size
    if n == 0 or m == 0:
        return np.full((n, k), -1, dtype=np.int32), np.full((n, k), -np.inf, dtype=np.float32)
    q = item_factors[candidates].astype(np.float32, copy=False)
    norms = np.sqrt(np.square(q, dtype=np.float64).sum(axis=1)).astype(np.float32)
    order = np.lexsort((candidates, -norms))  # decreasing norm, then article index
    position = np.full(item_factors.shape[0], -1, dtype=np.int64)
    position[candidates[order]] = np.arange(m)
    if exclude is not None:
        ex_indptr, ex_indices = exclude.indptr.astype(np.int64), exclude.indices.astype(np.int32)
    else:
        ex_indptr, ex_indices = np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int32)
    with numba_threads(resolve_threads(threads, "scoring")):
        ids, scores, _ = _kernels.factor_top_k(
            np.ascontiguousarray(user_factors, dtype=np.float32), customers, np.ascontiguousarray(q[order]),
            candidates[order], norms[order], k, TILE_CUSTOMERS, TILE_CANDIDATES, ex_indptr, ex_indices,
            position,
        )
    return ids, scores


# ---------------------------------------------------------------------- the cold fallback
def learned_half_life(
    train: Dataset, recent_weeks: float | None, grid: Sequence[float] = HALF_LIFE_GRID, k: int = 12
) -> float:
    """The half-life of the fallback popularity that ranks the last week of ``train`` best.

    The last :data:`HALF_LIFE_HOLDOUT_DAYS` days are held out; for each half-life of ``grid`` the candidates of
    the days before (``recent_weeks``, as the model's) are ranked by their decayed sales and the top ``k``,
    one list for everyone, is scored by MAP@k on every held-out buyer. The best wins, the shortest on a tie.
    Every buyer judges, not only those without history whom the fallback serves: they are a tenth of a
    week's buyers on the generated data, and one list's MAP over so few moves more between half-lives than
    the half-lives differ (small, seed 2: the new buyers alone chose 21 days, whose list then scored 0.0096
    for the test week's new buyers against 0.0179 with the 3 days all buyers chose).
    Returns :data:`DEFAULT_HALF_LIFE_DAYS` when train is too short to hold a week out or the week has no buyers.
    """
    end = train.end_date
    if end is None or train.start_date is None or (end - train.start_date).days < 2 * HALF_LIFE_HOLDOUT_DAYS:
        return DEFAULT_HALF_LIFE_DAYS
    cut = end - dt.timedelta(days=HALF_LIFE_HOLDOUT_DAYS)
    inner = train.between(None, cut)
    truth = train.between(cut + dt.timedelta(days=1), end).interactions(binary=True)
    judges = np.flatnonzero(np.diff(truth.indptr) > 0)
    if inner.n_transactions == 0 or judges.size == 0:
        return DEFAULT_HALF_LIFE_DAYS
    in_candidates = np.zeros(train.n_articles, dtype=bool)
    in_candidates[candidate_articles(inner, recent_weeks)] = True
    truth_rows = truth[judges]
    best, best_score = DEFAULT_HALF_LIFE_DAYS, -np.inf
    for half_life in sorted(float(h) for h in grid):
        sales = article_sales(inner, half_life_days=half_life)
        ids, _ = ranked_articles(np.where(in_candidates, sales, 0))
        top = np.full(k, -1, dtype=np.int32)
        top[: min(k, ids.size)] = ids[:k]
        score = map_at_k(np.broadcast_to(top, (judges.size, k)), truth_rows, k)
        if score > best_score:  # strictly better: the shorter half-life keeps a tie
            best, best_score = half_life, score
    return best


# ---------------------------------------------------------------------- the shared base class
class FactorRecommender(SeenMixin, Recommender):
    """Base of the factor models: candidates, popularity fallback and ``filter_bought``.

    Subclasses learn ``user_factors_`` and ``item_factors_`` in ``fit`` and then call :meth:`_fit_scoring`.
    Their constructors define ``recent_weeks``, ``filter_bought`` and ``fallback_half_life_days``.

    Learned (besides the factors): ``candidates_`` (article indices), ``has_history_`` (bool per customer),
    ``fallback_ids_``/``fallback_scores_`` (candidates by decayed popularity), ``fallback_half_life_`` (the
    half-life used: ``fallback_half_life_days`` or, for None, the learned one) and the seen matrix with
    ``filter_bought``.
    """

    threads: int
    factors: int
    recent_weeks: float | None
    filter_bought: bool
    fallback_half_life_days: float | None

    user_factors_: np.ndarray
    item_factors_: np.ndarray
    candidates_: np.ndarray
    has_history_: np.ndarray
    fallback_ids_: np.ndarray
    fallback_scores_: np.ndarray
    fallback_half_life_: float
    n_customers_: int
    n_articles_: int

    def _check_scoring_params(self) -> None:
        check_positive("recent_weeks", self.recent_weeks, model=self.name, allow_none=True)
        check_bool("filter_bought", self.filter_bought, model=self.name)
        check_positive("fallback_half_life_days", self.fallback_half_life_days, model=self.name, allow_none=True)

    def _check_factor_memory(self, train: Dataset) -> None:
        """Refuse ``factors`` whose arrays would not fit in memory, before ``fit`` allocates them."""
        # the customer and article factors, float32, and as much again for the scoring's copies
        check_memory(
            8 * (train.n_customers + train.n_articles) * int(self.factors),
            f"{self.name}: factors={self.factors} for {train.n_customers:,} customers",
            fix=f"use fewer factors, e.g. --param {self.name}.factors=128",
        )

    def _fit_scoring(self, train: Dataset, history: sp.csr_matrix) -> None:
        """Everything ``candidates`` needs besides the factors; ``history`` is the training matrix."""
        self.n_customers_ = train.n_customers
        self.n_articles_ = train.n_articles
        self.candidates_ = candidate_articles(train, self.recent_weeks)
        self.has_history_ = np.diff(history.indptr) > 0
        if self.fallback_half_life_days is None:
            self.fallback_half_life_ = learned_half_life(train, self.recent_weeks)
        else:
            self.fallback_half_life_ = float(self.fallback_half_life_days)
        sales = article_sales(train, half_life_days=self.fallback_half_life_)
        in_candidates = np.zeros(train.n_articles, dtype=bool)
        in_candidates[self.candidates_] = True
        self.fallback_ids_, self.fallback_scores_ = ranked_articles(np.where(in_candidates, sales, 0))
        if self.filter_bought:
            self._store_seen(train)

    def _factor_top_k(self, customers: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """Blocked scoring for customers with history, popularity for the others (lists may run short)."""
        n = customers.size
        ids = np.full((n, k), -1, dtype=np.int32)
        scores = np.full((n, k), -np.inf, dtype=np.float32)
        warm = self.has_history_[customers]
        warm_pos = np.flatnonzero(warm)
        if warm_pos.size:
            exclude = self._seen() if self.filter_bought else None
            ids[warm_pos], scores[warm_pos] = score_top_k(
                self.user_factors_, self.item_factors_, customers[warm_pos], self.candidates_, k,
                exclude=exclude, threads=resolve_threads(self.threads, self.name),
            )
        cold_pos = np.flatnonzero(~warm)
        depth = min(k, self.fallback_ids_.size)
        if cold_pos.size and depth:
            ids[cold_pos[:, None], np.arange(depth)] = self.fallback_ids_[:depth]
            scores[cold_pos[:, None], np.arange(depth)] = self.fallback_scores_[:depth]
        return ids, scores

    def score(self, customers: np.ndarray, articles: np.ndarray) -> np.ndarray:
        """``pᵤ·qₐ`` for customers with history, the fallback popularity for the others (module docstring)."""
        self._check_fitted()
        customers, articles = check_pairs(customers, articles, self.n_customers_, self.n_articles_, self.name)
        in_candidates = np.zeros(self.n_articles_, dtype=bool)
        in_candidates[self.candidates_] = True
        warm = self.has_history_[customers]
        out = np.where(warm & in_candidates[articles], self._dots(customers, articles), -np.inf)
        popularity = np.full(self.n_articles_, -np.inf, dtype=np.float32)
        popularity[self.fallback_ids_] = self.fallback_scores_
        out = np.where(warm, out, popularity[articles]).astype(np.float32)
        if self.filter_bought:
            out[warm & (pair_lookup(self._seen(), customers, articles) > 0)] = -np.inf
        return out

    def dot(self, customers: np.ndarray, articles: np.ndarray) -> np.ndarray:
        """``pᵤ·qₐ`` of each aligned pair, whatever the article and the customer's history (no candidate
        window, no fallback): the factors' own affinity, e.g. a pair feature of the ranker's."""
        self._check_fitted()
        customers, articles = check_pairs(customers, articles, self.n_customers_, self.n_articles_, self.name)
        return self._dots(customers, articles)

    def _dots(self, customers: np.ndarray, articles: np.ndarray) -> np.ndarray:
        out = np.empty(customers.size, dtype=np.float32)
        for lo in range(0, customers.size, BLOCK_ROWS):  # blocks bound the (rows, factors) gathers
            c, a = customers[lo : lo + BLOCK_ROWS], articles[lo : lo + BLOCK_ROWS]
            out[lo : lo + BLOCK_ROWS] = np.einsum("ij,ij->i", self.user_factors_[c], self.item_factors_[a],
                                                  dtype=np.float32)
        return out

    def candidates(self, customers: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
        """Top-``n`` articles per customer; see the module docstring for the scoring and the fallback."""
        self._check_fitted()
        n = check_k(n)
        customers = check_customers(customers, self.n_customers_, self.name)
        return self._factor_top_k(customers, n)
