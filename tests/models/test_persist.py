"""Saving and loading models: exact round trip, atomic replacement, refusal of other data."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from hmrec.data.dataset import Dataset
from hmrec.errors import DataError, ModelMismatchError
from hmrec.models import _reference, create
from hmrec.models.persist import read_metadata, save_model
from hmrec.registry import load_model


@pytest.fixture(scope="module")
def planted() -> Dataset:
    return Dataset.from_frames(*_reference.planted_frames())


@pytest.mark.parametrize(
    ("name", "params"),
    [
        ("als", {"factors": 8, "iterations": 3}),
        ("als+repurchase", {"fallback__factors": 8, "fallback__iterations": 3, "fallback__filter_bought": True,
                            "primary__max_weeks": 2}),
        ("sgd-bpr", {"factors": 8, "epochs": 3, "threads": 1, "recent_weeks": None}),
    ],
)
def test_round_trip_is_exact(tmp_path: Path, planted: Dataset, name: str, params: dict[str, object]) -> None:
    model = create(name, **params).fit(planted)
    save_model(model, tmp_path / "model", planted)
    loaded = load_model(tmp_path / "model", planted)
    assert type(loaded) is type(model)
    assert loaded.get_params() == model.get_params()
    for key, value in vars(model).items():
        if key.endswith("_") and isinstance(value, np.ndarray):
            np.testing.assert_array_equal(getattr(loaded, key), value, err_msg=key)
    customers = np.arange(planted.n_customers)
    ids, scores = model.recommend(customers, 12)
    loaded_ids, loaded_scores = loaded.recommend(customers, 12)
    np.testing.assert_array_equal(loaded_ids, ids)
    np.testing.assert_array_equal(loaded_scores, scores)
    meta = read_metadata(tmp_path / "model")
    assert meta["model"] == name and meta["fingerprint"] == planted.fingerprint
    assert {"hmrec_version", "format_version", "params"} <= set(meta)


def test_saving_replaces_atomically(tmp_path: Path, planted: Dataset) -> None:
    target = tmp_path / "model"
    save_model(create("als", factors=4, iterations=1).fit(planted), target, planted)
    save_model(create("als", factors=6, iterations=1).fit(planted), target, planted)
    assert json.loads((target / "model.json").read_text())["params"]["factors"] == 6
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model"]  # no temporary directories left behind
    assert sorted(p.name for p in target.iterdir()) == ["arrays.npz", "model.json"]


def test_loading_onto_other_data_is_refused(tmp_path: Path, planted: Dataset) -> None:
    save_model(create("als", factors=4, iterations=1).fit(planted), tmp_path / "model", planted)
    other = Dataset.from_frames(*_reference.planted_frames(seed=1))
    assert other.fingerprint != planted.fingerprint
    with pytest.raises(ModelMismatchError, match="trained on other data.*fix: retrain") as info:
        load_model(tmp_path / "model", other)
    assert "\n" not in str(info.value)


def test_missing_model_is_a_data_error(tmp_path: Path, planted: Dataset) -> None:
    with pytest.raises(DataError, match="no saved model"):
        load_model(tmp_path / "nothing", planted)
    with pytest.raises(Exception, match="not fitted"):
        save_model(create("als"), tmp_path / "unfitted", planted)


# ---------------------------------------------------------------------- hmrec train
def _write_planted_csvs(directory: Path) -> Path:
    """The planted data set as the three competition files (filler values in the descriptive columns)."""
    import polars as pl

    from hmrec.data.schema import ARTICLE_COLUMNS, ARTICLE_INT_COLUMNS, CUSTOMER_COLUMNS

    articles, customers, transactions = _reference.planted_frames()
    directory.mkdir(parents=True)
    n = articles.height
    articles = articles.with_columns(
        [pl.Series(c, np.arange(n) + 100) for c in ARTICLE_INT_COLUMNS]
        + [pl.lit(f"{c} x").alias(c) for c in ARTICLE_COLUMNS
           if c not in ARTICLE_INT_COLUMNS and c != "article_id"]
    ).select(ARTICLE_COLUMNS)
    customers = customers.with_columns(
        pl.lit(None, dtype=pl.Float64).alias("FN"), pl.lit(None, dtype=pl.Float64).alias("Active"),
        pl.lit("ACTIVE").alias("club_member_status"), pl.lit("NONE").alias("fashion_news_frequency"),
        pl.lit(30).alias("age"), pl.lit("p0").alias("postal_code"),
    ).select(CUSTOMER_COLUMNS)
    articles.write_csv(directory / "articles.csv")
    customers.write_csv(directory / "customers.csv")
    transactions.write_csv(directory / "transactions_train.csv")
    return directory


def _hmrec(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "hmrec", *args], capture_output=True, text=True, timeout=300)


def test_train_command_fits_saves_and_reloads(tmp_path: Path) -> None:
    from hmrec.data.load import load_dataset

    data = _write_planted_csvs(tmp_path / "data")
    out = tmp_path / "model"
    done = _hmrec("train", "--data", str(data), "--model", "als", "--out", str(out),
                  "--param", "als.factors=8", "--param", "als.iterations=2", "--seed", "3", "--quiet")
    assert done.returncode == 0, done.stderr
    assert "Saved model 'als'" in done.stdout
    dataset = load_dataset(data, progress=False)
    model = load_model(out, dataset)
    assert model.get_params()["factors"] == 8 and model.get_params()["seed"] == 3
    ids, _ = model.recommend(np.arange(dataset.n_customers), 12)
    assert ids.shape == (dataset.n_customers, 12) and np.all(ids[:, 0] >= 0)
    # a parameter for another model is a one-line user error with exit code 2
    bad = _hmrec("train", "--data", str(data), "--model", "als", "--out", str(out),
                 "--param", "sgd-bpr.epochs=2")
    assert bad.returncode == 2
    assert bad.stderr.strip().count("\n") == 0 and "fix:" in bad.stderr


def test_a_composite_keeps_its_parts_and_their_checks(tmp_path: Path, planted: Dataset) -> None:
    model = create("repurchase", primary__half_life_days=7).fit(planted)
    save_model(model, tmp_path / "model", planted)
    meta = read_metadata(tmp_path / "model")
    assert meta["attributes"]["primary__model"] == "history"
    assert meta["attributes"]["fallback__model"] == "popularity-decay"
    assert "primary__own_data_" in meta["arrays"] and "fallback__ranked_ids_" in meta["arrays"]
    loaded = load_model(tmp_path / "model", planted)
    assert loaded.get_params()["primary__half_life_days"] == 7
    # a part's article indices past the catalogue are refused, named as saved
    with np.load(tmp_path / "model" / "arrays.npz") as npz:
        arrays = {name: npz[name] for name in npz.files}
    arrays["primary__own_indices_"] = arrays["primary__own_indices_"] + planted.n_articles
    np.savez(tmp_path / "model" / "arrays.npz", **arrays)  # type: ignore[arg-type]
    with pytest.raises(DataError, match="'primary__own_indices_' holds values outside"):
        load_model(tmp_path / "model", planted)


def test_arrays_that_fit_the_data_but_changed_are_refused(tmp_path: Path, planted: Dataset) -> None:
    """Every file of a model is checksummed: changed factors of the right shape are not silently served."""
    path = tmp_path / "model"
    save_model(create("als", factors=4, iterations=1).fit(planted), path, planted)
    assert set(json.loads((path / "model.json").read_text())["files"]) == {"arrays.npz"}
    with np.load(path / "arrays.npz") as npz:
        arrays = {name: npz[name] for name in npz.files}
    arrays["item_factors_"] = arrays["item_factors_"] * 2
    np.savez(path / "arrays.npz", **arrays)  # type: ignore[arg-type]
    with pytest.raises(DataError, match="arrays.npz .*checksum"):
        load_model(path, planted)
