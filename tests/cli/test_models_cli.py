"""The submission file and the ``models`` / ``submit`` / ``recommend`` commands."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import polars as pl
import pytest

from hmrec.data.dataset import Dataset
from hmrec.data.schema import ARTICLE_COLUMNS, ARTICLE_ID, ARTICLE_INT_COLUMNS
from hmrec.errors import DataError, ParameterError
from hmrec.output import prediction_strings, purchases_frame, recommendations_frame, write_submission
from hmrec.registry import available, create

ARTICLES = [f"0{100000001 + i}" for i in range(15)]  # 10 digits with a leading zero
CUSTOMERS = [f"{i:064x}" for i in range(4)]


def small_dataset() -> Dataset:
    articles = pl.DataFrame(
        {
            "article_id": ARTICLES,
            "prod_name": [f"name {i}" for i in range(15)],
            "product_type_name": ["Dress"] * 15,
            "colour_group_name": ["Black"] * 15,
        }
    )
    customers = pl.DataFrame({"customer_id": CUSTOMERS, "age": [25, 30, None, 41]})
    tx = pl.DataFrame(
        {
            "t_dat": ["2020-09-20", "2020-09-21", "2020-09-22"],
            "customer_id": [CUSTOMERS[2], CUSTOMERS[2], CUSTOMERS[0]],
            "article_id": [ARTICLES[3], ARTICLES[4], ARTICLES[5]],
            "price": [0.02, 0.03, 0.01],
            "sales_channel_id": [1, 2, 2],
        }
    )
    return Dataset.from_frames(articles, customers, tx)


# ---------------------------------------------------------------------- the submission file
def test_prediction_strings_drop_padding_and_keep_order() -> None:
    ds = small_dataset()
    ids = np.array([[3, 0, -1], [-1, -1, -1], [14, 2, 1], [7, -1, -1]], dtype=np.int32)
    assert prediction_strings(ds, ids).to_list() == [
        f"{ARTICLES[3]} {ARTICLES[0]}",
        "",
        f"{ARTICLES[14]} {ARTICLES[2]} {ARTICLES[1]}",
        ARTICLES[7],
    ]


def test_write_submission_format(tmp_path: Path) -> None:
    ds = small_dataset()
    ids = np.tile(np.arange(12, dtype=np.int32), (4, 1))
    ids[1] = np.arange(12)[::-1]
    path = write_submission(tmp_path / "sub.csv", ds, ids)
    lines = path.read_text().splitlines()
    assert lines[0] == "customer_id,prediction"
    assert len(lines) == 1 + ds.n_customers
    assert [line.split(",")[0] for line in lines[1:]] == CUSTOMERS  # customers.csv order
    for line in lines[1:]:
        predicted = line.split(",")[1].split(" ")
        assert len(predicted) == 12 and len(set(predicted)) == 12
        assert all(re.fullmatch(r"\d{10}", a) for a in predicted)
    assert lines[2].split(",")[1].split(" ")[0] == ARTICLES[11]
    assert [p.name for p in tmp_path.iterdir()] == ["sub.csv"]  # no temporary file left behind
    assert pl.read_csv(path, schema={"customer_id": pl.String, "prediction": pl.String}).height == 4


def test_write_submission_replaces_atomically_and_refuses_bad_input(tmp_path: Path) -> None:
    ds = small_dataset()
    target = tmp_path / "sub.csv"
    target.write_text("old content\n")
    write_submission(target, ds, np.full((4, 12), -1, dtype=np.int32))
    assert target.read_text().splitlines()[1] == f"{CUSTOMERS[0]},"  # padding only: empty prediction
    with pytest.raises(DataError, match="does not exist"):
        write_submission(tmp_path / "missing" / "sub.csv", ds, np.zeros((4, 12), dtype=np.int32))
    with pytest.raises(ParameterError, match="one row of recommendations per customer"):
        write_submission(target, ds, np.zeros((3, 12), dtype=np.int32))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["sub.csv"]


def test_frames_for_one_customer() -> None:
    ds = small_dataset()
    bought = purchases_frame(ds, 2)
    assert bought["article_id"].to_list() == [ARTICLES[4], ARTICLES[3]]  # most recent first
    assert bought.columns == ["date", "article_id", "prod_name", "product_type_name", "colour_group_name"]
    recs = recommendations_frame(ds, np.array([5, 1, -1]), np.array([2.0, 1.0, -np.inf]))
    assert recs["rank"].to_list() == [1, 2] and recs["article_id"].to_list() == [ARTICLES[5], ARTICLES[1]]
    assert recs["score"].to_list() == [2.0, 1.0]


# ---------------------------------------------------------------------- the commands, in a subprocess
def run(*args: str, cwd: Path | None = None, columns: int = 200) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "COLUMNS": str(columns), "NO_COLOR": "1"}
    return subprocess.run(
        [sys.executable, "-m", "hmrec", *args], capture_output=True, text=True, env=env, cwd=cwd, timeout=300
    )


def test_models_lists_every_registered_model_with_its_defaults() -> None:
    result = run("models", columns=80)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.strip().splitlines()
    assert [line.split()[0] for line in lines if not line.startswith(" ")] == list(available())
    assert any(line.startswith("popularity ") and "Most sold" in line for line in lines)
    assert max(len(line) for line in lines) <= 80
    text = " ".join(line.strip() for line in lines)
    als = create("als").get_params()
    assert f"params: factors={als['factors']}, reg={als['reg']}, alpha={als['alpha']}," in text
    assert "params: days=7, filter_bought=false, recent_weeks=null" in text
    kinds = {line.split()[0]: line.split()[1] for line in lines if not line.startswith(" ")}
    assert kinds["popularity"] == "raw" and kinds["random"] == "rank" and kinds["als+repurchase"] == "raw"
    listed = run("models", "--params").stdout.splitlines()
    assert any(line.strip() == "als+repurchase.fallback__factors=64" for line in listed)
    assert any(line.strip() == "repurchase.primary__half_life_days=14.0" for line in listed)


def write_csvs(directory: Path, n_customers: int = 30, n_articles: int = 20, n_rows: int = 300) -> Path:
    """A hand-made data directory in the competition's format (every column), random but seeded."""
    rng = np.random.default_rng(0)
    articles = {
        name: (
            [f"0{100000000 + i}" for i in range(n_articles)] if name == ARTICLE_ID
            else rng.integers(1, 5, n_articles).tolist() if name in ARTICLE_INT_COLUMNS
            else [f"{name} {v}" for v in rng.integers(0, 4, n_articles)]
        )
        for name in ARTICLE_COLUMNS
    }
    pl.DataFrame(articles).write_csv(directory / "articles.csv")
    customer_ids = [f"{i:064x}" for i in range(n_customers)]
    pl.DataFrame(
        {
            "customer_id": customer_ids,
            "FN": [1.0] * n_customers,
            "Active": [1.0] * n_customers,
            "club_member_status": ["ACTIVE"] * n_customers,
            "fashion_news_frequency": ["NONE"] * n_customers,
            "age": rng.integers(16, 80, n_customers),
            "postal_code": ["0" * 64] * n_customers,
        }
    ).write_csv(directory / "customers.csv")
    days = rng.integers(0, 60, n_rows)
    pl.DataFrame(
        {
            "t_dat": [str(np.datetime64("2020-07-20") + int(d)) for d in np.sort(days)],
            "customer_id": [customer_ids[c] for c in rng.integers(0, n_customers - 3, n_rows)],
            "article_id": [articles[ARTICLE_ID][a] for a in rng.integers(0, n_articles, n_rows)],
            "price": np.round(rng.random(n_rows) * 0.05, 6),
            "sales_channel_id": rng.integers(1, 3, n_rows),
        }
    ).write_csv(directory / "transactions_train.csv")
    return directory


@pytest.fixture(scope="module", params=["hand-made", "generated"])
def data_dir(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A data directory: hand-made CSVs, and the generated ``tiny`` set."""
    if request.param == "hand-made":
        return write_csvs(tmp_path_factory.mktemp("csv"))
    return request.getfixturevalue("tiny_dir")


def test_submit_writes_a_submission(data_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "sub.csv"
    result = run("submit", "--data", str(data_dir), "--model", "repurchase", "--out", str(out), "--quiet",
                 "--param", "repurchase.primary__half_life_days=14")
    assert result.returncode == 0, result.stderr
    sub = pl.read_csv(out, schema={"customer_id": pl.String, "prediction": pl.String})
    customers = pl.read_csv(data_dir / "customers.csv", columns=["customer_id"])
    assert sub["customer_id"].to_list() == customers["customer_id"].to_list()
    lengths = sub["prediction"].str.split(" ").list.len()
    assert (lengths == 12).all()
    assert sub["prediction"].str.contains(r"^(\d{10} ){11}\d{10}$").all()
    assert "Wrote" in result.stdout


def test_submit_user_errors_exit_2(tmp_path: Path) -> None:
    data_dir = write_csvs(tmp_path)
    result = run("submit", "--data", str(data_dir), "--model", "nope", "--out", str(tmp_path / "s.csv"))
    assert result.returncode == 2 and "unknown model 'nope'" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    result = run("submit", "--data", str(data_dir), "--model", "popularity", "--out",
                 str(tmp_path / "missing" / "s.csv"))
    assert result.returncode == 2 and "does not exist" in result.stderr
    result = run("submit", "--data", str(data_dir), "--model", "popularity", "--out", str(tmp_path / "s.csv"),
                 "--param", "als.factors=3")
    assert result.returncode == 2 and "--param given for model 'als'" in result.stderr


def test_recommend_shows_history_and_recommendations(data_dir: Path) -> None:
    tx = pl.read_csv(data_dir / "transactions_train.csv", columns=["customer_id"], n_rows=1)
    customer = tx["customer_id"][0]
    result = run("recommend", "--data", str(data_dir), "--model", "popularity", "--customer", customer,
                 "--k", "5", "--quiet")
    assert result.returncode == 0, result.stderr
    assert "most recent" in result.stdout and "Top 5 recommendations of popularity" in result.stdout
    assert len(re.findall(r"\b\d{10}\b", result.stdout)) >= 5
    # the columns say what they hold: the rank, and the model's score (not a rank in disguise)
    header = next(line for line in result.stdout.splitlines() if "article" in line and "score" in line)
    assert re.search(r"\brank\b", header) and "score: as returned by popularity" in result.stdout


def test_recommend_unknown_customer_exit_2(tmp_path: Path) -> None:
    data_dir = write_csvs(tmp_path)
    result = run("recommend", "--data", str(data_dir), "--customer", "f" * 64, "--quiet")
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [result.stderr.strip()]
    assert "unknown customer id" in result.stderr
