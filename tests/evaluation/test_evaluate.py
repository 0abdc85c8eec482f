"""The evaluation loop, the leaderboard, segments and ``hmrec evaluate``."""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys
from pathlib import Path
from typing import Any, ClassVar, Self

import numpy as np
import polars as pl
import pytest

from hmrec.data.dataset import Dataset
from hmrec.errors import ParameterError, UnknownModelError
from hmrec.evaluation.evaluate import ROW_FIELDS, Leaderboard, evaluate, results_report_writer
from hmrec.evaluation.segments import customer_segments, segment_breakdown
from hmrec.models.base import DEFAULT_K, Recommender, check_k, register, unregister

DAY0 = dt.date(2020, 9, 1)


# ---------------------------------------------------------------------- test models
class FixedList(Recommender):
    """The same ``items`` for every customer; records what it was trained on."""

    fits: ClassVar[list[tuple[dt.date | None, int | None]]] = []

    def __init__(self, items: tuple[int, ...] = (1, 2, 3), seed: int = 0) -> None:
        self.items = items
        self.seed = seed

    def fit(self, train: Dataset) -> Self:
        self._reset()
        FixedList.fits.append((train.end_date, self.seed))
        self.items_ = np.asarray(self.items, dtype=np.int32)
        return self

    score_kind = "rank"

    def score(self, customers: np.ndarray, articles: np.ndarray) -> np.ndarray:
        """``-position`` of the article in ``items``, -inf when it is not there."""
        self._check_fitted()
        articles = np.asarray(articles)
        hit = self.items_[None, :] == articles[:, None]
        return np.where(hit.any(axis=1), -hit.argmax(axis=1).astype(np.float32), -np.inf).astype(np.float32)

    def candidates(self, customers: np.ndarray, n: int = DEFAULT_K) -> tuple[np.ndarray, np.ndarray]:
        self._check_fitted()
        n = check_k(n)
        ids = np.full((len(customers), n), -1, dtype=np.int32)
        width = min(n, self.items_.size)
        ids[:, :width] = self.items_[:width]
        scores = np.where(ids >= 0, -np.arange(n, dtype=np.float32), -np.inf).astype(np.float32)
        return ids, scores


class LastWindowOnly(FixedList):
    """Like ``test-fixed`` but ``fit`` refuses training data that ends before ``train_end``."""

    def __init__(self, items: tuple[int, ...] = (2,), train_end: str = "2020-09-10") -> None:
        super().__init__(items)
        self.train_end = train_end

    def fit(self, train: Dataset) -> Self:
        if str(train.end_date) != self.train_end:
            raise ParameterError(f"test-last-window-only needs train to end {self.train_end}")
        return super().fit(train)


@pytest.fixture(autouse=True, scope="module")
def _test_models() -> Any:
    """Register the test models for this module only, so other modules see the real registry."""
    register("test-fixed", "Recommends the same fixed list to everyone (tests only).")(FixedList)
    register("test-last-window-only", "Refuses every window but the last (tests only).")(LastWindowOnly)
    yield
    unregister("test-fixed")
    unregister("test-last-window-only")


# ---------------------------------------------------------------------- a hand-made data set
def make_dataset() -> Dataset:
    """Customers c0..c3, articles a0..a4; train 2020-09-01..09-10, test week 2020-09-11..09-17.

    Test week: c0 buys a1 (twice) and a3, c1 buys a2, c2 and c3 buy nothing (not scored).
    c0 (age 23) has 6 train purchases; c1 (age unknown) has none; c2 (age 40) and c3 (age 60) have some.
    """
    articles = pl.DataFrame({"article_id": [f"{100 + i:010d}" for i in range(5)]})
    customers = pl.DataFrame({"customer_id": [f"{i:064x}" for i in range(4)], "age": [23, None, 40, 60]})
    rows: list[tuple[dt.date, int, int]] = []
    for d in range(10):  # train: c0 on days 0-5, c2 on days 0-9, c3 on day 9
        day = DAY0 + dt.timedelta(days=d)
        if d < 6:
            rows.append((day, 0, d % 5))
        rows.append((day, 2, (d + 1) % 5))
        if d == 9:
            rows.append((day, 3, 4))
    test = DAY0 + dt.timedelta(days=10)
    rows += [(test, 0, 1), (test + dt.timedelta(days=2), 0, 1), (test + dt.timedelta(days=6), 0, 3)]
    rows += [(test + dt.timedelta(days=3), 1, 2)]
    transactions = pl.DataFrame(
        {
            "t_dat": [r[0] for r in rows],
            "customer_id": [f"{r[1]:064x}" for r in rows],
            "article_id": [f"{100 + r[2]:010d}" for r in rows],
            "price": [0.02] * len(rows),
            "sales_channel_id": [2] * len(rows),
        }
    )
    return Dataset.from_frames(articles, customers, transactions)


@pytest.fixture(scope="module")
def data() -> Dataset:
    return make_dataset()


# ---------------------------------------------------------------------- the loop
def test_metrics_on_the_hand_made_week(data: Dataset) -> None:
    board = evaluate(data, ["test-fixed"], k=3, curve_k=5, progress=False)
    assert (board.train_end, board.test_start, board.test_end) == (
        dt.date(2020, 9, 10),
        dt.date(2020, 9, 11),
        dt.date(2020, 9, 17),
    )
    assert board.customers_scored == 2
    (row,) = board.to_frame().iter_rows(named=True)
    # list [1, 2, 3]: c0 bought {1, 3} -> AP = 1/2 * (1/1 + 2/3); c1 bought {2} -> AP = 1/1 * (1/2)
    assert row["map_at_k"] == pytest.approx((1 / 2 * (1 / 1 + 2 / 3) + 1 / 2) / 2)
    assert row["precision_at_k"] == pytest.approx((2 / 3 + 1 / 3) / 2)
    assert row["recall_at_k"] == pytest.approx((2 / 2 + 1 / 1) / 2)
    assert row["hit_rate_at_k"] == 1.0
    assert row["coverage"] == pytest.approx(3 / 5)
    assert row["fit_seconds"] >= 0 and row["recommend_seconds"] >= 0
    # recall@j: j=1 -> c0 1/2, c1 0; j=2 -> 1/2, 1; j>=3 -> 1, 1; flat beyond the list
    curve = board.recall_curve["recall"].to_list()
    assert curve == pytest.approx([1 / 4, 3 / 4, 1, 1, 1])
    assert board.recall_curve["k"].to_list() == [1, 2, 3, 4, 5]


def test_fit_never_sees_the_test_window(data: Dataset) -> None:
    FixedList.fits.clear()
    evaluate(data, ["test-fixed"], k=2, test_days=3, backtest=2, progress=False)
    # windows 09-12..09-14 and 09-15..09-17; the last purchases before them are on 09-11 and 09-14
    assert [end for end, _ in FixedList.fits] == [dt.date(2020, 9, 11), dt.date(2020, 9, 14)]


def test_seed_goes_to_models_with_a_seed_unless_set(data: Dataset) -> None:
    FixedList.fits.clear()
    evaluate(data, ["test-fixed"], progress=False, seed=42, curve_k=0)
    evaluate(data, ["test-fixed"], params={"test-fixed": {"seed": 7}}, progress=False, seed=42, curve_k=0)
    assert [seed for _, seed in FixedList.fits] == [42, 7]


def test_params_reach_the_model(data: Dataset) -> None:
    board = evaluate(data, ["test-fixed"], k=2, params={"test-fixed": {"items": (3, 1)}}, progress=False)
    row = board.to_frame().row(0, named=True)
    # c0: [3, 1] both hits -> 1; c1: none -> 0
    assert row["map_at_k"] == pytest.approx(1 / 2)


def test_backtest_rows_spread_and_skipped_models(data: Dataset) -> None:
    board = evaluate(
        data,
        ["test-fixed", "test-last-window-only"],
        k=2,
        test_days=3,
        backtest=2,
        params={"test-last-window-only": {"train_end": "2020-09-14"}},
        curve_k=3,
        progress=False,
    )
    assert board.backtest == 2
    assert board.weeks.height == 3  # fixed twice, last-window-only once
    assert board.skipped.height == 1
    assert board.skipped.row(0, named=True)["model"] == "test-last-window-only"
    frame = board.to_frame()
    assert "map_at_k_std" in frame.columns and "coverage_std" in frame.columns
    fixed = frame.filter(pl.col("model") == "test-fixed").row(0, named=True)
    weekly = board.weeks.filter(pl.col("model") == "test-fixed")["map_at_k"]
    assert fixed["map_at_k"] == pytest.approx(weekly.mean())
    assert fixed["map_at_k_std"] == pytest.approx(weekly.std(ddof=1))
    only_once = frame.filter(pl.col("model") == "test-last-window-only").row(0, named=True)
    assert only_once["map_at_k_std"] is None  # one window: no spread
    # the top-level dates span both windows; customers are summed over them
    assert (board.test_start, board.test_end) == (dt.date(2020, 9, 12), dt.date(2020, 9, 17))
    # window 1: c0 (09-13) and c1 (09-14); window 2: c0 (09-17)
    assert board.customers_scored == 3
    assert board.weeks.filter(pl.col("model") == "test-fixed")["customers_scored"].to_list() == [2, 1]
    doc = board.to_dict()
    assert len(doc["weeks"]) == 3 and doc["skipped"][0]["test_start"] == "2020-09-12"
    assert {"map_at_k_std", "ndcg_at_k_std"} <= set(doc["models"][0])
    assert "skipped" in board.render().caption  # type: ignore[operator]


def test_backtest_intervals_combine_the_windows(data: Dataset) -> None:
    """Window 1: c0 AP 1, c1 AP 1/2; window 2: c0 AP 0 (test-fixed's [1, 2] at k = 2).

    test-fixed's MAP is (3/4 + 0) / 2 = 3/8. Resampling window 1 gives 1, 3/4 or 1/2 (1/4, 1/2, 1/4), window 2
    always 0, so the combined MAP is 1/2, 3/8 or 1/4 and its 95 % CI [1/4, 1/2]. test-last-window-only ran on
    window 2 only (MAP 0): its paired difference to test-fixed is -3/8, CI [-1/2, -1/4], which excludes zero.
    """
    board = evaluate(
        data, ["test-fixed", "test-last-window-only"], k=2, test_days=3, backtest=2, curve_k=0, progress=False,
        params={"test-last-window-only": {"train_end": "2020-09-14"}},
    )
    assert board.baseline == "test-fixed"
    rows = {row["model"]: row for row in board.to_frame().iter_rows(named=True)}
    fixed, late = rows["test-fixed"], rows["test-last-window-only"]
    assert fixed["map_at_k"] == pytest.approx(3 / 8)
    assert (fixed["map_at_k_low"], fixed["map_at_k_high"]) == pytest.approx((1 / 4, 1 / 2))
    assert late["map_diff"] == pytest.approx(-3 / 8)
    assert (late["map_diff_low"], late["map_diff_high"]) == pytest.approx((-1 / 2, -1 / 4))
    assert late["map_diff_excludes_zero"] is True


def test_baseline_is_chosen_and_checked(data: Dataset) -> None:
    board = evaluate(data, ["test-fixed", "test-last-window-only"], baseline="test-last-window-only",
                     progress=False, curve_k=0)
    assert board.baseline == "test-last-window-only"
    rows = {row["model"]: row for row in board.to_frame().iter_rows(named=True)}
    assert rows["test-fixed"]["map_diff"] == pytest.approx(2 / 3 - 1 / 2)
    assert rows["test-last-window-only"]["map_diff"] == 0.0
    FixedList.fits.clear()
    with pytest.raises(ParameterError, match="--baseline 'nope' is not among the evaluated models"):
        evaluate(data, ["test-fixed"], baseline="nope", progress=False)
    assert FixedList.fits == []  # refused before any fit
    with pytest.raises(ParameterError, match="--resamples must be"):
        evaluate(data, ["test-fixed"], resamples=3, progress=False)


def test_a_baseline_that_never_ran_leaves_the_differences_empty(data: Dataset) -> None:
    board = evaluate(data, ["test-fixed", "test-last-window-only"], baseline="test-last-window-only",
                     params={"test-last-window-only": {"train_end": "never"}}, progress=False, curve_k=0)
    (row,) = board.to_frame().iter_rows(named=True)
    assert row["map_at_k_low"] is not None and row["map_diff"] is None and row["map_diff_excludes_zero"] is None
    assert board.baseline is None and "test-last-window-only, which did not run" in str(board.render().caption)


def test_the_oracle_is_never_the_default_baseline(data: Dataset) -> None:
    board = evaluate(data, ["test-fixed"], progress=False, curve_k=0)
    oracle = board.weeks.with_columns(pl.lit("oracle").alias("model"), pl.lit(0.9).alias("map_at_k"))
    ap = {day: {**week, "oracle": np.ones(2)} for day, week in board.customer_ap.items()}
    from dataclasses import replace

    both = replace(board, weeks=pl.concat([board.weeks, oracle]), customer_ap=ap).with_intervals()
    assert both.best_model() == "oracle" and both.baseline == "test-fixed"
    assert both.to_frame().row(0, named=True)["map_diff"] == pytest.approx(1 - 2 / 3)


def test_json_shape(data: Dataset, tmp_path: Path) -> None:
    board = evaluate(data, ["test-fixed", "test-last-window-only"], progress=False, curve_k=0)
    doc = board.to_dict()
    assert list(doc) == ["k", "train_end", "test_start", "test_end", "customers_scored", "intervals", "models"]
    assert doc["k"] == 12 and doc["test_end"] == "2020-09-17" and doc["customers_scored"] == 2
    assert doc["intervals"] == {"confidence": 0.95, "resamples": 1000, "seed": 0, "baseline": "test-fixed"}
    assert [list(row) for row in doc["models"]] == [list(ROW_FIELDS)] * 2
    # best MAP first: [2] hits c1 at rank 1 (MAP 1/2); [1, 2, 3] scores (5/6 + 1/2) / 2 = 2/3
    assert [row["model"] for row in doc["models"]] == ["test-fixed", "test-last-window-only"]
    fixed, other = doc["models"]
    # two customers, AP 5/6 and 1/2: a resample's mean is 5/6, 2/3 or 1/2 (1/4, 1/2, 1/4), the 95 % CI [1/2, 5/6]
    assert (fixed["map_at_k_low"], fixed["map_at_k_high"]) == pytest.approx((1 / 2, 5 / 6))
    assert (fixed["map_diff"], fixed["map_diff_low"], fixed["map_diff_high"]) == (0.0, 0.0, 0.0)
    # per-customer differences to test-fixed: 0 - 5/6 and 1 - 1/2, so the mean is -1/6 and the CI [-5/6, 1/2]
    assert other["map_diff"] == pytest.approx(-1 / 6)
    assert (other["map_diff_low"], other["map_diff_high"]) == pytest.approx((-5 / 6, 1 / 2))
    assert fixed["map_diff_excludes_zero"] is False and other["map_diff_excludes_zero"] is False
    assert board.best_model() == "test-fixed"
    assert board.best_model(exclude=["test-fixed"]) == "test-last-window-only"
    paths = board.write(tmp_path / "out", report=False)
    written = json.loads((tmp_path / "out" / "leaderboard.json").read_text())
    assert written == json.loads(json.dumps(doc))
    csv = pl.read_csv(paths["leaderboard.csv"])
    assert csv.columns == list(ROW_FIELDS) and csv.height == 2
    assert pl.read_csv(paths["segments.csv"]).height > 0
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == [
        "leaderboard.csv",
        "leaderboard.json",
        "recall_curve.csv",
        "segments.csv",
    ]  # no temporary file left behind


def test_errors(data: Dataset) -> None:
    with pytest.raises(UnknownModelError, match="unknown model 'nope'"):
        evaluate(data, ["nope"], progress=False)
    with pytest.raises(ParameterError, match="k must be"):
        evaluate(data, ["test-fixed"], k=0, progress=False)
    with pytest.raises(ParameterError, match="outside the data"):
        evaluate(data, ["test-fixed"], test_end="2021-01-01", progress=False)
    with pytest.raises(ParameterError, match="not evaluated"):
        evaluate(data, ["test-fixed"], params={"other": {"x": 1}}, progress=False)
    with pytest.raises(ParameterError, match="has no parameter 'bogus'"):
        evaluate(data, ["test-fixed"], params={"test-fixed": {"bogus": 1}}, progress=False)
    with pytest.raises(ParameterError, match="nobody bought"):
        evaluate(data, ["test-fixed"], test_end="2020-09-16", test_days=2, progress=False)
    with pytest.raises(ParameterError, match="no model"):
        evaluate(data, [], progress=False)


def test_no_model_ran(data: Dataset) -> None:
    board = evaluate(data, ["test-last-window-only"], params={"test-last-window-only": {"train_end": "x"}},
                     progress=False)
    assert board.to_frame().height == 0 and board.to_dict()["models"] == []
    with pytest.raises(ParameterError, match="no model was evaluated"):
        board.best_model()


# ---------------------------------------------------------------------- segments
def test_segments(data: Dataset) -> None:
    board = evaluate(data, ["test-fixed"], k=3, progress=False, curve_k=0)
    seg = {(r["segment_kind"], r["segment"]): r for r in board.segments.iter_rows(named=True)}
    # c0: age 23, 6 train purchases, AP 5/6, recall 1; c1: age unknown, no history, AP 1/2, recall 1
    assert seg[("history", "with history")]["customers"] == 1
    assert seg[("history", "with history")]["map_at_k"] == pytest.approx(5 / 6)
    assert seg[("history", "without history")]["map_at_k"] == pytest.approx(1 / 2)
    assert seg[("age", "<25")]["customers"] == 1 and seg[("age", "unknown")]["customers"] == 1
    assert seg[("activity", "5-19")]["map_at_k"] == pytest.approx(5 / 6)
    assert seg[("activity", "0")]["recall_at_k"] == 1.0
    assert set(seg) == {
        ("history", "with history"), ("history", "without history"), ("age", "<25"), ("age", "unknown"),
        ("activity", "0"), ("activity", "5-19"),
    }
    assert board.segments.columns == [
        "model", "segment_kind", "segment", "customers", "map_at_k", "recall_at_k", "hit_rate_at_k",
    ]


def test_segment_buckets_edges() -> None:
    ages = [None, 16, 24, 25, 34, 35, 44, 45, 54, 55, 99]
    n = len(ages)
    articles = pl.DataFrame({"article_id": ["0000000001"]})
    customers = pl.DataFrame({"customer_id": [f"{i:064x}" for i in range(n)], "age": ages})
    counts = [0, 1, 4, 5, 19, 20, 0, 0, 0, 0, 0]
    tx = pl.DataFrame(
        {
            "t_dat": [DAY0] * sum(counts),
            "customer_id": [f"{i:064x}" for i, c in enumerate(counts) for _ in range(c)],
            "article_id": ["0000000001"] * sum(counts),
            "price": [0.01] * sum(counts),
            "sales_channel_id": [1] * sum(counts),
        }
    )
    ds = Dataset.from_frames(articles, customers, tx)
    seg = customer_segments(ds, np.arange(n))
    assert seg["age"].to_list() == [
        "unknown", "<25", "<25", "25-34", "25-34", "35-44", "35-44", "45-54", "45-54", "55+", "55+",
    ]
    assert seg["activity"].to_list()[:6] == ["0", "1-4", "1-4", "5-19", "5-19", "20+"]
    assert seg["history"].to_list()[:2] == ["without history", "with history"]
    rows = {name: np.linspace(0, 1, n) for name in ("map_at_k", "recall_at_k", "hit_rate_at_k")}
    rows["map_at_k"][0] = np.nan  # an unscored row is left out
    frame = segment_breakdown("m", seg, rows)
    assert frame.filter(pl.col("segment_kind") == "age")["segment"].to_list() == [
        "<25", "25-34", "35-44", "45-54", "55+",
    ]
    assert int(frame.filter(pl.col("segment_kind") == "history")["customers"].sum()) == n - 1


# ---------------------------------------------------------------------- rendering and the report hook
def test_render_and_print(data: Dataset) -> None:
    from rich.console import Console

    board = evaluate(data, ["test-fixed"], k=3, progress=False, curve_k=0)
    console = Console(record=True, width=160)
    board.print(console)
    text = console.export_text()
    assert "MAP@3" in text and "test-fixed" in text and "0.6667" in text


def test_report_hook_is_optional() -> None:
    writer = results_report_writer()
    try:
        import hmrec.reports.results as results  # noqa: F401
    except ModuleNotFoundError:
        assert writer is None
    else:
        assert writer is results.write_results_report


def test_write_calls_the_report_hook(data: Dataset, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import importlib

    # the package re-exports the function `evaluate`, which hides the module of the same name as an attribute
    ev = importlib.import_module("hmrec.evaluation.evaluate")
    calls: list[tuple[Leaderboard, Path]] = []

    def fake(board: Leaderboard, out: Path) -> Path:
        calls.append((board, out))
        assert (out / "leaderboard.json").exists()  # written after the leaderboard
        return out / "report.html"

    monkeypatch.setattr(ev, "results_report_writer", lambda: fake)
    board = evaluate(data, ["test-fixed"], progress=False, curve_k=0)
    paths = board.write(tmp_path)
    # the hook writes into the staging copy of the folder, which then replaces it as a whole
    assert len(calls) == 1 and calls[0][0] is board
    stage = calls[0][1]
    assert stage.parent == tmp_path.parent and stage.name.startswith(f".{tmp_path.name}.tmp-")
    assert not stage.exists() and (tmp_path / "leaderboard.json").is_file()
    assert paths["report"] == tmp_path / "report.html"


# ---------------------------------------------------------------------- the command
def run_cli(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "hmrec", "evaluate", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=300,
    )


def test_cli_unknown_model_exits_2_in_a_subprocess(tmp_path: Path) -> None:
    # checked before any data is read, so an empty directory will do
    result = run_cli("--data", str(tmp_path), "--quiet", "--models", "popularity,no-such-model")
    assert result.returncode == 2, result.stderr
    assert "unknown model 'no-such-model'" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--models", "popularity", "--k", "0"], "k must be an integer >= 1"),
        (["--models", "popularity", "--test-end", "2020/09/22"], "YYYY-MM-DD"),
        (["--models", "popularity", "--param", "popularity"], "MODEL.NAME=VALUE"),
        (["--models", "popularity", "--param", "als.factors=3"], "not evaluated"),
        (["--models", "popularity", "--param", "popularity.bogus=3"], "has no parameter 'bogus'"),
        (["--models", "popularity", "--backtest", "0"], "backtest weeks must be"),
        (["--models", "popularity", "--test-days", "-1"], "test_days must be"),
        (["--models", "popularity", "--curve-k", "-1"], "--curve-k must be"),
        (["--models", "popularity", "--baseline", "als"], "--baseline 'als' is not among the evaluated models"),
        (["--models", "popularity", "--resamples", "10"], "--resamples must be an integer >= 100"),
    ],
)
def test_cli_user_errors_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], args: list[str], message: str
) -> None:
    """The same app object as the ``hmrec`` command, run in-process (a subprocess per case is slow)."""
    from hmrec.cli.main import app
    from hmrec.progress import set_quiet

    try:
        with pytest.raises(SystemExit) as info:
            app(["evaluate", "--data", str(tmp_path), "--quiet", *args], prog_name="hmrec")
    finally:
        set_quiet(False)
    err = capsys.readouterr().err
    assert info.value.code == 2, err
    assert message in err and len(err.strip().splitlines()) == 1


def _has_generator_and_loader() -> bool:
    import importlib.util

    return all(importlib.util.find_spec(m) is not None for m in ("hmrec.synthetic", "hmrec.data.load"))


needs_data = pytest.mark.skipif(not _has_generator_and_loader(), reason="generator or loader not available")


@needs_data
def test_cli_on_tiny_data(request: pytest.FixtureRequest, tmp_path: Path) -> None:
    tiny_dir: Path = request.getfixturevalue("tiny_dir")
    out = tmp_path / "results"
    result = run_cli(
        "--data", str(tiny_dir), "--models", "popularity,random", "--out", str(out), "--quiet", "--k", "12"
    )
    assert result.returncode == 0, result.stderr
    assert "MAP@12" in result.stdout and "popularity" in result.stdout
    doc: dict[str, Any] = json.loads((out / "leaderboard.json").read_text())
    assert doc["k"] == 12 and doc["customers_scored"] > 0
    assert {row["model"] for row in doc["models"]} == {"popularity", "random"}
    for row in doc["models"]:
        assert 0.0 <= row["map_at_k"] <= row["hit_rate_at_k"] <= 1.0
    assert pl.read_csv(out / "leaderboard.csv").height == 2


@needs_data
def test_cli_intervals_columns_and_seed(request: pytest.FixtureRequest, tmp_path: Path) -> None:
    """The table's interval columns, the files' columns, and the same intervals under the same --seed."""
    tiny_dir: Path = request.getfixturevalue("tiny_dir")
    args = ("--data", str(tiny_dir), "--models", "popularity,repurchase,random", "--quiet", "--curve-k", "0",
            "--resamples", "200", "--baseline", "popularity")
    runs = {}
    for name, seed in (("a", "3"), ("b", "3")):  # that another seed moves them: tests/evaluation/test_intervals.py
        result = run_cli(*args, "--seed", seed, "--out", str(tmp_path / name))
        assert result.returncode == 0, result.stderr
        runs[name] = (result.stdout, pl.read_csv(tmp_path / name / "leaderboard.csv"))
    stdout, csv = runs["a"]
    for header in ("MAP@12", "95% CI", "Δ vs popularity", "Δ 95% CI", "differs", "baseline"):
        assert header in stdout, stdout
    assert "200 resamples, seed 3" in stdout
    assert csv.columns == list(ROW_FIELDS)
    intervals = ["model", "map_at_k_low", "map_at_k_high", "map_diff_low", "map_diff_high"]
    assert runs["b"][1].select(intervals).equals(csv.select(intervals))
    rows = {row["model"]: row for row in csv.iter_rows(named=True)}
    assert rows["popularity"]["map_diff"] == 0 and rows["random"]["map_diff_excludes_zero"]  # random is worse
    for row in rows.values():
        assert row["map_at_k_low"] <= row["map_at_k"] <= row["map_at_k_high"]
    doc = json.loads((tmp_path / "a" / "leaderboard.json").read_text())
    assert doc["intervals"] == {"confidence": 0.95, "resamples": 200, "seed": 3, "baseline": "popularity"}


@needs_data
def test_cli_window_outside_the_data_exits_2(request: pytest.FixtureRequest, tmp_path: Path) -> None:
    tiny_dir: Path = request.getfixturevalue("tiny_dir")
    result = run_cli("--data", str(tiny_dir), "--models", "popularity", "--test-end", "2031-01-01", "--quiet")
    assert result.returncode == 2 and "outside the data" in result.stderr


def test_status_lines_when_progress_is_on(data: Dataset, capsys: pytest.CaptureFixture[str]) -> None:
    evaluate(data, ["test-fixed", "test-last-window-only"], k=3, curve_k=0, progress=True,
             params={"test-last-window-only": {"train_end": "[never]"}})
    err = capsys.readouterr().err
    assert "2 customers scored" in err
    assert "test-fixed" in err and "MAP@3 0.6667" in err
    assert "skipped: test-last-window-only needs train to end [never]" in err  # markup left alone
