"""What the two-stage ranker holds for one cut-off day, and the helpers its training and scoring share.

:class:`CutoffState`: the sources fitted on the data up to a cut-off and the feature tables at that day, which
gather a block of customers' candidates and their feature matrix; ``Rows``: a block's training rows (features,
labels, groups); how candidates are subset_candidates, stacked and cut to each customer's top ``k`` by the booster's
score; the window of history a cut-off reads. :mod:`hmrec.ranking.ranker` builds on them, and so does the Spark
engine's ranker.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import polars as pl
import scipy.sparse as sp

from hmrec.data.dataset import Dataset
from hmrec.data.schema import CUSTOMER_IDX, T_DAT
from hmrec.ranking.candidates import Candidates, gather_candidates
from hmrec.ranking.features import (
    FeatureTables,
)
from hmrec.ranking.sources import (
    Source,
    SourceContext,
    make_source,
)

#: the labelled rows of some buyers: feature matrix, labels and group sizes
Rows = tuple[np.ndarray, np.ndarray, np.ndarray]


@dataclass
class CutoffState:
    """Everything the ranker knows at one cut-off: the fitted sources and the feature tables."""

    cutoff: dt.date
    sources: dict[str, Source]
    tables: FeatureTables
    active: np.ndarray  # bool per customer: bought in the last `active_weeks` weeks before the cut-off

    @classmethod
    def build(
        cls,
        data: Dataset,
        cutoff: dt.date,
        names: list[str],
        *,
        context: SourceContext,
        active_weeks: float,
        history_weeks: float | None,
    ) -> CutoffState:
        """Fit every source and the tables on the transactions of ``data`` up to ``cutoff`` (inclusive), from
        ``history_weeks`` weeks before it (None: all)."""
        first = history_start(cutoff, history_weeks)
        past = data.between(first, cutoff)
        sources = {name: make_source(name, context).fit(past) for name in names}
        tables = FeatureTables.fit(data, cutoff, first, context.taste_keys)
        start = cutoff - dt.timedelta(days=int(7 * active_weeks) - 1)
        recent = past.transactions.filter(pl.col(T_DAT) >= start)[CUSTOMER_IDX].unique().to_numpy()
        active = np.zeros(data.n_customers, dtype=bool)
        active[recent] = True
        return cls(cutoff, sources, tables, active)

    def candidates(
        self, customers: np.ndarray, counts: Mapping[str, int], n_articles: int
    ) -> Candidates:
        return gather_candidates(self.sources, counts, customers, n_articles)

    def features(self, customers: np.ndarray, cands: Candidates) -> np.ndarray:
        return self.tables.matrix(customers, cands, self.sources)


#: ``(state, blocks, truth, week, keep, sample)`` -> :meth:`Ranker.block_rows` of each block, in order
RowsOfBlocks = Callable[[CutoffState, list[np.ndarray], sp.csr_matrix, int, np.ndarray, bool], list[Rows | None]]


def valid_taste_keys(text: Any) -> bool:
    """``text`` is what :meth:`Ranker._learn_taste` writes: JSON of ``[{"columns": [str...], "gain": g,
    "recall": r}]``."""
    try:
        keys = json.loads(text) if isinstance(text, str) else None
    except ValueError:
        return False
    return isinstance(keys, list) and all(
        isinstance(k, dict) and isinstance(k.get("columns"), list) and all(isinstance(c, str) for c in k["columns"])
        and all(isinstance(k.get(f), (int, float)) for f in ("gain", "recall")) for k in keys
    )


def history_start(cutoff: dt.date, history_weeks: float | None) -> dt.date | None:
    """The first day the sources and features at ``cutoff`` see (None: all the data)."""
    return None if history_weeks is None else cutoff - dt.timedelta(days=int(7 * history_weeks) - 1)


def subset_candidates(cands: Candidates, mask: np.ndarray) -> Candidates:
    return Candidates(cands.row[mask], cands.article[mask], cands.rank[mask], cands.score[mask], cands.sources)


def concat_candidates(parts: list[Candidates], sources: list[str]) -> Candidates:
    """Candidates of disjoint row sets, re-sorted by (row, article)."""
    if not parts:
        empty = np.zeros(0, dtype=np.int32)
        width = len(sources)
        return Candidates(empty, empty, np.zeros((0, width), np.float32), np.zeros((0, width), np.float32), sources)
    row = np.concatenate([p.row for p in parts])
    article = np.concatenate([p.article for p in parts])
    order = np.lexsort((article, row))
    return Candidates(
        row[order], article[order], np.vstack([p.rank for p in parts])[order],
        np.vstack([p.score for p in parts])[order], sources,
    )


def top_k_rows(cands: Candidates, pred: np.ndarray, n: int, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Per row the ``k`` best-scored candidates (ties to the lower article), padded with -1 / -inf."""
    ids = np.full((n, k), -1, dtype=np.int32)
    scores = np.full((n, k), -np.inf, dtype=np.float32)
    if cands.row.size == 0:
        return ids, scores
    order = np.lexsort((cands.article, -pred, cands.row))
    row = cands.row[order]
    start = np.searchsorted(row, np.arange(n))
    rank = np.arange(row.size) - start[row]
    keep = rank < k
    ids[row[keep], rank[keep]] = cands.article[order][keep]
    scores[row[keep], rank[keep]] = pred[order][keep]
    return ids, scores
