"""`hmrec train` then `submit` / `recommend --model-dir`: a saved model is used as saved, on its own data only."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import polars as pl
import pytest


def hmrec(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "hmrec", *args], capture_output=True, text=True, check=False, env=env
    )


@pytest.mark.parametrize(
    ("model", "params"),
    [
        ("als", ["--param", "als.iterations=3", "--param", "als.factors=8"]),
        ("sgd-bpr", ["--param", "sgd-bpr.epochs=3", "--param", "sgd-bpr.factors=8"]),
        ("popularity", []),
        ("popularity-decay", []),
        ("popularity-age", []),
        ("repurchase", []),
        ("random", []),
    ],
)
def test_same_seed_same_submission_across_processes(
    tiny_dir: Path, tmp_path: Path, model: str, params: list[str]
) -> None:
    """Byte for byte, between a process that compiles the numba kernels (a fresh cache directory) and one
    that loads them from the cache. factors=8 on tiny is where fast-math reassociation once made them differ."""
    fresh = {**os.environ, "NUMBA_CACHE_DIR": str(tmp_path / "numba-cache")}
    outputs = []
    for name, env in (("compiled.csv", fresh), ("cached.csv", None)):
        done = hmrec("submit", "--data", str(tiny_dir), "--model", model, "--out", str(tmp_path / name),
                     "--seed", "5", "--quiet", *params, env=env)
        assert done.returncode == 0, done.stderr
        outputs.append((tmp_path / name).read_bytes())
    assert outputs[0] == outputs[1], model


def test_saved_model_gives_the_same_submission_as_a_fresh_fit(tiny_dir: Path, tmp_path: Path) -> None:
    params = ["--param", "als.iterations=3", "--param", "als.factors=8"]
    done = hmrec("train", "--data", str(tiny_dir), "--model", "als", "--out", str(tmp_path / "als"), "--quiet", *params)
    assert done.returncode == 0, done.stderr
    loaded = hmrec(
        "submit",
        "--data",
        str(tiny_dir),
        "--model-dir",
        str(tmp_path / "als"),
        "--out",
        str(tmp_path / "a.csv"),
        "--quiet",
    )
    assert loaded.returncode == 0, loaded.stderr
    fresh = hmrec(
        "submit",
        "--data",
        str(tiny_dir),
        "--model",
        "als",
        "--out",
        str(tmp_path / "b.csv"),
        "--quiet",
        *params,
    )
    assert fresh.returncode == 0, fresh.stderr
    # the saved model and a fresh fit in another process give the same file, byte for byte
    assert (tmp_path / "a.csv").read_bytes() == (tmp_path / "b.csv").read_bytes()
    a = pl.read_csv(tmp_path / "a.csv")
    assert a.height > 0
    again = hmrec(
        "submit",
        "--data",
        str(tiny_dir),
        "--model-dir",
        str(tmp_path / "als"),
        "--out",
        str(tmp_path / "c.csv"),
        "--quiet",
    )
    assert again.returncode == 0, again.stderr
    assert pl.read_csv(tmp_path / "c.csv").equals(a)

    customer = a["customer_id"][0]
    shown = hmrec(
        "recommend",
        "--data",
        str(tiny_dir),
        "--model-dir",
        str(tmp_path / "als"),
        "--customer",
        customer,
        "--quiet",
    )
    assert shown.returncode == 0, shown.stderr
    first = a["prediction"][0].split()[0]
    assert first in shown.stdout


def test_model_dir_errors_are_one_line(tiny_dir: Path, tmp_path: Path) -> None:
    missing = hmrec(
        "submit",
        "--data",
        str(tiny_dir),
        "--model-dir",
        str(tmp_path / "nothing"),
        "--out",
        str(tmp_path / "s.csv"),
    )
    assert missing.returncode == 2
    assert len(missing.stderr.strip().splitlines()) == 1 and "model.json" in missing.stderr

    done = hmrec("train", "--data", str(tiny_dir), "--model", "popularity", "--out", str(tmp_path / "pop"), "--quiet")
    assert done.returncode == 0, done.stderr
    both = hmrec(
        "submit",
        "--data",
        str(tiny_dir),
        "--model-dir",
        str(tmp_path / "pop"),
        "--model",
        "als",
        "--out",
        str(tmp_path / "s.csv"),
    )
    assert both.returncode == 2 and "holds a 'popularity' model" in both.stderr
    assert not (tmp_path / "s.csv").exists()
