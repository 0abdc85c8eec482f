"""Articles like this one: per article, the articles bought together with it and the articles similar to it.

Two lists per article ``a``, each its ``k`` best, best first, ties to the lower article, never ``a`` itself:

- ``bought-together``: ``P(b | a)``, the time-decayed share of ``a``'s buyers who also bought ``b`` within
  ``days`` days of it, over the last ``weeks`` weeks (:func:`hmrec.ranking.copurchase.copurchase_neighbours`,
  the counting of the ranker's ``copurchase`` source, with a half-life);
- ``similar``: what a model learned of the articles: the closeness of their item factors in an ALS fitted on
  all the purchases (:func:`hmrec.ranking.similar.als_neighbours`; ``projection`` by default, ``cosine``
  optional), among the articles sold in the last ``recent_weeks`` weeks (those a customer can still buy).
  With ``taste_weight > 0`` the similarity adds ``taste_weight`` when two articles share their value of the
  first taste key the ranker would learn from the same data (:func:`hmrec.ranking.taste.learn_keys`: which
  combination of article columns customers keep to, measured on the last week): the structure of the data,
  learned, never named.

Nothing names an attribute column: both lists come from the purchases alone. An article without any purchase
in the data has nothing to base a list on (:func:`sold_articles`); the library gives it empty lists and the
CLI and the service refuse it with one line (:class:`UnsoldArticleError`). Deterministic under ``seed``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from hmrec.data.dataset import Dataset
from hmrec.data.schema import ARTICLE_IDX
from hmrec.errors import HmrecError, ParameterError
from hmrec.models.lists import csr_row_top_k
from hmrec.models.sales import article_sales
from hmrec.ranking.copurchase import copurchase_neighbours
from hmrec.ranking.similar import ALS_SIMILARITIES, als_neighbours, nearest, unit_rows
from hmrec.ranking.taste import attribute_codes, learn_keys

BOUGHT_TOGETHER, SIMILAR = "bought-together", "similar"
#: the kinds of list, in the order the CLI and the service list them
KINDS = (BOUGHT_TOGETHER, SIMILAR)
#: the longest list asked for at once (as the recommendations' bound)
MAX_LIST = 1000


class UnsoldArticleError(HmrecError):
    """An article that was never sold in the data: no purchase to base its lists on."""


@dataclass(frozen=True)
class NeighbourParams:
    """How the lists are made (module docstring); the defaults are those measured in docs/benchmarks.md."""

    days: int = 7
    weeks: float = 12
    half_life_days: float = 14.0
    recent_weeks: float = 1
    similarity: str = "projection"
    factors: int = 32
    iterations: int = 8
    taste_weight: float = 0.0

    def check(self) -> NeighbourParams:
        if self.similarity not in ALS_SIMILARITIES:
            raise ParameterError(
                f"similarity must be one of {', '.join(ALS_SIMILARITIES)}, got {self.similarity!r}"
            )
        for name in ("days", "weeks", "half_life_days", "recent_weeks", "factors", "iterations"):
            value = getattr(self, name)
            if not value > 0:
                raise ParameterError(f"{name} must be positive, got {value!r}")
        if not self.taste_weight >= 0:
            raise ParameterError(f"taste_weight must be 0 or more, got {self.taste_weight!r}")
        return self


def check_kind(kind: str) -> str:
    """``kind`` if it is one of :data:`KINDS`; ParameterError naming them otherwise."""
    if kind not in KINDS:
        raise ParameterError(f"--kind must be one of {', '.join(KINDS)}, got {kind[:40]!r} (fix: e.g. --kind similar)")
    return kind


def check_list_length(k: int) -> int:
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or not 1 <= k <= MAX_LIST:
        raise ParameterError(f"--k must be an integer in 1..{MAX_LIST}, got {k!r} (fix: e.g. --k 12)")
    return int(k)


def sold_articles(train: Dataset) -> np.ndarray:
    """Per article (``article_idx`` order) whether it has a purchase in ``train`` (bool)."""
    sold = np.zeros(train.n_articles, dtype=bool)
    sold[train.transactions[ARTICLE_IDX].unique().to_numpy()] = True
    return sold


def article_lists(
    train: Dataset,
    k: int = 12,
    *,
    articles: np.ndarray | None = None,
    kinds: Sequence[str] = KINDS,
    params: NeighbourParams | None = None,
    seed: int = 0,
    threads: int = 0,
) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Per kind, the ``k`` best articles of each of ``articles`` (article indices; None: every article).

    Returns ``{kind: (ids, scores)}``, arrays of shape ``(len(articles), k)``: article indices (int32, padded
    with -1) and the kind's score (float32, padded with -inf): ``P(b | a)`` for ``bought-together``, the
    factor similarity for ``similar``. Unsold articles get empty (all padding) lists.
    """
    params = (params or NeighbourParams()).check()
    k = check_list_length(k)
    for kind in kinds:
        check_kind(kind)
    rows = np.arange(train.n_articles) if articles is None else np.asarray(articles, dtype=np.int64)
    sold = sold_articles(train)
    out: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    if BOUGHT_TOGETHER in kinds:
        together = copurchase_neighbours(
            train, weeks=params.weeks, days=params.days, neighbours=k, half_life_days=params.half_life_days
        )
        out[BOUGHT_TOGETHER] = csr_row_top_k(together, rows, k)
    if SIMILAR in kinds:
        targets = np.flatnonzero(article_sales(train, days=7 * params.recent_weeks) > 0)
        asked = np.unique(rows[sold[rows]])
        codes = taste_codes(train, seed) if params.taste_weight > 0 else None
        if codes is None:
            similar = als_neighbours(
                train, asked, targets, k, similarity=params.similarity, factors=params.factors,
                iterations=params.iterations, seed=seed, threads=threads, name="similar",
            )
        else:
            similar = _taste_neighbours(train, asked, targets, k, codes, params, seed=seed, threads=threads)
        out[SIMILAR] = csr_row_top_k(similar, rows, k)
    return out


def taste_codes(train: Dataset, seed: int = 0, history_weeks: float = 26) -> np.ndarray | None:
    """Per article its value of the first taste key learned on ``train``'s last week (from the
    ``history_weeks`` weeks before it), or None when no key is learned (no attribute column, no buyers)."""
    end = train.end_date
    if end is None:
        return None
    cutoff = end - dt.timedelta(days=7)
    keys = learn_keys(train, cutoff, first=cutoff - dt.timedelta(days=int(7 * history_weeks) - 1), seed=seed)
    return attribute_codes(train.articles, keys[0].columns) if keys else None


def _taste_neighbours(
    train: Dataset, rows: np.ndarray, targets: np.ndarray, k: int, codes: np.ndarray, params: NeighbourParams,
    *, seed: int, threads: int,
) -> sp.csr_matrix:
    """As :func:`als_neighbours`, each similarity plus ``taste_weight`` where the two articles share their
    taste value ``codes``; computed in blocks by :func:`hmrec.ranking.similar.nearest`."""
    from hmrec.models.als import ALS

    model = ALS(factors=params.factors, iterations=params.iterations, seed=seed, threads=threads, track_loss=False)
    model.fit(train)
    unit = unit_rows(model.item_factors_)
    compared = np.ascontiguousarray((unit if params.similarity == "cosine" else model.item_factors_)[targets].T)
    target_codes = codes[targets]

    def similarity(block: np.ndarray) -> np.ndarray:
        same = codes[block][:, None] == target_codes[None, :]
        return unit[block] @ compared + np.float32(params.taste_weight) * same

    m = train.n_articles
    return nearest(similarity, rows, np.sort(targets), k, (m, m), exclude_self=True)


def lists_of(
    train: Dataset,
    article_id: str,
    kind: str,
    k: int = 12,
    *,
    params: NeighbourParams | None = None,
    seed: int = 0,
    threads: int = 0,
) -> tuple[int, np.ndarray, np.ndarray]:
    """One article's list of ``kind``: ``(article_idx, ids, scores)``, ids and scores 1-d without padding.

    An unknown id raises :class:`hmrec.errors.UnknownCustomerError` (its message names the article), an
    article never sold :class:`UnsoldArticleError`: both one line for the user.
    """
    check_kind(kind)
    check_list_length(k)
    idx = int(train.article_index([article_id.strip()])[0])
    if not sold_articles(train)[idx]:
        raise UnsoldArticleError(
            f"article {article_id.strip()} was never sold in the data: there is no purchase to base a list on "
            "(fix: ask for an article that has sales)"
        )
    ids, scores = article_lists(
        train, k, articles=np.array([idx]), kinds=(kind,), params=params, seed=seed, threads=threads
    )[kind]
    valid = ids[0] >= 0
    return idx, ids[0][valid], scores[0][valid]
