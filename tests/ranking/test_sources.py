"""Each candidate source on the planted data set, with the expected lists worked out by hand."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp
from planted import planted

from hmrec.errors import ParameterError
from hmrec.ranking.candidates import candidate_union, pair_hits, source_recall
from hmrec.ranking.sources import (
    AgePopularitySource,
    CoPurchaseSource,
    PopularitySource,
    ProductSource,
    RepurchaseSource,
    TasteSource,
    TrendingSource,
    parse_sources,
)
from hmrec.ranking.taste import attribute_codes

CUSTOMERS = np.arange(4)
W9 = 0.5 ** (9 / 14)  # a purchase 9 days before the cut-off, half-life 14 days
W1 = 0.5 ** (1 / 14)
W5 = 0.5 ** (5 / 14)


def lists(source: object, n: int) -> tuple[list[list[int]], np.ndarray]:
    ids, scores = source.candidates(CUSTOMERS, n)  # type: ignore[attr-defined]
    assert ids.shape == scores.shape == (4, n)
    assert np.all(np.isneginf(scores[ids < 0]))
    return [[int(a) for a in row if a >= 0] for row in ids], scores


def test_repurchase_ranks_own_purchases_by_decayed_count() -> None:
    ids, scores = lists(RepurchaseSource().fit(planted()), 3)
    assert ids == [[0, 2], [4, 0], [5, 4], []]
    np.testing.assert_allclose(scores[0, :2], [W9 + W1, 1.0], rtol=1e-6)
    np.testing.assert_allclose(scores[1, :2], [1.0, W1], rtol=1e-6)
    np.testing.assert_allclose(scores[2, :2], [1.0, W5], rtol=1e-6)


def test_product_proposes_the_other_colours_only() -> None:
    ids, scores = lists(ProductSource().fit(planted()), 3)
    assert ids == [[1, 3], [1], [], []]
    np.testing.assert_allclose(scores[0, :2], [W9 + W1, 1.0], rtol=1e-6)
    np.testing.assert_allclose(scores[1, 0], W1, rtol=1e-6)


def test_copurchase_neighbours_within_days() -> None:
    source = CoPurchaseSource(days=3).fit(planted())
    nb = source.neighbour_matrix().toarray()
    expected = np.zeros((6, 6), dtype=np.float32)
    expected[0, 2] = expected[0, 4] = 1 / 2  # a0's 2 buyers: c0 bought a2 a day later, c1 a4
    expected[2, 0] = 1.0  # a2's only buyer bought a0 the day before
    expected[4, 0] = 1 / 2  # of a4's two buyers c1 bought a0 the day before; c2's a5 came 5 days later
    np.testing.assert_allclose(nb, expected)
    ids, scores = lists(source, 4)
    assert ids == [[0, 2, 4], [0, 2, 4], [0], []]
    np.testing.assert_allclose(scores[0, :3], [1.0, (W9 + W1) / 2, (W9 + W1) / 2], rtol=1e-6)
    np.testing.assert_allclose(scores[1, :3], [1 / 2, W1 / 2, W1 / 2], rtol=1e-6)
    np.testing.assert_allclose(scores[2, 0], W5 / 2, rtol=1e-6)
    # with a 5-day window, c2's a4 -> a5 counts too
    wide = CoPurchaseSource(days=5).fit(planted()).neighbour_matrix().toarray()
    assert wide[4, 5] == pytest.approx(1 / 2) and wide[5, 4] == pytest.approx(1.0)


def test_taste_proposes_the_best_sellers_of_the_customers_sub_categories() -> None:
    # the taste key is the product type: type 1 = a0, a1, a4; 2 = a2, a3; 3 = a5.
    # Last 7 days: a0 and a4 sold 2 rows each (half of type 1), a2 all of type 2, a5 all of type 3.
    source = TasteSource(columns=("product_type_no",), days=7).fit(planted())
    ids, scores = lists(source, 4)
    # c0's rows: 2/3 type 1, 1/3 type 2 -> a0, a4 at 2/3 * 1/2, a2 at 1/3 * 1: a tie, to the lower article
    assert ids == [[0, 2, 4], [0, 4], [5, 0, 4], []]
    np.testing.assert_allclose(scores[0, :3], [1 / 3] * 3, rtol=1e-6)
    np.testing.assert_allclose(scores[1, :2], [1 / 2] * 2, rtol=1e-6)
    np.testing.assert_allclose(scores[2, :3], [1 / 2, 1 / 4, 1 / 4], rtol=1e-6)
    # a shallower list per sub-category keeps its best seller only (a0 before a4 on the tie)
    shallow, _ = lists(TasteSource(columns=("product_type_no",), days=7, depth=1).fit(planted()), 4)
    assert shallow == [[0, 2], [0], [5, 0], []]
    # only each customer's largest sub-category: c0 keeps type 1; c2's tie (type 1, type 3) goes to type 1
    first, _ = lists(TasteSource(columns=("product_type_no",), days=7, top=1).fit(planted()), 4)
    assert first == [[0, 4], [0, 4], [0, 4], []]
    # on the last day only a2, a4 and a5 sold: type 1 is a4 alone, and c0 (2/3 type 1) gets it first
    recent, _ = lists(TasteSource(columns=("product_type_no",), days=1).fit(planted()), 4)
    assert recent == [[4, 2], [4], [4, 5], []]


def test_attribute_codes_combine_columns_and_keep_nulls_apart() -> None:
    data = planted(index_code=["A", "A", "B", None, "B", "A"])
    codes = attribute_codes(data.articles, ("index_code", "product_type_no", "no_such_column"))
    # (A,1) (A,1) (B,2) (null,2) (B,1) (A,3): five distinct combinations, a0 and a1 alike
    assert codes[0] == codes[1] and len(set(codes.tolist())) == 5
    assert attribute_codes(data.articles, ("no_such_column",)).tolist() == [0] * 6


def test_popularity_and_trending_are_the_same_for_everyone() -> None:
    ids, scores = lists(PopularitySource().fit(planted()), 5)
    assert ids == [[0, 4, 2, 5]] * 4  # a2 and a5 tie at 1: the lower index first
    third = 0.5 ** (1 / 3)
    np.testing.assert_allclose(scores[0, :4], [0.5**3 + 2 * third, 1 + 0.5 ** (5 / 3), 1, 1], rtol=1e-6)
    ids, scores = lists(TrendingSource().fit(planted()), 5)
    # last 7 days: a0 2 (1 the week before), a4 2, a2 1, a5 1: s7 * (s7 + 1) / (prev + 1)
    assert ids == [[4, 0, 2, 5]] * 4
    np.testing.assert_allclose(scores[0, :4], [6, 3, 2, 2])


def test_age_popularity_per_age_group_and_global_for_unknown_age() -> None:
    ids, _ = lists(AgePopularitySource().fit(planted()), 5)
    assert ids == [[0, 2, 4], [0, 2, 4], [5, 4], [0, 4, 2, 5]]


def test_union_keeps_every_source_rank_and_score() -> None:
    a = (np.array([[3, 1, -1], [2, -1, -1]]), np.array([[9.0, 8.0, -np.inf], [7.0, -np.inf, -np.inf]]))
    b = (np.array([[1, 5], [-1, -1]]), np.array([[0.5, 0.25], [-np.inf, -np.inf]]))
    u = candidate_union([("a", *a), ("b", *b)], n_articles=10)
    assert u.sources == ["a", "b"]
    assert u.row.tolist() == [0, 0, 0, 1]
    assert u.article.tolist() == [1, 3, 5, 2]
    np.testing.assert_array_equal(u.rank, [[1, 0], [0, np.nan], [np.nan, 1], [0, np.nan]])
    np.testing.assert_array_equal(u.score, [[8, 0.5], [9, np.nan], [np.nan, 0.25], [7, np.nan]])
    assert u.proposed.tolist() == [[True, True], [True, False], [False, True], [True, False]]
    truth = sp.csr_matrix(np.array([[0, 1, 0, 0, 0, 0, 0, 0, 0, 1], [0, 0, 1, 0, 0, 0, 0, 0, 0, 0]]))
    assert pair_hits(u, truth).tolist() == [True, False, False, True]


def test_source_recall_counts_pairs_found() -> None:
    data = planted()
    sources = {"repurchase": RepurchaseSource().fit(data), "product": ProductSource().fit(data)}
    customers = np.array([0, 1])
    truth = sp.csr_matrix(np.array([[1, 1, 0, 0, 0, 1], [0, 0, 0, 0, 1, 0]], dtype=np.float32))
    frame = source_recall(sources, customers, truth, ns=(1, 2), n_articles=6)
    got = {(r["source"], r["n"]): (r["recall"], r["candidates_per_customer"]) for r in frame.iter_rows(named=True)}
    # 4 pairs bought; n=1: repurchase finds (c0, a0) and (c1, a4), product (c0, a1)
    assert got[("repurchase", 1)] == (2 / 4, 1.0)
    assert got[("product", 1)] == (1 / 4, 1.0)
    assert got[("union", 1)] == (3 / 4, 2.0)
    # n=2: the product source's second list entry (c0, a3) is no purchase; c1 has one product candidate
    assert got[("product", 2)] == (1 / 4, 3 / 2)
    assert got[("union", 2)] == (3 / 4, 7 / 2)
    # customers one block at a time add up to the same figures
    assert source_recall(sources, customers, truth, ns=(1, 2), n_articles=6, block=1).equals(frame)


def test_parse_sources() -> None:
    assert parse_sources("repurchase:24, popularity") == {"repurchase": 24, "popularity": 12}
    with pytest.raises(ParameterError, match="unknown candidate source 'nope'"):
        parse_sources("nope:3")
    with pytest.raises(ParameterError, match="count >= 1"):
        parse_sources("repurchase:0")
