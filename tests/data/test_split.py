"""Time split and backtest windows: boundaries, no leakage, consecutive windows, user errors."""

from __future__ import annotations

import datetime as dt

import numpy as np
import polars as pl
import pytest

from hmrec.data.dataset import Dataset
from hmrec.data.split import backtest, parse_date, split_at, time_split, windows
from hmrec.errors import ParameterError

FIRST = dt.date(2020, 8, 1)
LAST = dt.date(2020, 9, 29)  # 60 days


def make_dataset(days: int = 60, n_customers: int = 15, n_articles: int = 8, seed: int = 0) -> Dataset:
    """Every day has a few purchases, so each window has data."""
    rng = np.random.default_rng(seed)
    per_day = 4
    dates = [FIRST + dt.timedelta(days=d) for d in range(days) for _ in range(per_day)]
    n = len(dates)
    articles = pl.DataFrame({"article_id": [f"{i + 100:010d}" for i in range(n_articles)]})
    customers = pl.DataFrame({"customer_id": [f"{i:064x}" for i in range(n_customers)]})
    transactions = pl.DataFrame(
        {
            "t_dat": dates,
            "customer_id": [f"{i:064x}" for i in rng.integers(0, n_customers, n)],
            "article_id": [f"{i + 100:010d}" for i in rng.integers(0, n_articles, n)],
            "price": rng.random(n),
            "sales_channel_id": rng.integers(1, 3, n),
        }
    )
    return Dataset.from_frames(articles, customers, transactions)


@pytest.fixture(scope="module")
def data() -> Dataset:
    return make_dataset()


def test_default_split_is_the_last_seven_days(data: Dataset) -> None:
    split = time_split(data)
    assert split.test_end == LAST
    assert split.test_start == dt.date(2020, 9, 23)
    assert split.train_end == dt.date(2020, 9, 22)
    assert split.test_days == 7
    assert split.test.start_date == split.test_start and split.test.end_date == split.test_end
    assert split.train.end_date == split.train_end and split.train.start_date == FIRST
    assert split.train.n_transactions + split.test.n_transactions == data.n_transactions


def test_nothing_from_the_test_window_or_after_reaches_train(data: Dataset) -> None:
    split = time_split(data, test_days=5, test_end="2020-09-10")
    train_dates = split.train.transactions["t_dat"]
    assert not (train_dates >= split.test_start).any()
    test_dates = split.test.transactions["t_dat"]
    assert test_dates.is_between(split.test_start, dt.date(2020, 9, 10)).all()
    # the days after the window are in neither part
    upto_end = data.between(None, split.test_end).n_transactions
    assert split.train.n_transactions + split.test.n_transactions == upto_end
    # the train matrix only counts train rows
    assert split.train.interactions().sum() == split.train.n_transactions
    # customers and articles are the same (indices are stable)
    assert split.train.n_customers == data.n_customers and split.test.n_articles == data.n_articles


def test_backtest_windows_are_consecutive_and_do_not_overlap(data: Dataset) -> None:
    splits = backtest(data, 4, test_days=7)
    assert [s.test_end for s in splits] == [LAST - dt.timedelta(days=7 * i) for i in (3, 2, 1, 0)]
    for older, newer in zip(splits, splits[1:], strict=False):
        assert newer.test_start == older.test_end + dt.timedelta(days=1)
        assert newer.train_end == older.test_end
    for split in splits:
        assert split.train_end + dt.timedelta(days=1) == split.test_start
        assert not (split.train.transactions["t_dat"] >= split.test_start).any()
        assert (split.test_end - split.test_start).days == 6
    covered = sum(s.test.n_transactions for s in splits)
    assert covered == data.between(splits[0].test_start, LAST).n_transactions


def test_backtest_of_one_equals_time_split(data: Dataset) -> None:
    (only,) = backtest(data, 1, test_days=3, test_end=dt.date(2020, 9, 1))
    same = time_split(data, test_days=3, test_end=dt.date(2020, 9, 1))
    assert (only.train_end, only.test_start, only.test_end) == (
        same.train_end,
        same.test_start,
        same.test_end,
    )
    assert only.test.transactions.equals(same.test.transactions)


def test_split_at_one_window_matches(data: Dataset) -> None:
    window = windows(data, 2, 7)[0]
    split = split_at(data, window)
    assert split.test_end == LAST - dt.timedelta(days=7)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"test_days": 0}, "test_days must be an integer >= 1"),
        ({"test_days": 2.5}, "test_days must be an integer >= 1"),
        ({"test_end": "2021-01-01"}, "outside the data"),
        ({"test_end": "2020-07-01"}, "outside the data"),
        ({"test_end": "2020-08-03", "test_days": 3}, "leave no training data"),
        ({"test_days": 60}, "leave no training data"),
        ({"test_end": "22/09/2020"}, "YYYY-MM-DD"),
    ],
)
def test_bad_windows_raise_one_line_with_the_fix(
    data: Dataset, kwargs: dict[str, object], match: str
) -> None:
    with pytest.raises(ParameterError, match=match) as info:
        time_split(data, **kwargs)  # type: ignore[arg-type]
    message = str(info.value)
    assert "\n" not in message and "fix:" in message


def test_backtest_errors(data: Dataset) -> None:
    with pytest.raises(ParameterError, match="backtest weeks must be"):
        backtest(data, 0)
    with pytest.raises(ParameterError, match="leave no training data"):
        backtest(data, 9, test_days=7)  # 63 days of windows in 60 days of data
    assert len(backtest(data, 8, test_days=7)) == 8  # 56 days: 4 days of training remain


def test_empty_data_is_refused() -> None:
    empty = make_dataset().between(dt.date(2030, 1, 1), None)
    with pytest.raises(ParameterError, match="no transactions"):
        time_split(empty)


def test_gap_before_the_window_still_leaves_train() -> None:
    data = make_dataset()
    gappy = data.between(dt.date(2020, 9, 20), None)  # only the last 10 days
    with pytest.raises(ParameterError, match="leave no training data"):
        time_split(gappy, test_days=10)
    split = time_split(gappy, test_days=7)
    assert split.train.n_transactions > 0


def test_parse_date() -> None:
    assert parse_date(None) is None
    assert parse_date("2020-09-22") == dt.date(2020, 9, 22)
    assert parse_date(dt.datetime(2020, 9, 22, 13)) == dt.date(2020, 9, 22)
