"""The taste keys are learned from the data: found by their content, whatever the columns are called."""

from __future__ import annotations

import datetime as dt

import numpy as np
import polars as pl
import pytest

from hmrec.data.dataset import Dataset
from hmrec.ranking.taste import attribute_codes, attribute_columns, key_gain, learn_keys

START = dt.date(2020, 1, 1)
DAYS = 70


def _world(taste: tuple[str, str], seed: int = 0, names: dict[str, str] | None = None) -> Dataset:
    """400 articles (2 per product) with attribute columns ``x1, x2, b, c`` (random values), ``b_name`` (b's
    name, the same split), ``label`` (unique per product: a name) and ``flat`` (one value). Each of 600
    customers has a favourite value of the ``taste`` columns and buys from it 80 % of the time, else any
    article; articles sell by a random popularity. ``names`` renames columns afterwards (content unchanged)."""
    rng = np.random.default_rng(seed)
    n_products, n_customers = 200, 600
    product = np.repeat(np.arange(n_products), 2)
    m = product.size
    values = {"x1": 8, "x2": 6, "b": 5, "c": 4}
    cols = {name: rng.integers(0, k, m) for name, k in values.items()}
    key = cols[taste[0]] * 100 + cols[taste[1]]
    keys = np.unique(key)
    popularity = rng.lognormal(0.0, 1.0, m)
    favourite = rng.choice(keys, n_customers)
    rows = []
    for c in range(n_customers):
        mine = np.flatnonzero(key == favourite[c])
        for _ in range(rng.poisson(6) + 1):
            pool = mine if rng.random() < 0.8 else np.arange(m)
            weights = popularity[pool] / popularity[pool].sum()
            rows.append((START + dt.timedelta(days=int(rng.integers(0, DAYS))), c, int(rng.choice(pool, p=weights))))
    articles = pl.DataFrame({
        "article_id": [f"0{100000000 + i}" for i in range(m)],
        "product_code": product,
        "x1": cols["x1"], "x2": cols["x2"], "b": cols["b"],
        "b_name": [f"name {v}" for v in cols["b"]],
        "c": cols["c"],
        "label": [f"product {p}" for p in product],
        "flat": ["same"] * m,
    })
    if names:
        articles = articles.rename(names)
    articles = articles.rename(HEADERS)
    customers = pl.DataFrame({"customer_id": [f"{i:064x}" for i in range(n_customers)], "age": [30.0] * n_customers})
    tx = pl.DataFrame({
        "t_dat": [r[0].isoformat() for r in rows],
        "customer_id": [f"{r[1]:064x}" for r in rows],
        "article_id": [f"0{100000000 + r[2]}" for r in rows],
        "price": [0.02] * len(rows),
        "sales_channel_id": [1] * len(rows),
    })
    return Dataset.from_frames(articles, customers, tx)


#: the test's columns under the real files' headers (a Dataset keeps the known columns only)
HEADERS = {"x1": "product_type_no", "x2": "graphical_appearance_no", "b": "colour_group_code",
           "b_name": "colour_group_name", "c": "department_no", "label": "prod_name", "flat": "section_name"}


def _h(*columns: str) -> tuple[str, ...]:
    return tuple(HEADERS[c] for c in columns)


def _same_split(a: np.ndarray, b: np.ndarray) -> bool:
    return len(set(zip(a.tolist(), b.tolist(), strict=True))) == len(set(a.tolist())) == len(set(b.tolist()))


def _learned(data: Dataset) -> tuple[str, ...]:
    end = data.end_date
    assert end is not None
    keys = learn_keys(data, end - dt.timedelta(days=7), seed=0)
    assert keys, "no taste key learned"
    return keys[0].columns


def test_candidate_columns_leave_out_ids_names_of_products_constants_and_duplicates() -> None:
    data = _world(("b", "c"))
    # product_code is the product, label is as fine as it, flat has one value, b_name splits like b
    assert attribute_columns(data.articles) == list(_h("x1", "x2", "b", "c"))


@pytest.mark.parametrize("taste", [("b", "c"), ("x1", "x2")])
def test_the_source_key_is_the_combination_customers_keep(taste: tuple[str, str]) -> None:
    data = _world(taste)
    assert _learned(data) == _h(*taste)


def test_relabelled_columns_give_the_same_key_by_content() -> None:
    """The same file with the taste columns' headers traded with others: the key follows the content."""
    plain = _world(("b", "c"))
    swapped = _world(("b", "c"), names={"b": "x1", "x1": "b", "c": "x2", "x2": "c"})
    key = _learned(swapped)
    assert set(key) == set(_h("x1", "x2"))  # where b's and c's values now are
    np.testing.assert_array_equal(
        attribute_codes(swapped.articles, key), attribute_codes(plain.articles, _h("b", "c"))
    )


def test_gain_is_zero_for_one_value_and_positive_for_the_kept_taste() -> None:
    data = _world(("b", "c"))
    end = data.end_date
    assert end is not None
    cutoff = end - dt.timedelta(days=7)
    rows = data.between(None, cutoff).interactions()
    week = data.between(cutoff + dt.timedelta(days=1), end).interactions(binary=True)
    sales = np.ones(data.n_articles)
    assert key_gain(rows, week, np.zeros(data.n_articles, dtype=np.int32), sales) == pytest.approx(0.0, abs=1e-12)
    kept = key_gain(rows, week, attribute_codes(data.articles, _h("b", "c")), sales)
    other = key_gain(rows, week, attribute_codes(data.articles, _h("x1", "x2")), sales)
    assert kept > 0.5 and kept > other + 0.3
    assert _same_split(attribute_codes(data.articles, _h("b")), attribute_codes(data.articles, _h("b_name")))
