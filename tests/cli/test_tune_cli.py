"""`hmrec tune` end to end on tiny data, and --params-file on evaluate, train and submit.

The first run of tune is the real command in a subprocess; the others run the same app object in-process
(a subprocess per case is slow), where user errors reach the same one-line exit-2 handling.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import polars as pl
import pytest


def hmrec(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "hmrec", *args], capture_output=True, text=True, check=False)


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    """The exit code, stdout and stderr of ``hmrec ARGS`` run in this process."""
    from hmrec.cli.main import app
    from hmrec.progress import set_quiet

    capsys.readouterr()
    try:
        with pytest.raises(SystemExit) as info:
            app(list(args), prog_name="hmrec")
    finally:
        set_quiet(False)
    out, err = capsys.readouterr()
    return int(info.value.code or 0), out, err


def test_tune_writes_its_files_and_a_second_run_continues(
    tiny_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "tuned"
    db = f"sqlite:///{tmp_path / 'study.db'}"
    args = ["tune", "--data", str(tiny_dir), "--model", "popularity", "--out", str(out), "--storage", db, "--quiet"]
    first = hmrec(*args, "--trials", "3")
    assert first.returncode == 0, first.stderr
    best = json.loads((out / "best_params.json").read_text())
    assert best["model"] == "popularity" and set(best["params"]) == {"days"} and best["trials"] == 3
    assert [w["test_end"] for w in best["weeks"]] == ["2020-09-08", "2020-09-15"]
    assert best["held_out"] == {"test_start": "2020-09-16", "test_end": "2020-09-22"}
    assert best["value"] == pytest.approx(sum(w["map_at_k"] for w in best["weeks"]) / 2)
    trials = pl.read_csv(out / "trials.csv")
    assert trials["number"].to_list() == [0, 1, 2] and trials["value"].max() == pytest.approx(best["value"])
    assert trials.filter(pl.col("defaults"))["param_days"].to_list() == [7]
    html = (out / "tune.html").read_text()
    assert "Optimization history" in html and "Parameter importances" in html
    assert (out / "history.png").stat().st_size and (out / "importances.png").stat().st_size
    assert f"Best mean MAP@12 {best['value']:.4f}" in first.stdout

    code, _, err = run(capsys, *args, "--trials", "2")
    assert code == 0, err
    assert json.loads((out / "best_params.json").read_text())["trials"] == 5
    assert pl.read_csv(out / "trials.csv")["number"].to_list() == [0, 1, 2, 3, 4]


def test_params_file_on_evaluate_train_and_submit(
    tiny_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The file's parameters are used, and --param overrides them."""
    path = tmp_path / "best_params.json"
    path.write_text(json.dumps({"model": "popularity", "params": {"days": 21, "filter_bought": True}}))
    data = ["--data", str(tiny_dir), "--quiet"]
    runs = {
        "train": ["train", "--model", "popularity", "--out", str(tmp_path / "model"), "--params-file", str(path),
                  "--param", "popularity.days=3"],
        "submit": ["submit", "--model", "popularity", "--out", str(tmp_path / "sub.csv"), "--params-file", str(path)],
        "submit-days": ["submit", "--model", "popularity", "--out", str(tmp_path / "days.csv"),
                        "--param", "popularity.days=21", "--param", "popularity.filter_bought=true"],
        "evaluate": ["evaluate", "--models", "popularity,repurchase", "--out", str(tmp_path / "ev"), "--curve-k", "0",
                     "--params-file", str(path)],
        "evaluate-days": ["evaluate", "--models", "popularity", "--out", str(tmp_path / "ev-days"), "--curve-k", "0",
                          "--param", "popularity.days=21", "--param", "popularity.filter_bought=true"],
    }
    for name, args in runs.items():
        code, _, err = run(capsys, *args, *data)
        assert code == 0, (name, err)
    saved = json.loads((tmp_path / "model" / "model.json").read_text())["params"]
    assert (saved["days"], saved["filter_bought"]) == (3, True)
    assert (tmp_path / "sub.csv").read_bytes() == (tmp_path / "days.csv").read_bytes()

    def popularity_map(folder: str) -> float:
        board = json.loads((tmp_path / folder / "leaderboard.json").read_text())
        return next(row["map_at_k"] for row in board["models"] if row["model"] == "popularity")

    assert popularity_map("ev") == popularity_map("ev-days")


def test_bad_params_files_and_tune_options_are_one_line(
    tiny_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    broken = tmp_path / "broken.json"
    broken.write_text('{"model": "popularity", "params": {"days": ')
    other = tmp_path / "other.json"
    other.write_text('{"als": {"factors": 8}}')
    foreign = tmp_path / "foreign"
    foreign.mkdir()
    (foreign / "trials.csv").write_text("mine\n")
    space = tmp_path / "space.json"
    space.write_text('{"nope": {"type": "int", "low": 1, "high": 3}}')
    notdb = tmp_path / "notes.txt"
    notdb.write_text("my notes\n")
    data = ["--data", str(tiny_dir), "--quiet"]
    cases = [
        (["evaluate", "--models", "popularity", "--params-file", str(broken), "--out", str(tmp_path / "e")],
         (f"--params-file {broken}: not valid JSON",)),
        (["train", "--model", "popularity", "--params-file", str(other), "--out", str(tmp_path / "m")],
         ("is for model 'als', which this command does not run",)),
        (["submit", "--model", "popularity", "--params-file", str(tmp_path / "absent.json"), "--out",
          str(tmp_path / "s.csv")], ("no such file",)),
        (["tune", "--model", "oracle"], ("model 'oracle' has no search space", "ranker")),
        (["tune", "--model", "popularity", "--out", str(foreign)],
         ("holds trials.csv, which hmrec tune did not write",)),
        (["tune", "--model", "popularity", "--storage", f"sqlite:///{notdb}", "--out", str(tmp_path / "t")],
         ("is not an SQLite database and would be overwritten",)),
        (["tune", "--model", "popularity", "--trials", "0"], ("--trials must be an integer >= 1",)),
        (["tune", "--model", "popularity", "--space", str(space)], ("names 'nope', which model 'popularity'",)),
    ]
    monkeypatch.chdir(tmp_path)  # tune's default --out is a folder in the current directory
    for args, fragments in cases:
        code, _, err = run(capsys, *args, *data)
        assert code == 2 and err.startswith("error: ") and err.count("\n") == 1, err
        for fragment in fragments:
            assert fragment in err, err
    assert (foreign / "trials.csv").read_text() == "mine\n" and notdb.read_text() == "my notes\n"


def test_ctrl_c_keeps_and_writes_the_finished_trials(
    tiny_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    import importlib

    evaluation = importlib.import_module("hmrec.evaluation.evaluate")  # the package exports a function of that name
    real = evaluation.evaluate
    calls: list[int] = []

    def interrupted_third(*args: object, **kwargs: object) -> object:
        calls.append(1)
        if len(calls) == 3:
            raise KeyboardInterrupt
        return real(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(evaluation, "evaluate", interrupted_third)
    out = tmp_path / "tuned"
    db = tmp_path / "study.db"
    code, stdout, err = run(capsys, "tune", "--data", str(tiny_dir), "--model", "popularity", "--trials", "5",
                            "--out", str(out), "--storage", f"sqlite:///{db}", "--quiet")
    assert (code, err.strip()) == (130, "interrupted")
    assert json.loads((out / "best_params.json").read_text())["trials"] == 2
    states = pl.read_csv(out / "trials.csv")["state"].to_list()
    assert states == ["complete", "complete", "fail"] and "Best mean MAP@12" in stdout


def test_one_trial_writes_no_importances(
    tiny_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "tuned"
    code, _, err = run(capsys, "tune", "--data", str(tiny_dir), "--model", "popularity", "--trials", "1",
                       "--out", str(out), "--quiet")
    assert code == 0, err
    assert json.loads((out / "best_params.json").read_text())["params"] == {"days": 7}  # the defaults, trial 0
    assert not (out / "importances.png").exists() and (out / "history.png").exists()
    assert "Parameter importances need at least 2 finished trials" in (out / "tune.html").read_text()
