"""The CSV -> typed parquet cache loader: values, types, id normalization, cache reuse and rebuilds."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import re
import shutil
from pathlib import Path

import numpy as np
import polars as pl
import pytest

from hmrec.data import load as load_module
from hmrec.data.dataset import Dataset
from hmrec.data.load import build_cache, cache_is_fresh, default_cache_dir, load_dataset
from hmrec.data.schema import (
    ARTICLE_COLUMNS,
    ARTICLE_INT_COLUMNS,
    ARTICLES_SCHEMA,
    CACHE_DIRNAME,
    CSV_SCHEMAS,
    CUSTOMER_COLUMNS,
    CUSTOMERS_SCHEMA,
    TRANSACTIONS_SCHEMA,
)
from hmrec.errors import DataError

CUSTOMERS = [hashlib.sha256(f"customer {i}".encode()).hexdigest() for i in range(4)]
# As written in the files: the second article lost its leading zero in articles.csv.
ARTICLE_IDS_IN_FILE = ["0108775015", "706016001", "0110065001"]
ARTICLE_IDS = ["0108775015", "0706016001", "0110065001"]


def write_small_set(directory: Path) -> Path:
    """Hand-written files: 4 customers (one never buys), 3 articles, 7 transactions (one row twice)."""
    directory.mkdir(parents=True, exist_ok=True)
    customer_rows = [
        f"{CUSTOMERS[0]},1.0,1.0,ACTIVE,Regularly,24,p0",
        f"{CUSTOMERS[1]},,,ACTIVE,NONE,49,p1",
        f"{CUSTOMERS[2]},,,PRE-CREATE,,,p0",
        f"{CUSTOMERS[3]},1.0,,LEFT CLUB,Monthly,99.0,p2",  # a whole number written as a float: accepted
    ]
    article_rows = []
    for i, article in enumerate(ARTICLE_IDS_IN_FILE):
        values = {name: f"{name} {i}" for name in ARTICLE_COLUMNS}
        values["article_id"] = article
        for name in ARTICLE_INT_COLUMNS:
            values[name] = str(100 + i)
        values["product_code"] = str(int(ARTICLE_IDS[i][:7]))
        values["detail_desc"] = '"Soft, stretchy jersey"' if i == 0 else ""
        article_rows.append(",".join(values[name] for name in ARTICLE_COLUMNS))
    transaction_rows = [
        f"2020-09-01,{CUSTOMERS[1]},0706016001,0.0508,2",
        f"2020-09-01,{CUSTOMERS[1]},0706016001,0.0508,2",
        f"2020-09-02,{CUSTOMERS[0]},108775015,0.0084,1",
        f"2020-09-10,{CUSTOMERS[3]},0110065001,0.0339,2",
        f"2020-09-15,{CUSTOMERS[0]},706016001,0.0254,1",
        f"2020-09-22,{CUSTOMERS[1]},0108775015,0.0169,2",
        f"2020-09-22,{CUSTOMERS[3]},0706016001,0.5915,2",
    ]
    files = {
        "customers.csv": [",".join(CUSTOMER_COLUMNS), *customer_rows],
        "articles.csv": [",".join(ARTICLE_COLUMNS), *article_rows],
        "transactions_train.csv": ["t_dat,customer_id,article_id,price,sales_channel_id", *transaction_rows],
    }
    for name, lines in files.items():
        (directory / name).write_text("\n".join(lines) + "\n", encoding="utf-8")
    return directory


@pytest.fixture()
def data_dir(tmp_path: Path) -> Path:
    return write_small_set(tmp_path / "data")


def test_values_types_and_indices(data_dir: Path) -> None:
    ds = load_dataset(data_dir, progress=False)
    assert ds.source == data_dir
    assert dict(ds.transactions.schema) == TRANSACTIONS_SCHEMA
    assert dict(ds.customers.schema) == CUSTOMERS_SCHEMA
    assert dict(ds.articles.schema) == ARTICLES_SCHEMA
    # Indices are row positions in the files; ids are normalized to 10 digits everywhere.
    assert ds.customers["customer_idx"].to_list() == [0, 1, 2, 3]
    assert ds.customers["customer_id"].to_list() == CUSTOMERS
    assert ds.articles["article_idx"].to_list() == [0, 1, 2]
    assert ds.articles["article_id"].to_list() == ARTICLE_IDS
    tx = ds.transactions
    assert tx.height == 7  # the duplicated row is a real double purchase, kept
    assert tx["customer_idx"].to_list() == [1, 1, 0, 3, 0, 1, 3]
    assert tx["article_idx"].to_list() == [1, 1, 0, 2, 1, 0, 1]
    assert tx["t_dat"].to_list()[:3] == [dt.date(2020, 9, 1), dt.date(2020, 9, 1), dt.date(2020, 9, 2)]
    np.testing.assert_allclose(
        tx["price"].to_numpy(), [0.0508, 0.0508, 0.0084, 0.0339, 0.0254, 0.0169, 0.5915]
    )
    assert tx["sales_channel_id"].to_list() == [2, 2, 1, 2, 1, 2, 2]
    # Optional customer fields keep their gaps; whole numbers become Int16 / Int32.
    assert ds.customers["age"].to_list() == [24, 49, None, 99]
    assert ds.customers["FN"].to_list() == [1.0, None, None, 1.0]
    assert ds.customers["fashion_news_frequency"].to_list() == ["Regularly", "NONE", None, "Monthly"]
    assert ds.articles["product_code"].to_list() == [108775, 706016, 110065]
    assert ds.articles["detail_desc"].to_list() == ["Soft, stretchy jersey", None, None]
    assert ds.summary()["buying_customers"] == 3
    assert ds.article_index(["706016001"]).tolist() == [1]


def test_matches_dataset_from_frames(data_dir: Path) -> None:
    """An independent path (eager CSV read + Dataset.from_frames) gives the same frames."""
    ds = load_dataset(data_dir, progress=False)
    read = {
        name: pl.read_csv(data_dir / name, schema_overrides=schema) for name, schema in CSV_SCHEMAS.items()
    }
    reference = Dataset.from_frames(
        read["articles.csv"], read["customers.csv"], read["transactions_train.csv"]
    )
    assert ds.articles.equals(reference.articles)
    assert ds.customers.equals(reference.customers)
    assert ds.transactions.equals(reference.transactions)


def test_second_load_reads_only_the_cache(data_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    first = load_dataset(data_dir, progress=False)
    cache = data_dir / CACHE_DIRNAME
    assert cache_is_fresh(data_dir)
    assert sorted(p.name for p in cache.iterdir()) == [
        "articles.parquet",
        "customers.parquet",
        "manifest.json",
        "transactions.parquet",
    ]

    def no_csv(*args: object, **kwargs: object) -> None:
        raise AssertionError("the CSV files were read again")

    monkeypatch.setattr(load_module, "_build", no_csv)
    second = load_dataset(data_dir, progress=False)
    for name in ("articles", "customers", "transactions"):
        assert getattr(second, name).equals(getattr(first, name)), name
    assert second.fingerprint == first.fingerprint
    assert len(first.fingerprint) == 16


def test_changed_source_triggers_rebuild(data_dir: Path) -> None:
    load_dataset(data_dir, progress=False)
    manifest = json.loads((data_dir / CACHE_DIRNAME / "manifest.json").read_text())
    tx_path = data_dir / "transactions_train.csv"
    stat = tx_path.stat()
    os.utime(tx_path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 5_000_000_000))  # "touch"
    assert not cache_is_fresh(data_dir)
    load_dataset(data_dir, progress=False)
    assert cache_is_fresh(data_dir)
    # Same bytes: a new stamp in the manifest, the same content fingerprint.
    rebuilt = json.loads((data_dir / CACHE_DIRNAME / "manifest.json").read_text())
    assert rebuilt["sources"]["transactions_train.csv"]["mtime_ns"] == stat.st_mtime_ns + 5_000_000_000
    assert rebuilt["fingerprint"] == manifest["fingerprint"]
    # New content: one transaction more, a new fingerprint.
    with tx_path.open("a") as handle:
        handle.write(f"2020-09-22,{CUSTOMERS[2]},0110065001,0.01,1\n")
    ds = load_dataset(data_dir, progress=False)
    assert ds.n_transactions == 8
    assert ds.fingerprint != manifest["fingerprint"]


def test_fingerprint_depends_on_content_not_location(tmp_path: Path) -> None:
    a = load_dataset(write_small_set(tmp_path / "a"), progress=False)
    b = load_dataset(write_small_set(tmp_path / "b"), progress=False)
    assert a.fingerprint == b.fingerprint


def test_custom_cache_dir_and_refresh(data_dir: Path, tmp_path: Path) -> None:
    cache = tmp_path / "elsewhere" / "cache"
    assert build_cache(data_dir, cache, progress=False) == cache
    assert not default_cache_dir(data_dir).exists()
    assert cache_is_fresh(data_dir, cache) and not cache_is_fresh(data_dir)
    stamp = (cache / "manifest.json").stat().st_mtime_ns
    ds = load_dataset(data_dir, cache, progress=False, refresh=True)
    assert ds.n_transactions == 7
    assert (cache / "manifest.json").stat().st_mtime_ns >= stamp
    assert sorted(p.name for p in cache.parent.iterdir()) == ["cache"]  # no temporary directory left


def test_failed_write_leaves_no_cache(data_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    calls = {"n": 0}
    original = pl.DataFrame.write_parquet

    def fail_second(self: pl.DataFrame, *args: object, **kwargs: object) -> None:
        calls["n"] += 1
        if calls["n"] == 2:
            raise OSError("disk full")
        original(self, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(pl.DataFrame, "write_parquet", fail_second)
    with pytest.raises(OSError, match="disk full"):
        load_dataset(data_dir, progress=False)
    assert sorted(p.name for p in data_dir.iterdir()) == sorted(
        ["articles.csv", "customers.csv", "transactions_train.csv"]
    )


def test_bad_data_keeps_no_new_cache(data_dir: Path) -> None:
    (data_dir / "transactions_train.csv").write_text(
        "t_dat,customer_id,article_id,price,sales_channel_id\n"
        f"2020-09-01,{CUSTOMERS[0]},0706016001,0.05,2\n"
        f"2020-09-01,{CUSTOMERS[0]},0706016001,-0.05,2\n"
    )
    with pytest.raises(DataError) as info:
        load_dataset(data_dir, progress=False)
    error = info.value
    assert (Path(str(error.file)).name, error.column, error.row) == ("transactions_train.csv", "price", 2)
    assert not any(p.name.startswith(CACHE_DIRNAME) for p in data_dir.iterdir())


def test_refuses_to_replace_a_foreign_directory(data_dir: Path, tmp_path: Path) -> None:
    foreign = tmp_path / "my-documents"
    foreign.mkdir()
    (foreign / "thesis.txt").write_text("precious")
    with pytest.raises(DataError, match="not an hmrec cache"):
        load_dataset(data_dir, foreign, progress=False)
    assert (foreign / "thesis.txt").read_text() == "precious"


def test_damaged_cache_is_rebuilt(data_dir: Path) -> None:
    first = load_dataset(data_dir, progress=False)
    (data_dir / CACHE_DIRNAME / "transactions.parquet").write_bytes(b"not parquet")
    assert cache_is_fresh(data_dir)  # stamps match; the damage is found when reading
    again = load_dataset(data_dir, progress=False)
    assert again.transactions.equals(first.transactions)


def test_article_ids_normalized_in_both_files(tmp_path: Path) -> None:
    """A copy where every article id lost its leading zero loads like the original."""
    original = write_small_set(tmp_path / "original")
    stripped = tmp_path / "stripped"
    shutil.copytree(original, stripped)
    for name in ("articles.csv", "transactions_train.csv"):
        path = stripped / name
        path.write_text(re.sub(r"(^|,)0(\d{9})(?=,)", r"\1\2", path.read_text(), flags=re.MULTILINE))
    assert "0108775015" not in (stripped / "articles.csv").read_text()
    assert ",0706016001," not in (stripped / "transactions_train.csv").read_text()
    a = load_dataset(original, progress=False)
    b = load_dataset(stripped, progress=False)
    assert b.articles["article_id"].to_list() == ARTICLE_IDS
    assert a.transactions.equals(b.transactions)


def test_windows_line_endings_and_byte_order_mark(data_dir: Path, tmp_path: Path) -> None:
    """Files saved by spreadsheet programs (CRLF, UTF-8 BOM) load like the originals."""
    other = tmp_path / "crlf"
    other.mkdir()
    for name in ("articles.csv", "customers.csv", "transactions_train.csv"):
        text = (data_dir / name).read_text()
        (other / name).write_bytes(b"\xef\xbb\xbf" + text.replace("\n", "\r\n").encode())
    a = load_dataset(data_dir, progress=False)
    b = load_dataset(other, progress=False)
    for frame in ("articles", "customers", "transactions"):
        assert getattr(a, frame).equals(getattr(b, frame)), frame


def test_tiny_round_trip(tiny_dir: Path, tmp_path: Path) -> None:
    """The generated tiny set: CSV values survive the cache, a second load is equal, a custom cache works."""
    ds = load_dataset(tiny_dir, tmp_path / "c1", progress=False)
    tx_csv = pl.read_csv(tiny_dir / "transactions_train.csv", schema_overrides={"article_id": pl.String})
    customers_csv = pl.read_csv(tiny_dir / "customers.csv", columns=["customer_id"])
    articles_csv = pl.read_csv(tiny_dir / "articles.csv", columns=["article_id"], infer_schema=False)
    assert ds.n_transactions == tx_csv.height
    assert ds.customers["customer_id"].equals(customers_csv["customer_id"])
    assert ds.articles["article_id"].to_list() == articles_csv["article_id"].str.zfill(10).to_list()
    assert ds.articles["article_id"].str.len_chars().eq(10).all()
    # Map the indices back to ids: the same rows, in the same order, as the CSV.
    customer_ids = pl.Series(ds.customer_ids).gather(ds.transactions["customer_idx"])
    article_ids = pl.Series(ds.article_ids).gather(ds.transactions["article_idx"])
    assert (
        ds.transactions["t_dat"].dt.strftime("%Y-%m-%d").to_list()
        == tx_csv["t_dat"].cast(pl.String).to_list()
    )
    assert customer_ids.to_list() == tx_csv["customer_id"].to_list()
    assert article_ids.to_list() == tx_csv["article_id"].str.zfill(10).to_list()
    np.testing.assert_allclose(ds.transactions["price"].to_numpy(), tx_csv["price"].to_numpy(), rtol=1e-6)
    assert ds.transactions["sales_channel_id"].to_list() == tx_csv["sales_channel_id"].to_list()
    again = load_dataset(tiny_dir, tmp_path / "c1", progress=False)
    assert again.transactions.equals(ds.transactions) and again.fingerprint == ds.fingerprint
    assert dict(again.transactions.schema) == TRANSACTIONS_SCHEMA
