"""Ranked lists: per-row top-k of sparse rows, dropping excluded articles, one list per customer group.

A ranked list is a pair ``(ids, scores)`` of ``(n, depth)`` arrays, best first, padded with -1 / -inf. Every
routine here works on whole blocks of rows (numpy), never one customer at a time.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import scipy.sparse as sp

#: upper bound on the cells of one ``(rows, depth)`` working block (int32/bool arrays of ~64 MB at most)
BLOCK_CELLS = 1 << 24


def csr_row_top_k(matrix: sp.csr_matrix, rows: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """The ``k`` largest stored entries of each requested row of a CSR matrix, best first.

    Only stored (non-zero) entries are candidates, so a customer's own purchases are ranked without an
    ``(n, n_articles)`` dense matrix. Ties go to the lower column index. Returns ``(ids, scores)`` padded with
    -1 / -inf, shapes ``(len(rows), k)``.
    """
    rows = np.asarray(rows, dtype=np.int64)
    n = rows.size
    ids = np.full((n, k), -1, dtype=np.int32)
    scores = np.full((n, k), -np.inf, dtype=np.float32)
    if n == 0 or matrix.nnz == 0:
        return ids, scores
    sub = matrix[rows]
    sub.sort_indices()
    counts = np.diff(sub.indptr)
    row_of = np.repeat(np.arange(n, dtype=np.int64), counts)
    # primary: row; then descending score; then ascending column for deterministic ties
    order = np.lexsort((sub.indices, -sub.data, row_of))
    # row_of is sorted, so the position minus the row's start is the rank within the row
    rank = np.arange(sub.nnz, dtype=np.int64) - sub.indptr[row_of]
    keep = rank < k
    taken = order[keep]
    ids[row_of[keep], rank[keep]] = sub.indices[taken]
    scores[row_of[keep], rank[keep]] = sub.data[taken]
    return ids, scores


def drop_excluded(
    ids: np.ndarray, scores: np.ndarray, exclude: sp.csr_matrix, k: int
) -> tuple[np.ndarray, np.ndarray]:
    """Drop from each row of ``ids`` the articles stored in the same row of ``exclude``; keep the first ``k``.

    ``ids``/``scores`` are ``(n, depth)`` ranked lists (padding -1 / -inf), ``exclude`` is ``(n, n_articles)``
    with its rows aligned with ``ids``. The survivors keep their order and scores. Vectorized by turning each
    (row, article) pair into one int64 key and looking the list's keys up in the sorted excluded keys.
    """
    n, depth = ids.shape
    m = exclude.shape[1]
    ex = sp.csr_matrix(exclude)
    ex.sort_indices()
    ex_rows = np.repeat(np.arange(n, dtype=np.int64), np.diff(ex.indptr))
    ex_keys = ex_rows * m + ex.indices  # sorted: rows ascending, columns sorted within rows
    list_keys = np.arange(n, dtype=np.int64)[:, None] * m + np.maximum(ids, 0)
    pos = np.searchsorted(ex_keys, list_keys)
    pos = np.minimum(pos, max(ex_keys.size - 1, 0))
    banned = (ex_keys[pos] == list_keys) if ex_keys.size else np.zeros(ids.shape, dtype=bool)
    banned |= ids < 0
    order = np.argsort(banned, axis=1, kind="stable")[:, :k]
    got = ~np.take_along_axis(banned, order, axis=1)
    out_ids = np.where(got, np.take_along_axis(ids, order, axis=1), -1).astype(np.int32)
    out_scores = np.where(got, np.take_along_axis(scores, order, axis=1), -np.inf).astype(np.float32)
    if out_ids.shape[1] < k:
        pad = k - out_ids.shape[1]
        out_ids = np.pad(out_ids, ((0, 0), (0, pad)), constant_values=-1)
        out_scores = np.pad(out_scores, ((0, 0), (0, pad)), constant_values=-np.inf)
    return out_ids, out_scores


def ranked_articles(scores: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """All articles with a positive score, best first (ties: lower index first): ``(ids, scores)`` 1-d."""
    scores = np.asarray(scores, dtype=np.float32)
    candidates = np.flatnonzero(scores > 0)
    order = np.lexsort((candidates, -scores[candidates]))
    ids = candidates[order].astype(np.int32)
    return ids, scores[ids]


def top_k_excluding(
    make_lists: Callable[[np.ndarray, int], tuple[np.ndarray, np.ndarray]],
    n: int,
    k: int,
    full_depth: int,
    exclude: sp.csr_matrix,
) -> tuple[np.ndarray, np.ndarray]:
    """Top-``k`` of ranked lists after removing each row's excluded articles, in two passes.

    ``make_lists(rows, depth)`` gives the first ``depth`` entries (ids, scores) of the ranked lists of request
    rows ``rows``; ``exclude`` has one row per request row. Pass 1 reads a shallow prefix (``2k + 8``) for
    every row: enough for nearly everyone, since a customer rarely bought many of the top articles. Pass 2
    re-reads only the rows left short, to depth ``k + (their number of exclusions)``, which is always
    enough. The result equals filtering the full lists; the cost is ``O(n k)`` plus the few heavy buyers.
    """
    out_ids = np.full((n, k), -1, dtype=np.int32)
    out_scores = np.full((n, k), -np.inf, dtype=np.float32)
    per_row = np.diff(exclude.indptr)
    shallow = min(full_depth, 2 * k + 8)
    step = max(1, BLOCK_CELLS // (shallow + 1))
    for lo in range(0, n, step):
        rows = np.arange(lo, min(n, lo + step))
        ids, scores = make_lists(rows, shallow)
        out_ids[rows], out_scores[rows] = drop_excluded(ids, scores, exclude[lo : rows[-1] + 1], k)
    if full_depth <= shallow:
        return out_ids, out_scores
    short = np.flatnonzero((out_ids[:, k - 1] < 0) & (per_row > 0))
    short = short[np.argsort(per_row[short], kind="stable")]  # similar depths share a block
    lo = 0
    while lo < short.size:
        # rows are sorted by exclusions, so the depth of a block is bounded by that of the window's last row
        window_end = min(lo + 65_536, short.size)
        worst = k + int(per_row[short[window_end - 1]])
        hi = lo + max(1, min(window_end - lo, BLOCK_CELLS // (worst + 1)))
        rows = short[lo:hi]
        depth = min(full_depth, k + int(per_row[rows].max()))
        ids, scores = make_lists(rows, depth)
        out_ids[rows], out_scores[rows] = drop_excluded(ids, scores, exclude[rows], k)
        lo = hi
    return out_ids, out_scores


def group_recommend(
    group_ids: np.ndarray,
    group_scores: np.ndarray,
    group_of: np.ndarray,
    k: int,
    *,
    exclude: sp.csr_matrix | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Per-customer top-``k`` from one ranked list per group, skipping each customer's excluded articles.

    ``group_ids``/``group_scores`` are ``(G, depth)`` ranked lists (padding -1 / -inf); ``group_of[i]`` is the
    group of the i-th requested customer; ``exclude`` (rows aligned with the customers) removes articles,
    the list being filled from further down. A global list is the case ``G = 1``.
    """
    n = group_of.size
    full_depth = group_ids.shape[1]
    if exclude is None:
        out_ids = np.full((n, k), -1, dtype=np.int32)
        out_scores = np.full((n, k), -np.inf, dtype=np.float32)
        depth = min(k, full_depth)
        out_ids[:, :depth] = group_ids[group_of, :depth]
        out_scores[:, :depth] = group_scores[group_of, :depth]
        return out_ids, out_scores

    def make_lists(rows: np.ndarray, depth: int) -> tuple[np.ndarray, np.ndarray]:
        g = group_of[rows]
        return group_ids[g, :depth], group_scores[g, :depth]

    return top_k_excluding(make_lists, n, k, full_depth, exclude)


def stack_ranked(lists: list[tuple[np.ndarray, np.ndarray]]) -> tuple[np.ndarray, np.ndarray]:
    """1-d ranked lists of different lengths -> ``(G, max_len)`` arrays padded with -1 / -inf."""
    depth = max([ids.size for ids, _ in lists] + [1])
    out_ids = np.full((len(lists), depth), -1, dtype=np.int32)
    out_scores = np.full((len(lists), depth), -np.inf, dtype=np.float32)
    for g, (ids, scores) in enumerate(lists):  # one iteration per group (a handful), not per customer
        out_ids[g, : ids.size] = ids
        out_scores[g, : scores.size] = scores
    return out_ids, out_scores


def ranked_finite(scores: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """All articles with a finite score, best first (ties: lower index first): ``(ids, scores)`` 1-d."""
    scores = np.asarray(scores, dtype=np.float32)
    candidates = np.flatnonzero(np.isfinite(scores))
    order = np.lexsort((candidates, -scores[candidates]))
    ids = candidates[order].astype(np.int32)
    return ids, scores[ids]


def positive_or_neg_inf(scores: np.ndarray) -> np.ndarray:
    """``scores`` as float32 with every score <= 0 replaced by -inf ("not a candidate")."""
    scores = np.asarray(scores, dtype=np.float32)
    return np.where(scores > 0, scores, np.float32(-np.inf)).astype(np.float32)


def below(floor: float, scores: np.ndarray) -> np.ndarray:
    """Map ``scores`` strictly below ``floor``, keeping their order: ``floor + g(s)`` with

    ``g(s) = -1 / (1 + s)`` for ``s >= 0`` and ``g(s) = s - 1`` for ``s < 0`` (continuous, increasing, into
    ``(-inf, 0)``), ``-inf`` staying ``-inf``. A fallback's sales count of 3 under a floor of 0 becomes
    ``-0.25``. Relative differences survive (``1/(1+s)`` has the precision of ``s``), so the order of
    float32 scores is kept up to exact float32 ties.
    """
    s = np.asarray(scores, dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        g = np.where(s >= 0, -1.0 / (1.0 + np.maximum(s, 0.0)), s - 1.0)
    return np.where(np.isneginf(s), -np.inf, float(floor) + g).astype(np.float32)


def concat_distinct(
    first_ids: np.ndarray,
    first_scores: np.ndarray,
    then_ids: np.ndarray,
    then_scores: np.ndarray,
    k: int,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per row, the valid entries of ``first`` then those of ``then`` not already taken; the first ``k``.

    All four are ``(n, *)`` ranked lists (ids < 0 are padding and skipped; an id already taken in the row is
    skipped). Scores travel with their ids. Returns ``(ids, scores, from_then)``, ``(n, k)`` each, padded with
    -1 / -inf; ``from_then`` is True where the entry came from ``then``. Vectorized per block: one stable
    sort of each row's ids finds the duplicates.
    """
    first_ids = np.asarray(first_ids, dtype=np.int32)
    then_ids = np.asarray(then_ids, dtype=np.int32)
    n = first_ids.shape[0]
    ids = np.full((n, k), -1, dtype=np.int32)
    scores = np.full((n, k), -np.inf, dtype=np.float32)
    source = np.zeros((n, k), dtype=bool)
    width = first_ids.shape[1] + then_ids.shape[1]
    if n == 0 or width == 0:
        return ids, scores, source
    step = max(1, BLOCK_CELLS // (width + 1))
    origin = np.concatenate([np.zeros(first_ids.shape[1], bool), np.ones(then_ids.shape[1], bool)])
    for lo in range(0, n, step):
        hi = min(n, lo + step)
        cand = np.concatenate([first_ids[lo:hi], then_ids[lo:hi]], axis=1)
        cand_scores = np.concatenate([first_scores[lo:hi], then_scores[lo:hi]], axis=1).astype(np.float32)
        order = np.argsort(cand, axis=1, kind="stable")
        sorted_c = np.take_along_axis(cand, order, axis=1)
        dup_sorted = np.zeros(sorted_c.shape, dtype=bool)
        dup_sorted[:, 1:] = sorted_c[:, 1:] == sorted_c[:, :-1]
        dup = np.empty_like(dup_sorted)
        np.put_along_axis(dup, order, dup_sorted, axis=1)
        keep = (cand >= 0) & ~dup
        pos = np.argsort(~keep, axis=1, kind="stable")[:, :k]
        got = np.take_along_axis(keep, pos, axis=1)
        width_out = pos.shape[1]
        ids[lo:hi, :width_out] = np.where(got, np.take_along_axis(cand, pos, axis=1), -1)
        scores[lo:hi, :width_out] = np.where(got, np.take_along_axis(cand_scores, pos, axis=1), -np.inf)
        source[lo:hi, :width_out] = got & origin[pos]
    return ids, scores, source


def sorted_lookup(keys: np.ndarray, values: np.ndarray, query: np.ndarray, fill: float) -> np.ndarray:
    """``values[i]`` where ``keys[i] == query[j]``, else ``fill``, for each query key (float32).

    ``keys`` are sorted int64 keys (``row * width + col`` for a pair), ``values`` aligned with them (any trailing
    shape); one binary search per query key.
    """
    out = np.full((query.size, *values.shape[1:]), fill, dtype=np.float32)
    if keys.size == 0 or query.size == 0:
        return out
    pos = np.minimum(np.searchsorted(keys, query), keys.size - 1)
    found = keys[pos] == query
    out[found] = values[pos[found]]
    return out


def csr_lookup(matrix: sp.csr_matrix, rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
    """``matrix[rows[i], cols[i]]`` for aligned arrays (0 where not stored), vectorized (float32)."""
    matrix = sp.csr_matrix(matrix)
    matrix.sort_indices()
    m = matrix.shape[1]
    keys = np.repeat(np.arange(matrix.shape[0], dtype=np.int64), np.diff(matrix.indptr)) * m + matrix.indices
    return sorted_lookup(keys, matrix.data, rows.astype(np.int64) * m + cols, 0.0)
