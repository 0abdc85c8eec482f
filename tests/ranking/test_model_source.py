"""Registered models as candidate sources (ModelSource): the model's lists, its state saved with the ranker,
its parameters reached through the ranker's."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from planted import planted

from hmrec.data.dataset import Dataset
from hmrec.data.split import time_split
from hmrec.errors import DataError, ParameterError
from hmrec.models.persist import save_model
from hmrec.ranking import sources as sources_module
from hmrec.ranking.candidates import Candidates
from hmrec.ranking.ranker import Ranker
from hmrec.ranking.sources import SOURCES, ModelSource, SourceContext, make_source, model_source, source_param_names
from hmrec.registry import create, load_model

SMALL = {"sources": "repurchase:6,popularity:6,als:6,cluster:6", "trees": 10, "weeks": 1,
         "source__als__factors": 8, "source__cluster__k": 5}


@pytest.fixture(scope="module")
def train(tiny: Dataset) -> Dataset:
    return time_split(tiny).train


@pytest.fixture(scope="module")
def fitted(train: Dataset) -> Ranker:
    model = create("ranker", **SMALL)
    assert isinstance(model, Ranker)
    return model.fit(train)


def test_als_source_is_the_als_model_for_customers_who_bought(train: Dataset) -> None:
    source = make_source("als", SourceContext(seed=3, threads=1)).fit(train)
    assert isinstance(source, ModelSource)
    model = create("als", factors=32, iterations=8, track_loss=False, seed=3, threads=1).fit(train)
    np.testing.assert_array_equal(source.recommender.item_factors_, model.item_factors_)  # type: ignore[attr-defined]
    customers = np.arange(train.n_customers)
    ids, scores = source.candidates(customers, 10)
    want_ids, want_scores = model.candidates(customers, 10)
    bought = np.bincount(train.transactions["customer_idx"].to_numpy(), minlength=train.n_customers) > 0
    assert 0 < bought.sum() < bought.size
    np.testing.assert_array_equal(ids[bought], want_ids[bought])
    np.testing.assert_array_equal(scores[bought], want_scores[bought])
    # customers without a purchase get nothing (the model alone would give them its popularity fallback)
    assert (ids[~bought] == -1).all() and np.isneginf(scores[~bought]).all()
    assert (want_ids[~bought] >= 0).any()
    # its pair feature is p_c . q_a of every pair, whether the model could recommend the article or not
    pairs = Candidates(np.array([0, 0, 1], dtype=np.int32), np.array([0, 5, 7], dtype=np.int32),
                       np.zeros((3, 1), np.float32), np.zeros((3, 1), np.float32), ["als"])
    cust = np.array([int(np.flatnonzero(bought)[0]), int(np.flatnonzero(~bought)[0])])
    values = source.pair_values(cust, pairs)
    p, q = model.user_factors_[cust[pairs.row]], model.item_factors_[pairs.article]  # type: ignore[attr-defined]
    np.testing.assert_allclose(values, (p * q).sum(axis=1), rtol=1e-5)


def test_bpr_source_is_the_sgd_bpr_model_for_customers_who_bought(train: Dataset) -> None:
    context = SourceContext(seed=1, threads=1, model_params={"bpr": {"epochs": 3, "factors": 8}})
    source = make_source("bpr", context).fit(train)
    model = create("sgd-bpr", epochs=3, factors=8, seed=1, threads=1).fit(train)
    customers = np.arange(train.n_customers)
    ids, scores = source.candidates(customers, 10)
    want_ids, want_scores = model.candidates(customers, 10)
    bought = np.bincount(train.transactions["customer_idx"].to_numpy(), minlength=train.n_customers) > 0
    np.testing.assert_array_equal(ids[bought], want_ids[bought])
    np.testing.assert_array_equal(scores[bought], want_scores[bought])
    assert (ids[~bought] == -1).all()


def test_cluster_source_is_the_kmeans_customers_model(train: Dataset) -> None:
    source = make_source("cluster", SourceContext(seed=2)).fit(train)
    model = create("kmeans-customers", k=24, seed=2).fit(train)
    customers = np.arange(train.n_customers)
    for got, want in zip(source.candidates(customers, 20), model.candidates(customers, 20), strict=True):
        np.testing.assert_array_equal(got, want)
    assert SOURCES["cluster"].pair_feature is None and not SOURCES["cluster"].cold_by_age
    assert SOURCES["als"].pair_feature == "p_als_dot" and SOURCES["als"].cold_by_age


def test_a_model_source_is_one_line_and_its_pair_feature_is_the_models_score() -> None:
    data = planted()
    line = model_source("pop", "popularity", defaults={"days": 3}, pair_feature="p_pop")
    source = line.create(SourceContext()).fit(data)
    model = create("popularity", days=3).fit(data)
    customers = np.arange(data.n_customers)
    for got, want in zip(source.candidates(customers, 5), model.candidates(customers, 5), strict=True):
        np.testing.assert_array_equal(got, want)
    # sales of the last 3 days (01-08..01-10): a0 2, a2 1, a4 1, a5 1; a1 and a3 not a candidate: NaN
    pairs = Candidates(np.array([0, 0, 3], dtype=np.int32), np.array([0, 1, 4], dtype=np.int32),
                       np.zeros((3, 1), np.float32), np.zeros((3, 1), np.float32), ["pop"])
    np.testing.assert_array_equal(source.pair_values(customers, pairs), [2.0, np.nan, 1.0])
    # the state is the model's, and restores it
    again = line.create(SourceContext()).set_state(source.state())
    for got, want in zip(again.candidates(customers, 5), model.candidates(customers, 5), strict=True):
        np.testing.assert_array_equal(got, want)


def test_a_new_model_source_in_the_ranker(train: Dataset, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(SOURCES, "recent", model_source("recent", "popularity", cold_by_age=True))
    assert "source__recent__days" in source_param_names()
    ranker = create("ranker", sources="repurchase:6,recent:6", trees=10, weeks=1, source__recent__days=14)
    assert ranker.get_params()["source__recent__days"] == 14
    ranker.fit(train)
    recent = ranker._state.sources["recent"]  # type: ignore[attr-defined]
    customers = np.arange(train.n_customers)
    model = create("popularity", days=14).fit(train)
    for got, want in zip(recent.candidates(customers, 6), model.candidates(customers, 6), strict=True):
        np.testing.assert_array_equal(got, want)
    loaded = load_model(save_model(ranker, tmp_path / "ranker", train), train)
    for got, want in zip(loaded.recommend(customers, 12), ranker.recommend(customers, 12), strict=True):
        np.testing.assert_array_equal(got, want)


def test_source_parameters_reach_the_model_and_the_saved_ranker(fitted: Ranker, train: Dataset,
                                                                tmp_path: Path) -> None:
    als = fitted._state.sources["als"]
    assert isinstance(als, ModelSource)
    assert als.recommender.item_factors_.shape == (train.n_articles, 8)  # type: ignore[attr-defined]
    assert als.recommender.get_params()["iterations"] == 8  # the source's own default
    assert als.recommender.get_params()["threads"] == fitted.threads  # the ranker's threads and seed
    assert fitted._state.sources["cluster"].recommender.k_ == 5  # type: ignore[attr-defined]
    path = save_model(fitted, tmp_path / "ranker", train)
    params = json.loads((path / "model.json").read_text())["params"]
    assert params["source__als__factors"] == 8 and params["source__als__reg"] == 10.0
    assert params["source__cluster__k"] == 5
    loaded = load_model(path, train)
    assert loaded.get_params() == fitted.get_params()
    customers = np.arange(train.n_customers)
    for got, want in zip(loaded.recommend(customers, 12), fitted.recommend(customers, 12), strict=True):
        np.testing.assert_array_equal(got, want)


def test_source_parameter_errors() -> None:
    with pytest.raises(ParameterError, match="no parameter 'source__als__nope'"):
        create("ranker", source__als__nope=1)
    with pytest.raises(ParameterError, match="no parameter 'source__repurchase__half_life_days'"):
        create("ranker", source__repurchase__half_life_days=3)
    with pytest.raises(ParameterError, match="no parameter 'source__als__seed'"):  # the ranker's seed is the seed
        create("ranker", source__als__seed=3)
    with pytest.raises(ParameterError, match=r"^ranker: als: parameter 'source__als__factors' must be an integer"):
        create("ranker", source__als__factors="abc")
    # a source the ranker does not use is checked too, and so is a value set after creation
    with pytest.raises(ParameterError, match="'source__cluster__blend'"):
        create("ranker", sources="repurchase:6", source__cluster__blend=2)
    with pytest.raises(ParameterError, match="'source__als__factors'"):
        create("ranker").set_params(source__als__factors=0)._validate()  # type: ignore[attr-defined]


def test_a_saved_model_source_of_another_shape_is_refused(fitted: Ranker, train: Dataset, tmp_path: Path) -> None:
    path = save_model(fitted, tmp_path / "ranker", train)
    meta = json.loads((path / "model.json").read_text())
    meta["params"]["source__als__factors"] = 16  # the saved factors have 8 columns
    (path / "model.json").write_text(json.dumps(meta))
    from test_ranker import _rechecksum

    _rechecksum(path)
    with pytest.raises(DataError, match="'src.als.user_factors_' has shape") as info:
        load_model(path, train)
    assert "\n" not in str(info.value)


@pytest.mark.parametrize(
    ("param", "named"),
    [("ranker.source__als__nope=1", "no parameter 'source__als__nope'"),
     ("ranker.source__als__factors=abc", "parameter 'source__als__factors' must be an integer")],
)
def test_the_cli_refuses_a_bad_source_parameter_in_one_line(tiny_dir: Path, tmp_path: Path, param: str,
                                                           named: str) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "hmrec", "train", "--data", str(tiny_dir), "--model", "ranker", "--out",
         str(tmp_path / "m"), "--param", param, "--quiet"], capture_output=True, text=True,
    )
    assert result.returncode == 2
    assert named in result.stderr and "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "m").exists()


def test_the_source_param_names_follow_the_models() -> None:
    names = source_param_names()
    assert "source__als__factors" in names and "source__cluster__blend" in names
    assert not any(n.endswith(("__seed", "__threads")) for n in names)
    assert set(names) <= set(Ranker.param_names())
    assert sources_module.SOURCE_PARAM_PREFIX == "source__"


@pytest.mark.parametrize("name", sorted(SOURCES))
def test_every_source_pickles_by_name(name: str) -> None:
    """The Spark engine ships fitted sources to its executors with pickle: every class must be found by name."""
    import pickle

    source = make_source(name)
    again = pickle.loads(pickle.dumps(source))
    assert type(again) is type(source) and again.name == name
