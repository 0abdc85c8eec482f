"""The search on tiny data: the weeks it scores on, a planted test week it must not read, resuming, the seed."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import numpy as np
import polars as pl
import pytest

from hmrec.data.dataset import Dataset
from hmrec.data.load import load_dataset
from hmrec.errors import ParameterError
from hmrec.evaluation.evaluate import evaluate
from hmrec.registry import create
from hmrec.tuning.spaces import read_space, space_for, tunable
from hmrec.tuning.study import TuneResult, plan_weeks, tune


def _run(data: Dataset, trials: int, *, seed: int = 0, storage: str | None = None) -> TuneResult:
    plan = plan_weeks(data, 2, 7, None)
    return tune(data, "popularity", space=space_for("popularity"), plan=plan, trials=trials, seed=seed,
                storage=storage)


def _trials(result: TuneResult) -> list[tuple[int, dict[str, object], float | None]]:
    return [(t.number, t.params, t.value) for t in result.study.trials]


def test_the_weeks_end_the_day_before_the_held_out_week(tiny: Dataset) -> None:
    plan = plan_weeks(tiny, 2, 7, None)
    assert tiny.end_date is not None
    assert plan.held_out.test_end == tiny.end_date
    assert plan.held_out.test_start == tiny.end_date - dt.timedelta(days=6)
    assert [w.test_end for w in plan.weeks] == [
        plan.held_out.test_start - dt.timedelta(days=8), plan.held_out.test_start - dt.timedelta(days=1)
    ]
    assert "held out" in plan.describe() and str(plan.weeks[0].test_start) in plan.describe()


def test_too_short_data_is_one_line(tiny: Dataset) -> None:
    with pytest.raises(ParameterError, match="too short to tune on 500 backtest window"):
        plan_weeks(tiny, 500, 7, None)


def test_a_planted_test_week_changes_nothing(tiny_dir: Path, tiny: Dataset, tmp_path: Path) -> None:
    """The last week's purchases scrambled: the search gives the same trials, though the week's scores change."""
    planted = tmp_path / "planted"
    shutil.copytree(tiny_dir, planted, ignore=shutil.ignore_patterns(".hmrec-cache"))
    frame = pl.read_csv(planted / "transactions_train.csv", infer_schema=False)
    last = frame["t_dat"].max()
    assert isinstance(last, str)
    start = (dt.date.fromisoformat(last) - dt.timedelta(days=6)).isoformat()
    in_week = (frame["t_dat"] >= start).to_numpy()
    articles = frame["article_id"].to_numpy().copy()
    articles[in_week] = np.random.default_rng(0).permutation(articles[in_week])
    frame.with_columns(pl.Series("article_id", articles)).write_csv(planted / "transactions_train.csv")
    scrambled = load_dataset(planted, progress=False)

    # the plant is strong enough to show: the test week's score moves
    before = evaluate(tiny, ["popularity"], curve_k=0, progress=False, resamples=100)
    after = evaluate(scrambled, ["popularity"], curve_k=0, progress=False, resamples=100)
    assert before.to_frame()["map_at_k"][0] != after.to_frame()["map_at_k"][0]

    assert _trials(_run(scrambled, 3)) == _trials(_run(tiny, 3))


def test_same_seed_same_trials_and_the_defaults_first(tiny: Dataset) -> None:
    first, again, other = _run(tiny, 4), _run(tiny, 4), _run(tiny, 4, seed=3)
    assert _trials(first) == _trials(again)
    assert [p for _, p, _ in _trials(other)] != [p for _, p, _ in _trials(first)]
    assert first.study.trials[0].params == {"days": 7}  # the model's default
    assert first.default_value() == first.study.trials[0].value
    assert first.best.value == max(v for _, _, v in _trials(first) if v is not None)


def test_a_stored_study_is_continued(tiny: Dataset, tmp_path: Path) -> None:
    storage = f"sqlite:///{tmp_path / 'study.db'}"
    first = _trials(_run(tiny, 2, storage=storage))  # read now: the study object reads its storage
    second = _run(tiny, 2, storage=storage)
    assert len(second.study.trials) == 4 and second.trials_run == 2
    assert _trials(second)[:2] == first
    # the continued run draws new points rather than the first run's again
    assert [p for _, p, _ in _trials(second)[2:]] != [p for _, p, _ in first]


def test_a_study_of_other_weeks_is_refused(tiny: Dataset, tmp_path: Path) -> None:
    storage = f"sqlite:///{tmp_path / 'study.db'}"
    tune(tiny, "popularity", space=space_for("popularity"), plan=plan_weeks(tiny, 2, 7, None), trials=1,
         storage=storage, name="mine")
    with pytest.raises(ParameterError, match="study 'mine' was run with weeks"):
        tune(tiny, "popularity", space=space_for("popularity"), plan=plan_weeks(tiny, 1, 7, None), trials=1,
             storage=storage, name="mine")


@pytest.mark.parametrize("model", tunable())
def test_every_space_fits_its_model(model: str) -> None:
    """Each searched name is the model's, and the model accepts both ends of every range."""
    space = space_for(model)
    names = create(model).param_names()
    assert space and set(space) <= set(names)
    for name, dim in space.items():
        ends = list(dim.choices) if dim.kind == "categorical" else [dim.low, dim.high]
        for value in ends:
            create(model, **{name: int(value) if dim.kind == "int" else value})  # type: ignore[arg-type]


def test_a_model_without_a_space_names_the_tunable_ones() -> None:
    with pytest.raises(ParameterError, match=r"model 'oracle' has no search space \(fix: tune one of popularity,"):
        space_for("oracle")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[1, 2]", "must be a JSON object"),
        ('{"days": {"type": "int", "low": 5, "high": 1}}', "finite numbers \"low\" <= \"high\""),
        ('{"days": {"type": "int", "low": 1.5, "high": 3}}', "whole \"low\" and \"high\""),
        ('{"days": {"type": "float", "low": 0, "high": 3, "log": true}}', "log range needs \"low\" > 0"),
        ('{"days": {"type": "float", "low": NaN, "high": 3}}', "not a JSON search space"),
        ('{"days": {"type": "categorical", "choices": []}}', "non-empty list"),
        ('{"days": {"low": 1}}', "needs \"type\""),
    ],
)
def test_a_bad_space_file_is_one_line(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "space.json"
    path.write_text(text)
    with pytest.raises(ParameterError, match=f"--space {path}") as caught:
        read_space(path)
    assert message in str(caught.value) and "\n" not in str(caught.value)


def test_a_space_file_replaces_the_built_in_one(tmp_path: Path) -> None:
    path = tmp_path / "space.json"
    path.write_text('{"days": {"type": "int", "low": 2, "high": 4}, "filter_bought": '
                    '{"type": "categorical", "choices": [true, false]}}')
    space = read_space(path)
    assert space["days"].contains(3) and not space["days"].contains(5) and not space["days"].contains(2.5)
    assert space["filter_bought"].contains(True) and not space["filter_bought"].contains(1)
