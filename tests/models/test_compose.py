"""Fill: properties of the composed lists (hypothesis), the score mapping, and the presets' parameters."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any, Self, cast

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from hmrec.data.dataset import Dataset
from hmrec.errors import ParameterError
from hmrec.models import _reference
from hmrec.models.base import Recommender, top_k
from hmrec.models.compose import Fill
from hmrec.models.lists import below
from hmrec.registry import create


class Table(Recommender):
    """Scores given as a dense customers x articles table (-inf: not a candidate)."""

    def __init__(self, table: Any = None, floor: float = -np.inf) -> None:
        self.table = table
        self.floor = floor

    @property
    def score_floor(self) -> float:  # type: ignore[override]
        return float(self.floor)

    def fit(self, train: Dataset) -> Self:
        self.table_ = np.asarray(self.table, dtype=np.float32)
        return self

    def score(self, customers: np.ndarray, articles: np.ndarray) -> np.ndarray:
        return cast(np.ndarray, self.table_[customers, articles])

    def candidates(self, customers: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
        return top_k(self.table_[customers], n)


def tables(shape: tuple[int, int], low: int) -> st.SearchStrategy[np.ndarray]:
    """Small integer scores (distinct after ``below``) with about a third of the cells not candidates."""
    values = st.one_of(st.integers(low, 20).map(float), st.just(-np.inf), st.just(-np.inf))
    return hnp.arrays(np.float64, shape, elements=values)


def fitted_fill(primary: np.ndarray, fallback: np.ndarray) -> Fill:
    fill = Fill(Table(primary, floor=0.0), Table(fallback))
    return fill.fit(cast(Dataset, SimpleNamespace(n_customers=primary.shape[0], n_articles=primary.shape[1])))


@settings(max_examples=60, deadline=None)
@given(
    data=st.data(),
    n_customers=st.integers(1, 5),
    n_articles=st.integers(1, 12),
    n=st.integers(1, 15),
)
def test_fill_lists(data: st.DataObject, n_customers: int, n_articles: int, n: int) -> None:
    primary = data.draw(tables((n_customers, n_articles), low=1))  # the primary scores above its floor 0
    fallback = data.draw(tables((n_customers, n_articles), low=-5))
    fill = fitted_fill(primary, fallback)
    customers = np.arange(n_customers)
    ids, scores = fill.candidates(customers, n)
    source = fill.source(customers, n)
    p_ids, _ = top_k(primary, n)
    for c in customers:  # a handful of generated rows
        row = ids[c][ids[c] >= 0]
        either = np.isfinite(primary[c]) | np.isfinite(fallback[c])
        assert row.size == min(n, int(either.sum())), "length = min(n, candidates of either part)"
        assert np.unique(row).size == row.size, "no duplicates"
        assert (ids[c][row.size :] == -1).all() and np.isneginf(scores[c][row.size :]).all()
        own = p_ids[c][p_ids[c] >= 0]
        np.testing.assert_array_equal(row[: own.size], own)  # the primary's list first, in its order
        assert (source[c][: own.size] == "primary").all() and (source[c][own.size : row.size] == "fallback").all()
        assert (scores[c][: own.size] > 0).all() and (scores[c][own.size : row.size] < 0).all()
        assert (np.diff(scores[c][: row.size]) <= 0).all(), "sorted best first"
    # the lists are the top n of Fill.score over every article
    dense = fill.score(np.repeat(customers, n_articles), np.tile(np.arange(n_articles), n_customers))
    top_ids, top_scores = top_k(dense.reshape(n_customers, n_articles), n)
    np.testing.assert_array_equal(top_ids, ids)
    np.testing.assert_array_equal(top_scores, scores)


@given(hnp.arrays(np.float32, 20, elements=st.floats(-1e6, 1e6, width=32)), st.floats(-10, 10))
def test_below_keeps_the_order_under_the_floor(scores: np.ndarray, floor: float) -> None:
    mapped = below(floor, scores)
    assert mapped.dtype == np.float32 and (mapped < np.float32(floor) + 1e-6).all()
    order = np.argsort(scores, kind="stable")
    assert (np.diff(mapped[order]) >= 0).all()
    assert np.isneginf(below(floor, np.array([-np.inf])))[0]


def test_below_values() -> None:
    np.testing.assert_allclose(below(0.0, np.array([0.0, 1.0, 3.0, -1.0])), [-1.0, -0.5, -0.25, -2.0])
    np.testing.assert_allclose(below(2.0, np.array([1.0])), [1.5])


def test_fill_needs_a_primary_with_a_floor() -> None:
    with pytest.raises(ParameterError, match="unbounded scores.*fix"):
        Fill(Table(np.zeros((1, 1))), Table(np.zeros((1, 1))))


def test_presets_take_prefixed_parameters() -> None:
    model = create("als+repurchase", fallback__factors=8, primary__half_life_days=7)
    assert isinstance(model, Fill)
    params = model.get_params()
    assert params["fallback__factors"] == 8 and params["primary__half_life_days"] == 7
    assert model.primary.name == "history" and model.fallback.name == "als"
    with pytest.raises(ParameterError, match="no parameter 'factors'"):
        create("als+repurchase", factors=8)
    with pytest.raises(ParameterError, match="no parameter 'fallback__nope'"):
        create("repurchase", fallback__nope=1)
    # a part's bad value is reported with the prefix the user wrote
    train = Dataset.from_frames(*_reference.planted_frames())
    with pytest.raises(ParameterError, match="repurchase: .*parameter 'primary__half_life_days'"):
        create("repurchase", primary__half_life_days=-1).fit(train)


def test_seed_reaches_a_parts_seed_unless_given() -> None:
    from hmrec.models.base import seed_params

    assert seed_params(create("sgd+repurchase"), 5, {}).get_params()["fallback__seed"] == 5
    given = {"fallback__seed": 1}
    assert seed_params(create("sgd+repurchase", **given), 5, given).get_params()["fallback__seed"] == 1
    assert seed_params(create("random"), 5, {}).get_params()["seed"] == 5
