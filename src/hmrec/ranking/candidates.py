"""The candidates of a block of customers: the sources' ranked lists merged into one deduplicated union
(:class:`Candidates`, one row per (customer, article) pair with each source's rank and score), and the recall of
the test week's pairs by each source and by the union.

Below :mod:`hmrec.ranking.sources`: anything with a source's ``candidates(customers, n)`` can be gathered.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

import numpy as np
import polars as pl
import scipy.sparse as sp

from hmrec.models.lists import csr_lookup


class Proposer(Protocol):
    """What the union needs of a source: its top ``n`` articles for each customer, ``(ids, scores)``."""

    def candidates(self, customers: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]: ...


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
    sources: Mapping[str, Proposer], counts: Mapping[str, int], customers: np.ndarray, n_articles: int
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
    sources: Mapping[str, Proposer],
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
