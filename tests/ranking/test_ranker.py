"""The ranker on the tiny data: shapes, determinism, save/load, explanations, parameter errors."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from hmrec.data.dataset import Dataset
from hmrec.data.split import time_split
from hmrec.errors import DataError, ParameterError
from hmrec.models.persist import save_model, sha256_file
from hmrec.ranking.boosters import fit_blend, validation_map
from hmrec.ranking.ranker import Ranker
from hmrec.registry import create, load_model

FAST = {"sources": "repurchase:12,product:6,copurchase:12,popularity:12,age:6,trending:6", "trees": 20,
        "weeks": 2}


@pytest.fixture(scope="module")
def fitted(tiny: Dataset) -> tuple[Ranker, Dataset]:
    train = time_split(tiny).train
    model = create("ranker", **FAST)
    assert isinstance(model, Ranker)
    return model.fit(train), train


def test_recommend_shapes_and_order(fitted: tuple[Ranker, Dataset]) -> None:
    model, train = fitted
    customers = np.arange(train.n_customers)
    ids, scores = model.recommend(customers, 12)
    assert ids.shape == scores.shape == (train.n_customers, 12)
    assert (ids >= 0).all()  # the popularity source proposes 12 to everyone
    assert np.all(np.diff(scores, axis=1) <= 0)
    assert all(np.unique(row).size == 12 for row in ids[:200])
    # one customer alone gets the same list as in the batch
    one_ids, one_scores = model.recommend(customers[5:6], 12)
    np.testing.assert_array_equal(one_ids[0], ids[5])
    np.testing.assert_allclose(one_scores[0], scores[5], rtol=1e-6)


def test_same_seed_same_scores(tiny: Dataset, fitted: tuple[Ranker, Dataset]) -> None:
    model, train = fitted
    again = create("ranker", **FAST).fit(train)
    customers = np.arange(0, train.n_customers, 3)
    a = model.recommend(customers, 20)
    b = again.recommend(customers, 20)
    np.testing.assert_array_equal(a[0], b[0])
    np.testing.assert_array_equal(a[1], b[1])


def test_save_load_round_trip(tmp_path: Path, fitted: tuple[Ranker, Dataset]) -> None:
    model, train = fitted
    path = save_model(model, tmp_path / "ranker", train)
    assert (path / "booster.txt").read_text().startswith("tree")
    loaded = load_model(path, train)
    customers = np.arange(0, train.n_customers, 7)
    a = model.recommend(customers, 12)
    b = loaded.recommend(customers, 12)
    np.testing.assert_array_equal(a[0], b[0])
    np.testing.assert_array_equal(a[1], b[1])


def test_fitting_on_its_window_is_fitting_on_everything(tiny: Dataset) -> None:
    """An engine that holds the transactions elsewhere hands the ranker only ``first_day_read`` onwards."""
    train = time_split(tiny).train
    params = {**FAST, "sources": f"{FAST['sources']},als:6,taste:6", "history_weeks": 8}
    end = train.end_date
    assert end is not None and train.start_date is not None
    first = create("ranker", **params).first_day_read(end)  # type: ignore[attr-defined]
    assert first == end - dt.timedelta(days=7 * 3 + 55)
    assert first > train.start_date  # the window leaves data out
    whole = create("ranker", **params).fit(train)
    windowed = create("ranker", **params).fit(train.between(first, None))
    customers = np.arange(train.n_customers)
    a, b = whole.recommend(customers, 12), windowed.recommend(customers, 12)
    np.testing.assert_array_equal(a[0], b[0])
    np.testing.assert_array_equal(a[1], b[1])
    assert create("ranker", history_weeks=None).first_day_read(end) is None  # type: ignore[attr-defined]


def test_max_buyers_caps_each_week_with_the_same_customers(tiny: Dataset, monkeypatch: pytest.MonkeyPatch) -> None:
    """Each week's rows come from ``max_buyers`` of its buyers, picked by customer, not by position."""
    train = time_split(tiny).train
    weeks: list[np.ndarray] = []
    original = Ranker._rows_of_blocks

    def recorded(self: Ranker, state: object, blocks: list[np.ndarray], *args: object) -> object:
        weeks.append(np.concatenate(blocks))
        return original(self, state, blocks, *args)  # type: ignore[arg-type]

    monkeypatch.setattr(Ranker, "_rows_of_blocks", recorded)
    whole = create("ranker", **FAST).fit(train)
    everyone, weeks[:] = list(weeks), []
    capped = create("ranker", **FAST, max_buyers=40).fit(train)
    assert [w.size for w in weeks] == [40, 40, 40]  # two training weeks and the validation week
    for picked, buyers in zip(weeks, everyone, strict=True):
        assert np.all(np.diff(picked) > 0) and np.isin(picked, buyers).all()
    assert not np.array_equal(weeks[0], weeks[1])  # another draw each week
    assert capped.train_rows_ < whole.train_rows_  # type: ignore[attr-defined]
    # the draw depends on the buyers, the week and the seed alone
    first = create("ranker", max_buyers=40)._capped(everyone[0], 3)  # type: ignore[attr-defined]
    np.testing.assert_array_equal(first, weeks[0])
    other_seed = create("ranker", max_buyers=40, seed=1)._capped(everyone[0], 3)  # type: ignore[attr-defined]
    assert not np.array_equal(other_seed, first)
    assert create("ranker", max_buyers=10**6)._capped(everyone[0], 3) is everyone[0]  # type: ignore[attr-defined]


def test_customers_without_history_ranked_once_per_age_as_each_alone(fitted: tuple[Ranker, Dataset]) -> None:
    model, train = fitted
    customers = np.arange(train.n_customers, dtype=np.int32)
    cold = model._cold(customers)
    assert 0 < cold.sum() < customers.size
    ids, scores = model.candidates(customers, 12)
    alone_ids, alone_scores = model._rank(customers, 12)  # every customer scored on their own
    np.testing.assert_array_equal(ids, alone_ids)
    np.testing.assert_array_equal(scores, alone_scores)


def test_a_model_saved_with_other_features_is_refused(tmp_path: Path, fitted: tuple[Ranker, Dataset]) -> None:
    model, train = fitted
    path = save_model(model, tmp_path / "ranker", train)
    payload = json.loads((path / "model.json").read_text())
    payload["features"] = [f for f in payload["features"] if f != "p_taste0_share"]  # as saved before it existed
    (path / "model.json").write_text(json.dumps(payload))
    with pytest.raises(ParameterError, match="trained on other features.*train the model again"):
        load_model(path, train)


def _rechecksum(model: Path) -> None:
    """Record the files' present sizes and checksums, as someone editing a model on purpose would."""
    meta = json.loads((model / "model.json").read_text())
    meta["files"] = {name: {"bytes": (model / name).stat().st_size, "sha256": sha256_file(model / name)}
                     for name in meta["files"]}
    (model / "model.json").write_text(json.dumps(meta))


def _edit_arrays(model: Path, **changes: np.ndarray) -> None:
    with np.load(model / "arrays.npz") as npz:
        arrays = {name: npz[name] for name in npz.files}
    arrays.update(changes)
    np.savez(model / "arrays.npz", **arrays)  # type: ignore[arg-type]
    _rechecksum(model)


def _booster_cut(model: Path) -> None:
    text = (model / "booster.txt").read_bytes()
    (model / "booster.txt").write_bytes(text[: len(text) // 2])


def _booster_edited(model: Path) -> None:  # same size, one number changed: LightGBM would abort on it
    text = (model / "booster.txt").read_text()
    (model / "booster.txt").write_text(text.replace("num_leaves=", "num_leaves=9", 1).replace("tree\n", "tre\n", 1))


@pytest.mark.parametrize(
    ("damage", "named"),
    [
        (_booster_cut, "booster.txt has"),
        (_booster_edited, "booster.txt"),
        (lambda m: (m / "booster.txt").unlink(), "booster.txt is missing"),
        (lambda m: (m / "arrays.npz").write_bytes((m / "arrays.npz").read_bytes()[::-1]), "arrays.npz"),
        (lambda m: _booster_cut(m) or _rechecksum(m), "booster.txt is not a whole LightGBM model"),
        (lambda m: _edit_arrays(m, keep=np.arange(3)), "'keep'"),
        (lambda m: _edit_arrays(m, keep=np.full(len(json.loads((m / "model.json").read_text())["features"]), 10**6)),
         "'keep'"),
        (lambda m: _edit_arrays(m, active=np.ones(5, dtype=bool)), "'active'"),
        (lambda m: _edit_arrays(m, **{"src.repurchase.indptr_": np.zeros(3, dtype=np.int64)}),
         "'src.repurchase.indptr_'"),
        (lambda m: _edit_arrays(m, **{"src.repurchase.indices_": np.load(m / "arrays.npz")["src.repurchase.indices_"]
                                      + 10**6}), "'src.repurchase.indices_'"),
    ],
    ids=["booster-cut", "booster-edited", "booster-missing", "npz-reversed", "booster-cut-rechecksummed",
         "keep-short", "keep-out-of-range", "active-short", "indptr-short", "indices-out-of-range"],
)
def test_a_damaged_ranker_is_one_line(tmp_path: Path, fitted: tuple[Ranker, Dataset], damage: Callable[[Path], object],
                                     named: str) -> None:
    """Every file is checksummed and every array bounded before LightGBM or a kernel reads it (a cut booster
    made LightGBM segfault, an edited one abort)."""
    model, train = fitted
    path = save_model(model, tmp_path / "ranker", train)
    damage(path)
    with pytest.raises(DataError) as info:
        load_model(path, train)
    assert named in str(info.value) and "\n" not in str(info.value) and info.value.fix


def test_explain_names_sources_and_features(fitted: tuple[Ranker, Dataset]) -> None:
    model, train = fitted
    buyer = int(train.transactions["customer_idx"][0])
    frame = model.explain(buyer, 5)
    ids, scores = model.recommend(np.array([buyer]), 5)
    assert frame["article_idx"].to_list() == ids[0].tolist()
    np.testing.assert_allclose(frame["score"].to_numpy(), scores[0], rtol=1e-6)
    assert all(s for s in frame["sources"].to_list())
    assert all(r.count("=") == 3 for r in frame["reasons"].to_list())
    importance = model.importance()
    assert importance["share"].sum() == pytest.approx(1.0)
    assert set(importance["family"].to_list()) <= {"customer", "article", "pair", "source"}


def test_validation_map_by_hand() -> None:
    # group 1: hits at ranks 1 and 3 -> (1/1 + 2/3) / 2; group 2: its one hit at rank 2 -> 1/2; group 3: none
    labels = np.array([1, 0, 1, 0, 1, 0, 0])
    scores = np.array([0.9, 0.8, 0.7, 0.5, 0.4, 0.9, 0.1])
    groups = np.array([3, 2, 2])
    assert validation_map(labels, scores, groups) == pytest.approx(((1 + 2 / 3) / 2 + 1 / 2) / 2)
    assert validation_map(labels, scores, groups, k=1) == pytest.approx((1 + 0) / 2)


def test_the_blend_weights_the_booster_that_ranks_the_validation_week() -> None:
    labels = np.array([1, 0, 0, 0, 1, 0])
    groups = np.array([3, 3])
    right = np.array([3.0, 2.0, 1.0, 1.0, 5.0, 2.0])  # ranks both hits first
    wrong = -right
    blend = fit_blend([wrong, right], labels, groups)
    assert blend[1]["mean"] == pytest.approx(right.mean()) and blend[1]["scale"] == pytest.approx(right.std())
    mixed = sum(b["weight"] * (p - b["mean"]) / b["scale"] for b, p in zip(blend, [wrong, right], strict=True))
    # the blend ranks as the right one does (each of its rankings with wrong's weight below 1/2 is as good,
    # and the ties go to the most weight on the first booster: 0.4)
    assert validation_map(labels, mixed, groups) == 1.0
    assert [b["weight"] for b in blend] == pytest.approx([0.4, 0.6])
    # both rank alike: the ties go to the first booster, the one the ranker's objective names first
    assert [b["weight"] for b in fit_blend([right, right], labels, groups)] == pytest.approx([1.0, 0.0])


@pytest.fixture(scope="module")
def blended(tiny: Dataset) -> tuple[Ranker, Dataset]:
    train = time_split(tiny).train
    model = create("ranker", **FAST, objective="lambdarank,binary")
    assert isinstance(model, Ranker)
    return model.fit(train), train


def test_a_blend_is_deterministic_and_saved_whole(tmp_path: Path, tiny: Dataset,
                                                   blended: tuple[Ranker, Dataset]) -> None:
    model, train = blended
    weights = [part["weight"] for part in json.loads(model.blend_)]
    assert len(weights) == 2 and sum(weights) == pytest.approx(1.0)
    customers = np.arange(0, train.n_customers, 5)
    ids, scores = model.recommend(customers, 12)
    again = create("ranker", **FAST, objective="lambdarank,binary").fit(train).recommend(customers, 12)
    np.testing.assert_array_equal(ids, again[0])
    np.testing.assert_array_equal(scores, again[1])
    path = save_model(model, tmp_path / "ranker", train)
    assert (path / "booster-binary.txt").read_text().startswith("tree")
    loaded = load_model(path, train).recommend(customers, 12)
    np.testing.assert_array_equal(ids, loaded[0])
    np.testing.assert_array_equal(scores, loaded[1])
    frame = model.explain(int(train.transactions["customer_idx"][0]), 3)  # contributions of the blend
    assert all(r.count("=") == 3 for r in frame["reasons"].to_list())
    for damage, named in ((lambda m: (m / "booster-binary.txt").unlink(), "booster-binary.txt is missing"),
                          (lambda m: (m / "booster-binary.txt").write_text("tree\n") and _rechecksum(m),
                           "booster-binary.txt is not a whole LightGBM model")):
        damaged = save_model(model, tmp_path / f"damaged-{named[:20]}", train)
        damage(damaged)
        with pytest.raises(DataError, match=named):
            load_model(damaged, train)


def test_parameter_errors(tiny: Dataset) -> None:
    for objective in ("regression", "lambdarank,lambdarank", "lambdarank,"):
        with pytest.raises(ParameterError, match="'objective'"):
            create("ranker", objective=objective).fit(tiny)
    with pytest.raises(ParameterError, match="'drop_features'"):
        create("ranker", drop_features="colour").fit(tiny)
    with pytest.raises(ParameterError, match="'weeks'"):
        create("ranker", weeks=0).fit(tiny)
    with pytest.raises(ParameterError, match="'max_buyers'"):
        create("ranker", max_buyers=0).fit(tiny)
    for value in (float("nan"), float("inf")):
        with pytest.raises(ParameterError, match="'learning_rate' must be a finite number"):
            create("ranker", learning_rate=value).fit(tiny)
