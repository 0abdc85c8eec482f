"""The data report: its numbers on hand-made data, and its structure on generated data."""

from __future__ import annotations

import datetime as dt
import re
import struct
import subprocess
import sys
from base64 import b64decode
from pathlib import Path

import numpy as np
import polars as pl
import pytest

from hmrec.data.dataset import Dataset
from hmrec.errors import DataError
from hmrec.reports.explore import (
    SECTIONS,
    active_shares,
    article_sales,
    category_shares,
    customer_activity,
    explore,
    history_of_test_week_customers,
    overview,
    repurchase_by_week,
    weekly_article_sales,
    window,
)
from hmrec.reports.plots import figure, lorenz_points, plain_log, share_label, thousands

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
END = dt.date(2020, 9, 22)  # a Tuesday, like the real data's last day


def day(back: int) -> dt.date:
    return END - dt.timedelta(days=back)


def article_frame(n: int) -> pl.DataFrame:
    """``n`` articles; articles 0 and 1 share product 100 (two colours of one product)."""
    return pl.DataFrame(
        {
            "article_id": [f"{1000 + i:010d}" for i in range(n)],
            "product_code": [100, 100, *range(101, 101 + n - 2)],
            "prod_name": [f"name {i}" for i in range(n)],
            "product_group_name": ["Upper", "Upper", *["Lower"] * (n - 2)],
            "colour_group_name": ["Black", "White", *["Black"] * (n - 2)],
            "index_group_name": ["Ladieswear", "Ladieswear", *["Menswear"] * (n - 2)],
        }
    )


def customer_frame(n: int) -> pl.DataFrame:
    return pl.DataFrame(
        {
            "customer_id": [f"{i:064x}" for i in range(n)],
            "FN": [1.0, None, None, None][:n],
            "Active": [1.0, 1.0, None, None][:n],
            "club_member_status": ["ACTIVE", "ACTIVE", "PRE-CREATE", None][:n],
            "fashion_news_frequency": ["NONE", "Regularly", None, "NONE"][:n],
            "age": [25, 50, None, 33][:n],
            "postal_code": ["x"] * n,
        }
    )


def hand_made() -> Dataset:
    """15 days (two full weeks plus one day), 4 customers (customer 3 never buys), 4 articles (3 never sold).

    rows (days back from END, customer, article):
      14: c0 a0          -> week 2 (partial)
       9: c0 a0          -> week 1, same article before
       8: c1 a1, c1 a1   -> week 1, a same-day duplicate (not "before")
       3: c0 a1          -> week 0, same product (a0) before, not the same article
       2: c2 a0          -> week 0, a new customer
       0: c1 a1          -> week 0, same article before
    """
    rows = [(14, 0, 0), (9, 0, 0), (8, 1, 1), (8, 1, 1), (3, 0, 1), (2, 2, 0), (0, 1, 1)]
    transactions = pl.DataFrame(
        {
            "t_dat": [day(b) for b, _, _ in rows],
            "customer_id": [f"{c:064x}" for _, c, _ in rows],
            "article_id": [f"{1000 + a:010d}" for _, _, a in rows],
            "price": [0.01, 0.01, 0.02, 0.02, 0.03, 0.01, 0.02],
            "sales_channel_id": [2, 2, 1, 1, 2, 2, 2],
        }
    )
    return Dataset.from_frames(article_frame(5), customer_frame(4), transactions)


def random_dataset(seed: int = 0, days: int = 40, n_tx: int = 3000) -> Dataset:
    """A few thousand random purchases with skewed popularity, for the report's structure."""
    rng = np.random.default_rng(seed)
    n_art, n_cust = 60, 200
    articles = article_frame(n_art).with_columns(
        pl.Series("index_group_name", rng.choice(["Ladieswear", "Menswear", "Divided"], n_art)),
        pl.Series("colour_group_name", rng.choice(["Black", "White", "Blue", "Red"], n_art)),
    )
    customers = pl.DataFrame(
        {
            "customer_id": [f"{i:064x}" for i in range(n_cust)],
            "age": rng.integers(16, 80, n_cust),
            "club_member_status": rng.choice(["ACTIVE", "PRE-CREATE"], n_cust),
        }
    )
    transactions = pl.DataFrame(
        {
            "t_dat": [day(int(b)) for b in rng.integers(0, days, n_tx)],
            "customer_id": [f"{i:064x}" for i in rng.zipf(1.6, n_tx) % (n_cust - 5)],
            "article_id": [f"{1000 + a:010d}" for a in rng.zipf(1.4, n_tx) % n_art],
            "price": rng.lognormal(-3.7, 0.5, n_tx),
            "sales_channel_id": rng.choice([1, 2], n_tx),
        }
    )
    return Dataset.from_frames(articles, customers, transactions)


# ---------------------------------------------------------------------------------------------- numbers
def test_window_counts_weeks_back_from_the_last_day() -> None:
    win = window(hand_made())
    assert (win.start, win.end, win.days, win.full_weeks) == (day(14), END, 15, 2)
    assert win.test_start == day(6)
    assert win.week_start(np.array([0, 1])).tolist() == [day(6), day(13)]


def test_overview_counts_non_buyers_unsold_articles_and_duplicates() -> None:
    stats = overview(hand_made())
    assert stats["transactions"] == 7
    assert stats["buying_customers"] == 3
    assert stats["customers_never_buying"] == 1
    assert stats["articles_sold"] == 2
    assert stats["articles_never_bought"] == 3
    assert stats["duplicate_rows"] == 1
    assert (stats["start_date"], stats["end_date"], stats["full_weeks"]) == (day(14), END, 2)


def test_article_sales_include_never_bought_articles() -> None:
    data = hand_made()
    sales = article_sales(data, weekly_article_sales(data))
    assert sales["n"].to_list() == [3, 4, 0, 0, 0]
    # a0 sells in weeks 2, 1 and 0; a1 in weeks 1 and 0
    assert sales["weeks_selling"].to_list() == [3, 2, 0, 0, 0]
    assert sales["first_week"].to_list() == [2, 1, None, None, None]


def test_repurchase_shares_per_week() -> None:
    shares = repurchase_by_week(hand_made())
    by_week = {row["weeks_back"]: row for row in shares.iter_rows(named=True)}
    # week 0: c0 a1 (same product, not article), c2 a0 (new), c1 a1 (same article) -> 1/3, 2/3, 2/3
    assert by_week[0]["purchases"] == 3
    assert by_week[0]["same_article"] == pytest.approx(1 / 3)
    assert by_week[0]["same_product"] == pytest.approx(2 / 3)
    assert by_week[0]["any_before"] == pytest.approx(2 / 3)
    # week 1: c0 a0 (bought on day 14), c1 a1 twice on its first day -> 1/3 each
    assert by_week[1]["same_article"] == pytest.approx(1 / 3)
    assert by_week[1]["any_before"] == pytest.approx(1 / 3)
    assert by_week[2]["same_article"] == 0.0


def test_test_week_history_finds_customers_without_history() -> None:
    history = history_of_test_week_customers(hand_made())
    assert history["customer_idx"].to_list() == [0, 1, 2]
    assert history["test_purchases"].to_list() == [1, 1, 1]
    assert history["purchases_before"].to_list() == [2, 2, 0]


def test_activity_and_active_shares() -> None:
    data = hand_made()
    activity = customer_activity(data).sort("customer_idx")
    assert activity["purchases"].to_list() == [3, 3, 1]
    assert activity["days_since_last"].to_list() == [3, 0, 2]
    # of all 4 customers: last 1 day -> c1; last 3 days -> c1, c2; last 7 days -> all three buyers
    assert active_shares(activity, 4, (1, 3, 7)) == {1: 1 / 4, 3: 2 / 4, 7: 3 / 4}


def test_category_shares_sum_to_one_per_week() -> None:
    data = random_dataset()
    weeks, shares, labels = category_shares(
        weekly_article_sales(data), data.articles, "colour_group_name", top=2
    )
    assert labels[-1] == "other" and len(labels) == 3
    np.testing.assert_allclose(shares.sum(axis=0), 1.0)
    assert weeks.tolist() == sorted(weeks.tolist())


def test_gini_of_known_distributions() -> None:
    assert lorenz_points(np.array([5, 5, 5, 5]))[0] == pytest.approx(0.0)
    # one of four items sells everything: G = 1 - (0 + 0 + 0 + 1) / 4
    gini, x, y = lorenz_points(np.array([0, 0, 0, 7]))
    assert gini == pytest.approx(3 / 4)
    assert (x[0], y[0], x[-1], y[-1]) == (0.0, 0.0, 1.0, 1.0)
    assert np.all(np.diff(y) >= 0)


def test_share_labels_never_round_a_real_value_to_zero() -> None:
    assert share_label(0.9274) == "92.7%"
    assert share_label(17 / 50_000, 17) == "<0.1% (17)"
    assert share_label(0.0, 0) == "0.0% (0)"
    assert share_label(0.5, 1234) == "50.0% (1,234)"


def test_log_axes_read_as_plain_decimals() -> None:
    with figure("t", "price", "n") as (fig, ax):
        ax.plot([0.003, 0.09], [1, 2])
        ax.set_xscale("log")
        plain_log(ax, "x")
        fig.canvas.draw()
        labels = [t.get_text() for t in ax.get_xticklabels() if 0.003 <= t.get_position()[0] <= 0.09]
    assert labels == ["0.005", "0.01", "0.02", "0.05"]


def test_count_axes_use_one_unit_per_axis() -> None:
    with figure("t", "x", "n") as (fig, ax):
        ax.bar([0, 1], [9_000, 13_500])
        thousands(ax, integer=True)
        fig.canvas.draw()
        labels = [t.get_text() for t in ax.get_yticklabels() if 0 < t.get_position()[1] <= 13_500]
    assert labels and all(label.endswith("k") for label in labels), labels  # never "9,000" beside "12k"


def test_repurchase_shares_are_nested_on_generated_data(tiny: Dataset) -> None:
    """Same article before implies same product before implies anything before, week by week."""
    shares = repurchase_by_week(tiny)
    assert shares.height > 0
    assert (shares["same_article"] <= shares["same_product"]).all()
    assert (shares["same_product"] <= shares["any_before"]).all()


def test_explore_refuses_a_data_set_without_transactions() -> None:
    data = hand_made()
    empty = data.between(END + dt.timedelta(days=1))
    with pytest.raises(DataError, match="no transactions"):
        explore(empty, Path("unused"), progress=False)


# ---------------------------------------------------------------------------------------------- structure
def png_size(data: bytes) -> tuple[int, int]:
    """Width and height from a PNG's IHDR chunk (signature checked first)."""
    assert data[:8] == PNG_SIGNATURE
    assert data[12:16] == b"IHDR"
    width, height = struct.unpack(">II", data[16:24])
    return int(width), int(height)


def check_report(report: Path) -> None:
    """Every section present, every image a real PNG, nothing fetched from the network, PNG files written."""
    html = report.read_text(encoding="utf-8")
    for title, anchor in SECTIONS:
        assert f'<section id="{anchor}"><h2>{title}</h2>' in html
    images = re.findall(r'<img src="data:image/png;base64,([^"]+)"', html)
    assert len(images) >= 20
    for encoded in images:
        width, height = png_size(b64decode(encoded))
        assert width >= 300 and height >= 200
    assert not re.search(r"(src|href)=\"(https?:)?//", html), "the report must not load anything"
    assert "http://" not in html and "https://" not in html
    pngs = sorted(report.parent.glob("*.png"))
    assert len(pngs) == len(images)
    for path in pngs:
        png_size(path.read_bytes())
    assert not list(report.parent.glob(".*.tmp")), "temporary files left behind"


def test_report_structure_on_hand_made_data(tmp_path: Path) -> None:
    report = explore(random_dataset(), tmp_path / "out", progress=False)
    assert report == tmp_path / "out" / "report.html"
    check_report(report)
    html = report.read_text(encoding="utf-8")
    assert "Gini" in html and "<td>name 1</td>" in html  # the Lorenz curve and the named top articles


@pytest.fixture(scope="module")
def tiny_report(tiny: Dataset, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return explore(tiny, tmp_path_factory.mktemp("explore"), progress=False)


def test_report_structure_on_tiny_generated_data(tiny_report: Path) -> None:
    check_report(tiny_report)


def test_report_states_the_test_week_cold_share(tiny: Dataset, tiny_report: Path) -> None:
    history = history_of_test_week_customers(tiny)
    cold = int((history["purchases_before"] == 0).sum())
    assert f'<td>... with no purchase before it</td><td class="num">{cold:,}</td>' in tiny_report.read_text()


@pytest.mark.slow
def test_cli_writes_the_report(tiny_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "explore"
    result = subprocess.run(
        [sys.executable, "-m", "hmrec", "explore", "--data", str(tiny_dir), "--out", str(out), "--quiet"],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    check_report(out / "report.html")


def test_cli_reports_a_missing_directory_in_one_line(tmp_path: Path) -> None:
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "hmrec",
            "explore",
            "--data",
            str(tmp_path / "nowhere"),
            "--out",
            str(tmp_path),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 2
    assert result.stderr.startswith("error: ") and len(result.stderr.strip().splitlines()) == 1
