"""Time-based train/test splits and backtest weeks.

A recommender is judged the way it will be used: trained on the past, asked about the days that follow.
:func:`time_split` puts the last ``test_days`` days of the data (or the window ending at ``test_end``) in the
test set and everything *strictly before* the window in the training set, so nothing from the test window or
after it can reach a model's ``fit``. :func:`backtest` repeats this for several consecutive windows.

Example (the competition's usual validation week)::

    data: 2018-09-20 .. 2020-09-22, test_days=7
    test  = 2020-09-16 .. 2020-09-22   (7 days, both ends included)
    train = 2018-09-20 .. 2020-09-15   (train_end = test_start - 1 day)
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from hmrec.data.dataset import Dataset
from hmrec.errors import ParameterError


@dataclass(frozen=True)
class Window:
    """The dates of one split: training ends the day before the test window starts."""

    train_end: dt.date
    test_start: dt.date
    test_end: dt.date


@dataclass(frozen=True, eq=False)
class Split:
    """A training set and the test window that follows it.

    Attributes:
        train: every transaction with ``t_dat <= train_end`` (same customers and articles as the data).
        test: the transactions with ``test_start <= t_dat <= test_end``.
        train_end: the last day that training may see (``test_start - 1 day``).
        test_start: first day of the test window.
        test_end: last day of the test window (included).
    """

    train: Dataset
    test: Dataset
    train_end: dt.date
    test_start: dt.date
    test_end: dt.date

    @property
    def test_days(self) -> int:
        return (self.test_end - self.test_start).days + 1


def parse_date(value: dt.date | str | None, name: str = "test_end") -> dt.date | None:
    """``None``, a date, or a ``YYYY-MM-DD`` string -> date; anything else raises ParameterError."""
    if value is None or (isinstance(value, dt.date) and not isinstance(value, dt.datetime)):
        return value
    if isinstance(value, dt.datetime):
        return value.date()
    try:
        return dt.date.fromisoformat(str(value))
    except ValueError:
        raise ParameterError(
            f"{name} must be a date YYYY-MM-DD, got {value!r} (fix: e.g. 2020-09-22)"
        ) from None


def _check_positive(value: int, name: str, flag: str) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or value < 1:
        raise ParameterError(f"{name} must be an integer >= 1, got {value!r} (fix: pass {flag} 7)")
    return value


def check_window_params(weeks: int, test_days: int) -> None:
    """Raise ParameterError unless ``weeks`` and ``test_days`` are integers >= 1 (cheap, before loading)."""
    _check_positive(weeks, "backtest weeks", "--backtest")
    _check_positive(test_days, "test_days", "--test-days")


def windows(
    dataset: Dataset, weeks: int = 1, test_days: int = 7, test_end: dt.date | str | None = None
) -> list[Window]:
    """The dates of ``weeks`` consecutive test windows of ``test_days`` days, oldest first.

    The newest window ends at ``test_end`` (default: the last day of the data); each earlier one ends the day
    before the next one starts, so the windows neither overlap nor leave gaps. Every window must lie inside
    the data and leave at least one day of training before it; otherwise ParameterError says how to fix it.
    """
    check_window_params(weeks, test_days)
    first, last = dataset.start_date, dataset.end_date
    if first is None or last is None:
        raise ParameterError("the data has no transactions, so there is nothing to split (fix: check --data)")
    end = parse_date(test_end) or last
    if end > last or end < first:
        raise ParameterError(
            f"test_end {end} is outside the data ({first} to {last}) (fix: choose a --test-end in that range)"
        )
    out = []
    for back in range(weeks - 1, -1, -1):
        w_end = end - dt.timedelta(days=back * test_days)
        w_start = w_end - dt.timedelta(days=test_days - 1)
        out.append(Window(train_end=w_start - dt.timedelta(days=1), test_start=w_start, test_end=w_end))
    oldest = out[0]
    if oldest.train_end < first:
        raise ParameterError(
            f"the test window(s) from {oldest.test_start} to {end} leave no training data before them "
            f"(data starts {first}) (fix: use fewer --backtest weeks, fewer --test-days or a later "
            f"--test-end)"
        )
    return out


def split_at(dataset: Dataset, window: Window) -> Split:
    """Cut ``dataset`` at ``window``: train = before ``test_start``, test = the window itself."""
    train = dataset.between(None, window.train_end)
    if train.n_transactions == 0:
        raise ParameterError(
            f"no transactions on or before {window.train_end} to train on "
            f"(fix: choose a later --test-end or fewer --backtest weeks)"
        )
    test = dataset.between(window.test_start, window.test_end)
    return Split(train=train, test=test, train_end=window.train_end, test_start=window.test_start,
                 test_end=window.test_end)


def time_split(dataset: Dataset, test_days: int = 7, test_end: dt.date | str | None = None) -> Split:
    """Train on everything before the last ``test_days`` days (ending at ``test_end``), test on those days.

    Raises:
        ParameterError: ``test_days < 1``, ``test_end`` outside the data, or no training data left.
    """
    return split_at(dataset, windows(dataset, 1, test_days, test_end)[0])


def backtest(
    dataset: Dataset, weeks: int, test_days: int = 7, test_end: dt.date | str | None = None
) -> list[Split]:
    """``weeks`` consecutive splits whose test windows end at ``test_end`` (default: the data's end).

    Oldest first; window ``i`` covers ``[end - (weeks-i)*test_days + 1, end - (weeks-1-i)*test_days]`` and its
    model trains on everything before it. Each split copies its rows: on large data, prefer iterating over
    :func:`windows` and calling :func:`split_at` one window at a time (what the evaluation loop does).
    """
    return [split_at(dataset, window) for window in windows(dataset, weeks, test_days, test_end)]


__all__ = [
    "Split",
    "Window",
    "backtest",
    "check_window_params",
    "parse_date",
    "split_at",
    "time_split",
    "windows",
]
