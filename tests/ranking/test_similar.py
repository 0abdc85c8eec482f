"""The similar-article sources (``als-similar``, ``text-similar``): hand-worked lists on the planted data."""

from __future__ import annotations

import datetime as dt
from math import log, sqrt
from pathlib import Path

import numpy as np
import polars as pl
import pytest
import scipy.sparse as sp
from planted import planted

from hmrec.data.dataset import Dataset
from hmrec.data.split import time_split
from hmrec.errors import ParameterError
from hmrec.models.base import top_k
from hmrec.models.persist import save_model
from hmrec.ranking import similar
from hmrec.ranking.candidates import source_recall
from hmrec.ranking.similar import ALSSimilarSource, TextSimilarSource, nearest, text_columns
from hmrec.ranking.sources import SOURCES, make_source, parse_sources
from hmrec.registry import create, load_model

CUSTOMERS = np.arange(4)
W9 = 0.5 ** (9 / 14)  # a purchase 9 days before the cut-off, half-life 14 days
W1 = 0.5 ** (1 / 14)
W5 = 0.5 ** (5 / 14)
# planted's articles a0..a5; a1 and a3 never sold, a0 / a1 / a2 share one text, a5 shares no word with anyone
DESCRIPTIONS = ["red cotton dress", "red cotton dress", "red cotton dress", "blue wool coat", "blue cotton skirt",
                "green silk scarf"]
# TF-IDF over the 4 distinct texts, smooth idf ln((1 + 4) / (1 + df)) + 1: "cotton" and "blue" are in two
_ONE, _TWO = log(5 / 2) + 1, log(5 / 3) + 1
#: cosine of "red cotton dress" and "blue cotton skirt": only "cotton" is shared
COS_DRESS_SKIRT = _TWO**2 / (sqrt(2 * _ONE**2 + _TWO**2) * sqrt(2 * _TWO**2 + _ONE**2))


def texts(**columns: list[object]) -> Dataset:
    """planted() with ``DESCRIPTIONS`` as its only text column (its index group name made a constant)."""
    return planted(detail_desc=DESCRIPTIONS, index_group_name=["Ladieswear"] * 6, **columns)


def lists(source: object, n: int) -> tuple[list[list[int]], np.ndarray]:
    ids, scores = source.candidates(CUSTOMERS, n)  # type: ignore[attr-defined]
    assert ids.shape == scores.shape == (4, n)
    assert ids.dtype == np.int32 and scores.dtype == np.float32
    assert np.all(np.isneginf(scores[ids < 0])) and np.all(np.isfinite(scores[ids >= 0]))
    with np.errstate(invalid="ignore"):  # -inf - -inf in the padding
        assert np.all(np.diff(scores, axis=1)[ids[:, 1:] >= 0] <= 0)  # best first
    return [[int(a) for a in row if a >= 0] for row in ids], scores


# ---------------------------------------------------------------------- text
def test_text_neighbours_by_hand() -> None:
    source = TextSimilarSource().fit(texts())
    nb = source.neighbour_matrix().toarray()
    expected = np.zeros((6, 6), dtype=np.float32)
    # a0 and a2 share their text (cosine 1); a1 shares it too but was never sold in the last week, nor a3;
    # a5 shares no word with anyone
    expected[0, 2] = expected[2, 0] = 1.0
    expected[0, 4] = expected[2, 4] = expected[4, 0] = expected[4, 2] = COS_DRESS_SKIRT
    np.testing.assert_allclose(nb, expected, rtol=1e-6)
    ids, scores = lists(source, 4)
    # c0 (a0 twice, a2): a2 from a0, a0 from a2, a4 from both; c1 (a0, a4); c2 (a4, a5): a0 and a2 tie
    assert ids == [[2, 0, 4], [2, 0, 4], [0, 2], []]
    c = COS_DRESS_SKIRT
    np.testing.assert_allclose(scores[0, :3], [W9 + W1, 1.0, c * (W9 + W1 + 1)], rtol=1e-6)
    np.testing.assert_allclose(scores[1, :3], [W1 + c, c, W1 * c], rtol=1e-6)
    np.testing.assert_allclose(scores[2, :2], [W5 * c, W5 * c], rtol=1e-6)


def test_text_neighbour_cut_and_ties_go_to_the_lower_article() -> None:
    # a4's two neighbours a0 and a2 tie (one text): with one neighbour each, a4 keeps a0
    nb = TextSimilarSource(neighbours=1).fit(texts()).neighbour_matrix().toarray()
    assert np.flatnonzero(nb[4]).tolist() == [0]
    assert np.flatnonzero(nb[0]).tolist() == [2] and np.flatnonzero(nb[2]).tolist() == [0]


def test_text_same_text_is_the_top_neighbour_even_when_listed_late() -> None:
    # a5 and a0 share a text, a2 a word of it: a5's top neighbour is a0 (cosine 1), however the texts sort
    desc = ["zebra print top", "blue wool coat", "zebra top", "blue wool coat", "grey sock", "zebra print top"]
    nb = TextSimilarSource().fit(planted(detail_desc=desc, index_group_name=["x"] * 6)).neighbour_matrix()
    row = nb.toarray()[5]
    assert row[0] == pytest.approx(1.0) and 0 < row[2] < 1 and row[4] == 0


def test_exclude_bought_leaves_out_the_customers_own_articles() -> None:
    ids, _ = lists(TextSimilarSource(exclude_bought=True).fit(texts()), 4)
    assert ids == [[4], [2], [0, 2], []]


def test_an_article_never_sold_lately_is_never_proposed() -> None:
    # a1 has a0's text but no sale in the last week; with two weeks' targets nothing changes (no sale either)
    for weeks in (1, 2):
        source = TextSimilarSource(recent_weeks=weeks).fit(texts())
        assert source.neighbour_matrix()[:, [1, 3]].nnz == 0
    # with the last day only, a0 is no target any more: only a2 (sold on the last day) stays
    day = TextSimilarSource(recent_weeks=1 / 7).fit(texts()).neighbour_matrix().toarray()
    assert np.flatnonzero(day.any(axis=0)).tolist() == [2, 4]


def test_text_in_blocks_equals_all_at_once(monkeypatch: pytest.MonkeyPatch) -> None:
    whole = TextSimilarSource().fit(texts()).neighbour_matrix()
    monkeypatch.setattr(similar, "BLOCK_CELLS", 1)  # one row per block
    blocked = TextSimilarSource().fit(texts()).neighbour_matrix()
    assert (whole != blocked).nnz == 0


def test_text_columns_are_chosen_from_their_values() -> None:
    n = 20
    frame = pl.DataFrame({
        "article_id": [f"{i:010d}" for i in range(n)],
        "group": ["Ladies", "Men"] * (n // 2),  # 2 values for 20 articles: a category
        "title": [f"Name {i // 2}" for i in range(n)],  # 10 values: a name, shared by two colours
        "notes": ["a long text with many words in it"] * n,  # one value, but a description
        "code": [str(i) for i in range(n)],  # unique, but no letters
        "number": list(range(n)),
    })
    assert text_columns(frame) == ["title", "notes"]
    assert text_columns(frame.select("article_id", "group", "code", "number")) == []


def test_text_on_the_generated_articles_picks_names_and_descriptions(tiny: Dataset) -> None:
    # the generated files are laid out as H&M's: the product name and the description read as text, none of
    # the categories (the code never names a column; this test says what it finds)
    assert text_columns(tiny.articles) == ["prod_name", "detail_desc"]
    source = TextSimilarSource().fit(time_split(tiny).train)
    assert source.neighbour_matrix().nnz > 0


def test_no_text_no_purchases_no_candidates() -> None:
    # planted with a constant group name has no text column: no neighbours, nothing proposed, no error
    no_text = TextSimilarSource().fit(planted(index_group_name=["x"] * 6))
    assert lists(no_text, 3)[0] == [[], [], [], []]
    # no purchases at all (the data cut before its first day)
    empty = texts().between(dt.date(2019, 1, 1), dt.date(2019, 1, 2))
    for source in (TextSimilarSource(), ALSSimilarSource()):
        fitted = source.fit(empty)
        assert lists(fitted, 3)[0] == [[], [], [], []]
    # punctuation is no text
    desc = ["- - -", "...", "?? !", "- -", "~", "!!"]
    marks = TextSimilarSource().fit(planted(detail_desc=desc, index_group_name=["x"] * 6))
    assert marks.neighbour_matrix().nnz == 0


# ---------------------------------------------------------------------- ALS
def test_nearest_by_hand_in_blocks(monkeypatch: pytest.MonkeyPatch) -> None:
    q = np.array([[1, 0], [1, 1], [0, 1], [-1, 0], [2, 0], [0, 3]], dtype=np.float32)
    unit = similar.unit_rows(q)
    targets = np.array([1, 2, 3, 4, 5])
    rows = np.array([0, 1, 4])

    def run() -> np.ndarray:
        return nearest(lambda b: unit[b] @ unit[targets].T, rows, targets, 2, (6, 6), exclude_self=True).toarray()

    got = run()
    r2 = 1 / sqrt(2)
    expected = np.zeros((6, 6))
    expected[0, [4, 1]] = [1.0, r2]  # a3 is opposite (negative: never a neighbour), a2 and a5 orthogonal
    expected[1, [2, 4]] = [r2, r2]  # a2, a4, a5 tie at 1/sqrt(2): the two lowest; a1 is itself
    expected[4, 1] = r2  # a0 would be 1 but is no target, a4 is itself, the rest are not positive
    np.testing.assert_allclose(got, expected, rtol=1e-6)
    monkeypatch.setattr(similar, "BLOCK_CELLS", 1)
    np.testing.assert_array_equal(run(), got)


@pytest.mark.parametrize("k", [1, 3, 7, 12])
def test_top_positive_is_top_k_without_the_non_positive(k: int) -> None:
    rng = np.random.default_rng(k)
    scores = rng.integers(-2, 4, size=(300, 9)).astype(np.float32)  # many ties, at every place
    scores[rng.random(scores.shape) < 0.1] = -np.inf
    ids, values = similar._top_positive(scores, k)
    ref_ids, ref_values = top_k(scores, k)
    keep = ref_values > 0
    np.testing.assert_array_equal(ids, np.where(keep, ref_ids, -1))
    np.testing.assert_array_equal(values, np.where(keep, ref_values, -np.inf))


def test_als_similar_learns_groups_of_articles_bought_together() -> None:
    # 30 customers buy within a0..a2, 30 others within a3..a5, every article every week: each article's
    # neighbours are the two of its own group, whichever similarity
    arts = [f"0{100000001 + i}" for i in range(6)]
    custs = [f"{i:064x}" for i in range(60)]
    days = [dt.date(2020, 1, 1) + dt.timedelta(days=d) for d in range(0, 28, 3)]
    rows = [(day, c, (c // 30) * 3 + (c + k) % 3) for c in range(60) for k, day in enumerate(days)]
    tx = pl.DataFrame({"t_dat": [r[0] for r in rows], "customer_id": [custs[r[1]] for r in rows],
                       "article_id": [arts[r[2]] for r in rows], "price": [0.01] * len(rows),
                       "sales_channel_id": [1] * len(rows)})
    data = Dataset.from_frames(pl.DataFrame({"article_id": arts}), pl.DataFrame({"customer_id": custs}), tx)
    for similarity in ("cosine", "projection"):
        nb = ALSSimilarSource(neighbours=2, similarity=similarity).fit(data).neighbour_matrix().toarray()
        assert [set(np.flatnonzero(row).tolist()) for row in nb] == [{1, 2}, {0, 2}, {0, 1}, {4, 5}, {3, 5}, {3, 4}]


def test_als_similar_on_planted() -> None:
    source = ALSSimilarSource(seed=3).fit(planted())
    nb = source.neighbour_matrix()
    # rows: the articles bought in the window; columns: the last week's sellers a0, a2, a4, a5, never itself
    assert set(np.flatnonzero(np.diff(nb.indptr)).tolist()) <= {0, 2, 4, 5}
    assert set(nb.indices.tolist()) <= {0, 2, 4, 5} and nb.diagonal().sum() == 0
    ids, _ = lists(source, 5)
    assert ids[3] == []  # c3 never bought
    again = ALSSimilarSource(seed=3).fit(planted())
    for key, value in source.state().items():
        np.testing.assert_array_equal(value, again.state()[key])
    with pytest.raises(ParameterError, match="'similarity' must be one of cosine, projection"):
        ALSSimilarSource(similarity="dot").fit(planted())


# ---------------------------------------------------------------------- registry, recall, the ranker
def test_registered_with_the_other_sources() -> None:
    assert {"als-similar", "text-similar"} <= set(SOURCES)
    assert parse_sources("text-similar:6,als-similar") == {"text-similar": 6, "als-similar": 12}
    assert isinstance(make_source("text-similar"), TextSimilarSource)
    data = texts()
    sources = {name: make_source(name).fit(data) for name in ("text-similar", "repurchase")}
    truth = sp.csr_matrix(np.array([[0, 0, 0, 0, 1, 0], [0, 0, 1, 0, 0, 0]], dtype=np.float32))
    frame = source_recall(sources, np.array([0, 1]), truth, ns=(1, 3), n_articles=6)
    got = {(r["source"], r["n"]): r["recall"] for r in frame.iter_rows(named=True)}
    # c0's list is a2, a0, a4 and c1's a2, a0, a4: at 1 only c1's a2, at 3 both pairs
    assert got[("text-similar", 1)] == 1 / 2 and got[("text-similar", 3)] == 1.0


def test_state_is_arrays_and_numbers_and_restores() -> None:
    data = texts()
    for source in (TextSimilarSource().fit(data), ALSSimilarSource().fit(data)):
        state = source.state()
        assert state and all(isinstance(v, (np.ndarray, int, float)) for v in state.values())
        restored = type(source)().set_state(state)
        for a, b in zip(source.candidates(CUSTOMERS, 5), restored.candidates(CUSTOMERS, 5), strict=True):
            np.testing.assert_array_equal(a, b)


def test_the_ranker_saves_and_reloads_them(tmp_path: Path, tiny: Dataset) -> None:
    train = time_split(tiny).train
    params = {"sources": "repurchase:12,popularity:12,als-similar:12,text-similar:12", "trees": 10, "weeks": 1}
    model = create("ranker", **params).fit(train)
    customers = np.arange(0, train.n_customers, 7)
    loaded = load_model(save_model(model, tmp_path / "ranker", train), train)
    for a, b in zip(model.recommend(customers, 12), loaded.recommend(customers, 12), strict=True):
        np.testing.assert_array_equal(a, b)
