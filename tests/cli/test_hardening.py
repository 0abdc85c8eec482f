"""Data loss, silently wrong output and tracebacks, each through the real ``hmrec`` command.

Every case runs ``python -m hmrec ...`` in a subprocess and checks what a user sees: exit code 2 with one
short line naming the thing and the fix (never a traceback), and that nothing the user had is lost.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest


def hmrec(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "hmrec", *args], capture_output=True, text=True, timeout=600, cwd=cwd
    )


def one_line_error(done: subprocess.CompletedProcess[str], *words: str, fix: bool = True) -> str:
    """The single stderr line of a user error (exit 2), after checking it names ``words`` (and a fix).

    A parameter's error names the parameter, the allowed values and the value received instead of a fix.
    """
    assert "Traceback" not in done.stderr, done.stderr
    assert done.returncode == 2, (done.returncode, done.stdout, done.stderr)
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert len(lines[0]) < 400 and ("fix" in lines[0] or not fix), lines[0]
    for word in words:
        assert word in lines[0], lines[0]
    return lines[0]


def tree(directory: Path) -> dict[str, bytes]:
    """Every file under ``directory`` (hidden ones included) with its bytes."""
    return {str(p.relative_to(directory)): p.read_bytes() for p in sorted(directory.rglob("*")) if p.is_file()}


# ---------------------------------------------------------------------- train --out
def test_train_refuses_a_folder_of_user_files(tiny_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "thesis"
    out.mkdir()
    (out / "chapter1.tex").write_text("years of work")
    before = tree(tmp_path)
    done = hmrec("train", "--data", str(tiny_dir), "--model", "popularity", "--out", str(out), "--quiet")
    one_line_error(done, "thesis", "chapter1.tex", "not a saved hmrec model")
    assert tree(tmp_path) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["thesis"]


def test_train_refuses_a_file(tiny_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "notes.txt"
    out.write_text("keep me")
    done = hmrec("train", "--data", str(tiny_dir), "--model", "popularity", "--out", str(out), "--quiet")
    one_line_error(done, "notes.txt", "is a file")
    assert out.read_text() == "keep me"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["notes.txt"]  # no hidden .notes.txt.*.old


def test_train_refuses_the_current_directory(tiny_dir: Path, tmp_path: Path) -> None:
    here = tmp_path / "here"
    here.mkdir()
    done = hmrec("train", "--data", str(tiny_dir), "--model", "popularity", "--out", "", "--quiet", cwd=here)
    one_line_error(done, "current directory")
    assert here.is_dir() and list(here.iterdir()) == []


def test_train_replaces_a_saved_model_and_fills_an_empty_folder(tiny_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "model"
    out.mkdir()  # empty: fine
    first = hmrec("train", "--data", str(tiny_dir), "--model", "popularity", "--out", str(out), "--quiet")
    assert first.returncode == 0, first.stderr
    second = hmrec(
        "train", "--data", str(tiny_dir), "--model", "popularity", "--out", str(out), "--quiet",
        "--param", "popularity.days=14",
    )
    assert second.returncode == 0, second.stderr
    assert json.loads((out / "model.json").read_text())["params"]["days"] == 14
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model"]  # nothing left beside it
    assert sorted(p.name for p in out.iterdir()) == ["arrays.npz", "bundle.json", "model.json", "serve"]


# ---------------------------------------------------------------------- bad parameter values
@pytest.mark.parametrize("command", ["train", "evaluate"])
def test_a_bad_parameter_value_stops_before_fitting(tiny_dir: Path, tmp_path: Path, command: str) -> None:
    out = tmp_path / "out"
    models = ["--model", "als"] if command == "train" else ["--models", "popularity,als"]
    done = hmrec(
        command, "--data", str(tiny_dir), *models, "--out", str(out), "--quiet", "--param", "als.factors=abc"
    )
    one_line_error(done, "factors", "integer >= 1", "'abc'", fix=False)
    assert not out.exists()


# ---------------------------------------------------------------------- damaged saved models
def _swap_arrays(model: Path, change: Callable[[dict[str, np.ndarray]], None], relist: bool) -> None:
    """Rewrite arrays.npz after ``change``; with ``relist`` model.json is edited to agree (a careful edit)."""
    with np.load(model / "arrays.npz") as npz:
        arrays = {name: npz[name] for name in npz.files}
    change(arrays)
    np.savez(model / "arrays.npz", **arrays)  # type: ignore[arg-type]
    if relist:
        meta = json.loads((model / "model.json").read_text())
        meta["arrays"] = {k: {"dtype": v.dtype.str, "shape": list(v.shape)} for k, v in arrays.items()}
        (model / "model.json").write_text(json.dumps(meta))


def _fewer_factor_rows(arrays: dict[str, np.ndarray]) -> None:
    arrays["user_factors_"] = arrays["user_factors_"][:10]


def _article_out_of_range(arrays: dict[str, np.ndarray]) -> None:
    arrays["fallback_ids_"] = arrays["fallback_ids_"] + 10**6


def _float64_factors(arrays: dict[str, np.ndarray]) -> None:
    arrays["item_factors_"] = arrays["item_factors_"].astype(np.float64)


def _edit_json(edit: Callable[[dict[str, object]], object]) -> Callable[[Path], None]:
    def apply(model: Path) -> None:
        meta = json.loads((model / "model.json").read_text())
        result = edit(meta)
        (model / "model.json").write_text(json.dumps(meta if result is None else result))

    return apply


DAMAGE: dict[str, tuple[Callable[[Path], None], str]] = {
    "fewer-factor-rows": (lambda m: _swap_arrays(m, _fewer_factor_rows, relist=False), "user_factors_"),
    "fewer-factor-rows-relisted": (lambda m: _swap_arrays(m, _fewer_factor_rows, relist=True), "user_factors_"),
    "article-out-of-range": (
        lambda m: _swap_arrays(m, _article_out_of_range, relist=True), "fallback_ids_"
    ),
    "float64-factors": (lambda m: _swap_arrays(m, _float64_factors, relist=False), "item_factors_"),
    "truncated-npz": (
        lambda m: (m / "arrays.npz").write_bytes((m / "arrays.npz").read_bytes()[:200]), "arrays.npz"
    ),
    "empty-npz": (lambda m: (m / "arrays.npz").write_bytes(b""), "arrays.npz"),
    "random-npz": (
        lambda m: (m / "arrays.npz").write_bytes(np.random.default_rng(0).bytes(4096)), "arrays.npz"
    ),
    "object-array": (
        lambda m: np.savez(m / "arrays.npz", user_factors_=np.array([{"a": 1}], dtype=object)), "arrays.npz"
    ),
    "no-model-key": (_edit_json(lambda meta: meta.pop("model")), "model.json"),
    "json-list": (_edit_json(lambda meta: [meta]), "model.json"),
    "params-list": (_edit_json(lambda meta: meta.update(params=[1, 2])), "model.json"),
    "non-utf8-json": (lambda m: (m / "model.json").write_bytes(b"\xff\xfe{\x00"), "model.json"),
}


@pytest.fixture(scope="module")
def damaged(tiny_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[Path, object]]:
    """One small ALS model, copied and damaged one way per case; each used by `submit --model-dir`."""
    root = tmp_path_factory.mktemp("damaged")
    good = root / "good"
    done = hmrec(
        "train", "--data", str(tiny_dir), "--model", "als", "--out", str(good), "--quiet",
        "--param", "als.factors=4", "--param", "als.iterations=1",
    )
    assert done.returncode == 0, done.stderr
    jobs = {}
    for name, (damage, _) in DAMAGE.items():
        shutil.copytree(good, root / name)
        damage(root / name)
        jobs[name] = root / name

    def submit(model: Path) -> subprocess.CompletedProcess[str]:
        return hmrec(
            "submit", "--data", str(tiny_dir), "--model-dir", str(model), "--out", str(model / "s.csv"), "--quiet"
        )

    with ThreadPoolExecutor(max_workers=3) as pool:
        runs = dict(zip(jobs, pool.map(submit, jobs.values()), strict=True))
    return {name: (jobs[name], runs[name]) for name in jobs}


@pytest.mark.parametrize("name", list(DAMAGE))
def test_a_damaged_model_is_refused(damaged: dict[str, tuple[Path, object]], name: str) -> None:
    model, done = damaged[name]
    assert isinstance(done, subprocess.CompletedProcess)
    one_line_error(done, DAMAGE[name][1])
    assert not (model / "s.csv").exists()
