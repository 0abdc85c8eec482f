"""The data report's sections on articles, repurchase and the test week (the other sections are in
:mod:`hmrec.reports.explore`; the figures they draw come from :mod:`hmrec.reports.explore_data`).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import polars as pl
from matplotlib.ticker import MaxNLocator

from hmrec.data.dataset import Dataset
from hmrec.data.schema import ARTICLE_ID, ARTICLE_IDX
from hmrec.reports import plots
from hmrec.reports.explore_data import (
    SECTIONS,
    TOP_CATEGORIES,
    WEEKS_BACK,
    Window,
    category_shares,
    pct,
)
from hmrec.reports.html import FigureWriter, Report

TOP_ARTICLES = 20
HISTORY_BUCKETS = (
    (0, 0, "0"),
    (1, 1, "1"),
    (2, 4, "2-4"),
    (5, 9, "5-9"),
    (10, 19, "10-19"),
    (20, 49, "20-49"),
)


def section_articles(
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
        f"{pct(top_share[0.01])} of transactions, the top 10% {pct(top_share[0.1])}, the top 20% "
        f"{pct(top_share[0.2])}.",
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
        (i + 1, r[ARTICLE_ID], *[r[c] for c in names], r["n"], pct(r["n"] / total))
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


def section_repurchase(report: Report, writer: FigureWriter, repurchase: pl.DataFrame, win: Window) -> None:
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
            f"In the last week, {pct(last['same_article'])} of purchases repeat an article the customer "
            f"bought before, {pct(last['same_product'])} a product bought before (any colour), and "
            f"{pct(last['any_before'])} come from customers who bought anything before."
        )


def section_test_week(report: Report, writer: FigureWriter, history: pl.DataFrame, win: Window) -> None:
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
            ("share without history", pct(cold / max(n, 1))),
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
