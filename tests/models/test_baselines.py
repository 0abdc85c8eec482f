"""Baseline models on a hand-made data set whose rankings are computed by hand, plus minimum quality."""

from __future__ import annotations

import datetime as dt

import numpy as np
import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hmrec.data.dataset import Dataset
from hmrec.errors import NotFittedError, ParameterError
from hmrec.models.base import top_k
from hmrec.models.lists import csr_row_top_k, drop_excluded, group_recommend
from hmrec.models.popularity import age_groups
from hmrec.models.sales import article_sales, window_start
from hmrec.registry import create

A = [f"{i + 1:010d}" for i in range(6)]  # A0..A5; A5 is never sold
C = [f"{i:064x}" for i in range(5)]  # c0..c4; c3 has no age, c4 buys nothing
END = "2020-09-22"


def hand_made() -> Dataset:
    """Sales (end = 2020-09-22, the age in days is in brackets):

    * 09-22 [0]: c0 A1, c1 A1, c2 A2
    * 09-20 [2]: c2 A2, c2 A3
    * 09-10 [12]: c0 A0 three times, c1 A0, c3 A3
    * 08-01 [52]: c0 A4
    """
    articles = pl.DataFrame(
        {
            "article_id": A,
            "prod_name": [f"name {i}" for i in range(6)],
            "product_type_name": ["Trousers", "Sweater", "Dress", "T-shirt", "Sock", "Hat"],
            "colour_group_name": ["Black", "White", "Red", "Blue", "Grey", "Green"],
        }
    )
    customers = pl.DataFrame({"customer_id": C, "age": [22, 23, 55, None, 40]})
    rows = [
        ("2020-09-22", 0, 1), ("2020-09-22", 1, 1), ("2020-09-22", 2, 2),
        ("2020-09-20", 2, 2), ("2020-09-20", 2, 3),
        ("2020-09-10", 0, 0), ("2020-09-10", 0, 0), ("2020-09-10", 0, 0), ("2020-09-10", 1, 0),
        ("2020-09-10", 3, 3),
        ("2020-08-01", 0, 4),
    ]  # fmt: skip
    tx = pl.DataFrame(
        {
            "t_dat": [r[0] for r in rows],
            "customer_id": [C[r[1]] for r in rows],
            "article_id": [A[r[2]] for r in rows],
            "price": [0.03] * len(rows),
            "sales_channel_id": [2] * len(rows),
        }
    )
    return Dataset.from_frames(articles, customers, tx)


@pytest.fixture(scope="module")
def data() -> Dataset:
    return hand_made()


def valid(ids: np.ndarray) -> list[list[int]]:
    return [[int(a) for a in row if a >= 0] for row in ids]


ALL = np.arange(5)


# ---------------------------------------------------------------------- helpers
def test_window_start_is_inclusive(data: Dataset) -> None:
    assert window_start(data, 7) == dt.date(2020, 9, 16)
    assert window_start(data, 1) == dt.date(2020, 9, 22)
    assert window_start(data, None) is None


def test_article_sales_counts_and_decay(data: Dataset) -> None:
    np.testing.assert_allclose(article_sales(data, days=7), [0, 2, 2, 1, 0, 0])
    decayed = article_sales(data, half_life_days=7)
    expected = [
        4 * 0.5 ** (12 / 7),
        2.0,
        1 + 0.5 ** (2 / 7),
        0.5 ** (2 / 7) + 0.5 ** (12 / 7),
        0.5 ** (52 / 7),
        0.0,
    ]
    np.testing.assert_allclose(decayed, expected, rtol=1e-6)
    groups = np.array([0, 0, 1, -1, 1])
    per_group = article_sales(data, days=7, groups=groups, n_groups=2)
    np.testing.assert_allclose(per_group, [[0, 2, 0, 0, 0, 0], [0, 0, 2, 1, 0, 0]])


@settings(max_examples=200, deadline=None)
@given(
    rows=st.lists(
        st.lists(st.sampled_from([-2.0, -1.0, 0.0, 1.0, 2.0, -np.inf]), min_size=1, max_size=9), min_size=1, max_size=1
    ),
    k=st.integers(1, 12),
)
def test_top_k_breaks_ties_at_the_cut_by_the_lower_column(rows: list[list[float]], k: int) -> None:
    # argpartition settles a tie at the k-th place arbitrarily; the promise is: best score first, then lower column
    scores = np.array(rows)
    ids, got = top_k(scores, k)
    m = scores.shape[1]
    best = sorted(range(m), key=lambda j: (-scores[0, j], j))[:k]
    expected = [j if np.isfinite(scores[0, j]) else -1 for j in best] + [-1] * max(0, k - m)
    assert ids[0].tolist() == expected
    assert got[0][: len(best)].tolist() == [float(scores[0, j]) for j in best]


def test_csr_row_top_k_ranks_stored_entries_only() -> None:
    import scipy.sparse as sp

    m = sp.csr_matrix(np.array([[0, 3, 1, 3], [0, 0, 0, 0], [5, 0, 0, 0]], dtype=np.float32))
    ids, scores = csr_row_top_k(m, np.array([0, 1, 2, 0]), 3)
    assert ids.tolist() == [[1, 3, 2], [-1, -1, -1], [0, -1, -1], [1, 3, 2]]  # tie 3/3: lower column first
    assert scores[0].tolist() == [3, 3, 1] and np.isneginf(scores[1]).all()


def test_drop_excluded_keeps_order_and_pads() -> None:
    import scipy.sparse as sp

    ids = np.array([[4, 2, 7, 1], [4, 2, 7, -1]], dtype=np.int32)
    scores = np.array([[4, 3, 2, 1], [4, 3, 2, -np.inf]], dtype=np.float32)
    ex = sp.csr_matrix(np.array([[0, 0, 1, 0, 1, 0, 0, 0], [0] * 8], dtype=np.float32))
    out, out_scores = drop_excluded(ids, scores, ex, 3)
    assert out.tolist() == [[7, 1, -1], [4, 2, 7]]
    assert out_scores[0, :2].tolist() == [2, 1] and np.isneginf(out_scores[0, 2])


def test_group_recommend_without_exclusion_is_a_gather() -> None:
    lists = np.array([[3, 1, 2], [0, -1, -1]], dtype=np.int32)
    scores = np.array([[3, 2, 1], [1, -np.inf, -np.inf]], dtype=np.float32)
    ids, _ = group_recommend(lists, scores, np.array([1, 0, 1]), 4)
    assert ids.tolist() == [[0, -1, -1, -1], [3, 1, 2, -1], [0, -1, -1, -1]]


def test_age_groups_width_and_deciles() -> None:
    ages = np.array([22, 23, 55, np.nan, 40, 19])
    group_of, edges = age_groups(ages, 5)
    # floor(age / 5): 4, 4, 11, -, 8, 3 -> renumbered from the lowest (3)
    assert group_of.tolist() == [1, 1, 8, -1, 5, 0]
    assert edges[0] == 15 and edges[1] == 20
    group_of, _ = age_groups(ages, "quintiles")
    assert group_of[3] == -1 and len(set(group_of[group_of >= 0].tolist())) == 5
    with pytest.raises(ParameterError, match="buckets"):
        age_groups(ages, "tens")
    with pytest.raises(ParameterError, match="buckets"):
        age_groups(ages, 0)


# ---------------------------------------------------------------------- models, hand-computed answers
def test_popularity_last_week_order(data: Dataset) -> None:
    ids, scores = create("popularity").fit(data).recommend(ALL, 4)
    # last 7 days: A1 2, A2 2 (tie -> lower index first), A3 1; A0 (12 days ago) is out of the window
    assert valid(ids) == [[1, 2, 3]] * 5
    assert scores[0, :3].tolist() == [2, 2, 1] and ids[0, 3] == -1 and np.isneginf(scores[0, 3])
    wide, _ = create("popularity", days=30).fit(data).recommend(ALL[:1], 3)
    assert wide[0].tolist() == [0, 1, 2]  # A0 4, then A1 2, A2 2


def test_popularity_decay_order_depends_on_half_life(data: Dataset) -> None:
    ids, scores = create("popularity-decay", half_life_days=7).fit(data).recommend(ALL[:1], 5)
    # A1 2 > A2 1.82 > A0 4*0.5^(12/7) = 1.22 > A3 0.82 + 0.30 > A4 0.006
    assert ids[0].tolist() == [1, 2, 0, 3, 4]
    assert scores[0, 2] == pytest.approx(4 * 0.5 ** (12 / 7), rel=1e-6)
    ids, _ = create("popularity-decay", half_life_days=100).fit(data).recommend(ALL[:1], 5)
    # slow decay: A0's four sales win: 4*0.5^0.12 = 3.69 > A1 2 > A2 1.986 > A3 1.906 > A4 0.70
    assert ids[0].tolist() == [0, 1, 2, 3, 4]


def test_popularity_age_buckets_then_global(data: Dataset) -> None:
    model = create("popularity-age", buckets=5, half_life_days=7).fit(data)
    ids, scores = model.recommend(ALL, 5)
    glob = [1, 2, 0, 3, 4]
    # 20-24 (c0, c1): A1 2, A0 1.22, A4; then the global list fills: A2, A3
    assert ids[0].tolist() == [1, 0, 4, 2, 3] and ids[1].tolist() == [1, 0, 4, 2, 3]
    # 55-59 (c2): A2 1.82, A3 0.82; then A1, A0, A4
    assert ids[2].tolist() == [2, 3, 1, 0, 4]
    # unknown age (c3): the global list; c4 (40) has a bucket without sales: the global list too
    assert ids[3].tolist() == glob and ids[4].tolist() == glob
    assert (np.diff(scores, axis=1) < 0).all()


def test_repurchase_own_items_first_then_popularity(data: Dataset) -> None:
    model = create("repurchase", primary__half_life_days=30, fallback__half_life_days=7).fit(data)
    ids, scores = model.recommend(ALL, 5)
    # c0: A0 3*0.5^(12/30) = 2.27, A1 1, A4 0.5^(52/30) = 0.30; then popularity-decay: A2, A3
    assert ids[0].tolist() == [0, 1, 4, 2, 3]
    # own purchases keep their score; the fill is popularity-decay's mapped below 0: -1 / (1 + sales)
    # (A2: 0.5^(0/7) + 0.5^(2/7) = 1.820, A3: 0.5^(2/7) + 0.5^(12/7) = 1.124)
    np.testing.assert_allclose(scores[0], [3 * 0.5 ** (12 / 30), 1, 0.5 ** (52 / 30), -1 / 2.820, -1 / 2.124],
                               rtol=1e-3)
    # c2: A2 1 + 0.5^(2/30) = 1.95, A3 0.95; then A1, A0, A4
    assert ids[2].tolist() == [2, 3, 1, 0, 4]
    # c4 has no history: popularity-decay alone
    assert ids[4].tolist() == [1, 2, 0, 3, 4]


def test_repurchase_max_weeks_and_recent_weeks(data: Dataset) -> None:
    model = create("repurchase", primary__max_weeks=1, fallback__half_life_days=7).fit(data)
    ids, _ = model.recommend(ALL[:1], 3)
    assert ids[0].tolist() == [1, 2, 0]  # only A1 is within the last week for c0, then the fill
    ids, _ = create("repurchase", primary__recent_weeks=1, fallback__recent_weeks=1).fit(data).recommend(ALL[:1], 3)
    # A0 and A4 did not sell in the last week: dropped from c0's own list and from the fill
    assert ids[0].tolist() == [1, 2, 3]


def test_filter_bought_skips_and_refills(data: Dataset) -> None:
    ids, _ = create("popularity", days=100, filter_bought=True).fit(data).recommend(ALL, 5)
    # overall order: A0 4, A1 2, A2 2, A3 2, A4 1
    assert valid(ids)[0] == [2, 3]  # c0 bought A0, A1, A4
    assert valid(ids)[2] == [0, 1, 4]  # c2 bought A2, A3
    assert valid(ids)[4] == [0, 1, 2, 3, 4]  # c4 bought nothing
    ids, _ = create("popularity-age", filter_bought=True).fit(data).recommend(ALL[:1], 5)
    assert valid(ids)[0] == [2, 3]
    ids, _ = create("random", recent_weeks=None, filter_bought=True).fit(data).recommend(ALL, 5)
    assert set(valid(ids)[0]) == {2, 3} and set(valid(ids)[2]) == {0, 1, 4}


def test_random_draws_recent_articles_deterministically(data: Dataset) -> None:
    model = create("random", recent_weeks=1, seed=3).fit(data)
    ids, _ = model.recommend(ALL, 12)
    assert all(set(row) == {1, 2, 3} for row in valid(ids))  # all three recent articles, k > candidates
    ids2, _ = create("random", recent_weeks=None, seed=3).fit(data).recommend(ALL, 2)
    assert np.array_equal(ids2, create("random", recent_weeks=None, seed=3).fit(data).recommend(ALL, 2)[0])
    draws = {tuple(create("random", recent_weeks=None, seed=s).fit(data).recommend(ALL, 2)[0].ravel())
             for s in range(8)}
    assert len(draws) > 1  # the seed matters


def test_random_is_uniform_over_candidates() -> None:
    n_articles, n_customers = 7, 7000
    articles = pl.DataFrame({"article_id": [f"{i + 1:010d}" for i in range(n_articles)]})
    customers = pl.DataFrame({"customer_id": [f"{i:064x}" for i in range(n_customers)]})
    tx = pl.DataFrame(
        {
            "t_dat": [END] * n_articles,
            "customer_id": [f"{0:064x}"] * n_articles,
            "article_id": articles["article_id"],
            "price": [0.01] * n_articles,
            "sales_channel_id": [1] * n_articles,
        }
    )
    ds = Dataset.from_frames(articles, customers, tx)
    ids, _ = create("random", seed=1).fit(ds).recommend(np.arange(n_customers), 2)
    first = np.bincount(ids[:, 0], minlength=n_articles) / n_customers
    second = np.bincount(ids[:, 1], minlength=n_articles) / n_customers
    # each position is uniform: 1/7 each, within 5 standard errors
    se = np.sqrt((1 / 7) * (6 / 7) / n_customers)
    assert np.abs(first - 1 / 7).max() < 5 * se and np.abs(second - 1 / 7).max() < 5 * se


def test_oracle_refuses_data_without_truth(data: Dataset) -> None:
    with pytest.raises(ParameterError, match="oracle needs generated data"):
        create("oracle").fit(data)


def test_parameter_errors_name_the_parameter(data: Dataset) -> None:
    with pytest.raises(ParameterError, match="half_life_days"):
        create("popularity-decay", half_life_days=0).fit(data)
    with pytest.raises(ParameterError, match="days"):
        create("popularity", days=-1).fit(data)
    with pytest.raises(ParameterError, match="filter_bought"):
        create("popularity", filter_bought="yes").fit(data)
    with pytest.raises(ParameterError, match="no parameter 'factors'"):
        create("popularity", factors=3)
    with pytest.raises(NotFittedError):
        create("repurchase").recommend(ALL, 3)
    with pytest.raises(ParameterError, match="out of range"):
        create("popularity").fit(data).recommend(np.array([5]), 3)


def test_empty_training_data_gives_padding(data: Dataset) -> None:
    empty = data.between(dt.date(2030, 1, 1))
    for name in ("popularity", "popularity-decay", "popularity-age", "repurchase", "random"):
        ids, scores = create(name).fit(empty).recommend(ALL, 3)
        assert (ids == -1).all() and np.isneginf(scores).all(), name


# ---------------------------------------------------------------------- minimum quality on generated data
def map_at_12(recommended: np.ndarray, truth: list[set[int]]) -> float:
    """Reference MAP@12: mean over customers who bought of sum_k P@k rel_k / min(|truth|, 12)."""
    total, scored = 0.0, 0
    for row, bought in zip(recommended, truth, strict=True):
        if not bought:
            continue
        scored += 1
        hits, ap, seen = 0, 0.0, set()
        for rank, a in enumerate(row[:12], start=1):
            if a in bought and a not in seen:
                hits += 1
                ap += hits / rank
            seen.add(int(a))
        total += ap / min(len(bought), 12)
    return total / scored


def quality(dataset: Dataset) -> dict[str, float]:
    end = dataset.end_date
    assert end is not None
    start = end - dt.timedelta(days=6)
    train, test = dataset.between(None, start - dt.timedelta(days=1)), dataset.between(start, end)
    buyers = np.unique(test.transactions["customer_idx"].to_numpy())
    per = test.transactions.group_by("customer_idx").agg(pl.col("article_idx").unique())
    lookup = dict(zip(per["customer_idx"].to_list(), per["article_idx"].to_list(), strict=True))
    truth = [set(lookup[int(c)]) for c in buyers]
    out = {}
    for name in ("oracle", "random", "popularity", "popularity-decay", "popularity-age", "repurchase"):
        ids, _ = create(name).fit(train).recommend(buyers, 12)
        out[name] = map_at_12(ids, truth)
    return out


def generated(request: pytest.FixtureRequest, name: str) -> Dataset:
    """A generated data set fixture (``tiny`` or ``small``, see conftest)."""
    return request.getfixturevalue(name)


def check_quality(scores: dict[str, float]) -> None:
    assert scores["repurchase"] > scores["popularity"] > scores["random"], scores
    assert scores["popularity-decay"] > scores["random"], scores
    assert scores["popularity-age"] > scores["random"], scores
    assert scores["oracle"] >= max(v for k, v in scores.items() if k != "oracle"), scores


def test_minimum_quality_on_tiny(request: pytest.FixtureRequest) -> None:
    check_quality(quality(generated(request, "tiny")))


@pytest.mark.slow
def test_minimum_quality_on_small(request: pytest.FixtureRequest) -> None:
    check_quality(quality(generated(request, "small")))


# ------------------------------------------------------------ the two-pass filter against a reference
@settings(max_examples=60, deadline=None)
@given(
    seed=st.integers(0, 10_000),
    k=st.integers(1, 6),
    n_articles=st.integers(1, 40),
    density=st.floats(0.0, 0.9),
)
def test_group_recommend_with_exclusions_equals_naive_filter(
    seed: int, k: int, n_articles: int, density: float
) -> None:
    """Filtering through the shallow first pass and the deep second pass equals filtering the full lists."""
    import scipy.sparse as sp

    rng = np.random.default_rng(seed)
    n, n_groups = 25, 3
    lists = np.stack([rng.permutation(n_articles) for _ in range(n_groups)]).astype(np.int32)
    lists[1, n_articles // 2 :] = -1  # a short list
    scores = np.where(lists >= 0, np.arange(n_articles, 0, -1, dtype=np.float32), -np.inf).astype(np.float32)
    group_of = rng.integers(0, n_groups, n)
    exclude = sp.csr_matrix((rng.random((n, n_articles)) < density).astype(np.float32))
    ids, out_scores = group_recommend(lists, scores, group_of, k, exclude=exclude)
    dense = exclude.toarray() > 0
    for i in range(n):  # reference: a plain per-row filter (a test may loop; the library may not)
        expected = [int(a) for a in lists[group_of[i]] if a >= 0 and not dense[i, a]][:k]
        assert ids[i, : len(expected)].tolist() == expected
        assert (ids[i, len(expected) :] == -1).all() and np.isneginf(out_scores[i, len(expected) :]).all()
