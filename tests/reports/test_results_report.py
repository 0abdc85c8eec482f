"""The results report of ``hmrec evaluate``: structure, the oracle line, segments, recall curve, k-means."""

from __future__ import annotations

import datetime as dt
import os
import re
import struct
from base64 import b64decode
from pathlib import Path

import numpy as np
import polars as pl
import pytest

from browser_support import chromium, needs_browser
from hmrec.data.dataset import Dataset
from hmrec.evaluation.evaluate import CURVE_SCHEMA, WEEK_SCHEMA, Leaderboard
from hmrec.evaluation.segments import SEGMENT_SCHEMA
from hmrec.reports.results import SECTIONS, map_chart_data, write_results_report

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
#: set to a folder to save a screenshot of the crowded report at 1280 px
SCREENSHOTS = os.environ.get("HMREC_SCREENSHOTS")
TEST_START, TEST_END, TRAIN_END = dt.date(2020, 9, 16), dt.date(2020, 9, 22), dt.date(2020, 9, 15)
MAP = {"oracle": 0.9, "repurchase": 0.021, "popularity": 0.008}


def week_row(model: str, map_at_k: float) -> dict[str, object]:
    return {
        "model": model,
        "train_end": TRAIN_END,
        "test_start": TEST_START,
        "test_end": TEST_END,
        "customers_scored": 500,
        "map_at_k": map_at_k,
        "precision_at_k": map_at_k / 2,
        "recall_at_k": map_at_k * 1.5,
        "hit_rate_at_k": map_at_k * 3,
        "ndcg_at_k": map_at_k * 1.2,
        "coverage": 0.1,
        "fit_seconds": 0.5,
        "recommend_seconds": 0.25,
    }


def board(models: dict[str, float] = MAP) -> Leaderboard:
    """A leaderboard as :func:`evaluate` returns it, with segments and a recall curve for every model."""
    segments = pl.DataFrame(
        [
            {
                "model": model,
                "segment_kind": kind,
                "segment": segment,
                "customers": customers,
                "map_at_k": value * factor,
                "recall_at_k": value * factor,
                "hit_rate_at_k": value * factor,
            }
            for model, value in models.items()
            for kind, segment, customers, factor in (
                ("history", "with history", 400, 1.2),
                ("history", "without history", 100, 0.2),
                ("age", "<25", 200, 1.0),
                ("age", "25-34", 300, 1.0),
                ("activity", "0", 100, 0.2),
                ("activity", "1-4", 400, 1.2),
            )
        ],
        schema=SEGMENT_SCHEMA,
    )
    ks = np.arange(1, 101)
    curve = pl.concat(
        [
            pl.DataFrame({"model": model, "k": ks, "recall": 1 - np.exp(-ks * value)}, schema=CURVE_SCHEMA)
            for model, value in models.items()
        ]
    )
    return Leaderboard(
        k=12,
        train_end=TRAIN_END,
        test_start=TEST_START,
        test_end=TEST_END,
        customers_scored=500,
        weeks=pl.DataFrame([week_row(m, v) for m, v in models.items()], schema=WEEK_SCHEMA),
        segments=segments,
        recall_curve=curve,
    )


def images(html: str) -> list[bytes]:
    found = [b64decode(x) for x in re.findall(r'<img src="data:image/png;base64,([^"]+)"', html)]
    for data in found:
        assert data[:8] == PNG_SIGNATURE and data[12:16] == b"IHDR"
        width, height = struct.unpack(">II", data[16:24])
        assert width >= 300 and height >= 200
    return found


@pytest.fixture(scope="module")
def written(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """The report of the default board, written once for the tests that only read it."""
    out = tmp_path_factory.mktemp("results")
    path = write_results_report(board(), out)
    assert path == out / "report.html"
    return out, path.read_text(encoding="utf-8")


def test_report_has_every_section_and_real_pngs(written: tuple[Path, str]) -> None:
    tmp_path, html = written
    for title, anchor in SECTIONS[:3]:
        assert f'<section id="{anchor}"><h2>{title}</h2>' in html
    assert 'id="k-means"' not in html  # no k-means ran
    # MAP bars + 3 segment kinds + recall curve
    assert len(images(html)) == 5
    assert len(list(tmp_path.glob("*.png"))) == 5
    assert "http://" not in html and "https://" not in html


def test_best_model_other_than_the_oracle_is_highlighted(written: tuple[Path, str]) -> None:
    html = written[1]
    best = re.search(r'<tr class="best"><td>([^<]+)</td>', html)
    assert best is not None and best.group(1) == "repurchase"
    assert "MAP@12" in html and "0.0210" in html


def test_oracle_is_a_line_not_a_bar() -> None:
    bars, oracle = map_chart_data(board().to_frame())
    assert bars["model"].to_list() == ["repurchase", "popularity"]
    assert oracle == pytest.approx(0.9)
    bars, oracle = map_chart_data(board({"popularity": 0.01}).to_frame())
    assert bars["model"].to_list() == ["popularity"] and oracle is None


def test_segment_table_lists_each_segment_once_per_kind(written: tuple[Path, str]) -> None:
    html = written[1]
    # one table per kind, a row per model (the oracle left out), a column per segment with its size
    assert html.count("<th>without history (n=100)</th>") == 1
    assert html.count("<caption>MAP@12 by age group (years)</caption>") == 1
    assert "<tr><td>repurchase</td>" in html and "<tr><td>oracle</td><td class=\"num\">1.08" not in html


def test_recall_table_reads_the_curve(tmp_path: Path) -> None:
    html = write_results_report(board({"popularity": 0.01}), tmp_path).read_text(encoding="utf-8")
    expected = 1 - np.exp(-12 * 0.01)
    assert f'<td class="num">{expected:.4f}</td>' in html


def test_elbow_png_in_the_output_directory_is_embedded(tmp_path: Path) -> None:
    from hmrec.reports.plots import figure, save_png

    with figure("Choosing k", "number of clusters k", "inertia") as (fig, ax):
        ax.plot([2, 3, 4], [10.0, 5.0, 4.0])
        elbow = save_png(fig, tmp_path / "elbow.png")
    html = write_results_report(board(), tmp_path).read_text(encoding="utf-8")
    assert '<section id="k-means">' in html
    assert elbow in images(html)


def test_cluster_summary_explains_the_elbow_and_its_order(tmp_path: Path) -> None:
    """The files ``hmrec cluster`` leaves in --out: the choice and ARI in the caption, the k table folded."""
    import json

    from hmrec.reports.plots import figure, save_png

    with figure("Choosing k", "number of clusters k", "inertia") as (fig, ax):
        ax.plot([2, 3, 4], [10.0, 5.0, 4.0])
        save_png(fig, tmp_path / "elbow.png")
    pl.DataFrame({"k": [2, 3, 4], "inertia": [10.0, 5.0, 4.0], "chosen": [False, True, False]}).write_csv(
        tmp_path / "choose_k.csv"
    )
    summary = {"what": "customers", "data": "/somewhere/gen_small", "chosen_k": 3, "reason": "elbow at k=3"}
    (tmp_path / "summary.json").write_text(json.dumps({**summary, "adjusted_rand_index": 0.5, "true_segments": 12}))
    html = write_results_report(board(), tmp_path).read_text(encoding="utf-8")
    assert "Chosen k = 3: elbow at k=3." in html
    assert "12 true segments: 0.500." in html
    assert "(on gen_small/)" in html and "/somewhere" not in html  # the directory's name only
    assert "before `hmrec evaluate` ran" in html
    assert "<details><summary>Inertia and silhouette for each k (3 values of k)</summary><table>" in html


def test_an_unrelated_summary_json_is_ignored(tmp_path: Path) -> None:
    from hmrec.reports.plots import figure, save_png

    with figure("Choosing k", "number of clusters k", "inertia") as (fig, ax):
        ax.plot([2, 3, 4], [10.0, 5.0, 4.0])
        save_png(fig, tmp_path / "elbow.png")
    (tmp_path / "summary.json").write_text('{"reason": "not a clustering"}')
    html = write_results_report(board(), tmp_path).read_text(encoding="utf-8")
    assert "not a clustering" not in html and "Inertia and silhouette against k" in html


def test_oracle_is_described_as_the_true_probabilities(written: tuple[Path, str]) -> None:
    html = written[1]
    assert "true purchase probabilities" in html and "knows the test week" not in html


def test_empty_leaderboard_still_writes_a_report(tmp_path: Path) -> None:
    empty = Leaderboard(
        k=12,
        train_end=TRAIN_END,
        test_start=TEST_START,
        test_end=TEST_END,
        customers_scored=0,
        weeks=pl.DataFrame(schema=WEEK_SCHEMA),
    )
    html = write_results_report(empty, tmp_path).read_text(encoding="utf-8")
    assert "No segment breakdown" in html and "No recall curve" in html


def test_evaluate_writes_the_report_next_to_the_leaderboard(tiny: Dataset, tmp_path: Path) -> None:
    from hmrec.evaluation.evaluate import evaluate

    result = evaluate(tiny, ["popularity", "oracle"], progress=False, curve_k=20)
    paths = result.write(tmp_path)
    assert paths.get("report") == tmp_path / "report.html"
    html = (tmp_path / "report.html").read_text(encoding="utf-8")
    assert "<td>popularity</td>" in html
    assert len(images(html)) >= 5


@pytest.mark.parametrize("models", [{"popularity": 0.01}, {"oracle": 0.5}])
def test_single_model_boards(tmp_path: Path, models: dict[str, float]) -> None:
    html = write_results_report(board(models), tmp_path).read_text(encoding="utf-8")
    assert len(images(html)) == 5


def test_every_model_gets_a_distinct_colour_stable_across_reports() -> None:
    from hmrec.registry import available
    from hmrec.reports.results import _colours

    models = [*available(), "ranker-a", "ranker-b", "my-blend"]
    colours = _colours(models)
    assert set(colours) == set(models)
    assert len(set(colours.values())) == len(models)  # no two models share a colour
    assert colours["oracle"] == "#777777" and colours["repurchase"] != colours["random"]
    # a model keeps its colour in a report with fewer models, in another order
    fewer = _colours(["random", "repurchase", "oracle", "als"])
    assert all(fewer[m] == colours[m] for m in fewer)


# ---------------------------------------------------------------------- intervals and crowded boards
MANY = {
    "oracle": 0.09, "ranker": 0.047, "kmeans-customers+repurchase": 0.0286, "kmeans-customers": 0.0285,
    "repurchase": 0.028, "als+repurchase": 0.0275, "sgd+repurchase": 0.027, "kmeans-articles": 0.0247,
    "popularity-age": 0.0243, "als": 0.0222, "popularity": 0.021, "popularity-decay": 0.0198,
    "sgd-mse": 0.012, "sgd-bpr": 0.0115, "random": 0.0005, "my-very-long-experimental-ranker-name": 0.03,
}


def with_intervals(models: dict[str, float], windows: int = 1) -> Leaderboard:
    """:func:`board` with per-customer APs around each model's MAP (the week rows are their means), and
    their intervals."""
    from dataclasses import replace

    rng = np.random.default_rng(0)
    ap: dict[dt.date, dict[str, np.ndarray]] = {}
    rows = []
    for w in range(windows):
        start = TEST_START - dt.timedelta(days=7 * w)
        common = rng.random(500)  # the same customers are easy for every model: the pairs are correlated
        ap[start] = {m: np.clip(common * 2 * v + rng.normal(0, v / 4, 500), 0, 1) for m, v in models.items()}
        rows += [{**week_row(m, float(a.mean())), "test_start": start} for m, a in ap[start].items()]
    weeks = pl.DataFrame(rows, schema=WEEK_SCHEMA)
    return replace(board(models), customer_ap=ap, weeks=weeks, backtest=windows).with_intervals(resamples=200)


def test_leaderboard_table_and_chart_show_the_intervals(tmp_path: Path) -> None:
    from hmrec.reports.results import map_error_bars

    result = with_intervals(MAP)
    assert result.baseline == "repurchase"  # the best model that is not the oracle
    html = write_results_report(result, tmp_path).read_text(encoding="utf-8")
    for header in ("<th>95% CI</th>", "<th>Δ vs repurchase</th>", "<th>Δ 95% CI</th>", "<th>differs</th>"):
        assert header in html
    assert "<td>baseline</td>" in html and "not distinguishable" in html
    assert "Error bars: the 95% bootstrap interval." in html
    frame = result.to_frame()
    bars, _ = map_chart_data(frame)
    errors = map_error_bars(bars)
    assert errors is not None and errors.shape == (2, 2) and (errors > 0).all()
    row = bars.row(0, named=True)
    down, up = row["map_at_k"] - row["map_at_k_low"], row["map_at_k_high"] - row["map_at_k"]
    assert errors[:, 0] == pytest.approx([down, up])
    # without intervals: the spread across windows, or nothing
    plain = board().to_frame().drop("map_at_k_low", "map_at_k_high")
    assert map_error_bars(plain) is None
    spread = plain.with_columns(pl.lit(0.002).alias("map_at_k_std"))
    assert map_error_bars(spread) == pytest.approx(np.full((2, 3), 0.002))


def test_crowded_segment_charts_draw_the_best_few_of_each_segment() -> None:
    from hmrec.reports.results import SEGMENT_TOP, segment_chart_models

    segments = board(MANY).segments
    models = [m for m in with_intervals(MANY).to_frame()["model"].to_list() if m != "oracle"]
    part = segments.filter(pl.col("segment_kind") == "age")
    drawn = segment_chart_models(part, models)
    assert set(drawn) == {"<25", "25-34"}
    best = {"ranker", "my-very-long-experimental-ranker-name", "kmeans-customers+repurchase", "kmeans-customers",
            "repurchase"}
    assert len(best) == SEGMENT_TOP
    for names in drawn.values():
        assert names == [m for m in models if m in best]  # the best of the segment, in leaderboard order
    few = [m for m in models if m in ("repurchase", "popularity", "random")]
    assert segment_chart_models(part, few)["<25"] == few  # few models: every one


@needs_browser
def test_crowded_report_fits_a_1280_px_page(tmp_path: Path) -> None:
    """16 models with long names, two windows: in chromium at 1280 px nothing sticks out sideways."""
    path = write_results_report(with_intervals(MANY, windows=2), tmp_path)
    html = path.read_text(encoding="utf-8")
    assert "draws the 5 best of each segment" in html and "<th>MAP@12 std</th>" in html
    assert len(images(html)) == 5
    with chromium(1280, 900) as driver:
        driver.get(path.as_uri())
        inner = driver.execute_script("return window.innerWidth")
        assert driver.execute_script("return document.documentElement.scrollWidth") <= inner
        rights = driver.execute_script(
            "return [...document.querySelectorAll('table')].map((t) => t.getBoundingClientRect().right)"
        )
        assert len(rights) == 5 and max(rights) <= inner  # the leaderboard, 3 segment tables, the recall table
        if SCREENSHOTS:
            driver.save_screenshot(str(Path(SCREENSHOTS) / "results-1280.png"))
