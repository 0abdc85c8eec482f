"""Articles like this one (hmrec.ranking.neighbours) on the hand-made data of planted.py, worked out on paper."""

from __future__ import annotations

import numpy as np
import pytest
from planted import ARTICLES, planted

from hmrec.errors import ParameterError, UnknownCustomerError
from hmrec.models.als import ALS
from hmrec.ranking import neighbours
from hmrec.ranking.copurchase import copurchase_neighbours
from hmrec.ranking.neighbours import (
    BOUGHT_TOGETHER,
    SIMILAR,
    NeighbourParams,
    UnsoldArticleError,
    article_lists,
    lists_of,
    sold_articles,
)

#: the decay of a purchase on 2020-01-05, five days before the data's end, at the default half-life of 14 days
W5 = 0.5 ** (5 / 14)


def test_bought_together_is_the_decayed_share_of_buyers_within_days() -> None:
    ids, scores = article_lists(planted(), 3, kinds=(BOUGHT_TOGETHER,), params=NeighbourParams(days=3))[BOUGHT_TOGETHER]
    # a0's two buyers (both on 01-09, the same weight) bought a2 (c0) and a4 (c1) a day later: 1/2 each
    # a2's one buyer bought a0 the day before: 1
    # a4's buyers: c1 on 01-10 (weight 1) bought a0 the day before; c2 on 01-05 (weight W5) nothing within 3
    # days: 1 / (1 + W5), more than the plain share 1/2 because the buyer who bought a0 is the recent one
    # a1, a3 were never sold; a5's buyer bought a4 five days earlier, beyond 3 days
    assert ids.tolist() == [[2, 4, -1], [-1] * 3, [0, -1, -1], [-1] * 3, [0, -1, -1], [-1] * 3]
    np.testing.assert_allclose(scores[0, :2], [1 / 2, 1 / 2], rtol=1e-6)
    np.testing.assert_allclose(scores[2, 0], 1.0, rtol=1e-6)
    np.testing.assert_allclose(scores[4, 0], 1 / (1 + W5), rtol=1e-6)
    wide = article_lists(planted(), 3, kinds=(BOUGHT_TOGETHER,), params=NeighbourParams(days=5))[BOUGHT_TOGETHER]
    # within 5 days (or the default 7) c2's a4 (01-05, weight W5) and a5 (01-10, weight 1) count too:
    # a4 -> a5 = W5 / (1 + W5)
    assert wide[0][4].tolist() == [0, 5, -1] and wide[0][5].tolist() == [4, -1, -1]
    np.testing.assert_allclose(wide[1][4, :2], [1 / (1 + W5), W5 / (1 + W5)], rtol=1e-6)
    np.testing.assert_allclose(wide[1][5, 0], 1.0, rtol=1e-6)


def test_without_a_half_life_the_counting_is_the_copurchase_sources() -> None:
    plain = copurchase_neighbours(planted(), weeks=8, days=3, neighbours=20).toarray()
    assert plain[4, 0] == pytest.approx(1 / 2) and plain[0, 2] == pytest.approx(1 / 2)
    decayed = copurchase_neighbours(planted(), weeks=8, days=3, neighbours=20, half_life_days=14).toarray()
    assert decayed[4, 0] == pytest.approx(1 / (1 + W5))
    assert np.array_equal(plain > 0, decayed > 0)


def test_similar_are_the_nearest_recent_articles_by_als_factors() -> None:
    data = planted()
    ids, scores = article_lists(data, 4, kinds=(SIMILAR,), seed=3)[SIMILAR]
    # the reference: the same ALS, each sold article's unit factor against every target's factor
    q = ALS(factors=32, iterations=8, seed=3, track_loss=False).fit(data).item_factors_.astype(np.float64)
    targets = np.array([0, 2, 4, 5])  # sold in the last week (01-04 .. 01-10); a1, a3 never sold
    for a in range(6):
        if a in (1, 3):
            assert (ids[a] == -1).all()
            continue
        others = targets[targets != a]
        sims = q[others] @ (q[a] / np.linalg.norm(q[a]))
        order = np.lexsort((others, -sims))
        expected = [int(others[j]) for j in order if sims[j] > 0][:4]
        assert ids[a][ids[a] >= 0].tolist() == expected
        np.testing.assert_allclose(scores[a][: len(expected)], np.sort(sims[sims > 0])[::-1][:4], rtol=1e-4)
    again = article_lists(data, 4, kinds=(SIMILAR,), seed=3)[SIMILAR]
    assert np.array_equal(again[0], ids) and np.array_equal(again[1], scores)


def test_a_shared_taste_value_adds_its_weight_to_the_similarity(monkeypatch: pytest.MonkeyPatch) -> None:
    data = planted()
    codes = np.array([0, 0, 1, 1, 0, 1], dtype=np.int32)  # as if the taste key learned split them so
    monkeypatch.setattr(neighbours, "taste_codes", lambda train, seed: codes)
    ids, scores = article_lists(data, 3, kinds=(SIMILAR,), params=NeighbourParams(taste_weight=10), seed=3)[SIMILAR]
    q = ALS(factors=32, iterations=8, seed=3, track_loss=False).fit(data).item_factors_.astype(np.float64)
    targets = np.array([0, 2, 4, 5])
    for a in (0, 2, 4, 5):
        others = targets[targets != a]
        sims = q[others] @ (q[a] / np.linalg.norm(q[a])) + 10 * (codes[others] == codes[a])
        order = np.lexsort((others, -sims))
        expected = [int(others[j]) for j in order if sims[j] > 0][:3]
        assert ids[a][ids[a] >= 0].tolist() == expected
        np.testing.assert_allclose(scores[a][: len(expected)], np.sort(sims[sims > 0])[::-1][:3], rtol=1e-5)
    # a4's taste value is a0's: a0 comes first whatever the factors say
    assert ids[4][0] == 0


def test_one_articles_list_is_its_row_of_the_whole() -> None:
    data = planted()
    whole = article_lists(data, 3, seed=1)
    for kind in (BOUGHT_TOGETHER, SIMILAR):
        idx, ids, scores = lists_of(data, ARTICLES[4].lstrip("0"), kind, 3, seed=1)
        assert idx == 4
        row = whole[kind][0][4]
        assert ids.tolist() == row[row >= 0].tolist()
        # the same products, summed by BLAS in blocks of another size: equal to the last bit or two
        np.testing.assert_allclose(scores, whole[kind][1][4][row >= 0], rtol=1e-6)
    assert sold_articles(data).tolist() == [True, False, True, False, True, True]


def test_unknown_and_unsold_articles_and_bad_parameters_are_one_line() -> None:
    data = planted()
    with pytest.raises(UnknownCustomerError, match="unknown article id '0999999999'"):
        lists_of(data, "0999999999", SIMILAR)
    with pytest.raises(UnsoldArticleError, match=f"article {ARTICLES[1]} was never sold"):
        lists_of(data, ARTICLES[1], BOUGHT_TOGETHER)
    with pytest.raises(ParameterError, match="--kind must be one of bought-together, similar"):
        lists_of(data, ARTICLES[0], "alike")
    with pytest.raises(ParameterError, match="--k must be an integer in 1..1000"):
        article_lists(data, 0)
    with pytest.raises(ParameterError, match="similarity must be one of"):
        article_lists(data, 3, params=NeighbourParams(similarity="dot"))
