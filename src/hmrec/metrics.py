"""Ranking metrics: pure, vectorized functions of the recommended lists and what was bought.

Inputs shared by every function:

* ``recommended``: ``(n, k')`` integer array of article indices, best first, padded with ``-1`` (any
  negative value or an index outside the catalogue is padding and never a hit).
* ``truth``: ``n x n_articles`` sparse matrix (CSR preferred), row ``i`` aligned with ``recommended[i]``;
  a non-zero cell means the customer bought the article in the test window. Several purchases of one
  article (duplicate entries or a count > 1) count once.
* ``k``: the cut-off. Only the first ``k`` recommendations count; a list shorter than ``k`` (or padded) is
  *not* stretched, so ``precision@k`` penalizes it.

Rules common to all metrics (the competition's):

* Rows whose truth is empty are **not scored**: per-row functions return NaN for them and the ``*_at_k``
  means average over the scored rows only (NaN when no row is scored).
* A repeated recommendation counts once, at its first rank: a duplicate later in the list is not a hit.

Worked example used in the docstrings below (``k = 3``)::

    recommended = [[5, 7, 9]]        truth = {7, 9, 11, 13}  (|truth| = 4)
    rel         = [ 0, 1, 1]         hits = 2

Hits are found with the CSR structure: each ``(row, article)`` pair becomes the key ``row * n_articles +
article`` and is looked up in the sorted keys of ``truth`` with one ``searchsorted``, in blocks of rows.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import scipy.sparse as sp

from hmrec.errors import ParameterError

#: rows per block when looking up hits (bounds the temporary int64 key arrays)
BLOCK_ROWS = 32_768

METRICS = ("map_at_k", "precision_at_k", "recall_at_k", "hit_rate_at_k", "ndcg_at_k")


# ---------------------------------------------------------------------- the shared hit lookup
def _check_k(k: int) -> int:
    if not isinstance(k, (int, np.integer)) or isinstance(k, bool) or k < 1:
        raise ParameterError(f"k must be an integer >= 1, got {k!r} (fix: pass --k 12)")
    return int(k)


def _as_csr(truth: sp.spmatrix | sp.sparray | np.ndarray) -> sp.csr_matrix:
    csr = sp.csr_matrix(truth)
    if not csr.has_canonical_format:
        # duplicate entries count once: summing them and keeping only the structure below does that
        csr = csr.copy()
        csr.sum_duplicates()
    return csr


def _truth_keys(truth: sp.csr_matrix) -> tuple[np.ndarray, np.ndarray]:
    """Sorted unique keys ``row * n_articles + article`` of the non-zero cells, and |truth| per row."""
    n, m = truth.shape
    counts = np.diff(truth.indptr)
    rows = np.repeat(np.arange(n, dtype=np.int64), counts)
    nonzero = truth.data != 0  # an explicit zero is "not bought"
    keys = rows[nonzero] * np.int64(m) + truth.indices[nonzero].astype(np.int64)
    # canonical CSR (sorted indices, no duplicates) gives keys that are already sorted and unique
    n_truth = np.bincount(rows[nonzero], minlength=n).astype(np.int64)
    return keys, n_truth


def _prepare(
    recommended: np.ndarray, truth: sp.spmatrix | sp.sparray | np.ndarray
) -> tuple[np.ndarray, sp.csr_matrix]:
    rec = np.asarray(recommended)
    if rec.ndim == 1:
        rec = rec[None, :]
    if rec.ndim != 2 or (rec.size and not np.issubdtype(rec.dtype, np.integer)):
        raise ParameterError(
            f"recommended must be a 2-D integer array, got shape {rec.shape} and {rec.dtype}"
        )
    csr = _as_csr(truth)
    if csr.shape[0] != rec.shape[0]:
        raise ParameterError(
            f"recommended has {rec.shape[0]} rows but truth has {csr.shape[0]} (fix: align their rows)"
        )
    return rec, csr


def _hit_blocks(
    rec: np.ndarray, truth: sp.csr_matrix, depth: int
) -> Iterator[tuple[slice, np.ndarray]]:
    """Yield ``(rows, hits)`` blocks: ``hits[i, j]`` = rank ``j`` of row ``i`` is a new, bought article."""
    n, m = truth.shape
    keys, _ = _truth_keys(truth)
    width = min(depth, rec.shape[1])
    for lo in range(0, n, BLOCK_ROWS):
        hi = min(n, lo + BLOCK_ROWS)
        block = rec[lo:hi, :width].astype(np.int64)
        valid = (block >= 0) & (block < m)
        query = np.arange(lo, hi, dtype=np.int64)[:, None] * np.int64(m) + np.where(valid, block, 0)
        if keys.size:
            pos = np.searchsorted(keys, query)
            found = keys[np.minimum(pos, keys.size - 1)] == query
        else:
            found = np.zeros(query.shape, dtype=bool)
        hits = found & valid
        # A repeated article counts once, at its first rank. Only hits can be harmful repeats, and they are
        # few, so find repeats among them: np.unique's return_index gives the first position in row-major
        # (= rank) order of each (row, article) key.
        flat = np.flatnonzero(hits)
        if flat.size:
            _, first = np.unique(query.reshape(-1)[flat], return_index=True)
            if first.size < flat.size:
                repeat = np.ones(flat.size, dtype=bool)
                repeat[first] = False
                np.put(hits, flat[repeat], False)
        yield slice(lo, hi), hits


def hit_matrix(
    recommended: np.ndarray, truth: sp.spmatrix | sp.sparray | np.ndarray, k: int
) -> np.ndarray:
    """``(n, min(k, k'))`` booleans: rank ``j`` of row ``i`` is an article bought (and not repeated earlier).

    Example: ``recommended = [[7, 7, 3, -1]]``, ``truth = {7, 3}``, ``k = 4`` gives
    ``[[True, False, True, False]]`` (the second 7 is a duplicate, -1 is padding).
    """
    k = _check_k(k)
    rec, csr = _prepare(recommended, truth)
    out = np.zeros((rec.shape[0], min(k, rec.shape[1])), dtype=bool)
    for rows, hits in _hit_blocks(rec, csr, k):
        out[rows] = hits
    return out


def truth_counts(truth: sp.spmatrix | sp.sparray | np.ndarray) -> np.ndarray:
    """|truth| per row: the number of distinct articles bought (0 = the row is not scored)."""
    return _truth_keys(_as_csr(truth))[1]


# ---------------------------------------------------------------------- per-row metrics from hits
def _ideal_dcg(n_truth: np.ndarray, k: int) -> np.ndarray:
    """IDCG@k = sum_{i=1}^{min(|truth|, k)} 1 / log2(i + 1)."""
    cum = np.concatenate([[0.0], np.cumsum(1.0 / np.log2(np.arange(2, k + 2)))])
    return cum[np.minimum(n_truth, k)]


def rows_from_hits(hits: np.ndarray, n_truth: np.ndarray, k: int) -> dict[str, np.ndarray]:
    """Every per-row metric from a hit matrix (first ``min(k, width)`` columns) and |truth| per row.

    Returns float64 arrays keyed like :data:`METRICS`; unscored rows (``n_truth == 0``) are NaN.
    """
    k = _check_k(k)
    hits = hits[:, :k]
    width = hits.shape[1]
    n_truth = np.asarray(n_truth, dtype=np.int64)
    scored = n_truth > 0
    safe_truth = np.where(scored, n_truth, 1)
    n_hits = hits.sum(axis=1).astype(np.float64)
    ranks = np.arange(1, width + 1, dtype=np.float64)
    cum_hits = np.cumsum(hits, axis=1, dtype=np.float64)
    ap = (cum_hits / ranks * hits).sum(axis=1) / np.minimum(safe_truth, k)
    dcg = hits.astype(np.float64) @ (1.0 / np.log2(ranks + 1.0)) if width else np.zeros(hits.shape[0])
    values = {
        "map_at_k": ap,
        "precision_at_k": n_hits / k,
        "recall_at_k": n_hits / safe_truth,
        "hit_rate_at_k": (n_hits > 0).astype(np.float64),
        "ndcg_at_k": dcg / _ideal_dcg(safe_truth, k),
    }
    for arr in values.values():
        arr[~scored] = np.nan
    return values


def row_metrics(
    recommended: np.ndarray, truth: sp.spmatrix | sp.sparray | np.ndarray, k: int
) -> dict[str, np.ndarray]:
    """All per-row metrics at ``k`` in one pass (one hit lookup); keys as in :data:`METRICS`."""
    k = _check_k(k)
    return rows_from_hits(hit_matrix(recommended, truth, k), truth_counts(truth), k)


def _mean(values: np.ndarray) -> float:
    scored = values[~np.isnan(values)]
    return float(scored.mean()) if scored.size else float("nan")


def metrics_at_k(
    recommended: np.ndarray, truth: sp.spmatrix | sp.sparray | np.ndarray, k: int
) -> dict[str, float]:
    """Every metric at ``k`` (mean over scored rows), keyed as in :data:`METRICS`."""
    return {name: _mean(values) for name, values in row_metrics(recommended, truth, k).items()}


# ---------------------------------------------------------------------- public per-row functions
def average_precision(
    recommended: np.ndarray, truth: sp.spmatrix | sp.sparray | np.ndarray, k: int = 12
) -> np.ndarray:
    """AP@k per row (NaN where the truth is empty).

    ``AP@k = 1 / min(|truth|, k) * sum_{i=1}^{k} precision@i * rel(i)``, with ``rel(i) = 1`` when rank ``i``
    is a bought article seen for the first time in the list.

    Example (``k = 3``, recommended ``[5, 7, 9]``, truth ``{7, 9, 11, 13}``)::

        rel = [0, 1, 1]; precision@2 = 1/2, precision@3 = 2/3
        AP@3 = 1/min(4, 3) * (1/2 + 2/3) = 7/18
    """
    return row_metrics(recommended, truth, k)["map_at_k"]


def precision(
    recommended: np.ndarray, truth: sp.spmatrix | sp.sparray | np.ndarray, k: int = 12
) -> np.ndarray:
    """precision@k per row: ``hits / k`` (k, not the list length). Example: 2 hits -> 2/3 at k = 3."""
    return row_metrics(recommended, truth, k)["precision_at_k"]


def recall(
    recommended: np.ndarray, truth: sp.spmatrix | sp.sparray | np.ndarray, k: int = 12
) -> np.ndarray:
    """recall@k per row: ``hits / |truth|``. Example: 2 hits of 4 bought -> 2/4."""
    return row_metrics(recommended, truth, k)["recall_at_k"]


def hit_rate(
    recommended: np.ndarray, truth: sp.spmatrix | sp.sparray | np.ndarray, k: int = 12
) -> np.ndarray:
    """hit@k per row: 1 when at least one of the first ``k`` is bought, else 0. Example: 1."""
    return row_metrics(recommended, truth, k)["hit_rate_at_k"]


def ndcg(
    recommended: np.ndarray, truth: sp.spmatrix | sp.sparray | np.ndarray, k: int = 12
) -> np.ndarray:
    """NDCG@k per row with binary gains.

    ``DCG@k = sum_{i=1}^{k} rel(i) / log2(i + 1)``, ``IDCG@k = sum_{i=1}^{min(|truth|, k)} 1 / log2(i + 1)``,
    ``NDCG@k = DCG@k / IDCG@k``.

    Example (``k = 3``, rel ``[0, 1, 1]``, |truth| = 4)::

        DCG = 1/log2(3) + 1/log2(4);  IDCG = 1/log2(2) + 1/log2(3) + 1/log2(4)
    """
    return row_metrics(recommended, truth, k)["ndcg_at_k"]


# ---------------------------------------------------------------------- public mean metrics
def map_at_k(recommended: np.ndarray, truth: sp.spmatrix | sp.sparray | np.ndarray, k: int = 12) -> float:
    """MAP@k: mean of :func:`average_precision` over the rows with a non-empty truth.

    The competition's metric: denominator ``min(|truth|, k)`` per row, customers with no purchase in the test
    window are left out, each article counts once. Example: rows with AP 7/18 and 1 give MAP = 25/36; a
    third row with empty truth changes nothing.
    """
    return _mean(average_precision(recommended, truth, k))


def precision_at_k(
    recommended: np.ndarray, truth: sp.spmatrix | sp.sparray | np.ndarray, k: int = 12
) -> float:
    """Mean of ``hits / k`` over scored rows. Example: one row with 2 hits at k = 3 -> 2/3."""
    return _mean(precision(recommended, truth, k))


def recall_at_k(recommended: np.ndarray, truth: sp.spmatrix | sp.sparray | np.ndarray, k: int = 12) -> float:
    """Mean of ``hits / |truth|`` over scored rows. Example: 2 hits of 4 bought -> 1/2."""
    return _mean(recall(recommended, truth, k))


def hit_rate_at_k(
    recommended: np.ndarray, truth: sp.spmatrix | sp.sparray | np.ndarray, k: int = 12
) -> float:
    """Share of scored rows with a hit in the first ``k``. Example: rows with 2 and 0 hits -> 1/2."""
    return _mean(hit_rate(recommended, truth, k))


def ndcg_at_k(recommended: np.ndarray, truth: sp.spmatrix | sp.sparray | np.ndarray, k: int = 12) -> float:
    """Mean of :func:`ndcg` over scored rows."""
    return _mean(ndcg(recommended, truth, k))


def coverage(recommended: np.ndarray, n_articles: int) -> float:
    """Catalogue coverage: distinct recommended articles / ``n_articles``.

    Padding (negative ids) and ids outside ``[0, n_articles)`` are ignored; pass ``recommended[:, :k]`` for
    coverage at ``k``. Example: ``[[1, 2], [2, -1]]`` with 10 articles -> 2/10.
    """
    if n_articles < 1:
        raise ParameterError(f"n_articles must be >= 1, got {n_articles}")
    ids = np.asarray(recommended).ravel()
    ids = ids[(ids >= 0) & (ids < n_articles)]
    seen = np.zeros(n_articles, dtype=bool)
    seen[ids] = True
    return float(seen.sum()) / n_articles


def recall_curve(
    recommended: np.ndarray, truth: sp.spmatrix | sp.sparray | np.ndarray, max_k: int
) -> np.ndarray:
    """``recall@j`` for ``j = 1 .. max_k`` (mean over scored rows): what a candidate list of depth j finds.

    Computed from one hit lookup: ``recall@j = 1/S * sum_{i<=j} sum_rows hit[row, i] / |truth_row|``.
    Beyond the list's width the curve stays flat. Example: ``[[7, 9, 5]]`` with truth ``{9, 11}`` ->
    ``[0, 1/2, 1/2]``.
    """
    max_k = _check_k(max_k)
    rec, csr = _prepare(recommended, truth)
    n_truth = _truth_keys(csr)[1]
    per_rank = np.zeros(max_k, dtype=np.float64)
    for rows, hits in _hit_blocks(rec, csr, max_k):
        per_rank += _recall_mass(hits, n_truth[rows], max_k)
    return _curve(per_rank, int((n_truth > 0).sum()))


def _recall_mass(hits: np.ndarray, n_truth: np.ndarray, max_k: int) -> np.ndarray:
    """``sum_rows hit[row, i] / |truth_row|`` for each rank ``i < max_k`` (zeros beyond the hits' width)."""
    weight = np.where(n_truth > 0, 1.0 / np.maximum(n_truth, 1), 0.0)
    out = np.zeros(max_k, dtype=np.float64)
    width = min(max_k, hits.shape[1])
    out[:width] = weight @ hits[:, :width]
    return out


def _curve(per_rank: np.ndarray, n_scored: int) -> np.ndarray:
    if n_scored == 0:
        return np.full(per_rank.size, np.nan)
    return np.cumsum(per_rank) / n_scored


def curve_from_hits(hits: np.ndarray, n_truth: np.ndarray, max_k: int) -> np.ndarray:
    """:func:`recall_curve` from an already computed :func:`hit_matrix` and :func:`truth_counts`."""
    max_k = _check_k(max_k)
    n_truth = np.asarray(n_truth, dtype=np.int64)
    return _curve(_recall_mass(hits, n_truth, max_k), int((n_truth > 0).sum()))


__all__ = [
    "METRICS",
    "average_precision",
    "coverage",
    "curve_from_hits",
    "hit_matrix",
    "hit_rate",
    "hit_rate_at_k",
    "map_at_k",
    "metrics_at_k",
    "ndcg",
    "ndcg_at_k",
    "precision",
    "precision_at_k",
    "recall",
    "recall_at_k",
    "recall_curve",
    "row_metrics",
    "rows_from_hits",
    "truth_counts",
]
