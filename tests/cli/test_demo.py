"""`hmrec demo` end to end on a small data set: leaderboard, report and a submission for every customer."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import polars as pl
import pytest


def test_demo_writes_leaderboard_report_and_submission(tiny_dir: Path, tmp_path: Path) -> None:
    env = {**os.environ, "HMREC_DEMO_DATA": str(tiny_dir)}
    out = tmp_path / "demo"
    done = subprocess.run(
        [sys.executable, "-m", "hmrec", "demo", "--models", "oracle,random,popularity,repurchase", "--out", str(out),
         "--quiet"],
        capture_output=True, text=True, env=env, check=False,
    )
    assert done.returncode == 0, done.stderr
    board = json.loads((out / "leaderboard.json").read_text())
    maps = {row["model"]: row["map_at_k"] for row in board["models"]}
    assert set(maps) == {"oracle", "random", "popularity", "repurchase"}
    assert maps["oracle"] >= max(maps.values())
    assert (out / "report.html").read_text().startswith("<!DOCTYPE html>")
    submission = pl.read_csv(out / "submission.csv", schema_overrides={"customer_id": pl.String})
    customers = pl.read_csv(tiny_dir / "customers.csv", columns=["customer_id"])
    assert submission["customer_id"].to_list() == customers["customer_id"].to_list()
    best = max((m for m in maps if m != "oracle"), key=lambda m: maps[m])
    assert f"Best model: {best}" in done.stdout
    # the slowest models are named, slowest first, and the demo ends with the commands to try next
    seconds = {row["model"]: row["fit_seconds"] + row["recommend_seconds"] for row in board["models"]}
    slowest = max(seconds, key=lambda m: seconds[m])
    assert f"Took longest (fit + recommend): {slowest} " in done.stdout
    first = submission["customer_id"][0]
    assert f"hmrec recommend --model ranker --customer {first} --explain" in done.stdout
    assert done.stdout.rstrip().splitlines()[-1].strip().startswith("save a fitted model and serve")


def test_demo_unknown_model_is_one_line(tmp_path: Path) -> None:
    env = {**os.environ, "HMREC_DEMO_DATA": str(tmp_path / "never-generated")}
    done = subprocess.run(
        [sys.executable, "-m", "hmrec", "demo", "--models", "nope", "--out", str(tmp_path / "o")],
        capture_output=True, text=True, env=env, check=False,
    )
    assert done.returncode == 2
    assert len(done.stderr.strip().splitlines()) == 1 and "unknown model 'nope'" in done.stderr
    assert not (tmp_path / "never-generated").exists()


def test_demo_data_of_an_older_generator_is_made_again(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from hmrec.cli.main import resolve_data
    from hmrec.synthetic import GENERATOR_VERSION, MARKER_FILE, generate, generated_version

    demo = tmp_path / "demo-data"
    monkeypatch.setenv("HMREC_DEMO_DATA", str(demo))
    generate(demo, scale="tiny", seed=0, progress=False)
    assert generated_version(demo) == GENERATOR_VERSION
    current = (demo / "transactions_train.csv").stat().st_mtime_ns
    assert resolve_data(None) == demo  # up to date: used as it is
    assert (demo / "transactions_train.csv").stat().st_mtime_ns == current
    # written by an older generator (its marker has no version): generated again, at the demo's scale
    marker = json.loads((demo / MARKER_FILE).read_text())
    del marker["version"]
    (demo / MARKER_FILE).write_text(json.dumps(marker))
    assert generated_version(demo) == 0
    assert resolve_data(None) == demo
    assert generated_version(demo) == GENERATOR_VERSION
    assert json.loads((demo / MARKER_FILE).read_text())["scale"] == "small"
    # data the generator did not write is the user's: used as it is
    (demo / MARKER_FILE).unlink()
    before = (demo / "transactions_train.csv").stat().st_mtime_ns
    assert resolve_data(None) == demo
    assert (demo / "transactions_train.csv").stat().st_mtime_ns == before
