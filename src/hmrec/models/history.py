"""The customer's own history: repurchase, the strongest single signal in fashion retail.

``history`` ranks a customer's past purchases by time-decayed frequency and gives nothing else (customers
without history get an empty list); ``repurchase`` is ``history`` filled with the ``popularity-decay``
ranking (:class:`hmrec.models.compose.Fill`), which is also what customers without history get.
"""

from __future__ import annotations

import datetime as dt
from typing import Self

import numpy as np
import scipy.sparse as sp

from hmrec.data.dataset import Dataset
from hmrec.models._params import check_customers, check_pairs, check_positive
from hmrec.models.base import Recommender, check_k, register
from hmrec.models.compose import register_fill
from hmrec.models.lists import csr_row_top_k
from hmrec.models.sales import pair_lookup, recent_articles, store_csr, stored_csr, window_start

#: default half-life of a customer's own purchases, days. Chosen on backtest weeks of the synthetic data
#: (never the final week): repurchase MAP@12 with half-lives 7/14/30/60/120 days was
#: 0.05017/0.05019/0.04950/0.04787/0.04541 on medium (3 weeks ending 2020-09-15, ~80K buyers; 14 beat 30 in
#: each week) and 0.07102/0.07173/0.07237/0.07277/0.07085 on small (4 weeks, ~16K buyers). The scales
#: disagree; medium has 7x the buyers and the per-customer/per-article density closer to the real data, and
#: the trend from small to medium is towards shorter half-lives, so medium decides.
DEFAULT_OWN_HALF_LIFE_DAYS = 14.0


@register(
    "history",
    "The customer's own past purchases by time-decayed frequency; nothing for customers without history.",
)
class History(Recommender):
    """Own purchases, by time-decayed frequency.

    For customer ``u`` and article ``a``: ``score(u, a) = own(u, a) = sum over u's purchase rows r of a of
    0.5 ** ((end - t_dat_r) / half_life_days)``, counting only the last ``max_weeks`` weeks when given and
    only articles sold by anyone in the last ``recent_weeks`` weeks when given (fashion items go out of
    stock); ``-inf`` for an article ``u`` did not buy (so ``score_floor`` is 0). Customers without a
    qualifying purchase get no candidates: fill them with another model (``repurchase`` does).

    Args:
        half_life_days: time decay of the customer's own purchases.
        max_weeks: only purchases of the last ``max_weeks`` weeks count (None: all of train).
        recent_weeks: only articles sold (by anyone) in the last ``recent_weeks`` weeks (None: no limit).
    """

    score_floor = 0.0
    covers_cold = False

    own_indptr_: np.ndarray
    own_indices_: np.ndarray
    own_data_: np.ndarray
    n_customers_: int
    n_articles_: int

    def __init__(
        self,
        half_life_days: float = DEFAULT_OWN_HALF_LIFE_DAYS,
        max_weeks: float | None = None,
        recent_weeks: float | None = None,
    ) -> None:
        self.half_life_days = half_life_days
        self.max_weeks = max_weeks
        self.recent_weeks = recent_weeks

    def _validate(self) -> None:
        check_positive("half_life_days", self.half_life_days, model=self.name)
        check_positive("max_weeks", self.max_weeks, model=self.name, allow_none=True)
        check_positive("recent_weeks", self.recent_weeks, model=self.name, allow_none=True)

    def fit(self, train: Dataset) -> Self:
        self._validate()
        self._reset()
        self.n_customers_ = train.n_customers
        self.n_articles_ = train.n_articles
        end = train.end_date
        start: dt.date | None = (
            window_start(train, 7 * self.max_weeks) if self.max_weeks is not None else None
        )
        own = train.interactions(start, end, half_life_days=float(self.half_life_days), reference=end).copy()
        mask = recent_articles(train, self.recent_weeks)
        if mask is not None and own.nnz:
            own.data[~mask[own.indices]] = 0
        # a weight that underflowed to 0 is no purchase either: every stored score is > 0 (the floor)
        own.eliminate_zeros()
        store_csr(self, "own_", own)
        return self

    def _own(self) -> sp.csr_matrix:
        return stored_csr(self, "own_", self.n_articles_)

    def score(self, customers: np.ndarray, articles: np.ndarray) -> np.ndarray:
        self._check_fitted()
        customers, articles = check_pairs(customers, articles, self.n_customers_, self.n_articles_, self.name)
        own = pair_lookup(self._own(), customers, articles).astype(np.float32)
        return np.where(own > 0, own, np.float32(-np.inf)).astype(np.float32)

    def candidates(self, customers: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
        self._check_fitted()
        n = check_k(n)
        customers = check_customers(customers, self.n_customers_, self.name)
        return csr_row_top_k(self._own(), customers, n)


register_fill(
    "repurchase",
    "The customer's own past purchases (history) first, filled with popularity-decay.",
    primary="history",
    fallback="popularity-decay",
)
