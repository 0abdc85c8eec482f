"""The generator's worlds: world 0 is the generator as it was before worlds existed, byte for byte; other
worlds draw another favourite key and other strengths, recorded beside the data, and their truth follows them.
The calibration bands in other worlds: tests/evaluation/test_calibration.py."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import polars as pl
import pytest

from hmrec.data.schema import ARTICLES_FILE, CUSTOMERS_FILE, SAMPLE_SUBMISSION_FILE, TRANSACTIONS_FILE
from hmrec.errors import ParameterError
from hmrec.synthetic import (
    MARKER_FILE,
    TRUTH_ARRAYS,
    TRUTH_DIRNAME,
    TRUTH_META,
    _load_truth,
    draw_world,
    generate,
    true_scores,
    true_top_k,
    truth_window,
)
from hmrec.synthetic.constants import FAVOURITE_COLUMNS, SUBCATEGORY_KEY
from hmrec.synthetic.world import WORLD_0, qualifying_keys

#: sha256 of ``tiny``, seed 0, world 0, recorded with the single-module generator before it became a package
#: and drew worlds. A change here changes every data set generated so far (and must raise GENERATOR_VERSION);
#: a polars upgrade that writes the same values in other bytes would also show here.
TINY_S0_SHA256 = {
    ARTICLES_FILE: "73fadc14b40428160eaeb8ee4dadc80611cce1cb0f22f2a52b8e528de26dc3e1",
    CUSTOMERS_FILE: "a71b50eb60b36d53218ef4578a3fb6ee412ba3264c4031aec56223f6d6fac70a",
    SAMPLE_SUBMISSION_FILE: "d82fe19b860e6f6b11fa335cd828adc9e4e6d85ee6d74fa8d7458f58cf4c0d90",
    TRANSACTIONS_FILE: "b332250475ab828fb62878afb42df9d93cacf75e63719eae124f402980a24e5e",
}
#: The truth's arrays of the same run (its truth.npz had sha256 b478291b...). The integer arrays by the sha256 of
#: their bytes. The float ones by two projections on seeded random weights: numpy computes exp/log/pow with
#: other instructions where the CPU has AVX-512, which moves the last bit of some values (at most 7e-16
#: relative in ``q_fav`` and ``p_seg``), so their bytes, and the file's, differ from one machine to another while
#: any change of the generator moves a projection by far more than the tolerance below.
TINY_S0_TRUTH_INTEGERS = {
    "segment": "111e24d6ed516c36975902fbb6099bf6d3781e7da6e88580629aefe6d8d97bdf",
    "favourites": "dbec6dffea965c36a31c432c1487a94009d1974cf176c99f39919063f324e1e2",
    "history": "feccb00a8da23c468d13ccec68bed87dc4beb63ab7a145b1ca53117e98761be7",
    "filled": "8212127a790fd0306b3bcf0baa855ec03d3ed52c4c5902fe19a8a073b237d41f",
    "category": "1d5446b9f3841b14f7e4add019d074a32ddc93c20909206c00db2ce9e1ed90ba",
    "subcategory": "8901b1efcc5b34f351e81a2abd379a46e49c00e04940b09eaeaeaf86eb9cffca",
    "partners": "71797745862ca39278942683f654afba179b063da5a35f0d7897375383aa6250",
    "product": "ca065f2495b64b5f70db15cde6b75611dd77a6ea4f9bd146acfb836f08fba5cd",
    "product_start": "611b8709b2a90c2c82007267136ce4659de618da76eb8dc9dc1b752c238eee68",
    "product_count": "035c6477788d4053e0f5ef5d4b8c741ea2e658c5b5e3d500bd507b831223e5fa",
}
TINY_S0_TRUTH_FLOATS = {
    "expected_rows": (-17.448747812415164, -12.718253306614717),
    "rho": (0.15650092650829794, 2.8058975856483306),
    "fav_weight": (9.795869747402293, 4.228669415090593),
    "q_fav": (63.618761800290194, 42.64157157163552),
    "p_seg": (0.3545707197155306, 0.401927953286185),
}


def test_world_0_writes_the_same_bytes_as_before_worlds(tiny_dir: Path) -> None:
    found = {name: hashlib.sha256((tiny_dir / name).read_bytes()).hexdigest() for name in TINY_S0_SHA256}
    assert found == TINY_S0_SHA256
    with np.load(tiny_dir / TRUTH_DIRNAME / TRUTH_ARRAYS) as truth:
        assert sorted(truth.files) == sorted([*TINY_S0_TRUTH_INTEGERS, *TINY_S0_TRUTH_FLOATS])
        integers = {name: hashlib.sha256(np.ascontiguousarray(truth[name]).tobytes()).hexdigest()
                    for name in TINY_S0_TRUTH_INTEGERS}
        assert integers == TINY_S0_TRUTH_INTEGERS
        weights = np.random.default_rng(0)
        for name, expected in TINY_S0_TRUTH_FLOATS.items():
            values = truth[name]
            projections = [float(np.sum(values * weights.standard_normal(values.shape))) for _ in expected]
            assert projections == pytest.approx(expected, rel=1e-12, abs=1e-12), name


# ------------------------------------------------------------------------------------------------ drawing
def test_world_0_is_the_calibrated_generator() -> None:
    world = draw_world(0)
    assert world.favourite_key == ("index_code", "product_type_no", "perceived_colour_master_id")
    assert (world.same_article, world.other_colour, world.partner) == (0.35, 0.4, 0.25)
    assert (world.rho_beta, world.favourite_beta) == ((1.7, 18.0), (1.5, 4.0))
    assert (world.fav_alpha, world.category_eta) == (0.6, 0.8)


def test_other_worlds_draw_other_favourite_keys_and_strengths() -> None:
    worlds = [draw_world(number) for number in range(1, 9)]
    keys = [world.favourite_key for world in worlds]
    assert len(set(keys)) >= 4  # 8 draws from the qualifying keys
    for world in worlds:
        assert 1 <= len(world.favourite_key) <= 3 and set(world.favourite_key) <= set(FAVOURITE_COLUMNS)
        assert set(world.favourite_key) != set(SUBCATEGORY_KEY)
        assert world.same_article + world.other_colour + world.partner == pytest.approx(1.0)
        assert world != draw_world(0) and world == draw_world(world.number)  # drawn from the number alone
    for name in ("same_article", "rho_beta", "favourite_beta", "category_eta"):  # drawn, rounded to 4 places
        assert len({getattr(world, name) for world in worlds}) >= len(worlds) - 2, name
    for world in worlds:
        assert dict(qualifying_keys())[world.favourite_key] == world.fav_alpha
        assert WORLD_0.fav_alpha <= world.fav_alpha <= 1.0  # coarser keys than world 0's, drawn more sharply
        assert 0.9 <= world.rho_beta[0] / sum(world.rho_beta) / (1.7 / 19.7) <= 1.0
        assert 1.05 <= world.favourite_beta[0] / sum(world.favourite_beta) / (1.5 / 5.5) <= 1.2


def test_qualifying_keys_are_neither_world_0_nor_its_coarsening() -> None:
    keys = [key for key, _ in qualifying_keys()]
    assert len(keys) >= 6
    assert "department_no" in {column for key in keys for column in key}
    # index group x product type x colour master only merges world 0's groups: not another world's taste
    assert ("product_type_no", "perceived_colour_master_id", "index_group_no") not in keys
    assert not any(set(key) == set(SUBCATEGORY_KEY) for key in keys)


@pytest.mark.parametrize("bad", [-1, 1.5, True, "1"])
def test_a_bad_world_is_refused(tmp_path: Path, bad: object) -> None:
    with pytest.raises(ParameterError, match="--world"):
        generate(tmp_path / "out", scale="tiny", world=bad, progress=False)  # type: ignore[arg-type]
    assert not (tmp_path / "out").exists()


def test_generate_command_takes_a_world(tmp_path: Path) -> None:
    args = [sys.executable, "-m", "hmrec", "generate", "--scale", "tiny", "--customers", "200", "--articles", "100"]
    done = subprocess.run([*args, "--out", str(tmp_path / "w2"), "--world", "2"], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert "world 2" in done.stdout and " x ".join(draw_world(2).favourite_key) in done.stdout
    bad = subprocess.run([*args, "--out", str(tmp_path / "bad"), "--world", "-3"], capture_output=True, text=True)
    assert bad.returncode == 2
    assert "--world" in bad.stderr and "Traceback" not in bad.stderr
    assert not (tmp_path / "bad").exists()


# ------------------------------------------------------------------------------------------------ world 1
@pytest.fixture(scope="module")
def tiny_world_1(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("tiny-w1")
    generate(out, scale="tiny", seed=0, world=1, progress=False)
    return out


def test_the_world_is_recorded_beside_the_data(tiny_world_1: Path, tiny_dir: Path) -> None:
    for directory, number in ((tiny_world_1, 1), (tiny_dir, 0)):
        marker = json.loads((directory / MARKER_FILE).read_text())
        meta = json.loads((directory / TRUTH_DIRNAME / TRUTH_META).read_text())
        assert marker["world"] == meta["world"] == draw_world(number).describe()
        assert meta["same_article"] == draw_world(number).same_article
    # models read the four files only: none of them names the world
    for name in TINY_S0_SHA256:
        if name.endswith(".csv"):
            assert "world" not in (tiny_world_1 / name).read_text()[:2000]


def test_world_1_writes_other_data(tiny_world_1: Path, tiny_dir: Path) -> None:
    assert (tiny_world_1 / TRANSACTIONS_FILE).read_bytes() != (tiny_dir / TRANSACTIONS_FILE).read_bytes()
    # the same catalogue columns: only the structure behind the purchases differs
    same = pl.read_csv(tiny_world_1 / ARTICLES_FILE).drop("article_id")
    assert same.columns == pl.read_csv(tiny_dir / ARTICLES_FILE).drop("article_id").columns


def test_favourites_are_groups_of_the_world_key(tiny_world_1: Path) -> None:
    truth = _load_truth(tiny_world_1)
    key = list(draw_world(1).favourite_key)
    articles = pl.read_csv(tiny_world_1 / ARTICLES_FILE, infer_schema=False).with_columns(
        pl.Series("group", truth.fav_group)
    )
    # one group per combination of the key's columns, and one combination per group
    assert articles.select(key).n_unique() == articles["group"].n_unique()
    assert articles.group_by("group").agg(pl.struct(key).n_unique().alias("n"))["n"].max() == 1


def test_purchases_and_truth_follow_the_favourite_key(tiny_world_1: Path) -> None:
    """Rows of the final week in a customer's favourite groups are as many as the truth expects, and far more
    than in three other groups of the same customers (the favourites drive the draws)."""
    truth = _load_truth(tiny_world_1)
    start, _ = truth_window(tiny_world_1)
    tx = pl.read_csv(
        tiny_world_1 / TRANSACTIONS_FILE, infer_schema=False, columns=["t_dat", "customer_id", "article_id"]
    )
    ids_c = pl.read_csv(tiny_world_1 / CUSTOMERS_FILE, columns=["customer_id"]).with_row_index("c")
    ids_a = pl.read_csv(tiny_world_1 / ARTICLES_FILE, infer_schema=False, columns=["article_id"]).with_row_index("a")
    final = tx.filter(pl.col("t_dat").str.to_date() >= start).join(ids_c, on="customer_id").join(ids_a, on="article_id")
    c, a = final["c"].to_numpy().astype(np.int64), final["a"].to_numpy().astype(np.int64)
    in_fav = (truth.favourites[c] == truth.fav_group[a][:, None]).any(axis=1)
    customers = np.arange(truth.n_customers)
    scores = true_scores(tiny_world_1, customers).astype(np.float64)
    fav_cells = (truth.favourites[:, :, None] == truth.fav_group[None, None, :]).any(axis=1)
    expected = scores[fav_cells].sum()
    assert expected > 50
    assert abs(in_fav.sum() - expected) < 4 * np.sqrt(1.2 * expected), (in_fav.sum(), expected)
    # the same customers' purchases in three groups shifted by one: favourites of nobody in particular
    n_groups = int(truth.fav_group.max()) + 1
    other = (((truth.favourites[c] + 1) % n_groups) == truth.fav_group[a][:, None]).any(axis=1)
    assert in_fav.sum() > 5 * max(other.sum(), 1)


def test_true_top_k_is_exact_in_another_world(tiny_world_1: Path) -> None:
    customers = np.arange(0, 2000, 3)
    top = true_top_k(tiny_world_1, customers, k=12)
    scores = true_scores(tiny_world_1, customers)
    active = scores.sum(axis=1) > 0
    picked = np.take_along_axis(scores, top.astype(np.int64), axis=1)[active]
    np.testing.assert_allclose(picked, -np.sort(-scores[active], axis=1)[:, :12], rtol=1e-5, atol=1e-12)
