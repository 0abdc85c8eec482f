"""Metrics: hand-computed fractions, edge cases, properties and a plain-Python reference."""

from __future__ import annotations

import math

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import given, settings
from hypothesis import strategies as st

from hmrec import metrics as M
from hmrec.errors import ParameterError


def csr(rows: list[list[int]], n_articles: int) -> sp.csr_matrix:
    """Truth matrix from lists of bought articles (repeats allowed: they count once)."""
    r = [i for i, items in enumerate(rows) for _ in items]
    c = [a for items in rows for a in items]
    return sp.csr_matrix((np.ones(len(c), dtype=np.float32), (r, c)), shape=(len(rows), n_articles))


def log2(x: float) -> float:
    return math.log2(x)


# ---------------------------------------------------------------------- a plain-Python reference
def reference(rec: list[list[int]], truth: list[set[int]], k: int, n_articles: int) -> dict[str, float]:
    """The metrics written the obvious way, one row at a time."""
    sums = {name: 0.0 for name in M.METRICS}
    scored = 0
    for row, bought in zip(rec, truth, strict=True):
        if not bought:
            continue
        scored += 1
        seen: set[int] = set()
        hits = 0
        ap = 0.0
        dcg = 0.0
        for i, item in enumerate(row[:k], start=1):
            rel = 0 <= item < n_articles and item in bought and item not in seen
            seen.add(item)
            if rel:
                hits += 1
                ap += hits / i
                dcg += 1 / log2(i + 1)
        idcg = sum(1 / log2(i + 1) for i in range(1, min(len(bought), k) + 1))
        sums["map_at_k"] += ap / min(len(bought), k)
        sums["precision_at_k"] += hits / k
        sums["recall_at_k"] += hits / len(bought)
        sums["hit_rate_at_k"] += float(hits > 0)
        sums["ndcg_at_k"] += dcg / idcg
    return {name: (value / scored if scored else float("nan")) for name, value in sums.items()}


# ---------------------------------------------------------------------- hand-computed values
def test_worked_example_from_the_docstrings() -> None:
    rec = np.array([[5, 7, 9]])
    truth = csr([[7, 9, 11, 13]], 20)
    assert M.map_at_k(rec, truth, 3) == pytest.approx(1 / 3 * (1 / 2 + 2 / 3))
    assert M.precision_at_k(rec, truth, 3) == pytest.approx(2 / 3)
    assert M.recall_at_k(rec, truth, 3) == pytest.approx(2 / 4)
    assert M.hit_rate_at_k(rec, truth, 3) == 1.0
    ideal = 1 / log2(2) + 1 / log2(3) + 1 / log2(4)
    assert M.ndcg_at_k(rec, truth, 3) == pytest.approx((1 / log2(3) + 1 / log2(4)) / ideal)


def test_map_two_rows_and_an_unscored_row() -> None:
    rec = np.array([[1, 2, 3, 4], [4, 3, 2, 1], [1, 2, 3, 4]])
    truth = csr([[1, 3], [9], []], 10)
    # row 0: hits at ranks 1 and 3 -> 1/2 * (1/1 + 2/3); row 1: no hit -> 0; row 2: not scored
    expected = (1 / 2 * (1 / 1 + 2 / 3) + 0) / 2
    assert M.map_at_k(rec, truth, 4) == pytest.approx(expected)
    ap = M.average_precision(rec, truth, 4)
    assert ap[0] == pytest.approx(1 / 2 * (1 / 1 + 2 / 3))
    assert ap[1] == 0.0
    assert np.isnan(ap[2])
    assert M.hit_rate_at_k(rec, truth, 4) == pytest.approx(1 / 2)


def test_denominator_is_min_of_truth_and_k() -> None:
    # 5 bought, k = 2, both recommendations hit: AP = 1/min(5, 2) * (1/1 + 2/2) = 1
    rec = np.array([[0, 1]])
    truth = csr([[0, 1, 2, 3, 4]], 6)
    assert M.map_at_k(rec, truth, 2) == pytest.approx(1.0)
    assert M.recall_at_k(rec, truth, 2) == pytest.approx(2 / 5)


def test_fewer_recommendations_than_k_are_penalized() -> None:
    rec = np.array([[3]])  # one recommendation, k = 4
    truth = csr([[3, 5]], 6)
    assert M.precision_at_k(rec, truth, 4) == pytest.approx(1 / 4)
    assert M.map_at_k(rec, truth, 4) == pytest.approx(1 / 2 * (1 / 1))
    assert M.recall_at_k(rec, truth, 4) == pytest.approx(1 / 2)
    ideal = 1 / log2(2) + 1 / log2(3)
    assert M.ndcg_at_k(rec, truth, 4) == pytest.approx(1 / ideal)


def test_padding_is_never_a_hit() -> None:
    rec = np.array([[-1, 2, -1, -1]])
    truth = csr([[0, 2]], 3)  # article 0 bought; -1 must not wrap around to anything
    assert M.map_at_k(rec, truth, 4) == pytest.approx(1 / 2 * (1 / 2))
    assert M.precision_at_k(rec, truth, 4) == pytest.approx(1 / 4)


def test_duplicate_recommendation_counts_once_at_first_rank() -> None:
    rec = np.array([[7, 7, 3]])
    truth = csr([[7, 3]], 10)
    # hits at ranks 1 and 3 (the second 7 is not a hit): AP = 1/2 * (1/1 + 2/3)
    assert M.hit_matrix(rec, truth, 3).tolist() == [[True, False, True]]
    assert M.map_at_k(rec, truth, 3) == pytest.approx(1 / 2 * (1 / 1 + 2 / 3))
    assert M.precision_at_k(rec, truth, 3) == pytest.approx(2 / 3)


def test_duplicate_purchases_count_once() -> None:
    rec = np.array([[4, 5]])
    truth = csr([[4, 4, 4]], 6)  # bought three times: |truth| = 1
    assert M.truth_counts(truth).tolist() == [1]
    assert M.recall_at_k(rec, truth, 2) == 1.0
    assert M.map_at_k(rec, truth, 2) == 1.0
    counted = sp.csr_matrix(([3.0], ([0], [4])), shape=(1, 6))  # a count of 3 in one cell
    assert M.map_at_k(rec, counted, 2) == 1.0


def test_explicit_zero_is_not_bought() -> None:
    truth = sp.csr_matrix((np.array([0.0, 1.0]), np.array([1, 2]), np.array([0, 2])), shape=(1, 4))
    assert M.truth_counts(truth).tolist() == [1]
    assert M.hit_rate_at_k(np.array([[1]]), truth, 1) == 0.0


def test_k_larger_than_the_list_and_k_cut() -> None:
    rec = np.array([[1, 2, 3]])
    truth = csr([[3]], 5)
    assert M.map_at_k(rec, truth, 2) == 0.0  # rank 3 is beyond k = 2
    assert M.map_at_k(rec, truth, 10) == pytest.approx(1 / 3)
    assert M.precision_at_k(rec, truth, 10) == pytest.approx(1 / 10)


def test_out_of_catalogue_ids_do_not_alias_the_next_row() -> None:
    # key = row * n_articles + id: id 5 on row 0 would alias (row 1, id 0) without the range check
    rec = np.array([[5], [1]])
    truth = csr([[4], [0]], 5)
    assert M.hit_matrix(rec, truth, 1).tolist() == [[False], [False]]


def test_no_scored_row_gives_nan() -> None:
    assert math.isnan(M.map_at_k(np.array([[1, 2]]), csr([[]], 3), 2))


def test_coverage() -> None:
    assert M.coverage(np.array([[1, 2], [2, -1]]), 10) == pytest.approx(2 / 10)
    assert M.coverage(np.empty((0, 3), dtype=np.int32), 4) == 0.0
    with pytest.raises(ParameterError):
        M.coverage(np.array([[1]]), 0)


def test_recall_curve() -> None:
    rec = np.array([[7, 9, 5], [1, 2, 3], [0, 0, 0]])
    truth = csr([[9, 11], [3], []], 12)
    curve = M.recall_curve(rec, truth, 5)
    # row 0: recall 0, 1/2, 1/2; row 1: 0, 0, 1; row 2 unscored; flat beyond the list's width
    assert curve.tolist() == pytest.approx([0, 1 / 4, 3 / 4, 3 / 4, 3 / 4])
    for j in range(1, 4):
        assert curve[j - 1] == pytest.approx(M.recall_at_k(rec, truth, j))
    hits = M.hit_matrix(rec, truth, 5)
    assert M.curve_from_hits(hits, M.truth_counts(truth), 5).tolist() == pytest.approx(curve.tolist())


def test_bad_inputs() -> None:
    with pytest.raises(ParameterError, match="k must be"):
        M.map_at_k(np.array([[1]]), csr([[1]], 2), 0)
    with pytest.raises(ParameterError, match="rows"):
        M.map_at_k(np.array([[1], [0]]), csr([[1]], 2), 1)


def test_one_dimensional_recommended_is_one_row() -> None:
    assert M.map_at_k(np.array([1, 0]), csr([[0]], 2), 2) == pytest.approx(1 / 2)


# ---------------------------------------------------------------------- properties
Problem = tuple[np.ndarray, sp.csr_matrix, int, list[set[int]], int]


@st.composite
def problems(draw: st.DrawFn) -> Problem:
    n = draw(st.integers(1, 6))
    m = draw(st.integers(1, 12))
    width = draw(st.integers(0, 14))
    k = draw(st.integers(1, 14))
    rec = np.array(
        draw(
            st.lists(
                st.lists(st.integers(-1, m - 1), min_size=width, max_size=width), min_size=n, max_size=n
            )
        ),
        dtype=np.int32,
    ).reshape(n, width)
    bought = draw(st.lists(st.lists(st.integers(0, m - 1), max_size=8), min_size=n, max_size=n))
    bought[0] = bought[0] or [draw(st.integers(0, m - 1))]  # at least one scored row
    return rec, csr(bought, m), k, [set(b) for b in bought], m


@settings(max_examples=200, deadline=None)
@given(problems())
def test_agrees_with_the_reference(problem: Problem) -> None:
    rec, truth, k, bought, m = problem
    got = M.metrics_at_k(rec, truth, k)
    expected = reference(rec.tolist(), bought, k, m)
    for name in M.METRICS:
        assert got[name] == pytest.approx(expected[name], abs=1e-12), name
    for name, fn in (("map_at_k", M.map_at_k), ("precision_at_k", M.precision_at_k),
                     ("recall_at_k", M.recall_at_k), ("hit_rate_at_k", M.hit_rate_at_k),
                     ("ndcg_at_k", M.ndcg_at_k)):
        assert fn(rec, truth, k) == pytest.approx(expected[name], abs=1e-12)


@settings(max_examples=150, deadline=None)
@given(problems())
def test_bounds_and_orderings(problem: Problem) -> None:
    rec, truth, k, _, m = problem
    got = M.metrics_at_k(rec, truth, k)
    for value in got.values():
        assert 0.0 <= value <= 1.0
    assert got["map_at_k"] <= got["hit_rate_at_k"] + 1e-12
    assert got["precision_at_k"] <= got["hit_rate_at_k"] + 1e-12
    assert got["recall_at_k"] <= got["hit_rate_at_k"] + 1e-12
    assert 0.0 <= M.coverage(rec, m) <= 1.0
    curve = M.recall_curve(rec, truth, k)
    assert np.all(np.diff(curve) >= -1e-12)
    assert curve[-1] == pytest.approx(got["recall_at_k"])


@settings(max_examples=100, deadline=None)
@given(problems(), st.randoms(use_true_random=False))
def test_truth_order_does_not_matter(
    problem: Problem, rnd: object
) -> None:
    rec, truth, k, bought, m = problem
    shuffled = []
    for items in bought:
        items_list = sorted(items)
        rnd.shuffle(items_list)  # type: ignore[attr-defined]
        shuffled.append(items_list + items_list[:1])  # and a repeat, which must count once
    other = csr(shuffled, m)
    other.has_canonical_format = False  # force the non-canonical path
    assert M.metrics_at_k(rec, other, k) == pytest.approx(M.metrics_at_k(rec, truth, k), nan_ok=True)


@settings(max_examples=100, deadline=None)
@given(problems())
def test_perfect_list_scores_one(problem: Problem) -> None:
    _, truth, k, bought, m = problem
    rec = np.full((len(bought), k), -1, dtype=np.int32)
    for i, items in enumerate(bought):
        best = sorted(items)[:k]
        rec[i, : len(best)] = best
    got = M.metrics_at_k(rec, truth, k)
    assert got["map_at_k"] == pytest.approx(1.0)
    assert got["ndcg_at_k"] == pytest.approx(1.0)
    assert got["hit_rate_at_k"] == 1.0


# ---------------------------------------------------------------------- random data, many blocks
def test_random_data_across_blocks_matches_reference(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(M, "BLOCK_ROWS", 37)  # several blocks with a ragged last one
    rng = np.random.default_rng(0)
    n, m, k = 400, 50, 12
    rec = rng.integers(-1, m, size=(n, 15)).astype(np.int32)
    bought = [set(rng.choice(m, size=rng.integers(0, 6), replace=False).tolist()) for _ in range(n)]
    truth = csr([sorted(b) for b in bought], m)
    got = M.metrics_at_k(rec, truth, k)
    expected = reference(rec.tolist(), bought, k, m)
    for name in M.METRICS:
        assert got[name] == pytest.approx(expected[name], abs=1e-12)
