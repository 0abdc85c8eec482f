"""``hmrec explore``: a self-contained HTML report on a data set, with every plot also written as PNG.

All numbers come from polars queries on the :class:`~hmrec.data.dataset.Dataset` frames (lazy, collected per
section with ``collect_all`` so that shared sub-plans run once); nothing loops over rows in Python. The heavy
queries aggregate first (per day, per week x article, per customer) and join names only onto those small
aggregates, so that the 31.8M-row transactions table is never widened with strings.

Weeks are counted back from the last day, like the competition's validation week: week 0 is the last 7 days
(``end - 6 .. end``), week 1 the 7 days before, and so on. A week only partly covered by the data (the oldest
one, when the number of days is not a multiple of 7) is left out of weekly charts, since its count is not
comparable.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl
from matplotlib.ticker import MaxNLocator

from hmrec.data.dataset import Dataset
from hmrec.data.schema import (
    ARTICLE_ID,
    ARTICLE_IDX,
    CUSTOMER_IDX,
    CUSTOMERS_SCHEMA,
    PRICE,
    SALES_CHANNEL,
    T_DAT,
)
from hmrec.errors import DataError
from hmrec.reports import plots
from hmrec.reports.html import FigureWriter, Report

REPORT_NAME = "report.html"
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
TOP_ARTICLES = 20
TOP_CATEGORIES = 7  # categories drawn in the stacked share charts; the rest is "other"
PRICE_BINS_PER_DECADE = 20
WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
HISTORY_BUCKETS = (
    (0, 0, "0"),
    (1, 1, "1"),
    (2, 4, "2-4"),
    (5, 9, "5-9"),
    (10, 19, "10-19"),
    (20, 49, "20-49"),
)

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
def _pct(value: float) -> str:
    return f"{100 * value:.1f}%"


def _section_overview(report: Report, stats: dict[str, Any]) -> None:
    sec = report.section(*SECTIONS[0])
    n_cust, n_art = max(stats["customers"], 1), max(stats["articles"], 1)
    rows = [
        ("transactions (rows)", stats["transactions"], ""),
        ("customers (customers.csv)", stats["customers"], ""),
        ("articles (articles.csv)", stats["articles"], ""),
        ("first day", stats["start_date"], ""),
        ("last day", stats["end_date"], ""),
        ("days / full weeks", f"{stats['days']:,} / {stats['full_weeks']:,}", ""),
        ("customers who buy", stats["buying_customers"], _pct(stats["buying_customers"] / n_cust)),
        (
            "customers who never buy",
            stats["customers_never_buying"],
            _pct(stats["customers_never_buying"] / n_cust),
        ),
        ("articles bought", stats["articles_sold"], _pct(stats["articles_sold"] / n_art)),
        (
            "articles never bought",
            stats["articles_never_bought"],
            _pct(stats["articles_never_bought"] / n_art),
        ),
        (
            "duplicate rows (same item, same day)",
            stats["duplicate_rows"],
            _pct(stats["duplicate_rows"] / max(stats["transactions"], 1)),
        ),
    ]
    sec.table(rows, ("", "value", "share"))
    sec.note(
        "Weeks are counted back from the last day, as in the competition: the test week is the last 7 days "
        "and weekly charts leave out an oldest week that the data only partly covers."
    )


def _section_time(report: Report, writer: FigureWriter, dataset: Dataset, win: Window) -> None:
    sec = report.section(*SECTIONS[1])
    tx = dataset.transactions.lazy()
    daily, weekly = pl.collect_all(
        [
            tx.group_by(T_DAT).agg(pl.len().alias("n")).sort(T_DAT),
            tx.group_by(win.weeks_back().alias(WEEKS_BACK))
            .agg(pl.len().alias("n"))
            .filter(pl.col(WEEKS_BACK) < win.full_weeks)
            .sort(WEEKS_BACK),
        ]
    )
    weekday = (
        daily.group_by(pl.col(T_DAT).dt.weekday().alias("weekday")).agg(pl.col("n").mean()).sort("weekday")
    )
    month = daily.group_by(pl.col(T_DAT).dt.month().alias("month")).agg(pl.col("n").mean()).sort("month")

    days = daily[T_DAT].to_numpy()
    per_day = daily["n"].to_numpy().astype(float)
    rolling = daily["n"].cast(pl.Float64).rolling_mean(7, min_samples=1).to_numpy()

    def draw_daily(ax: Any) -> None:
        ax.plot(days, per_day, color=plots.PALETTE[5], linewidth=0.8, label="per day")
        ax.plot(days, rolling, color=plots.ACCENT, linewidth=2, label="7-day mean")
        plots.date_axis(ax)
        plots.thousands(ax, integer=True)
        ax.set_ylim(bottom=0)
        ax.legend(loc="best")

    writer.add(
        sec,
        "time_daily",
        "Transactions per day",
        "date",
        "transactions per day",
        draw_daily,
        "Every purchase row per calendar day, with its 7-day moving mean.",
        wide=True,
    )

    weeks = weekly[WEEKS_BACK].to_numpy()
    week_starts = win.week_start(weeks)

    def draw_weekly(ax: Any) -> None:
        if weeks.size == 0:
            plots.note_empty(ax, "less than one full week of data")
            return
        ax.bar(week_starts, weekly["n"].to_numpy(), width=6, align="edge", color=plots.ACCENT)
        plots.date_axis(ax)
        plots.thousands(ax, integer=True)

    writer.add(
        sec,
        "time_weekly",
        "Transactions per week",
        "first day of the week",
        "transactions per week",
        draw_weekly,
        "Full weeks counted back from the last day (each bar starts on the week's first day).",
    )

    def draw_weekday(ax: Any) -> None:
        labels = [WEEKDAYS[int(d) - 1] for d in weekday["weekday"].to_list()]
        plots.bar_chart(ax, labels, weekday["n"].to_numpy())
        plots.thousands(ax, integer=True)

    writer.add(
        sec,
        "time_weekday",
        "Mean transactions by weekday",
        "weekday",
        "mean transactions per day",
        draw_weekday,
        "Mean over the days of each weekday in the data.",
    )

    def draw_month(ax: Any) -> None:
        labels = [MONTHS[int(m) - 1] for m in month["month"].to_list()]
        plots.bar_chart(ax, labels, month["n"].to_numpy())
        plots.thousands(ax, integer=True)

    writer.add(
        sec,
        "time_month",
        "Season: mean transactions per day by month",
        "calendar month",
        "mean transactions per day",
        draw_month,
        "Mean daily transactions in each calendar month (all years together), so months with fewer days "
        "in the data are comparable.",
    )


def _section_price(report: Report, writer: FigureWriter, dataset: Dataset) -> None:
    sec = report.section(*SECTIONS[2])
    tx = dataset.transactions.lazy()
    groups = dataset.articles.lazy().select(ARTICLE_IDX, pl.col("index_group_name").fill_null(MISSING))
    bin_expr = (pl.col(PRICE).cast(pl.Float64).log10() * PRICE_BINS_PER_DECADE).floor().cast(pl.Int32)
    quantiles = (0.05, 0.25, 0.5, 0.75, 0.95)
    hist, summary, by_group, channel = pl.collect_all(
        [
            tx.filter(pl.col(PRICE) > 0).group_by(bin_expr.alias("bin")).agg(pl.len().alias("n")).sort("bin"),
            tx.select(
                pl.col(PRICE).mean().alias("mean"),
                *[pl.col(PRICE).quantile(q).alias(f"q{int(q * 100)}") for q in quantiles],
                pl.col(PRICE).min().alias("min"),
                pl.col(PRICE).max().alias("max"),
            ),
            # Quantiles need every price, so the group name is joined onto (article, price) rows; the lazy
            # engine aggregates as it joins instead of materializing a widened copy of all transactions.
            tx.select(ARTICLE_IDX, PRICE)
            .join(groups, on=ARTICLE_IDX, how="left")
            .group_by("index_group_name")
            .agg(
                pl.len().alias("n"), *[pl.col(PRICE).quantile(q).alias(f"q{int(q * 100)}") for q in quantiles]
            )
            .sort("n", descending=True),
            tx.group_by(SALES_CHANNEL)
            .agg(pl.len().alias("n"), pl.col(PRICE).cast(pl.Float64).sum().alias("revenue"))
            .sort(SALES_CHANNEL),
        ]
    )
    s = summary.row(0, named=True)
    sec.note(
        f"Price (scaled units as in the data): mean {s['mean']:.4g}, quartiles {s['q25']:.4g} / "
        f"{s['q50']:.4g} / {s['q75']:.4g}, min {s['min']:.3g}, max {s['max']:.3g}."
    )

    def draw_hist(ax: Any) -> None:
        if hist.height == 0:
            plots.note_empty(ax)
            return
        bins = hist["bin"].to_numpy()
        counts = np.zeros(int(bins.max() - bins.min()) + 1)
        counts[bins - bins.min()] = hist["n"].to_numpy()
        edges = 10.0 ** (np.arange(bins.min(), bins.max() + 2) / PRICE_BINS_PER_DECADE)
        ax.stairs(counts, edges, fill=True, color=plots.ACCENT, alpha=0.85)
        ax.set_xscale("log")
        plots.plain_log(ax, "x")
        plots.thousands(ax, integer=True)
        ax.axvline(
            s["q50"], color=plots.HIGHLIGHT, linestyle="--", linewidth=1.2, label=f"median {s['q50']:.3g}"
        )
        ax.legend(loc="upper left")

    writer.add(
        sec,
        "price_distribution",
        "Price distribution (log scale)",
        "price (scaled units, log scale)",
        "transactions per bin",
        draw_hist,
        f"Histogram over {PRICE_BINS_PER_DECADE} logarithmic bins per decade of price.",
    )

    def draw_groups(ax: Any) -> None:
        if by_group.height == 0:
            plots.note_empty(ax)
            return
        stats = [
            {
                "label": r["index_group_name"],
                "whislo": r["q5"],
                "q1": r["q25"],
                "med": r["q50"],
                "q3": r["q75"],
                "whishi": r["q95"],
                "fliers": [],
            }
            for r in by_group.iter_rows(named=True)
        ]
        boxes = ax.bxp(stats, showfliers=False, patch_artist=True, widths=0.6)
        for patch in boxes["boxes"]:
            patch.set_facecolor("#cfe3f1")
        ax.set_yscale("log")
        plots.plain_log(ax, "y")
        ax.tick_params(axis="x", rotation=15)

    writer.add(
        sec,
        "price_by_index_group",
        "Price by index group",
        "index group",
        "price (scaled units, log scale)",
        draw_groups,
        "Boxes span the quartiles with the median line; whiskers reach the 5th and 95th percentiles.",
    )

    def draw_channel(ax: Any) -> None:
        if channel.height == 0:
            plots.note_empty(ax)
            return
        labels = [f"channel {c}" for c in channel[SALES_CHANNEL].to_list()]
        shares_rows = channel["n"].to_numpy() / channel["n"].sum()
        shares_rev = channel["revenue"].to_numpy() / max(float(channel["revenue"].sum()), 1e-12)
        x = np.arange(len(labels))
        for offset, values, label, colour in (
            (-0.2, shares_rows, "transactions", plots.ACCENT),
            (0.2, shares_rev, "revenue (sum of prices)", plots.PALETTE[1]),
        ):
            bars = ax.bar(x + offset, values, width=0.4, label=label, color=colour)
            ax.bar_label(bars, [_pct(v) for v in values], padding=2, fontsize=8)
        ax.set_xticks(x, labels)
        ax.set_ylim(0, 1.1)
        plots.percent(ax)
        ax.grid(axis="x", visible=False)
        ax.legend(loc="upper left")

    writer.add(
        sec,
        "sales_channel",
        "Sales channel shares",
        "sales channel (sales_channel_id)",
        "share (%)",
        draw_channel,
        "Share of transactions and of revenue per sales channel.",
    )


def _value_counts(frame: pl.DataFrame, column: str) -> pl.DataFrame:
    """Counts of each value (missing shown as such), most frequent first."""
    return (
        frame.group_by(pl.col(column).cast(pl.String).fill_null(MISSING).alias("value"))
        .agg(pl.len().alias("n"))
        .sort(["n", "value"], descending=[True, False])
    )


def _section_customers(report: Report, writer: FigureWriter, dataset: Dataset) -> None:
    sec = report.section(*SECTIONS[3])
    # A Dataset built from partial frames (tests, notebooks) may lack columns: show them as all missing.
    customers = dataset.customers.with_columns(
        [
            pl.lit(None, dtype=t).alias(c)
            for c, t in CUSTOMERS_SCHEMA.items()
            if c not in dataset.customers.columns
        ]
    )
    n = max(customers.height, 1)
    ages = customers.filter(pl.col("age").is_not_null()).group_by("age").agg(pl.len().alias("n")).sort("age")
    missing_age = customers["age"].null_count()

    def draw_age(ax: Any) -> None:
        if ages.height == 0:
            plots.note_empty(ax, "no ages")
            return
        ax.bar(ages["age"].to_numpy(), ages["n"].to_numpy(), width=1.0, color=plots.ACCENT)
        plots.thousands(ax, integer=True)

    mean_age = customers.select(pl.col("age").cast(pl.Float64).mean()).item()
    writer.add(
        sec,
        "customers_age",
        "Customer age",
        "age (years)",
        "customers",
        draw_age,
        f"One bar per year of age; mean {mean_age if mean_age is not None else float('nan'):.1f} years, "
        f"age missing for {missing_age:,} customers ({_pct(missing_age / n)}).",
    )

    for column, name, title in (
        ("club_member_status", "customers_club_status", "Club member status"),
        ("fashion_news_frequency", "customers_fashion_news", "Fashion news frequency"),
    ):
        counts = _value_counts(customers, column)

        def draw_counts(ax: Any, counts: pl.DataFrame = counts) -> None:
            shares = counts["n"].to_numpy() / n
            plots.bar_chart(
                ax,
                counts["value"].to_list(),
                shares,
                horizontal=True,
                # rare values (a few hundred "LEFT CLUB" among a million) would read "0.0%": add the count
                texts=[plots.share_label(v, c) for v, c in zip(shares, counts["n"].to_list(), strict=True)],
            )
            plots.percent(ax, "x")
            # the axis runs past the longest bar to fit its label; a share has no ticks beyond 100%
            ax.set_xticks([t for t in ax.get_xticks() if 0 <= t <= 1])

        writer.add(
            sec,
            name,
            title,
            "share of customers (%)",
            column,
            draw_counts,
            f"Values of {column} as they appear in customers.csv (distinct spellings kept apart); "
            "bar labels give the share and the number of customers.",
        )

    flags = customers.select([pl.col(c).is_not_null().mean().alias(c) for c in ("FN", "Active")]).row(0)

    def draw_flags(ax: Any) -> None:
        plots.bar_chart(ax, ["FN = 1", "Active = 1"], np.asarray(flags, dtype=float), value_format="{:.1%}")
        ax.set_ylim(0, 1.1)
        plots.percent(ax)

    writer.add(
        sec,
        "customers_fn_active",
        "FN and Active flags",
        "flag",
        "share of customers (%)",
        draw_flags,
        "Share of customers with the flag set to 1 (the rest are missing in the data).",
    )


def _section_activity(
    report: Report, writer: FigureWriter, dataset: Dataset, activity: pl.DataFrame, win: Window
) -> None:
    sec = report.section(*SECTIONS[4])
    n_customers = dataset.n_customers
    never = n_customers - activity.height
    distribution = activity.group_by("purchases").agg(pl.len().alias("customers")).sort("purchases")
    recency = (
        activity.group_by((pl.col("days_since_last") // 7).alias("weeks"))
        .agg(pl.len().alias("customers"))
        .sort("weeks")
    )
    median = activity["purchases"].median()
    below10 = (activity.filter(pl.col("purchases") < 10).height + never) / max(n_customers, 1)

    def draw_distribution(ax: Any) -> None:
        if distribution.height == 0:
            plots.note_empty(ax)
            return
        ax.scatter(
            distribution["purchases"].to_numpy(),
            distribution["customers"].to_numpy(),
            s=10,
            color=plots.ACCENT,
            alpha=0.8,
        )
        ax.set_xscale("log")
        ax.set_yscale("log")
        plots.plain_log(ax, "x", subs=(1.0,))
        plots.plain_log(ax, "y", subs=(1.0,))

    writer.add(
        sec,
        "activity_purchases_per_customer",
        "Purchases per customer (log-log)",
        "purchases per customer (transactions, log scale)",
        "customers (log scale)",
        draw_distribution,
        f"Buying customers only; median {float(median or 0):.0f} purchases. {never:,} customers never buy; "  # type: ignore[arg-type]
        f"{_pct(below10)} of all customers have fewer than 10 purchases.",
    )

    def draw_recency(ax: Any) -> None:
        if recency.height == 0:
            plots.note_empty(ax)
            return
        ax.bar(recency["weeks"].to_numpy(), recency["customers"].to_numpy(), width=0.9, color=plots.ACCENT)
        plots.thousands(ax, integer=True)

    writer.add(
        sec,
        "activity_days_since_last",
        "Time since the last purchase",
        "weeks since the last purchase (7-day bins)",
        "customers",
        draw_recency,
        f"Buying customers, measured back from the last day ({win.end}); bin 0 = bought in the last 7 days.",
    )

    shares = active_shares(activity, n_customers)

    def draw_active(ax: Any) -> None:
        plots.bar_chart(ax, [f"last {d} days" for d in shares], list(shares.values()), value_format="{:.1%}")
        ax.set_ylim(0, max(max(shares.values()) * 1.2, 0.05))
        plots.percent(ax)

    writer.add(
        sec,
        "activity_active_share",
        "Customers active recently",
        "window before the last day",
        "share of all customers (%)",
        draw_active,
        "Share of all customers in customers.csv with at least one purchase in the window.",
    )


def _section_articles(
    report: Report,
    writer: FigureWriter,
    dataset: Dataset,
    weekly: pl.DataFrame,
    sales: pl.DataFrame,
    win: Window,
) -> None:
    sec = report.section(*SECTIONS[5])
    counts = sales["n"].to_numpy()
    gini, _, _ = plots.lorenz_points(counts)
    total = max(int(counts.sum()), 1)
    top_share = {
        q: float(np.sort(counts)[::-1][: max(int(round(q * counts.size)), 1)].sum()) / total
        for q in (0.01, 0.1, 0.2)
    }

    def draw_lorenz(ax: Any) -> None:
        plots.lorenz(ax, counts)

    writer.add(
        sec,
        "articles_lorenz",
        f"Popularity long tail: Lorenz curve (Gini {gini:.3f})",
        "share of articles, least sold first (%)",
        "share of transactions (%)",
        draw_lorenz,
        f"All articles of articles.csv, never-bought ones included. The top 1% of articles make "
        f"{_pct(top_share[0.01])} of transactions, the top 10% {_pct(top_share[0.1])}, the top 20% "
        f"{_pct(top_share[0.2])}.",
    )

    names = [
        c
        for c in ("prod_name", "product_type_name", "colour_group_name", "index_group_name")
        if c in dataset.articles.columns
    ]
    top = (
        sales.filter(pl.col("n") > 0)
        .sort(["n", ARTICLE_IDX], descending=[True, False])
        .head(TOP_ARTICLES)
        .join(
            dataset.articles.select(ARTICLE_IDX, ARTICLE_ID, *names),
            on=ARTICLE_IDX,
            how="left",
            maintain_order="left",
        )
    )

    def draw_top(ax: Any) -> None:
        # An article is a product in one colour: several colours of one product often rank together, so the
        # colour is part of the label (the id alone does not tell them apart at a glance).
        parts = [c for c in ("prod_name", "colour_group_name") if c in top.columns]
        names = [", ".join(str(v) for v in row) for row in top.select(parts).rows()] if parts else None
        ids = top[ARTICLE_ID].to_list()
        labels = [f"{name} ({aid})" for name, aid in zip(names, ids, strict=True)] if names else ids
        plots.bar_chart(ax, labels, top["n"].to_numpy(), horizontal=True)
        plots.thousands(ax, "x", integer=True)
        ax.xaxis.set_major_locator(MaxNLocator(nbins=5, integer=True))

    writer.add(
        sec,
        "articles_top20",
        f"Top {TOP_ARTICLES} articles",
        "transactions",
        "article (name, colour and id)",
        draw_top,
        "The most bought articles over the whole period.",
        height=5.5,
    )
    table_rows = [
        (i + 1, r[ARTICLE_ID], *[r[c] for c in names], r["n"], _pct(r["n"] / total))
        for i, r in enumerate(top.iter_rows(named=True))
    ]
    sec.table(table_rows, ("rank", "article_id", *names, "transactions", "share"))

    full = weekly.filter(pl.col(WEEKS_BACK) < win.full_weeks)
    for column, title in (
        ("index_group_name", "Sales by index group over time"),
        ("product_group_name", "Sales by product group over time"),
        ("colour_group_name", "Sales by colour over time"),
    ):
        if column not in dataset.articles.columns:
            continue
        weeks, shares, labels = category_shares(full, dataset.articles, column)

        def draw_shares(
            ax: Any,
            weeks: np.ndarray = weeks,
            shares: np.ndarray = shares,
            labels: list[str] = labels,
            column: str = column,
        ) -> None:
            if weeks.size == 0:
                plots.note_empty(ax, "less than one full week of data")
                return
            x = win.week_start(weeks[::-1])  # oldest week first
            plots.stacked_shares(ax, x, shares[:, ::-1], labels, legend_title=column)
            plots.date_axis(ax)

        writer.add(
            sec,
            f"articles_share_{column.removesuffix('_name')}",
            title,
            "first day of the week",
            "share of the week's transactions (%)",
            draw_shares,
            f"Weekly shares of the {TOP_CATEGORIES} largest values of {column} over the whole period; "
            "the rest is 'other'.",
            wide=True,
        )

    first = (
        sales.filter(pl.col("first_week").is_not_null() & (pl.col("first_week") < win.full_weeks - 1))
        .group_by("first_week")
        .agg(pl.len().alias("articles"))
        .sort("first_week")
    )

    def draw_new(ax: Any) -> None:
        if first.height == 0:
            plots.note_empty(ax, "fewer than two full weeks of data")
            return
        ax.bar(
            win.week_start(first["first_week"].to_numpy()),
            first["articles"].to_numpy(),
            width=6,
            align="edge",
            color=plots.PALETTE[2],
        )
        plots.date_axis(ax)
        plots.thousands(ax, integer=True)

    writer.add(
        sec,
        "articles_new_per_week",
        "New articles per week (first sale)",
        "first day of the week",
        "articles first sold that week",
        draw_new,
        "Articles whose first sale falls in the week. The oldest full week is left out: every article "
        "already on sale would count as new there. The next few weeks are still inflated by slow sellers "
        "already on sale before the data starts (first seen late, not new); the level after them is the "
        "real rate of new articles.",
    )

    lifespan = (
        sales.filter(pl.col("weeks_selling") > 0)
        .group_by("weeks_selling")
        .agg(pl.len().alias("articles"))
        .sort("weeks_selling")
    )
    median_weeks = sales.filter(pl.col("weeks_selling") > 0)["weeks_selling"].median()

    def draw_lifespan(ax: Any) -> None:
        if lifespan.height == 0:
            plots.note_empty(ax)
            return
        ax.bar(
            lifespan["weeks_selling"].to_numpy(),
            lifespan["articles"].to_numpy(),
            width=0.9,
            color=plots.PALETTE[2],
        )
        plots.thousands(ax, integer=True)

    writer.add(
        sec,
        "articles_weeks_selling",
        "How many weeks an article sells",
        "weeks with at least one sale",
        "articles",
        draw_lifespan,
        f"Bought articles only; median {float(median_weeks or 0):.0f} weeks "  # type: ignore[arg-type]
        f"(of {win.full_weeks + (win.days % 7 > 0)} weeks in the data).",
    )


def _section_repurchase(report: Report, writer: FigureWriter, repurchase: pl.DataFrame, win: Window) -> None:
    sec = report.section(*SECTIONS[6])
    full = repurchase.filter(pl.col(WEEKS_BACK) < win.full_weeks).sort(WEEKS_BACK, descending=True)
    x = win.week_start(full[WEEKS_BACK].to_numpy())

    def draw(ax: Any) -> None:
        if full.height == 0:
            plots.note_empty(ax, "less than one full week of data")
            return
        for column, label, colour in (
            ("any_before", "customer bought anything before", plots.PALETTE[8]),
            ("same_product", "same product (any colour) before", plots.PALETTE[1]),
            ("same_article", "same article before", plots.ACCENT),
        ):
            ax.plot(x, full[column].to_numpy(), label=label, color=colour, linewidth=2)
        ax.set_ylim(0, 1)
        plots.percent(ax)
        plots.date_axis(ax)
        plots.legend_outside(ax)

    writer.add(
        sec,
        "repurchase_by_week",
        "Share of a week's purchases bought before",
        "first day of the week",
        "share of the week's purchases (%)",
        draw,
        "'Before' means on an earlier day within the data, so early weeks are low only because little "
        "history exists yet; the later weeks show the steady level.",
        wide=True,
    )
    if full.height:
        last = full.row(-1, named=True)
        sec.note(
            f"In the last week, {_pct(last['same_article'])} of purchases repeat an article the customer "
            f"bought before, {_pct(last['same_product'])} a product bought before (any colour), and "
            f"{_pct(last['any_before'])} come from customers who bought anything before."
        )


def _section_test_week(report: Report, writer: FigureWriter, history: pl.DataFrame, win: Window) -> None:
    sec = report.section(*SECTIONS[7])
    n = history.height
    cold = history.filter(pl.col("purchases_before") == 0).height
    upper = max(HISTORY_BUCKETS[-1][1] + 1, 50)
    buckets = [*HISTORY_BUCKETS, (upper, None, f"{upper}+")]
    counts = []
    for low, high, _label in buckets:
        expr = pl.col("purchases_before") >= low
        if high is not None:
            expr = expr & (pl.col("purchases_before") <= high)
        counts.append(expr)
    values = (
        history.select([c.sum().alias(str(i)) for i, c in enumerate(counts)]).row(0)
        if n
        else [0] * len(buckets)
    )
    shares = np.asarray(values, dtype=float) / max(n, 1)
    sec.table(
        [
            ("test week", f"{win.test_start} to {win.end}"),
            ("customers buying in the test week", n),
            ("... with no purchase before it", cold),
            ("share without history", _pct(cold / max(n, 1))),
            ("purchases in the test week", int(history["test_purchases"].sum()) if n else 0),
        ],
        ("", "value"),
    )

    def draw(ax: Any) -> None:
        if n == 0:
            plots.note_empty(ax, "no purchases in the test week")
            return
        plots.bar_chart(ax, [b[2] for b in buckets], shares, value_format="{:.1%}")
        ax.set_ylim(0, max(shares.max() * 1.2, 0.05))
        plots.percent(ax)
        for label in ax.get_xticklabels()[:1]:
            label.set_color(plots.HIGHLIGHT)

    writer.add(
        sec,
        "test_week_history",
        "Test-week customers by purchases before the week",
        "purchases before the test week (transactions)",
        "share of test-week customers (%)",
        draw,
        "Customers with no history (first bar) can only get non-personal recommendations such as popularity.",
    )


@contextmanager
def _stages(enabled: bool, total: int) -> Iterator[Callable[[str], None]]:
    """A progress bar over the report's stages; ``step(name)`` marks the start of the next stage."""
    if not enabled:
        yield lambda _name: None
        return
    from hmrec.progress import progress_bar

    with progress_bar() as bar:
        task = bar.add_task("Exploring", total=total, info="")
        started = [False]

        def step(name: str) -> None:
            if started[0]:
                bar.advance(task)
            started[0] = True
            bar.update(task, info=name)

        yield step
        bar.advance(task)


def explore(dataset: Dataset, out_dir: Path, progress: bool = True) -> Path:
    """Write ``report.html`` (self-contained, plots embedded) and every plot as PNG into ``out_dir``.

    Returns the path of the report. Raises :class:`DataError` if the data set has no transactions.
    """
    started = time.perf_counter()
    win = window(dataset)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    writer = FigureWriter(out_dir)
    # only the directory's name: a report is shared, the local path means nothing elsewhere
    source = f" from {Path(dataset.source).name}/" if dataset.source else ""
    report = Report(
        title="hmrec: data exploration",
        subtitle=f"{dataset.n_transactions:,} transactions{source}, {win.start} to {win.end}",
    )
    with _stages(progress, 8) as step:
        step("overview")
        stats = overview(dataset)
        _section_overview(report, stats)
        step("time")
        _section_time(report, writer, dataset, win)
        step("price")
        _section_price(report, writer, dataset)
        step("customers")
        _section_customers(report, writer, dataset)
        step("activity")
        activity = customer_activity(dataset)
        _section_activity(report, writer, dataset, activity, win)
        del activity
        step("articles")
        weekly = weekly_article_sales(dataset)
        sales = article_sales(dataset, weekly)
        _section_articles(report, writer, dataset, weekly, sales, win)
        del weekly, sales
        step("repurchase")
        _section_repurchase(report, writer, repurchase_by_week(dataset), win)
        step("test week")
        _section_test_week(report, writer, history_of_test_week_customers(dataset), win)
    report.subtitle += f"; {len(writer.written)} plots, built in {time.perf_counter() - started:.1f} s"
    return report.write(out_dir / REPORT_NAME)


__all__ = [
    "REPORT_NAME",
    "SECTIONS",
    "Window",
    "active_shares",
    "article_sales",
    "category_shares",
    "customer_activity",
    "explore",
    "overview",
    "repurchase_by_week",
    "history_of_test_week_customers",
    "weekly_article_sales",
    "window",
]
