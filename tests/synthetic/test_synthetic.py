"""The synthetic generator: the files' schema and formats, the published marginals, the article hierarchy,
determinism, the output-directory guard, the truth functions and the ``hmrec generate`` command."""

from __future__ import annotations

import datetime as dt
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import polars as pl
import pytest

from hmrec import synthetic
from hmrec.data.schema import (
    ARTICLE_COLUMNS,
    ARTICLES_FILE,
    CUSTOMER_COLUMNS,
    CUSTOMERS_FILE,
    SAMPLE_SUBMISSION_FILE,
    TRANSACTION_COLUMNS,
    TRANSACTIONS_FILE,
)
from hmrec.errors import DataError, ParameterError
from hmrec.synthetic import generate, true_scores, true_segments, true_top_k, truth_window

FILES = (ARTICLES_FILE, CUSTOMERS_FILE, TRANSACTIONS_FILE, SAMPLE_SUBMISSION_FILE)


# ------------------------------------------------------------------------------------------------ helpers
class Frames:
    """The four CSVs read as plain strings/numbers, with customer and article row numbers joined in."""

    def __init__(self, directory: Path) -> None:
        self.dir = directory
        self.articles = pl.read_csv(directory / ARTICLES_FILE, infer_schema=False).with_row_index("a")
        self.customers = pl.read_csv(directory / CUSTOMERS_FILE, infer_schema=False).with_row_index("c")
        tx = pl.read_csv(directory / TRANSACTIONS_FILE, infer_schema=False)
        self.transactions = (
            tx.with_columns(
                pl.col("t_dat").str.to_date(),
                pl.col("price").cast(pl.Float64),
                pl.col("sales_channel_id").cast(pl.Int8),
            )
            .join(self.customers.select("customer_id", "c"), on="customer_id", maintain_order="left")
            .join(self.articles.select("article_id", "a"), on="article_id", maintain_order="left")
        )


def _gini(counts: np.ndarray) -> float:
    """Gini coefficient of non-negative counts: 0 = all equal, -> 1 = all in one article."""
    x = np.sort(counts.astype(np.float64))
    n = x.size
    return float((2 * np.arange(1, n + 1) - n - 1).dot(x) / (n * x.sum()))


@pytest.fixture(scope="module")
def tiny_frames(tiny_dir: Path) -> Frames:
    return Frames(tiny_dir)


@pytest.fixture(scope="module")
def small_frames(small_dir: Path) -> Frames:
    return Frames(small_dir)


# ------------------------------------------------------------------------------------------------ schema
def test_writes_exactly_the_competition_files_and_the_truth(tiny_dir: Path) -> None:
    names = {p.name for p in tiny_dir.iterdir() if p.name != ".hmrec-cache"}
    assert names == {*FILES, "truth", synthetic.MARKER_FILE}
    assert {p.name for p in (tiny_dir / "truth").iterdir()} == {synthetic.TRUTH_ARRAYS, synthetic.TRUTH_META}
    assert not [p for p in tiny_dir.iterdir() if p.name.startswith(".hmrec-tmp-")]


def test_headers_are_the_published_columns(tiny_dir: Path) -> None:
    header = {name: (tiny_dir / name).open().readline().rstrip("\n").split(",") for name in FILES}
    assert tuple(header[ARTICLES_FILE]) == ARTICLE_COLUMNS
    assert tuple(header[CUSTOMERS_FILE]) == CUSTOMER_COLUMNS
    assert tuple(header[TRANSACTIONS_FILE]) == TRANSACTION_COLUMNS
    assert header[SAMPLE_SUBMISSION_FILE] == ["customer_id", "prediction"]


def test_raw_line_formats(tiny_dir: Path) -> None:
    tx_line = re.compile(r"^\d{4}-\d{2}-\d{2},[0-9a-f]{64},0\d{9},(0\.\d+|\d\.\d+e-\d+),[12]$")
    cust_line = re.compile(
        r"^[0-9a-f]{64},(1\.0)?,(1\.0)?,(ACTIVE|PRE-CREATE|LEFT CLUB)?,(NONE|Regularly|Monthly|None)?,"
        r"(\d{2})?,[0-9a-f]{64}$"
    )
    sub_line = re.compile(r"^[0-9a-f]{64},0\d{9}( 0\d{9}){11}$")
    for name, pattern in (
        (TRANSACTIONS_FILE, tx_line),
        (CUSTOMERS_FILE, cust_line),
        (SAMPLE_SUBMISSION_FILE, sub_line),
    ):
        lines = (tiny_dir / name).read_text().splitlines()[1:]
        bad = [line for line in lines if not pattern.match(line)]
        assert not bad, f"{name}: {bad[:2]}"
    articles = pl.read_csv(tiny_dir / ARTICLES_FILE, infer_schema=False)
    assert articles["article_id"].str.contains(r"^0\d{9}$").all()
    # an article is a product in one colour: its id begins with the zero-padded product code
    assert (articles["article_id"].str.slice(0, 7) == articles["product_code"].str.zfill(7)).all()
    assert articles["article_id"].is_unique().all()
    assert articles["article_id"].is_sorted()


def test_ids_dates_and_order(tiny_frames: Frames) -> None:
    tx = tiny_frames.transactions
    assert tx["c"].null_count() == 0 and tx["a"].null_count() == 0  # every id is in the other files
    assert tx["t_dat"].is_sorted()
    spec = synthetic.SCALES["tiny"]
    assert tx["t_dat"].min() == spec.start and tx["t_dat"].max() == spec.end
    assert tiny_frames.customers["customer_id"].is_unique().all()
    assert float(tx["price"].min()) > 0 and float(tx["price"].max()) < 0.6  # type: ignore[arg-type]
    sub = pl.read_csv(tiny_frames.dir / SAMPLE_SUBMISSION_FILE, infer_schema=False)
    assert sub["customer_id"].to_list() == tiny_frames.customers["customer_id"].to_list()


def test_hierarchy_functional_dependencies(tiny_frames: Frames) -> None:
    art = tiny_frames.articles
    dependencies = {
        "product_code": ["prod_name", "product_type_no", "department_no", "detail_desc"],
        "product_type_no": ["product_type_name", "product_group_name"],
        "department_no": ["department_name", "section_no", "index_code", "garment_group_no"],
        "index_code": ["index_name", "index_group_no", "index_group_name"],
        "section_no": ["section_name", "index_group_no"],
        "index_group_no": ["index_group_name"],
        "garment_group_no": ["garment_group_name"],
        "graphical_appearance_no": ["graphical_appearance_name"],
        "colour_group_code": ["colour_group_name", "perceived_colour_value_id", "perceived_colour_master_id"],
        "perceived_colour_value_id": ["perceived_colour_value_name"],
        "perceived_colour_master_id": ["perceived_colour_master_name"],
    }
    for key, dependents in dependencies.items():
        for column in dependents:
            per_key = art.group_by(key).agg(pl.col(column).n_unique())[column]
            assert per_key.max() == 1, f"{key} -> {column} does not hold"
    assert set(art["index_group_name"].unique()) == {
        "Ladieswear",
        "Baby/Children",
        "Menswear",
        "Sport",
        "Divided",
    }
    groups = set(art["product_group_name"].unique())
    assert {
        "Garment Upper body",
        "Garment Lower body",
        "Garment Full body",
        "Underwear",
        "Accessories",
    } <= groups
    assert {"Trousers", "Dress", "Sweater", "T-shirt", "Vest top", "Bra"} <= set(
        art["product_type_name"].unique()
    )
    assert {"Black", "White", "Dark Blue", "Light Pink"} <= set(art["colour_group_name"].unique())
    assert 0 < art["detail_desc"].null_count() < 0.05 * art.height


# ------------------------------------------------------------------------------------------------ marginals
def test_marginals_match_the_published_facts(small_frames: Frames) -> None:
    tx, cu, art = small_frames.transactions, small_frames.customers, small_frames.articles
    n = tx.height
    assert abs(n - synthetic.SCALES["small"].rows) < 0.05 * synthetic.SCALES["small"].rows
    assert (tx["sales_channel_id"] == 2).mean() == pytest.approx(0.704, abs=0.03)
    duplicates = 1 - tx.select(TRANSACTION_COLUMNS).unique().height / n
    assert duplicates == pytest.approx(0.094, abs=0.02)
    price = tx["price"]
    assert price.mean() == pytest.approx(0.0278, abs=0.003)
    assert price.quantile(0.25) == pytest.approx(0.0158, abs=0.004)
    assert price.quantile(0.5) == pytest.approx(0.0254, abs=0.004)
    assert price.quantile(0.75) == pytest.approx(0.0339, abs=0.004)
    end: dt.date = tx["t_dat"].max()  # type: ignore[assignment]
    recent = tx.filter(pl.col("t_dat") > end - dt.timedelta(days=91))["c"].n_unique()
    assert recent / cu.height == pytest.approx(0.38, abs=0.04)
    per_customer = np.bincount(tx["c"].to_numpy(), minlength=cu.height)
    assert (per_customer == 0).mean() == pytest.approx(0.007, abs=0.004)
    assert (per_customer < 10).mean() == pytest.approx(0.5, abs=0.08)
    joined = tx.select("a").join(
        art.select("a", "index_group_name", "product_group_name", "colour_group_name"), on="a"
    )
    assert (joined["index_group_name"] == "Ladieswear").mean() == pytest.approx(0.64, abs=0.04)
    assert (joined["product_group_name"] == "Garment Upper body").mean() == pytest.approx(0.395, abs=0.04)
    assert (joined["colour_group_name"] == "Black").mean() == pytest.approx(0.347, abs=0.04)
    counts = np.bincount(tx["a"].to_numpy(), minlength=art.height)
    assert _gini(counts) > 0.65
    assert counts.max() > 50 * np.median(counts)
    assert (counts == 0).mean() < 0.1


def test_customer_fields_match_the_published_shares(small_frames: Frames) -> None:
    cu = small_frames.customers
    n = cu.height
    age = cu["age"].cast(pl.Int64)
    assert age.null_count() / n == pytest.approx(0.0116, abs=0.004)
    known = age.drop_nulls().to_numpy()
    assert known.min() >= 16 and known.max() <= 99
    assert known.mean() == pytest.approx(36.4, abs=1.5)
    assert ((known >= 20) & (known <= 29)).mean() == pytest.approx(0.385, abs=0.03)
    # bimodal: the early 20s and around 50 are both well above the dip around 40
    hist = np.bincount(known // 5, minlength=20)
    dip = hist[7:9].min()
    assert hist[4] > 2 * dip and hist[9:11].max() > 1.1 * dip
    assert cu["FN"].is_not_null().mean() == pytest.approx(0.348, abs=0.01)
    assert cu["Active"].is_not_null().mean() == pytest.approx(0.338, abs=0.01)
    club = cu["club_member_status"].value_counts(normalize=True)
    share = dict(zip(club["club_member_status"].to_list(), club["proportion"].to_list(), strict=True))
    assert share["ACTIVE"] == pytest.approx(0.927, abs=0.01)
    assert share["PRE-CREATE"] == pytest.approx(0.068, abs=0.01)
    assert "LEFT CLUB" in share and None in share
    news = set(cu["fashion_news_frequency"].unique().to_list())
    assert news == {"NONE", "Regularly", "Monthly", "None", None}
    postal = cu["postal_code"].value_counts()["count"]
    assert cu["postal_code"].n_unique() < 0.5 * n and int(postal.max()) > 0.05 * n  # type: ignore[arg-type]


# ------------------------------------------------------------------------------------- determinism, guard
def test_same_seed_same_bytes_other_seed_differs(tmp_path: Path) -> None:
    for name, seed in (("a", 5), ("b", 5), ("c", 6)):
        generate(tmp_path / name, scale="tiny", seed=seed, customers=300, articles=200, progress=False)
    for name in FILES:
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes(), name
        assert (tmp_path / "a" / name).read_bytes() != (tmp_path / "c" / name).read_bytes(), name


def test_refuses_directories_holding_other_files(tmp_path: Path) -> None:
    foreign = tmp_path / "foreign"
    foreign.mkdir()
    (foreign / "notes.txt").write_text("mine")
    with pytest.raises(ParameterError, match="--out"):
        generate(foreign, scale="tiny", customers=50, articles=50, progress=False)
    real = tmp_path / "real"  # files with the competition's names that hmrec did not write: never overwritten
    real.mkdir()
    (real / TRANSACTIONS_FILE).write_text("t_dat\n")
    with pytest.raises(ParameterError, match="--out"):
        generate(real, scale="tiny", customers=50, articles=50, progress=False)
    assert (real / TRANSACTIONS_FILE).read_text() == "t_dat\n"
    own = tmp_path / "own"  # its own output may be regenerated in place
    generate(own, scale="tiny", seed=1, customers=50, articles=50, progress=False)
    first = (own / CUSTOMERS_FILE).read_bytes()
    generate(own, scale="tiny", seed=2, customers=50, articles=50, progress=False)
    assert (own / CUSTOMERS_FILE).read_bytes() != first
    assert not [p for p in own.iterdir() if p.name.startswith(".hmrec-tmp-")]


@pytest.mark.parametrize(
    ("kwargs", "option"),
    [
        ({"scale": "huge"}, "--scale"),
        ({"customers": 0}, "--customers"),
        ({"articles": 5}, "--articles"),
        ({"seed": -1}, "--seed"),
        ({"start": dt.date(2020, 9, 22)}, "--start"),
        ({"start": dt.date(2020, 9, 15)}, "--start"),
    ],
)
def test_bad_arguments_name_the_option(tmp_path: Path, kwargs: dict[str, object], option: str) -> None:
    args = {"scale": "tiny", "progress": False, **kwargs}
    with pytest.raises(ParameterError, match=option) as info:
        generate(tmp_path / "out", **args)  # type: ignore[arg-type]
    assert "\n" not in str(info.value)
    assert not (tmp_path / "out").exists()


# ------------------------------------------------------------------------------------------------ truth
def test_truth_window_is_the_final_week(tiny_frames: Frames) -> None:
    start, end = truth_window(tiny_frames.dir)
    assert end == tiny_frames.transactions["t_dat"].max()
    assert (end - start).days == 6


def test_true_segments(tiny_frames: Frames) -> None:
    segments = true_segments(tiny_frames.dir)
    assert segments.shape == (tiny_frames.customers.height,)
    assert 8 <= np.unique(segments).size <= 16
    # segments are tied to age: the mean age differs a lot between segments
    age = tiny_frames.customers["age"].cast(pl.Float64).fill_null(np.nan).to_numpy()
    means = [np.nanmean(age[segments == s]) for s in np.unique(segments)]
    assert max(means) - min(means) > 25


def test_true_scores_rows_sum_to_the_expected_purchases(tiny_frames: Frames) -> None:
    n_articles = tiny_frames.articles.height
    customers = np.arange(0, tiny_frames.customers.height, 7)
    scores = true_scores(tiny_frames.dir, customers)
    assert scores.shape == (customers.size, n_articles) and scores.dtype == np.float32
    assert scores.min() >= 0
    # P_c is a distribution over articles, so a row sums to E_c, the customer's expected rows that week
    expected = synthetic._load_truth(tiny_frames.dir).expected_rows[customers]
    np.testing.assert_allclose(scores.sum(axis=1), expected, rtol=1e-4, atol=1e-6)
    assert (expected > 0).mean() > 0.02 and (expected == 0).mean() > 0.3  # few active, many churned


def test_true_top_k_agrees_with_the_dense_scores(tiny_frames: Frames) -> None:
    customers = np.arange(tiny_frames.customers.height)
    top = true_top_k(tiny_frames.dir, customers, k=12)
    assert top.shape == (customers.size, 12) and top.dtype == np.int32
    assert (top >= 0).all()
    assert all(np.unique(row).size == 12 for row in top[:200])
    scores = true_scores(tiny_frames.dir, customers)
    active = scores.sum(axis=1) > 0
    picked = np.take_along_axis(scores, top.astype(np.int64), axis=1)[active]
    best = -np.sort(-scores[active], axis=1)[:, :12]
    np.testing.assert_allclose(picked, best, rtol=1e-5, atol=1e-12)
    assert (np.diff(picked, axis=1) <= 1e-12).all()  # best first
    wide = true_top_k(tiny_frames.dir, customers[:50], k=40)
    np.testing.assert_array_equal(wide[:, :12], top[:50])


def test_truth_describes_the_final_week(small_frames: Frames) -> None:
    """The oracle's top 12 are bought far more often than the 12 most popular articles of the week before,
    and the expected number of rows matches what was drawn."""
    tx = small_frames.transactions
    start, _ = truth_window(small_frames.dir)
    final = tx.filter(pl.col("t_dat") >= start)
    before = tx.filter((pl.col("t_dat") < start) & (pl.col("t_dat") >= start - dt.timedelta(days=7)))
    buyers = np.unique(final["c"].to_numpy())
    bought = set(zip(final["c"].to_list(), final["a"].to_list(), strict=True))
    top = true_top_k(small_frames.dir, buyers)
    popular = before["a"].value_counts(sort=True)["a"].to_numpy()[:12]
    oracle_hits = sum((c, int(a)) in bought for c, row in zip(buyers, top, strict=True) for a in row)
    popular_hits = sum((c, int(a)) in bought for c in buyers for a in popular)
    assert oracle_hits > 2 * popular_hits
    expected = synthetic._load_truth(small_frames.dir).expected_rows.sum()
    assert final.height == pytest.approx(expected, rel=0.06)
    cold = np.setdiff1d(buyers, tx.filter(pl.col("t_dat") < start)["c"].unique().to_numpy())
    assert 0.02 < cold.size / buyers.size < 0.4  # some final-week buyers have no earlier history


def test_truth_predicts_the_rebuys_drawn_in_the_final_week(small_frames: Frames) -> None:
    """Rows of the final week that rebuy the customer's newest remembered purchase, or any remembered one, are
    as many as the truth expects: checks the recency weights of the history draws (uniform weights expect
    far fewer newest rebuys) and the novelty redraw of new items (without it, far more rebuys)."""
    truth = synthetic._load_truth(small_frames.dir)
    start, _ = truth_window(small_frames.dir)
    final = small_frames.transactions.filter(pl.col("t_dat") >= start)
    c, a = final["c"].to_numpy().astype(np.int64), final["a"].to_numpy().astype(np.int64)
    rows = np.flatnonzero(truth.filled > 0)
    slots = np.arange(truth.history.shape[1])[None, :] < truth.filled[:, None]
    expected_newest = expected_owned = 0.0
    for lo in range(0, rows.size, 4096):
        block = rows[lo : lo + 4096]
        scores = true_scores(small_frames.dir, block).astype(np.float64)
        expected_newest += np.take_along_axis(scores, truth.history[block, :1].astype(np.int64), axis=1).sum()
        owned = np.zeros_like(scores, dtype=bool)
        for j in range(truth.history.shape[1]):
            live = np.flatnonzero(slots[block, j])
            owned[live, truth.history[block[live], j]] = True
        expected_owned += scores[owned].sum()
    newest = (truth.filled[c] > 0) & (a == truth.history[c, 0])
    in_history = ((truth.history[c] == a[:, None]) & slots[c]).any(axis=1)
    # counts of rare events: within 4 standard deviations (Poisson, inflated by the duplicate rows)
    for observed, expected in ((newest.sum(), expected_newest), (in_history.sum(), expected_owned)):
        assert expected > 200
        assert abs(observed - expected) < 4 * np.sqrt(1.2 * expected), (observed, expected)


def test_truth_errors(tmp_path: Path, tiny_dir: Path) -> None:
    with pytest.raises(DataError, match="truth"):
        truth_window(tmp_path)
    with pytest.raises(ParameterError, match="customer rows"):
        true_scores(tiny_dir, np.array([10**9]))
    with pytest.raises(ParameterError, match="k must"):
        true_top_k(tiny_dir, np.array([0]), k=0)


# ------------------------------------------------------------------------------------------------ command
def test_generate_command(tmp_path: Path) -> None:
    out = tmp_path / "data"
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "hmrec",
            "generate",
            "--out",
            str(out),
            "--scale",
            "tiny",
            "--seed",
            "3",
            "--customers",
            "200",
            "--articles",
            "100",
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "transactions" in done.stdout and "2020-09-22" in done.stdout
    assert all((out / name).is_file() for name in FILES)
    bad = subprocess.run(
        [sys.executable, "-m", "hmrec", "generate", "--out", str(tmp_path / "x"), "--start", "2020-13-40"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert bad.returncode == 2
    assert len(bad.stderr.strip().splitlines()) == 1 and "--start" in bad.stderr
