"""The ranker through the real commands (subprocesses) on the tiny data."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import polars as pl

FAST = ["--param", "ranker.trees=20", "--param", "ranker.weeks=2",
        "--param", "ranker.sources=repurchase:12,product:6,copurchase:12,popularity:12,age:6,trending:6"]


def run(*args: str) -> subprocess.CompletedProcess[str]:
    result = subprocess.run([sys.executable, "-m", "hmrec", *args, "--quiet"], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    return result


def test_train_twice_identical_then_submit_and_explain(tiny_dir: Path, tmp_path: Path) -> None:
    a, b = tmp_path / "a", tmp_path / "b"
    run("train", "--data", str(tiny_dir), "--model", "ranker", "--out", str(a), "--seed", "3", *FAST)
    run("train", "--data", str(tiny_dir), "--model", "ranker", "--out", str(b), "--seed", "3", *FAST)
    # two processes, same seed: the same booster and the same arrays, byte for byte
    assert (a / "booster.txt").read_bytes() == (b / "booster.txt").read_bytes()
    with np.load(a / "arrays.npz") as x, np.load(b / "arrays.npz") as y:
        assert x.files == y.files
        for key in x.files:
            np.testing.assert_array_equal(x[key], y[key], err_msg=key)

    out = tmp_path / "submission.csv"
    run("submit", "--data", str(tiny_dir), "--model-dir", str(a), "--out", str(out))
    sub = pl.read_csv(out, schema_overrides={"prediction": pl.String})
    assert sub.height == 2000
    assert (sub["prediction"].str.split(" ").list.len() == 12).all()

    customer = sub["customer_id"][0]
    shown = run("recommend", "--data", str(tiny_dir), "--model-dir", str(a), "--customer", customer, "--explain",
                "--k", "4").stdout
    assert "Why:" in shown and "contribution" in shown
    # the taste keys learned from the data are saved with the model and shown
    keys = json.loads(json.loads((a / "model.json").read_text())["attributes"]["taste_keys_"])
    assert keys and "Taste keys the model learned" in shown
    first = sub["prediction"][0].split(" ")[:4]
    for article in first:
        assert article in shown


def test_explain_refused_for_a_model_that_cannot(tiny_dir: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "hmrec", "recommend", "--data", str(tiny_dir), "--model", "popularity",
         "--customer", "0" * 64, "--explain", "--quiet"], capture_output=True, text=True,
    )
    assert result.returncode == 2
    assert "cannot explain" in result.stderr and "Traceback" not in result.stderr


def test_evaluate_ranker_writes_recall_and_importance(tiny_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "eval"
    run("evaluate", "--data", str(tiny_dir), "--models", "repurchase,ranker", "--out", str(out), *FAST)
    board = json.loads((out / "leaderboard.json").read_text())
    assert {m["model"] for m in board["models"]} == {"repurchase", "ranker"}
    recall = pl.read_csv(out / "candidate_recall.csv")
    assert set(recall["source"].to_list()) >= {"repurchase", "product", "union"}
    union = recall.filter(pl.col("source") == "union").sort("n")
    assert (union["recall"].diff().drop_nulls() >= 0).all()
    importance = pl.read_csv(out / "feature_importance.csv")
    assert importance["share"].sum() == pytest_approx(1.0)
    html = (out / "report.html").read_text()
    assert "Candidate sources" in html and "Feature importance" in html


def pytest_approx(value: float) -> object:
    import pytest

    return pytest.approx(value, rel=1e-6)
