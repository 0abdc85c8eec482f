"""Customer features for clustering: demographics plus what, how and how often each customer buys.

All history features come from the transactions of the Dataset passed in: pass the *training window* (the
caller cuts it), so that no feature looks at the weeks being predicted.

Columns (float32, no NaN), by block:

- ``age``: ``age`` (missing imputed with the median age), ``age_missing`` (1 if imputed);
- ``membership``: one-hot ``club=ACTIVE|PRE-CREATE|LEFT CLUB|missing``,
  ``news=NONE|REGULARLY|MONTHLY|missing``
  (``fashion_news_frequency``, case-folded: the file spells NONE twice), ``FN`` and ``Active`` (1 or 0);
- ``index_group``, ``product_group``, ``garment_group``, ``colour``: purchase mix, the share of the customer's
  purchase rows in each index group, product group, garment group and perceived colour master
  (each block sums to 1 for a customer with history, 0 without);
- ``price``: ``price_level = mean over the customer's rows of price / median price of the article's product
  type`` (1 = pays the typical price of what they buy; > 1 = picks the dearer items);
- ``channel``: ``channel2_share``, the share of rows bought online (sales channel 2);
- ``activity``: ``recency_log = log(1 + days from last purchase to the reference day)``,
  ``frequency_log = log(1 + distinct purchase days)``, ``basket_log = log(1 + rows per purchase day)``.

The demographic blocks (``age``, ``membership``) exist for every customer; the others only for customers with
history (``fit_rows``). Everything is vectorized: purchase mixes are one sparse product
``(customers x articles counts) @ (articles x categories one-hot)``; the rest is one polars group-by.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import polars as pl
import scipy.sparse as sp

from hmrec.data.dataset import Dataset
from hmrec.data.schema import ARTICLE_IDX, CUSTOMER_IDX, PRICE, SALES_CHANNEL, T_DAT
from hmrec.features import FeatureSet, one_hot_columns

CLUB_VALUES = ["ACTIVE", "PRE-CREATE", "LEFT CLUB", "missing"]
NEWS_VALUES = ["NONE", "REGULARLY", "MONTHLY", "missing"]

#: article column whose distribution over a customer's purchases forms each purchase-mix block
MIX_BLOCKS: dict[str, str] = {
    "index_group": "index_group_name",
    "product_group": "product_group_name",
    "garment_group": "garment_group_name",
    "colour": "perceived_colour_master_name",
}

#: default block weights (see hmrec.features): age and the index-group mix (ladies / men / kids / sport /
#: divided) say the most about what a customer buys; the flags of ``membership`` are nearly binary and would
#: make k-means split on them alone if they weighed as much (a split that means little for recommendations).
CUSTOMER_WEIGHTS: dict[str, float] = {
    "age": 1.0,
    "membership": 0.25,
    "index_group": 1.0,
    "product_group": 0.5,
    "garment_group": 0.5,
    "colour": 0.25,
    "price": 0.5,
    "channel": 0.5,
    "activity": 0.75,
}

DEMOGRAPHIC_BLOCKS = ("age", "membership")


def _categories(values: pl.Series, allowed: list[str]) -> pl.Series:
    """Upper-cased values, with nulls and anything outside ``allowed`` mapped to "missing"."""
    text = values.cast(pl.String).str.strip_chars().str.to_uppercase()
    return text.replace_strict({v: v for v in allowed if v != "missing"}, default="missing")


def demographic_frame(customers: pl.DataFrame) -> tuple[pl.DataFrame, dict[str, list[str]]]:
    """The ``age`` and ``membership`` blocks for every customer (rows in customer_idx order)."""
    age = customers["age"].cast(pl.Float32)
    known = age.drop_nulls()
    median_age = float(known.median()) if known.len() else 36.0  # type: ignore[arg-type]
    age_block = pl.DataFrame(
        {
            "age": age.fill_null(median_age),
            "age_missing": age.is_null().cast(pl.Float32),
        }
    )
    club = one_hot_columns(_categories(customers["club_member_status"], CLUB_VALUES), "club", CLUB_VALUES)
    news = one_hot_columns(_categories(customers["fashion_news_frequency"], NEWS_VALUES), "news", NEWS_VALUES)
    flags = pl.DataFrame(
        {
            "FN": customers["FN"].cast(pl.Float32).fill_null(0.0).clip(0.0, 1.0),
            "Active": customers["Active"].cast(pl.Float32).fill_null(0.0).clip(0.0, 1.0),
        }
    )
    frame = pl.concat([age_block, club, news, flags], how="horizontal")
    blocks = {"age": age_block.columns, "membership": [*club.columns, *news.columns, *flags.columns]}
    return frame, blocks


def article_codes(articles: pl.DataFrame, column: str) -> tuple[np.ndarray, list[str]]:
    """Integer code per article (article_idx order) of a categorical column, and the sorted category names."""
    text = articles[column].cast(pl.String).fill_null("missing").to_numpy().astype(str)
    names, codes = np.unique(text, return_inverse=True)
    return codes.astype(np.int32), [str(n) for n in names]


def purchase_mix(counts: sp.csr_matrix, codes: np.ndarray, n_codes: int) -> np.ndarray:
    """Row-normalized ``counts @ onehot(codes)``: each customer's share of purchases per category, (n, c)."""
    m = codes.size
    onehot = sp.csr_matrix((np.ones(m, dtype=np.float32), (np.arange(m), codes)), shape=(m, n_codes))
    mix = np.asarray((counts @ onehot).toarray(), dtype=np.float32)
    totals = mix.sum(axis=1, keepdims=True)
    np.divide(mix, totals, out=mix, where=totals > 0)
    return mix


def history_frame(
    train: Dataset, reference: dt.date | None = None
) -> tuple[pl.DataFrame, dict[str, list[str]], np.ndarray]:
    """The history blocks for every customer, and the mask of customers with at least one purchase."""
    n = train.n_customers
    tx = train.transactions
    counts = train.interactions()
    blocks: dict[str, list[str]] = {}
    parts: list[pl.DataFrame] = []
    for block, column in MIX_BLOCKS.items():
        codes, names = article_codes(train.articles, column)
        mix = purchase_mix(counts, codes, len(names))
        cols = [f"{block}={name}" for name in names]
        parts.append(pl.DataFrame(mix, schema=cols, orient="row"))
        blocks[block] = cols

    has_history = np.zeros(n, dtype=bool)
    price_level = np.ones(n, dtype=np.float32)
    channel2 = np.zeros(n, dtype=np.float32)
    recency = np.zeros(n, dtype=np.float32)
    frequency = np.zeros(n, dtype=np.float32)
    basket = np.zeros(n, dtype=np.float32)
    if tx.height:
        first, last = train.start_date, train.end_date
        assert first is not None and last is not None  # there are transactions
        ref = reference or last
        type_codes, _ = article_codes(train.articles, "product_type_no")
        # Median price of each product type in this window, gathered back per row with numpy (no join).
        row_type = type_codes[tx[ARTICLE_IDX].to_numpy()]
        medians = pl.DataFrame({"t": row_type, "p": tx[PRICE]}).group_by("t").agg(pl.col("p").median())
        median_of_type = np.ones(int(type_codes.max()) + 1, dtype=np.float32)
        median_of_type[medians["t"].to_numpy()] = medians["p"].to_numpy().astype(np.float32)
        median_of_type[~(median_of_type > 0)] = 1.0
        ratio = tx[PRICE].to_numpy().astype(np.float32) / median_of_type[row_type]
        per_customer = (
            tx.select(
                pl.col(CUSTOMER_IDX),
                pl.col(T_DAT),
                (pl.col(SALES_CHANNEL) == 2).cast(pl.Float32).alias("online"),
                pl.Series("ratio", ratio),
            )
            .group_by(CUSTOMER_IDX)
            .agg(
                pl.len().alias("rows"),
                pl.col(T_DAT).n_unique().alias("days"),
                pl.col(T_DAT).max().alias("last"),
                pl.col("online").mean().alias("online"),
                pl.col("ratio").mean().alias("ratio"),
            )
            .with_columns(
                (pl.lit(ref, dtype=pl.Date) - pl.col("last")).dt.total_days().clip(0).alias("recency_days")
            )
        )
        idx = per_customer[CUSTOMER_IDX].to_numpy()
        rows = per_customer["rows"].to_numpy().astype(np.float64)
        days = per_customer["days"].to_numpy().astype(np.float64)
        has_history[idx] = True
        price_level[idx] = per_customer["ratio"].to_numpy()
        channel2[idx] = per_customer["online"].to_numpy()
        recency[idx] = np.log1p(per_customer["recency_days"].to_numpy().astype(np.float64))
        frequency[idx] = np.log1p(days)
        basket[idx] = np.log1p(rows / days)
        # No history: not seen for longer than anyone in the window (the value itself is masked in scaling).
        recency[~has_history] = np.log1p(float((ref - first).days) + 1.0)
    scalar = pl.DataFrame(
        {
            "price_level": price_level,
            "channel2_share": channel2,
            "recency_log": recency,
            "frequency_log": frequency,
            "basket_log": basket,
        }
    )
    parts.append(scalar)
    blocks["price"] = ["price_level"]
    blocks["channel"] = ["channel2_share"]
    blocks["activity"] = ["recency_log", "frequency_log", "basket_log"]
    return pl.concat(parts, how="horizontal"), blocks, has_history


def customer_features(train: Dataset, *, reference: dt.date | None = None) -> FeatureSet:
    """Customer features over the transactions of ``train`` (see the module docstring for the columns).

    Args:
        train: the training window (features never look past its last day).
        reference: the day recency is measured to (default: the window's last day).

    Returns:
        A :class:`FeatureSet` with one row per customer in ``customer_idx`` order, ``fit_rows`` = customers
        with at least one purchase in the window and ``demographic = ("age", "membership")``.
    """
    demo, demo_blocks = demographic_frame(train.customers)
    history, history_blocks, has_history = history_frame(train, reference)
    frame = pl.concat(
        [pl.DataFrame({CUSTOMER_IDX: np.arange(train.n_customers, dtype=np.int32)}), demo, history],
        how="horizontal",
    ).with_columns(pl.exclude(CUSTOMER_IDX).cast(pl.Float32))
    blocks = {**demo_blocks, **history_blocks}
    continuous = frozenset(
        {"age", "price_level", "channel2_share", "recency_log", "frequency_log", "basket_log"}
    )
    return FeatureSet(
        frame=frame,
        blocks=blocks,
        continuous=continuous,
        weights=dict(CUSTOMER_WEIGHTS),
        fit_rows=has_history,
        demographic=DEMOGRAPHIC_BLOCKS,
    )


__all__ = ["CUSTOMER_WEIGHTS", "DEMOGRAPHIC_BLOCKS", "MIX_BLOCKS", "customer_features", "purchase_mix"]
