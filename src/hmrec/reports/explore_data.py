"""The data report's figures and its layout: what ``hmrec explore`` computes before it draws anything.

Every figure is a polars query on the :class:`~hmrec.data.dataset.Dataset` frames (the time window, the
overview, weekly and total article sales, customer activity, repurchase, the test week's customers' history,
active and category shares); :data:`SECTIONS` are the report's sections and their anchors. The sections that
draw them are in :mod:`hmrec.reports.explore` and :mod:`hmrec.reports.explore_articles`.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import numpy as np
import polars as pl

from hmrec.data.dataset import Dataset
from hmrec.data.schema import ARTICLE_IDX, CUSTOMER_IDX, T_DAT
from hmrec.errors import DataError

SECTIONS = (
    ("Overview", "overview"),
    ("Time", "time"),
    ("Price and sales channel", "price"),
    ("Customers", "customers"),
    ("Activity", "activity"),
    ("Articles", "articles"),
    ("Repurchase", "repurchase"),
    ("The test week", "test-week"),
)
TEST_WEEK_DAYS = 7
ACTIVE_WINDOWS = (7, 30, 91)
TOP_CATEGORIES = 7  # categories drawn in the stacked share charts; the rest is "other"
WEEKS_BACK = "weeks_back"
MISSING = "(missing)"


# ============================================================================================== queries
@dataclass(frozen=True)
class Window:
    """The date range of the transactions and its division into weeks counted back from the end."""

    start: dt.date
    end: dt.date

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    @property
    def full_weeks(self) -> int:
        """Weeks entirely covered by the data (week ``w`` spans ``end - 7w - 6 .. end - 7w``)."""
        return self.days // 7

    def weeks_back(self) -> pl.Expr:
        """Week number of ``t_dat``: 0 for the last 7 days, 1 for the 7 days before, ..."""
        return ((pl.lit(self.end, dtype=pl.Date) - pl.col(T_DAT)).dt.total_days() // 7).cast(pl.Int32)

    def week_start(self, weeks_back: np.ndarray) -> np.ndarray:
        """First day of each week (datetime64[D]), for plotting."""
        end = np.datetime64(self.end, "D")
        return end - (7 * weeks_back.astype(np.int64) + 6).astype("timedelta64[D]")

    @property
    def test_start(self) -> dt.date:
        return self.end - dt.timedelta(days=TEST_WEEK_DAYS - 1)


def window(dataset: Dataset) -> Window:
    """The window of a data set; a data set without transactions cannot be explored."""
    start, end = dataset.start_date, dataset.end_date
    if start is None or end is None:
        raise DataError(
            "there are no transactions to explore",
            file="transactions_train.csv",
            fix="point --data at a directory whose transactions file has rows",
        )
    return Window(start=start, end=end)


def overview(dataset: Dataset) -> dict[str, Any]:
    """Sizes, date range, customers who never buy, articles never bought and same-day duplicate rows.

    ``duplicate_rows`` counts rows identical to another row in every column (the same item bought more than
    once on a day): rows minus distinct rows.
    """
    win = window(dataset)
    tx = dataset.transactions.lazy()
    buyers, sold, distinct = pl.collect_all(
        [
            tx.select(pl.col(CUSTOMER_IDX).n_unique()),
            tx.select(pl.col(ARTICLE_IDX).n_unique()),
            tx.unique().select(pl.len()),
        ]
    )
    n_buyers, n_sold = int(buyers.item()), int(sold.item())
    return {
        "transactions": dataset.n_transactions,
        "customers": dataset.n_customers,
        "articles": dataset.n_articles,
        "start_date": win.start,
        "end_date": win.end,
        "days": win.days,
        "full_weeks": win.full_weeks,
        "buying_customers": n_buyers,
        "customers_never_buying": dataset.n_customers - n_buyers,
        "articles_sold": n_sold,
        "articles_never_bought": dataset.n_articles - n_sold,
        "duplicate_rows": dataset.n_transactions - int(distinct.item()),
    }


def weekly_article_sales(dataset: Dataset) -> pl.DataFrame:
    """Transactions per (week counted back from the end, article): the base of the article charts.

    Columns ``weeks_back`` (Int32), ``article_idx`` (Int32), ``n`` (UInt32), sorted by both keys.
    """
    win = window(dataset)
    return (
        dataset.transactions.lazy()
        .group_by(win.weeks_back().alias(WEEKS_BACK), ARTICLE_IDX)
        .agg(pl.len().alias("n"))
        .sort(WEEKS_BACK, ARTICLE_IDX)
        .collect()
    )


def article_sales(dataset: Dataset, weekly: pl.DataFrame | None = None) -> pl.DataFrame:
    """One row per article of articles.csv (never-bought articles included with ``n = 0``).

    Columns: ``article_idx``, ``n`` (transactions), ``weeks_selling`` (distinct weeks with a sale),
    ``first_week`` (weeks back of the first sale, null if never sold).
    """
    weekly = weekly_article_sales(dataset) if weekly is None else weekly
    per_article = weekly.group_by(ARTICLE_IDX).agg(
        pl.col("n").sum().cast(pl.Int64),
        pl.len().cast(pl.Int32).alias("weeks_selling"),
        pl.col(WEEKS_BACK).max().alias("first_week"),
    )
    return (
        dataset.articles.select(ARTICLE_IDX)
        .join(per_article, on=ARTICLE_IDX, how="left")
        .with_columns(pl.col("n").fill_null(0), pl.col("weeks_selling").fill_null(0))
        .sort(ARTICLE_IDX)
    )


def customer_activity(dataset: Dataset) -> pl.DataFrame:
    """One row per buying customer: ``purchases`` (rows), ``days_since_last`` (0 = bought on the last day)."""
    win = window(dataset)
    return (
        dataset.transactions.lazy()
        .group_by(CUSTOMER_IDX)
        .agg(pl.len().alias("purchases"), pl.col(T_DAT).max().alias("last"))
        .select(
            CUSTOMER_IDX,
            "purchases",
            (pl.lit(win.end, dtype=pl.Date) - pl.col("last"))
            .dt.total_days()
            .cast(pl.Int32)
            .alias("days_since_last"),
        )
        .collect()
    )


def repurchase_by_week(dataset: Dataset) -> pl.DataFrame:
    """Per week, the share of purchases (rows) that repeat something the customer bought on an earlier day.

    A purchase of article ``a`` by customer ``c`` on day ``d`` counts as

    - ``same_article``: ``c`` bought ``a`` on a day before ``d``;
    - ``same_product``: ``c`` bought an article with the same ``product_code`` (any colour) before ``d``;
    - ``any_before``: ``c`` bought anything before ``d`` (a returning customer).

    Columns ``weeks_back``, ``purchases``, ``same_article``, ``same_product``, ``any_before`` (fractions), for
    every week including a partial oldest one. Early weeks are low by construction: there is little history.
    """
    win = window(dataset)
    # One integer key per grouping (cheaper to hash than pairs of columns); product codes are gathered by
    # article_idx instead of joined. The first day per key comes from a group-by joined back, which is about
    # four times faster in polars than the equivalent ``min().over(...)`` windows.
    products = dataset.articles["product_code"].cast(pl.Int64)
    customer = pl.col(CUSTOMER_IDX).cast(pl.Int64)
    keys = {
        "same_article": customer * dataset.n_articles + pl.col(ARTICLE_IDX),
        "same_product": customer * (1 << 32) + pl.lit(products).gather(pl.col(ARTICLE_IDX)),
        "any_before": pl.col(CUSTOMER_IDX),
    }
    base = dataset.transactions.lazy().select(
        win.weeks_back().alias(WEEKS_BACK),
        pl.col(T_DAT).cast(pl.Int32).alias("day"),
        *[expr.alias(f"key_{name}") for name, expr in keys.items()],
    )
    query = base
    for name in keys:
        first = base.group_by(f"key_{name}").agg(pl.col("day").min().alias(f"first_{name}"))
        query = query.join(first, on=f"key_{name}", how="left")
    return (
        query.select(WEEKS_BACK, *[(pl.col("day") > pl.col(f"first_{name}")).alias(name) for name in keys])
        .group_by(WEEKS_BACK)
        .agg(pl.len().alias("purchases"), *[pl.col(name).mean() for name in keys])
        .sort(WEEKS_BACK)
        .collect()
    )


def history_of_test_week_customers(dataset: Dataset) -> pl.DataFrame:
    """Customers who buy in the test week (the last 7 days) with their number of purchases before it.

    Columns ``customer_idx``, ``test_purchases``, ``purchases_before`` (0 = no history before the week).
    """
    win = window(dataset)
    tx = dataset.transactions.lazy()
    in_test = pl.col(T_DAT) >= pl.lit(win.test_start, dtype=pl.Date)
    test = tx.filter(in_test).group_by(CUSTOMER_IDX).agg(pl.len().alias("test_purchases"))
    before = tx.filter(~in_test).group_by(CUSTOMER_IDX).agg(pl.len().alias("purchases_before"))
    return (
        test.join(before, on=CUSTOMER_IDX, how="left")
        .with_columns(pl.col("purchases_before").fill_null(0).cast(pl.Int64))
        .sort(CUSTOMER_IDX)
        .collect()
    )


def active_shares(
    activity: pl.DataFrame, n_customers: int, windows: tuple[int, ...] = ACTIVE_WINDOWS
) -> dict[int, float]:
    """Share of all customers (customers.csv) who bought in the last ``n`` days, for each ``n``."""
    if n_customers == 0:
        return dict.fromkeys(windows, 0.0)
    counts = activity.select([(pl.col("days_since_last") < n).sum().alias(str(n)) for n in windows]).row(0)
    return {n: int(c) / n_customers for n, c in zip(windows, counts, strict=True)}


def category_shares(
    weekly: pl.DataFrame, articles: pl.DataFrame, column: str, top: int = TOP_CATEGORIES
) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """Weekly shares of transactions by an article attribute: the ``top`` categories overall, then "other".

    Returns (weeks_back ascending, shares of shape (categories, weeks), category labels).
    """
    joined = weekly.join(
        articles.select(ARTICLE_IDX, pl.col(column).fill_null(MISSING).cast(pl.String)), on=ARTICLE_IDX
    )
    totals = joined.group_by(column).agg(pl.col("n").sum()).sort(["n", column], descending=[True, False])
    leaders = totals[column].head(top).to_list()
    labelled = joined.with_columns(
        pl.when(pl.col(column).is_in(leaders))
        .then(pl.col(column))
        .otherwise(pl.lit("other"))
        .alias("category")
    )
    counts = (
        labelled.group_by(WEEKS_BACK, "category")
        .agg(pl.col("n").sum())
        .with_columns((pl.col("n") / pl.col("n").sum().over(WEEKS_BACK)).alias("share"))
    )
    labels = leaders + (["other"] if totals.height > top else [])
    weeks = np.sort(counts[WEEKS_BACK].unique().to_numpy())
    shares = np.zeros((len(labels), weeks.size))
    row = {label: i for i, label in enumerate(labels)}
    cat_rows = counts["category"].replace_strict(row, return_dtype=pl.Int32).to_numpy()
    week_cols = np.searchsorted(weeks, counts[WEEKS_BACK].to_numpy())
    shares[cat_rows, week_cols] = counts["share"].to_numpy()
    return weeks, shares, labels


# ============================================================================================== report
def pct(value: float) -> str:
    return f"{100 * value:.1f}%"
