"""A hand-made data set whose every candidate list can be worked out on paper (see test_sources.py)."""

from __future__ import annotations

import polars as pl

from hmrec.data.dataset import Dataset

ARTICLES = [f"0{100000001 + i}" for i in range(6)]
CUSTOMERS = [f"{i:064x}" for i in range(4)]


def planted(**article_columns: list[object]) -> Dataset:
    """Articles a0..a5 (a0/a1 one product, a2/a3 another, a4, a5 alone); customers c0..c3 aged 25, 25, 50, unknown.

    Purchases (c3 never buys): c0 a0 on 01-01 and 01-09, a2 on 01-10; c1 a0 on 01-09, a4 on 01-10;
    c2 a4 on 01-05, a5 on 01-10. The data ends on 2020-01-10. ``article_columns`` add columns to articles.
    """
    articles = pl.DataFrame({
        "article_id": ARTICLES,
        "product_code": [100, 100, 200, 200, 300, 400],
        "product_type_no": [1, 1, 2, 2, 1, 3],
        "index_group_name": ["Ladieswear"] * 4 + ["Menswear"] * 2,
    }).with_columns(*(pl.Series(name, values) for name, values in article_columns.items()))
    customers = pl.DataFrame({"customer_id": CUSTOMERS, "age": [25.0, 25.0, 50.0, None]})
    rows = [
        ("2020-01-01", 0, 0), ("2020-01-09", 0, 0), ("2020-01-10", 0, 2),
        ("2020-01-09", 1, 0), ("2020-01-10", 1, 4),
        ("2020-01-05", 2, 4), ("2020-01-10", 2, 5),
    ]
    tx = pl.DataFrame({
        "t_dat": [r[0] for r in rows],
        "customer_id": [CUSTOMERS[r[1]] for r in rows],
        "article_id": [ARTICLES[r[2]] for r in rows],
        "price": [0.01, 0.01, 0.02, 0.01, 0.03, 0.03, 0.04],
        "sales_channel_id": [2, 2, 1, 2, 2, 1, 1],
    })
    return Dataset.from_frames(articles, customers, tx)
