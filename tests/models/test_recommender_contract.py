"""The Recommender contract, checked the same way for every registered model.

:func:`check_contract` is the shared helper: shapes and dtypes, padding, sorted scores, no duplicates, batch
equals single-customer results, a refit starts from scratch, save/restore round trip, determinism under a
seed, and a fallback (no exception) for customers without history. It runs over ``available()``, so a newly
registered model is checked without touching this file.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import polars as pl
import pytest

from hmrec.data.dataset import Dataset
from hmrec.data.schema import ARTICLE_COLUMNS, ARTICLE_ID, ARTICLE_INT_COLUMNS
from hmrec.errors import NotFittedError, ParameterError
from hmrec.models.base import Recommender, top_k
from hmrec.models.persist import save_model
from hmrec.registry import available, create, load_model

K = 12


def random_dataset(seed: int, n_customers: int = 60, n_articles: int = 40, n_rows: int = 900) -> Dataset:
    """Skewed random purchases over 10 weeks; the last 6 customers never buy (cold)."""
    rng = np.random.default_rng(seed)
    # every column of the competition files, with a few distinct values each (models may use any of them)
    articles = pl.DataFrame(
        {
            name: (
                [f"{i + 100:010d}" for i in range(n_articles)] if name == ARTICLE_ID
                else rng.integers(1, 5, n_articles) if name in ARTICLE_INT_COLUMNS
                else [f"{name} {v}" for v in rng.integers(0, 4, n_articles)]
            )
            for name in ARTICLE_COLUMNS
        }
    )
    ages = [None if i % 7 == 0 else int(a) for i, a in enumerate(rng.integers(16, 80, n_customers))]
    customers = pl.DataFrame(
        {
            "customer_id": [f"{i:064x}" for i in range(n_customers)],
            "FN": [1.0 if v else None for v in rng.random(n_customers) < 0.4],
            "Active": [1.0 if v else None for v in rng.random(n_customers) < 0.4],
            "club_member_status": rng.choice(["ACTIVE", "PRE-CREATE"], n_customers),
            "fashion_news_frequency": rng.choice(["NONE", "Regularly"], n_customers),
            "age": ages,
            "postal_code": [f"{v:064x}" for v in rng.integers(0, 10, n_customers)],
        }
    )
    popularity = 1.0 / np.arange(1, n_articles + 1) ** 0.8
    day0 = dt.date(2020, 7, 15)
    cust = rng.integers(0, n_customers - 6, n_rows)
    # customers repeat their own favourites: half of the rows come from an article near the customer's id
    own = (cust * 7 + rng.integers(0, 3, n_rows)) % n_articles
    pop = rng.choice(n_articles, n_rows, p=popularity / popularity.sum())
    art = np.where(rng.random(n_rows) < 0.5, own, pop)
    days = rng.integers(0, 70, n_rows)
    tx = pl.DataFrame(
        {
            "t_dat": [day0 + dt.timedelta(days=int(d)) for d in days],
            "customer_id": [f"{c:064x}" for c in cust],
            "article_id": [f"{a + 100:010d}" for a in art],
            "price": rng.random(n_rows) * 0.05,
            "sales_channel_id": rng.integers(1, 3, n_rows),
        }
    )
    return Dataset.from_frames(articles, customers, tx)


def fitted(name: str, train: Dataset, **params: object) -> Recommender:
    return create(name, **params).fit(train)


def check_output(ids: np.ndarray, scores: np.ndarray, n: int, k: int, n_articles: int, name: str) -> None:
    assert ids.shape == (n, k) and scores.shape == (n, k), name
    assert ids.dtype == np.int32 and scores.dtype == np.float32, name
    pad = ids < 0
    assert (ids[pad] == -1).all() and np.isneginf(scores[pad]).all(), f"{name}: padding is -1 / -inf"
    assert np.isfinite(scores[~pad]).all(), f"{name}: real recommendations have finite scores"
    assert (ids[~pad] < n_articles).all(), name
    # padding only at the end of a row
    assert not (pad[:, :-1] & ~pad[:, 1:]).any(), f"{name}: padding before a recommendation"
    assert ((scores[:, 1:] <= scores[:, :-1]) | pad[:, 1:]).all(), f"{name}: scores are not sorted best first"
    srt = np.sort(np.where(pad, -1 - np.arange(k)[None, :], ids), axis=1)
    assert not (srt[:, 1:] == srt[:, :-1]).any(), f"{name}: duplicate article in a row"


def check_scores(model: Recommender, everyone: np.ndarray, ids: np.ndarray, scores: np.ndarray, name: str) -> None:
    """``recommend`` = ``candidates``; ``score`` agrees with the lists; nothing unlisted scores higher."""
    c_ids, c_scores = model.candidates(everyone, K)
    np.testing.assert_array_equal(c_ids, ids, err_msg=f"{name}: recommend is candidates(customers, k)")
    np.testing.assert_array_equal(c_scores, scores, err_msg=f"{name}: recommend is candidates(customers, k)")
    n_articles = model.n_articles_  # type: ignore[attr-defined]
    deep = n_articles + 3
    d_ids, d_scores = model.candidates(everyone, deep)
    np.testing.assert_array_equal(d_ids[:, :K], ids, err_msg=f"{name}: shorter lists are prefixes")
    # score() at the listed pairs equals the listed scores
    rows = np.repeat(everyone, deep).reshape(d_ids.shape)
    listed = d_ids >= 0
    got = model.score(rows[listed], d_ids[listed])
    assert got.dtype == np.float32 and got.shape == (int(listed.sum()),), name
    # atol: float32 dot products summed in another order (kernel tiles vs one pair) differ by ~1e-7
    np.testing.assert_allclose(got, d_scores[listed], rtol=1e-5, atol=1e-6, err_msg=f"{name}: score vs lists")
    # every customer's full list is exactly the articles with a finite score, and k lists hold the best ones
    some = everyone[:: max(1, everyone.size // 25)]
    pair_c = np.repeat(some, n_articles)
    pair_a = np.tile(np.arange(n_articles), some.size)
    dense = model.score(pair_c, pair_a).reshape(some.size, n_articles)
    for row, c in enumerate(some):  # a few dozen customers of a test data set
        finite = np.flatnonzero(np.isfinite(dense[row]))
        np.testing.assert_array_equal(np.sort(d_ids[c][d_ids[c] >= 0]), finite, err_msg=f"{name}: customer {c}")
        if ids[c, -1] >= 0:
            others = np.setdiff1d(finite, ids[c])
            assert (dense[row, others] <= scores[c, -1] + 1e-5 * max(1.0, abs(float(scores[c, -1])))).all(), (
                f"{name}: an unlisted article scores above customer {c}'s list"
            )
    # the shared top-k over the dense scores picks the same lists (up to ties at float precision)
    top_ids, top_scores = top_k(dense, K)
    np.testing.assert_allclose(top_scores, scores[some], rtol=1e-5, atol=1e-6, err_msg=f"{name}: top-k of score")
    # wrong pairs are a one-line user error
    with pytest.raises(ParameterError):
        model.score(everyone[:2], everyone[:3])
    with pytest.raises(ParameterError):
        model.score(everyone[:1], np.array([n_articles]))


def check_contract(name: str, train: Dataset, other: Dataset, tmp_path: Path, **params: object) -> None:
    """Every promise of the Recommender interface, for model ``name`` fitted on ``train``."""
    n_customers, n_articles = train.n_customers, train.n_articles
    everyone = np.arange(n_customers)
    with pytest.raises(NotFittedError):
        create(name, **params).recommend(everyone[:2], K)

    model = create(name, **params)
    assert model.fit(train) is model, f"{name}: fit returns self"
    ids, scores = model.recommend(everyone, K)
    check_output(ids, scores, n_customers, K, n_articles, name)
    assert (ids >= 0).any(axis=1).mean() > 0.5, f"{name}: most customers get recommendations"

    # cold customers (no purchases): a fallback, no exception (nothing, for a part meant to be filled)
    bought = np.unique(train.transactions["customer_idx"].to_numpy())
    cold = np.setdiff1d(everyone, bought)
    assert cold.size
    cold_ids, _ = model.recommend(cold, K)
    if model.covers_cold:
        assert (cold_ids[:, 0] >= 0).all(), f"{name}: cold customers get a fallback"
    else:
        assert (cold_ids == -1).all(), f"{name}: covers_cold is False but cold customers got a list"
    assert model.score_kind in ("raw", "rank"), name

    check_scores(model, everyone, ids, scores, name)

    # batch == single customer, in any order and with repeats
    order = np.array([5, 0, n_customers - 1, 5, 17])
    batch_ids, batch_scores = model.recommend(order, K)
    for row, c in enumerate(order):
        one_ids, one_scores = model.recommend(np.array([c]), K)
        np.testing.assert_array_equal(one_ids[0], ids[c], err_msg=f"{name}: single vs all")
        np.testing.assert_array_equal(batch_ids[row], ids[c], err_msg=f"{name}: batch order")
        # atol: float32 dot products summed in another order (batch tiles vs one row) differ by ~1e-7
        np.testing.assert_allclose(one_scores[0], scores[c], rtol=1e-5, atol=1e-6, err_msg=name)
        np.testing.assert_allclose(batch_scores[row], scores[c], rtol=1e-5, atol=1e-6, err_msg=name)

    # k: shorter lists are the prefix of longer ones for the ids that are certain (ties aside); k=1 works
    ids1, _ = model.recommend(everyone, 1)
    check_output(ids1, *model.recommend(everyone, 1)[1:], n_customers, 1, n_articles, name)
    big = n_articles + 5
    ids_big, scores_big = model.recommend(everyone[:3], big)
    check_output(ids_big, scores_big, 3, big, n_articles, name)
    with pytest.raises(ParameterError):
        model.recommend(everyone[:2], 0)
    empty_ids, empty_scores = model.recommend(np.array([], dtype=np.int32), K)
    assert empty_ids.shape == (0, K) and empty_scores.shape == (0, K)

    # a refit starts from scratch: fitting on other data first changes nothing
    refit = create(name, **params).fit(other).fit(train)
    np.testing.assert_array_equal(refit.recommend(everyone, K)[0], ids, err_msg=f"{name}: refit")

    # deterministic: a fresh model with the same parameters (and seed) gives the same output, byte for byte
    again_ids, again_scores = create(name, **params).fit(train).recommend(everyone, K)
    assert again_ids.tobytes() == ids.tobytes() and again_scores.tobytes() == scores.tobytes(), name

    # save_model / load_model: the same recommendations on the same data (fingerprint checked)
    save_model(model, tmp_path / f"{name}-saved", train)
    loaded = load_model(tmp_path / f"{name}-saved", train)
    l_ids, l_scores = loaded.recommend(everyone, K)
    np.testing.assert_array_equal(l_ids, ids, err_msg=f"{name}: load_model")
    np.testing.assert_array_equal(l_scores, scores, err_msg=f"{name}: load_model")

    # save / restore round trip
    model.save(tmp_path / name)
    payload, arrays = type(model).load_state(tmp_path / name)  # a model may keep files of its own
    assert payload["model"] == name
    restored = create(name, **payload["params"]).restore(payload, arrays)
    r_ids, r_scores = restored.recommend(everyone, K)
    np.testing.assert_array_equal(r_ids, ids, err_msg=f"{name}: restore")
    np.testing.assert_array_equal(r_scores, scores, err_msg=f"{name}: restore")


@pytest.fixture(scope="module")
def train() -> Dataset:
    return random_dataset(0)


@pytest.fixture(scope="module")
def other() -> Dataset:
    return random_dataset(1, n_articles=40)


def contract_models() -> list[str]:
    return [name for name, info in available().items() if not info.needs_truth]


@pytest.mark.parametrize("name", contract_models())
def test_contract(name: str, train: Dataset, other: Dataset, tmp_path: Path) -> None:
    # with default parameters every model promises byte-for-byte determinism, whatever its thread count
    check_contract(name, train, other, tmp_path)


@pytest.mark.parametrize(
    ("name", "params"),
    [
        ("popularity", {"filter_bought": True}),
        ("popularity-decay", {"filter_bought": True, "recent_weeks": 2}),
        ("popularity-age", {"filter_bought": True, "buckets": "deciles"}),
        ("repurchase", {"primary__max_weeks": 4, "primary__recent_weeks": 3, "fallback__recent_weeks": 3}),
        ("history", {"max_weeks": 4, "recent_weeks": 3}),
        ("als+repurchase", {"fallback__filter_bought": True, "fallback__threads": 1, "primary__max_weeks": 3}),
        ("kmeans-customers", {"blend": 0.0, "k": 3}),
        ("kmeans-articles", {"k": 16}),
        ("random", {"filter_bought": True, "seed": 7}),
    ],
)
def test_contract_with_options(name: str, params: dict[str, object], train: Dataset, other: Dataset,
                               tmp_path: Path) -> None:
    check_contract(name, train, other, tmp_path, **params)


def test_contract_filter_bought_excludes_purchases(train: Dataset) -> None:
    seen = train.interactions(binary=True)
    for name in ("popularity", "popularity-decay", "popularity-age", "random"):
        ids, _ = create(name, filter_bought=True).fit(train).recommend(np.arange(train.n_customers), K)
        rows = np.repeat(np.arange(train.n_customers), K)
        flat = ids.ravel()
        hit = np.asarray(seen[rows[flat >= 0], flat[flat >= 0]]).ravel()
        assert not hit.any(), name


def final_week_split(data: Dataset) -> Dataset:
    end = data.end_date
    assert end is not None
    return data.between(None, end - dt.timedelta(days=7))


def test_contract_needs_truth_models(
    request: pytest.FixtureRequest, tmp_path: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """Models that need the generator's truth (the oracle): the contract on the final-week split, with the
    refit checked against another generated data set (another seed: other truth, other lists)."""
    from hmrec.data.load import load_dataset
    from hmrec.synthetic import generate

    tiny: Dataset = request.getfixturevalue("tiny")
    train = final_week_split(tiny)
    other_dir = tmp_path_factory.mktemp("tiny-seed1")
    generate(other_dir, scale="tiny", seed=1, progress=False)
    other = final_week_split(load_dataset(other_dir, progress=False))
    everyone = np.arange(min(train.n_customers, other.n_customers))
    end = tiny.end_date
    assert end is not None
    for name, info in available().items():
        if info.needs_truth:
            check_contract(name, train, other, tmp_path)
            # fitted on the other data set, the model recommends from that data set's truth
            here, _ = create(name).fit(train).recommend(everyone, K)
            there, _ = create(name).fit(other).recommend(everyone, K)
            assert np.mean(here != there) > 0.5, name
            with pytest.raises(ParameterError, match="final week"):
                create(name).fit(tiny.between(None, end - dt.timedelta(days=8)))
