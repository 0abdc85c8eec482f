"""`hmrec demo` end to end on a small data set: leaderboard, report and a submission for every customer."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import polars as pl


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


def test_demo_unknown_model_is_one_line(tmp_path: Path) -> None:
    env = {**os.environ, "HMREC_DEMO_DATA": str(tmp_path / "never-generated")}
    done = subprocess.run(
        [sys.executable, "-m", "hmrec", "demo", "--models", "nope", "--out", str(tmp_path / "o")],
        capture_output=True, text=True, env=env, check=False,
    )
    assert done.returncode == 2
    assert len(done.stderr.strip().splitlines()) == 1 and "unknown model 'nope'" in done.stderr
    assert not (tmp_path / "never-generated").exists()
