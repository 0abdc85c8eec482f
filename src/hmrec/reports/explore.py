"""``hmrec explore``: a self-contained HTML report on a data set, with every plot also written as PNG.

All numbers come from polars queries on the :class:`~hmrec.data.dataset.Dataset` frames (lazy, collected per
section with ``collect_all`` so that shared sub-plans run once); nothing loops over rows in Python. The heavy
queries aggregate first (per day, per week x article, per customer) and join names only onto those small
aggregates, so that the 31.8M-row transactions table is never widened with strings.

Weeks are counted back from the last day, like the competition's validation week: week 0 is the last 7 days
(``end - 6 .. end``), week 1 the 7 days before, and so on. A week only partly covered by the data (the oldest
one, when the number of days is not a multiple of 7) is left out of weekly charts, since its count is not
comparable.

This module draws the overview, time, price, customer and activity sections and writes the report; the
queries are in :mod:`hmrec.reports.explore_data`, the article, repurchase and test-week sections in
:mod:`hmrec.reports.explore_articles`.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl

from hmrec.data.dataset import Dataset
from hmrec.data.schema import (
    ARTICLE_IDX,
    CUSTOMERS_SCHEMA,
    PRICE,
    SALES_CHANNEL,
    T_DAT,
)
from hmrec.reports import plots
from hmrec.reports.explore_articles import section_articles, section_repurchase, section_test_week
from hmrec.reports.explore_data import (
    MISSING,
    SECTIONS,
    WEEKS_BACK,
    Window,
    active_shares,
    article_sales,
    category_shares,
    customer_activity,
    history_of_test_week_customers,
    overview,
    pct,
    repurchase_by_week,
    weekly_article_sales,
    window,
)
from hmrec.reports.html import FigureWriter, Report

REPORT_NAME = "report.html"
PRICE_BINS_PER_DECADE = 20
WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


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
        ("customers who buy", stats["buying_customers"], pct(stats["buying_customers"] / n_cust)),
        (
            "customers who never buy",
            stats["customers_never_buying"],
            pct(stats["customers_never_buying"] / n_cust),
        ),
        ("articles bought", stats["articles_sold"], pct(stats["articles_sold"] / n_art)),
        (
            "articles never bought",
            stats["articles_never_bought"],
            pct(stats["articles_never_bought"] / n_art),
        ),
        (
            "duplicate rows (same item, same day)",
            stats["duplicate_rows"],
            pct(stats["duplicate_rows"] / max(stats["transactions"], 1)),
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
            ax.bar_label(bars, [pct(v) for v in values], padding=2, fontsize=8)
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
        f"age missing for {missing_age:,} customers ({pct(missing_age / n)}).",
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
        f"{pct(below10)} of all customers have fewer than 10 purchases.",
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
        section_articles(report, writer, dataset, weekly, sales, win)
        del weekly, sales
        step("repurchase")
        section_repurchase(report, writer, repurchase_by_week(dataset), win)
        step("test week")
        section_test_week(report, writer, history_of_test_week_customers(dataset), win)
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
