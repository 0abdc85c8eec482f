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

from hmrec.data.dataset import Dataset


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
    one_line_error(done, "factors", "integer between 1 and 1024", "'abc'", fix=False)
    assert not out.exists()


@pytest.mark.parametrize(
    ("param", "words"),
    [
        ("als.reg=NaN", ("als.reg", "finite", "'NaN'")),
        ("als.reg=Infinity", ("als.reg", "finite", "'Infinity'")),
        ("als.reg=-Infinity", ("als.reg", "finite")),
        ("als.alpha=1e400", ("als.alpha", "finite")),
        ("als.alpha=1e308", ("'alpha'", "<= 1e+06", "1e+308")),
        ("als.reg=1e300", ("'reg'", "<= 1e+06", "1e+300")),
        ("als.factors=100000", ("'factors'", "between 1 and 1024", "100000")),
        ("sgd-bpr.learning_rate=1e30", ("'learning_rate'", "<= 1000", "1e+30")),
        ("sgd-bpr.reg=1e30", ("'reg'", "<= 1e+06")),
        ("ranker.learning_rate=1e999", ("ranker.learning_rate", "finite")),
    ],
)
def test_a_non_finite_or_huge_parameter_is_refused(tiny_dir: Path, tmp_path: Path, param: str,
                                                   words: tuple[str, ...]) -> None:
    out = tmp_path / "out"
    model = param.split(".")[0]
    done = hmrec("train", "--data", str(tiny_dir), "--model", model, "--out", str(out), "--quiet", "--param", param)
    one_line_error(done, *words, fix=False)
    assert not out.exists()


@pytest.mark.parametrize("k", ["1000000", "99999999999999999999"])
def test_a_huge_k_is_refused_before_loading(tiny_dir: Path, tmp_path: Path, k: str) -> None:
    out = tmp_path / "sub.csv"
    done = hmrec("submit", "--data", str(tiny_dir), "--model", "popularity", "--out", str(out), "--quiet", "--k", k)
    one_line_error(done, "k must be an integer between 1 and 1000", k)
    assert not out.exists()


@pytest.mark.skipif(not Path("/proc/meminfo").exists(), reason="reads the available memory from /proc/meminfo")
def test_memory_is_checked_before_allocating() -> None:
    from hmrec.errors import ParameterError
    from hmrec.models.base import check_memory

    check_memory(1, "one byte")
    with pytest.raises(ParameterError, match=r"--k 5 would need 4194304\.0 GB of memory and [0-9.]+ GB is avail"):
        check_memory(2**52, "--k 5")


@pytest.mark.parametrize("curve_k", ["1001", "99999999999999999999"])
def test_a_huge_curve_k_is_refused_before_loading(tiny_dir: Path, tmp_path: Path, curve_k: str) -> None:
    out = tmp_path / "results"
    done = hmrec("evaluate", "--data", str(tiny_dir), "--models", "popularity", "--out", str(out), "--quiet",
                 "--curve-k", curve_k)
    one_line_error(done, "--curve-k must be an integer between 0 and 1000", curve_k)
    assert not out.exists()


def _little_memory(monkeypatch: pytest.MonkeyPatch, n_bytes: int) -> None:
    """The system reports ``n_bytes`` available (as a busy machine would): the checks must stop first."""
    import hmrec.models.base

    monkeypatch.setattr(hmrec.models.base, "available_memory", lambda: n_bytes)


@pytest.mark.parametrize("model", ["sgd-bpr", "sgd-mse"])
def test_sgd_factors_that_do_not_fit_in_memory_are_refused_before_fitting(
    tiny_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], model: str
) -> None:
    from hmrec.models.sgd import SGDTrainer

    def allocated(*args: object, **kwargs: object) -> None:
        raise AssertionError("the factors were allocated")

    monkeypatch.setattr(SGDTrainer, "__init__", allocated)
    _little_memory(monkeypatch, 20 * 2**20)  # 8 x (2,000 + 1,000) x 1,024 bytes: 23.4 MB
    out = tmp_path / "model"
    code, err = _main(monkeypatch, capsys, "train", "--data", str(tiny_dir), "--model", model, "--out", str(out),
                      "--quiet", "--param", f"{model}.factors=1024")
    lines = err.strip().splitlines()
    assert code == 2 and len(lines) == 1 and "Traceback" not in err, err
    assert f"{model}: factors=1024 for 2,000 customers would need 23.4 MB of memory and 20.0 MB is available" \
        in lines[0] and f"--param {model}.factors=128" in lines[0], lines[0]
    assert not out.exists()


def test_evaluate_checks_the_memory_of_its_lists_and_its_models(
    tiny_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "results"
    _little_memory(monkeypatch, 2**20)
    code, err = _main(monkeypatch, capsys, "evaluate", "--data", str(tiny_dir), "--models", "popularity",
                      "--out", str(out), "--quiet", "--curve-k", "1000")
    lines = err.strip().splitlines()
    assert code == 2 and len(lines) == 1 and "Traceback" not in err, err
    assert "--k / --curve-k 1000 for" in lines[0] and "MB of memory and 1.0 MB is available" in lines[0], lines[0]
    assert "fix: ask for a smaller --curve-k" in lines[0] and not out.exists()
    # lists that fit and factors that do not: that model is skipped with the reason, the others evaluated
    _little_memory(monkeypatch, 20 * 2**20)
    code, err = _main(monkeypatch, capsys, "evaluate", "--data", str(tiny_dir), "--models", "popularity,sgd-bpr",
                      "--out", str(out), "--quiet", "--curve-k", "0", "--param", "sgd-bpr.factors=1024")
    assert code == 0, err
    board = json.loads((out / "leaderboard.json").read_text())
    assert [row["model"] for row in board["models"]] == ["popularity"]
    assert [row["model"] for row in board["skipped"]] == ["sgd-bpr"]
    assert "factors=1024" in board["skipped"][0]["reason"] and "would need 23.4 MB" in board["skipped"][0]["reason"]


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


#: through the real command (each is a process that loads the data); every case is also checked in-process
COMMAND_DAMAGE = ("fewer-factor-rows", "fewer-factor-rows-relisted", "random-npz", "json-list")


@pytest.fixture(scope="module")
def damaged(tiny_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """One small ALS model, copied and damaged one way per case."""
    root = tmp_path_factory.mktemp("damaged")
    good = root / "good"
    done = hmrec(
        "train", "--data", str(tiny_dir), "--model", "als", "--out", str(good), "--quiet",
        "--param", "als.factors=4", "--param", "als.iterations=1",
    )
    assert done.returncode == 0, done.stderr
    models = {}
    for name, (damage, _) in DAMAGE.items():
        shutil.copytree(good, root / name)
        damage(root / name)
        models[name] = root / name
    return models


@pytest.mark.parametrize("name", COMMAND_DAMAGE)
def test_a_damaged_model_is_refused_by_the_command(tiny_dir: Path, damaged: dict[str, Path], name: str) -> None:
    model = damaged[name]
    out = model.parent / f"{model.name}-s.csv"
    done = hmrec("submit", "--data", str(tiny_dir), "--model-dir", str(model), "--out", str(out), "--quiet")
    one_line_error(done, DAMAGE[name][1])
    assert not out.exists()


@pytest.mark.parametrize("name", list(DAMAGE))
def test_a_damaged_model_is_refused(tiny: Dataset, damaged: dict[str, Path], name: str) -> None:
    from hmrec.errors import DataError
    from hmrec.registry import load_model

    with pytest.raises(DataError) as info:
        load_model(damaged[name], tiny)
    assert DAMAGE[name][1] in str(info.value) and "\n" not in str(info.value) and info.value.fix


@pytest.fixture(scope="module")
def saved_ranker(tiny_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One small ranker, trained once; tests damage copies of it."""
    model = tmp_path_factory.mktemp("ranker") / "good"
    done = hmrec(
        "train", "--data", str(tiny_dir), "--model", "ranker", "--out", str(model), "--quiet",
        "--param", "ranker.trees=5", "--param", "ranker.weeks=1",
        "--param", "ranker.sources=repurchase:6,popularity:6",
    )
    assert done.returncode == 0, done.stderr
    return model


def _ranker_copy(saved_ranker: Path, tmp_path: Path) -> Path:
    return Path(shutil.copytree(saved_ranker, tmp_path / "ranker"))


def _rehash(model: Path) -> None:
    """Record in model.json the current size and sha256 of every file: an edit made with care."""
    from hmrec.models.persist import sha256_file

    meta = json.loads((model / "model.json").read_text())
    meta["files"] = {name: {"bytes": (model / name).stat().st_size, "sha256": sha256_file(model / name)}
                     for name in meta["files"]}
    (model / "model.json").write_text(json.dumps(meta))


def _submit_refused(tiny_dir: Path, model: Path, *words: str) -> None:
    out = model.parent / f"{model.name}-s.csv"
    done = hmrec("submit", "--data", str(tiny_dir), "--model-dir", str(model), "--out", str(out), "--quiet")
    line = one_line_error(done, *words)
    assert "retrain" in line or "train the model again" in line, line
    assert not out.exists()


def test_a_cut_or_edited_booster_is_one_line(tiny_dir: Path, saved_ranker: Path, tmp_path: Path) -> None:
    """LightGBM segfaulted on a cut booster.txt and aborted on an edited one: the checksum refuses both."""
    model = _ranker_copy(saved_ranker, tmp_path)
    text = (model / "booster.txt").read_bytes()
    same_size_edit = text.replace(b"num_leaves=", b"num_leaves=9", 1).replace(b"tree\n", b"tre\n", 1)
    for damaged in (text[: len(text) // 2], same_size_edit):
        (model / "booster.txt").write_bytes(damaged)
        _submit_refused(tiny_dir, model, "booster.txt")


def test_a_booster_that_is_not_utf8_is_one_line(tiny_dir: Path, saved_ranker: Path, tmp_path: Path) -> None:
    """Its checksum matches (recorded after the edit): reading it as text is what must fail cleanly."""
    model = _ranker_copy(saved_ranker, tmp_path)
    text = (model / "booster.txt").read_bytes()
    (model / "booster.txt").write_bytes(text.replace(b"tree\n", b"tree\n\xff\xfe", 1))
    _rehash(model)
    _submit_refused(tiny_dir, model, "booster.txt", "UTF-8")


def _table(name: str, edit: Callable[[np.ndarray], np.ndarray | None]) -> Callable[[dict[str, np.ndarray]], None]:
    """A change of the saved feature table array ``tab.<name>`` (None: the array is removed)."""
    def change(arrays: dict[str, np.ndarray]) -> None:
        value = edit(arrays[f"tab.{name}"])
        if value is None:
            del arrays[f"tab.{name}"]
        else:
            arrays[f"tab.{name}"] = value

    return change


#: damage to the ranker's feature tables that loads (arrays relisted, checksums recorded): case -> (change, name)
TABLE_DAMAGE: dict[str, tuple[Callable[[dict[str, np.ndarray]], None], str]] = {
    "keys-unsorted": (_table("own_keys", lambda keys: keys[::-1].copy()), "tab.own_keys"),
    "keys-beyond-the-customers": (_table("own_keys", lambda keys: keys + 2000 * 1000), "tab.own_keys"),
    "keys-negative": (_table("product_keys", lambda keys: keys - keys[-1] - 1), "tab.product_keys"),
    "keys-float": (_table("own_keys", lambda keys: keys.astype(np.float64)), "tab.own_keys"),
    "fewer-values": (_table("own_values", lambda values: values[:-5]), "tab.own_values"),
    "values-float64": (_table("p_taste1_share_values", lambda v: v.astype(np.float64)), "tab.p_taste1_share_values"),
    "width-zero": (_table("product_width", lambda width: np.array(0)), "tab.product_width"),
    "width-huge": (_table("p_taste0_share_width", lambda width: np.array(2**40)), "tab.p_taste0_share_width"),
    "own-width-not-the-articles": (_table("own_width", lambda width: width - 1), "tab.own_width"),
    "code-beyond-its-width": (_table("p_taste0_share_of", lambda codes: codes + 10_000), "tab.p_taste0_share_of"),
    "codes-of-fewer-articles": (_table("product_of", lambda codes: codes[:-1]), "tab.product_of"),
    "no-product-codes": (_table("product_of", lambda codes: None), "tab.product_of"),
    "no-keys": (_table("p_taste2_share_keys", lambda keys: None), "tab.p_taste2_share"),
    "fewer-customers": (_table("customer", lambda table: table[:-1]), "tab.customer"),
    "articles-float64": (_table("article", lambda table: table.astype(np.float64)), "tab.article"),
}


#: through the real command (each a process that loads the data); every case is also checked in-process
COMMAND_TABLE_DAMAGE = ("keys-unsorted", "fewer-values", "code-beyond-its-width", "no-keys")


@pytest.fixture(scope="module")
def damaged_tables(saved_ranker: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """A copy of the ranker per case, its tables damaged, the arrays relisted and the checksums recorded after
    the edit: the tables' own bounds are what must refuse them, before any look-up."""
    root = tmp_path_factory.mktemp("damaged-tables")
    models = {}
    for name, (change, _) in TABLE_DAMAGE.items():
        model = Path(shutil.copytree(saved_ranker, root / name))
        _swap_arrays(model, change, relist=True)
        _rehash(model)
        models[name] = model
    return models


@pytest.mark.parametrize("name", COMMAND_TABLE_DAMAGE)
def test_damaged_feature_tables_are_one_line(tiny_dir: Path, damaged_tables: dict[str, Path], name: str) -> None:
    _submit_refused(tiny_dir, damaged_tables[name], "arrays.npz", TABLE_DAMAGE[name][1])


@pytest.mark.parametrize("name", list(TABLE_DAMAGE))
def test_damaged_feature_tables_are_refused(tiny: Dataset, damaged_tables: dict[str, Path], name: str) -> None:
    from hmrec.errors import DataError
    from hmrec.registry import load_model

    with pytest.raises(DataError) as info:
        load_model(damaged_tables[name], tiny)
    message = str(info.value)
    assert "arrays.npz" in message and TABLE_DAMAGE[name][1] in message and "\n" not in message, message
    assert info.value.fix


# ---------------------------------------------------------------------- evaluate --out
def test_evaluate_replaces_its_set_and_keeps_other_files(tiny_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "results"
    out.mkdir()
    (out / "elbow.png").write_bytes(b"\x89PNG from hmrec cluster")
    (out / "notes.txt").write_text("mine")
    (out / "leaderboard.csv").write_text("old")
    done = hmrec("evaluate", "--data", str(tiny_dir), "--models", "popularity", "--out", str(out), "--quiet")
    assert done.returncode == 0, done.stderr
    assert (out / "notes.txt").read_text() == "mine"
    assert (out / "elbow.png").read_bytes() == b"\x89PNG from hmrec cluster"
    assert (out / "leaderboard.csv").read_text().startswith("model,")
    assert {"leaderboard.json", "segments.csv", "recall_curve.csv", "report.html"} <= {p.name for p in out.iterdir()}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["results"]  # no staging folder left


def _main(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str]:
    """Run the CLI's entry point in this process (to inject a failure); returns (exit code, stderr)."""
    from hmrec.cli.main import main

    monkeypatch.setattr(sys, "argv", ["hmrec", *args])
    with pytest.raises(SystemExit) as info:
        main()
    code = info.value.code
    return (code if isinstance(code, int) else 0), capsys.readouterr().err


def test_ctrl_c_inside_a_numba_kernel_is_interrupted(
    tiny_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from hmrec.models import _kernels

    def interrupted(*args: object) -> None:
        # what CPython raises when SIGINT lands while a compiled kernel runs: its KeyboardInterrupt as the cause
        try:
            raise KeyboardInterrupt
        except KeyboardInterrupt as exc:
            raise SystemError("CPUDispatcher(factor_top_k) returned a result with an exception set") from exc

    monkeypatch.setattr(_kernels, "factor_top_k", interrupted)
    code, err = _main(monkeypatch, capsys, "train", "--data", str(tiny_dir), "--model", "als", "--out",
                      str(tmp_path / "model"), "--quiet", "--param", "als.iterations=1", "--param", "als.factors=4")
    assert (code, err.strip()) == (130, "interrupted")
    assert "SystemError" not in err and not (tmp_path / "model").exists()


#: runs the CLI with the ALS top-k kernel observed: says on stdout when the kernel starts on the customers'
#: lists and notes in the file argv[1] how it ended; the kernel itself, the signal and the CLI are the real ones
_OBSERVED_TOP_K = """
import sys
from pathlib import Path
from hmrec.models import _kernels
note, real = Path(sys.argv.pop(1)), _kernels.factor_top_k

def observed(*args):
    if args[1].size < 1000:  # the warm-up call that compiles the kernel
        return real(*args)
    print("in the top-k", flush=True)
    try:
        result = real(*args)
    except BaseException as exc:
        chain = [exc]
        while chain[-1].__cause__ is not None or chain[-1].__context__ is not None:
            chain.append(chain[-1].__cause__ or chain[-1].__context__)
        note.write_text(" ".join(f"{type(e).__name__}:{e}" for e in chain))
        raise
    note.write_text("returned")
    return result

_kernels.factor_top_k = observed
from hmrec.cli.main import main
sys.argv[0] = "hmrec"
main()
"""


@pytest.mark.slow  # an ALS fit on small data, then a top-k long enough to interrupt (about a minute)
def test_a_real_ctrl_c_inside_the_als_top_k_is_interrupted(small_dir: Path, tmp_path: Path) -> None:
    """SIGINT while the compiled top-k runs surfaced as 'SystemError: CPUDispatcher(factor_top_k) returned a
    result with an exception set' and exit 1."""
    import signal
    import time

    note, out = tmp_path / "kernel.txt", tmp_path / "s.csv"
    proc = subprocess.Popen(
        [sys.executable, "-c", _OBSERVED_TOP_K, str(note), "submit", "--data", str(small_dir), "--model", "als",
         "--out", str(out), "--quiet", "--k", "300", "--param", "als.factors=128", "--param", "als.iterations=1"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    try:
        assert proc.stdout is not None
        for line in proc.stdout:
            if line.strip() == "in the top-k":
                time.sleep(1)  # the kernel runs for seconds more (3 on two idle cores); the note says if it did
                proc.send_signal(signal.SIGINT)
                break
        _, err = proc.communicate(timeout=600)
    finally:
        proc.kill()
    assert note.exists(), (proc.returncode, err)
    chain = note.read_text()  # the signal landed inside the kernel, and CPython wrapped it on the way out
    assert chain.startswith("SystemError:CPUDispatcher(") and chain.endswith(" KeyboardInterrupt:"), chain
    assert (proc.returncode, err.strip()) == (130, "interrupted"), err
    assert not out.exists() and sorted(p.name for p in tmp_path.iterdir()) == ["kernel.txt"]


def test_evaluate_interrupted_leaves_the_previous_set_whole(
    tiny_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "results"
    first = hmrec("evaluate", "--data", str(tiny_dir), "--models", "popularity", "--out", str(out), "--quiet")
    assert first.returncode == 0, first.stderr
    before = tree(out)

    def interrupted(board: object, directory: Path) -> None:  # Ctrl-C while the report is written
        raise KeyboardInterrupt

    import importlib

    evaluate = importlib.import_module("hmrec.evaluation.evaluate")  # the package exports a function so named
    monkeypatch.setattr(evaluate, "results_report_writer", lambda: interrupted)
    code, err = _main(monkeypatch, capsys, "evaluate", "--data", str(tiny_dir), "--models", "repurchase",
                      "--out", str(out), "--quiet")
    assert (code, err.strip()) == (130, "interrupted")
    assert tree(out) == before  # the leaderboard files written before the interruption are not in place
    assert sorted(p.name for p in tmp_path.iterdir()) == ["results"]


@pytest.mark.parametrize("command", ["evaluate", "submit"])
def test_out_that_cannot_be_the_output(tiny_dir: Path, tmp_path: Path, command: str) -> None:
    model = ["--models", "popularity"] if command == "evaluate" else ["--model", "popularity"]
    (tmp_path / "a-file").write_text("keep")
    (tmp_path / "a-dir").mkdir()
    bad = "a-file" if command == "evaluate" else "a-dir"
    for out in (bad, ""):
        done = hmrec(command, "--data", str(tiny_dir), *model, "--out", out, "--quiet", cwd=tmp_path)
        one_line_error(done)
    assert (tmp_path / "a-file").read_text() == "keep" and list((tmp_path / "a-dir").iterdir()) == []
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a-dir", "a-file"]


# ---------------------------------------------------------------------- version, Ctrl-C
def test_version_flag() -> None:
    from hmrec import __version__

    done = hmrec("--version")
    assert done.returncode == 0 and done.stdout.strip() == __version__


def test_ctrl_c_prints_one_line(tiny_dir: Path, tmp_path: Path) -> None:
    import signal
    import time

    proc = subprocess.Popen(
        [sys.executable, "-m", "hmrec", "train", "--data", str(tiny_dir), "--model", "als", "--out",
         str(tmp_path / "model"), "--quiet", "--param", "als.iterations=100000", "--param", "als.factors=8"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    time.sleep(8)  # imported, data loaded, fitting
    proc.send_signal(signal.SIGINT)
    try:
        out, err = proc.communicate(timeout=60)
    finally:
        proc.kill()
    assert proc.returncode == 130, err
    assert err.strip() == "interrupted"
    assert sorted(p.name for p in tmp_path.iterdir()) == []


# ---------------------------------------------------------------------- permissions follow the umask
def test_outputs_follow_the_umask(tiny_dir: Path, tmp_path: Path) -> None:
    import stat

    data = tmp_path / "data"
    shutil.copytree(tiny_dir, data, ignore=shutil.ignore_patterns(".hmrec-cache*"))

    def run(*args: str) -> None:
        done = subprocess.run([sys.executable, "-m", "hmrec", *args, "--quiet"], capture_output=True, text=True,
                              timeout=600, umask=0o002)
        assert done.returncode == 0, done.stderr

    run("ingest", "--data", str(data))
    run("train", "--data", str(data), "--model", "popularity", "--out", str(tmp_path / "model"))
    run("submit", "--data", str(data), "--model", "popularity", "--out", str(tmp_path / "s.csv"))
    run("evaluate", "--data", str(data), "--models", "popularity", "--out", str(tmp_path / "eval"))
    paths = [data / ".hmrec-cache", tmp_path / "model", tmp_path / "s.csv", tmp_path / "eval"]
    for path in paths:
        for item in [path, *path.rglob("*")]:
            mode = stat.S_IMODE(item.stat().st_mode)
            assert mode == (0o775 if item.is_dir() else 0o664), (item, oct(mode))


# ---------------------------------------------------------------------- full disk, unwritable, unreadable
def _copy_data(tiny_dir: Path, to: Path) -> Path:
    shutil.copytree(tiny_dir, to, ignore=shutil.ignore_patterns(".hmrec-cache*"))
    return to


def _full_disk_files(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every file hmrec writes through hmrec.atomic, numpy or polars lands on /dev/full: a real ENOSPC."""
    import os
    import tempfile

    import polars as pl

    import hmrec.atomic

    real_mkstemp = tempfile.mkstemp

    def mkstemp(*args: object, **kwargs: object) -> tuple[int, str]:
        fd, name = real_mkstemp(*args, **kwargs)  # type: ignore[call-overload]
        os.close(fd)
        return os.open("/dev/full", os.O_WRONLY), name

    real_parquet, real_savez = pl.DataFrame.write_parquet, np.savez
    monkeypatch.setattr(hmrec.atomic.tempfile, "mkstemp", mkstemp)
    monkeypatch.setattr(pl.DataFrame, "write_parquet", lambda self, path, **kw: real_parquet(self, "/dev/full", **kw))

    def savez(path: object, **arrays: np.ndarray) -> None:
        with open("/dev/full", "wb") as handle:  # the buffered bytes fail when the file is closed
            real_savez(handle, **arrays)

    monkeypatch.setattr(np, "savez", savez)


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="needs /dev/full")
@pytest.mark.parametrize("command", ["ingest", "train", "submit", "evaluate"])
def test_a_full_disk_is_one_line(
    tiny_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
    command: str,
) -> None:
    data = _copy_data(tiny_dir, tmp_path / "data")
    if command != "ingest":
        assert hmrec("ingest", "--data", str(data), "--quiet").returncode == 0
    out = tmp_path / "out"
    args = {
        "ingest": ["--data", str(data), "--force"],
        "train": ["--data", str(data), "--model", "popularity", "--out", str(out)],
        "submit": ["--data", str(data), "--model", "popularity", "--out", str(out)],
        "evaluate": ["--data", str(data), "--models", "popularity", "--out", str(out)],
    }[command]
    before = tree(data)
    _full_disk_files(monkeypatch)
    code, err = _main(monkeypatch, capsys, command, *args, "--quiet")
    lines = err.strip().splitlines()
    assert code == 2 and len(lines) == 1 and "Traceback" not in err, err
    assert "No space left on device" in lines[0] and "fix:" in lines[0], lines[0]
    assert (".hmrec-cache" if command == "ingest" else "out") in lines[0], lines[0]
    assert not out.exists()
    if command != "ingest":
        assert tree(data) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["data"]
    assert [p.name for p in data.iterdir() if p.name.startswith(".hmrec-cache.")] == []  # no temporary cache


@pytest.mark.parametrize("command", ["ingest", "train", "submit", "evaluate"])
def test_an_unwritable_output_is_one_line(tiny_dir: Path, tmp_path: Path, command: str) -> None:
    """/sys refuses new files even to root: a real unwritable place."""
    try:
        (Path("/sys") / "hmrec-probe").touch()
        pytest.skip("/sys is writable here")
    except OSError:
        pass
    out = "/sys/hmrec-out"
    args = {
        "ingest": ["--data", str(tiny_dir), "--cache", out],
        "train": ["--data", str(tiny_dir), "--model", "popularity", "--out", out],
        "submit": ["--data", str(tiny_dir), "--model", "popularity", "--out", out],
        "evaluate": ["--data", str(tiny_dir), "--models", "popularity", "--out", out],
    }[command]
    one_line_error(hmrec(command, *args, "--quiet"), "/sys/hmrec-out")


def test_unreadable_sources_are_one_line(
    tiny_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import os

    a_dir = _copy_data(tiny_dir, tmp_path / "a-dir")
    (a_dir / "articles.csv").unlink()
    (a_dir / "articles.csv").mkdir()
    one_line_error(hmrec("ingest", "--data", str(a_dir), "--quiet"), "articles.csv", "not a regular file")
    fifo = _copy_data(tiny_dir, tmp_path / "fifo")
    (fifo / "customers.csv").unlink()
    os.mkfifo(fifo / "customers.csv")
    one_line_error(hmrec("ingest", "--data", str(fifo), "--quiet"), "customers.csv", "not a regular file")
    # Permission denied cannot be provoked as root: injected where the loader first opens the file.
    denied = _copy_data(tiny_dir, tmp_path / "denied")
    import hmrec.data.read as load

    def no_access(path: Path, required: tuple[str, ...]) -> None:
        raise PermissionError(13, "Permission denied", str(path))

    monkeypatch.setattr(load, "_check_header", no_access)
    code, err = _main(monkeypatch, capsys, "ingest", "--data", str(denied), "--quiet")
    assert code == 2 and len(err.strip().splitlines()) == 1, err
    assert "articles.csv: Permission denied (fix: check the permissions" in err


# ---------------------------------------------------------------------- the cache
def test_a_manifest_without_fingerprint_is_rebuilt(tiny_dir: Path, tmp_path: Path) -> None:
    data = _copy_data(tiny_dir, tmp_path / "data")
    assert hmrec("ingest", "--data", str(data), "--quiet").returncode == 0
    manifest = data / ".hmrec-cache" / "manifest.json"
    meta = json.loads(manifest.read_text())
    fingerprint = meta.pop("fingerprint")
    manifest.write_text(json.dumps(meta))
    done = hmrec("ingest", "--data", str(data), "--quiet")
    assert done.returncode == 0, done.stderr
    assert "cache built" in done.stdout and json.loads(manifest.read_text())["fingerprint"] == fingerprint


@pytest.mark.slow  # the race is rarely hit this way; the test below makes it certain
def test_racing_ingests_all_succeed(tiny_dir: Path, tmp_path: Path) -> None:
    data = _copy_data(tiny_dir, tmp_path / "data")
    with ThreadPoolExecutor(max_workers=4) as pool:
        runs = list(pool.map(lambda _: hmrec("ingest", "--data", str(data), "--force", "--quiet"), range(4)))
    for done in runs:
        assert done.returncode == 0 and "Traceback" not in done.stderr, done.stderr
    assert len({line for done in runs for line in done.stdout.splitlines() if "fingerprint" in line}) == 1
    assert [p.name for p in data.iterdir() if p.name.startswith(".hmrec-cache")] == [".hmrec-cache"]
    assert hmrec("ingest", "--data", str(data), "--quiet").stdout.count("cache up to date") == 1


def test_an_ingest_that_loses_the_race_to_the_final_rename_uses_the_winners_cache(
    tiny_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """The race made certain: just before this ingest renames its cache into place, another one finishes."""
    import os

    data = _copy_data(tiny_dir, tmp_path / "data")
    cache = data / ".hmrec-cache"
    raced: list[int] = []

    def racing(real: Callable[[str, str], None]) -> Callable[[str, str], None]:
        def rename(src: str, dst: str) -> None:
            if Path(dst) == cache and ".tmp-" in Path(src).name and not raced:
                raced.append(hmrec("ingest", "--data", str(data), "--force", "--quiet").returncode)
            real(src, dst)

        return rename

    monkeypatch.setattr(os, "rename", racing(os.rename))
    monkeypatch.setattr(os, "replace", racing(os.replace))
    code, err = _main(monkeypatch, capsys, "ingest", "--data", str(data), "--force", "--quiet")
    assert raced == [0]
    assert code == 0 and err == "", err
    assert [p.name for p in data.iterdir() if p.name.startswith(".hmrec-cache")] == [".hmrec-cache"]
    assert "cache up to date" in hmrec("ingest", "--data", str(data), "--quiet").stdout


def test_left_overs_of_a_killed_ingest_are_removed(tiny_dir: Path, tmp_path: Path) -> None:
    import os

    data = _copy_data(tiny_dir, tmp_path / "data")
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    dead_pid = int(dead.stdout)
    stale = [data / f".hmrec-cache.tmp-{dead_pid}-abc", data / f".hmrec-cache.old-{dead_pid}-def"]
    running = data / f".hmrec-cache.tmp-{os.getpid()}-xyz"  # this process is alive: as if ingesting now
    for path in [*stale, running]:
        path.mkdir()
        (path / "customers.parquet").write_bytes(b"partial")
    done = hmrec("ingest", "--data", str(data), "--quiet")
    assert done.returncode == 0, done.stderr
    assert not any(path.exists() for path in stale)
    assert (running / "customers.parquet").read_bytes() == b"partial"


def test_ingest_refuses_a_folder_that_merely_holds_a_manifest(tiny_dir: Path, tmp_path: Path) -> None:
    """manifest.json is a common name: only hmrec's marker in it makes a folder a cache that may be replaced."""
    web = tmp_path / "webapp"
    (web / "icons").mkdir(parents=True)
    (web / "manifest.json").write_text('{"name": "my app", "format": "web"}')
    (web / "index.html").write_text("<html>years of work</html>")
    (web / "icons" / "logo.png").write_bytes(b"\x89PNG")
    before = tree(tmp_path)
    done = hmrec("ingest", "--data", str(tiny_dir), "--cache", str(web), "--quiet")
    one_line_error(done, "webapp", "not an hmrec cache")
    assert tree(tmp_path) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["webapp"]


# ---------------------------------------------------------------------- train --out: one unit, kills, races
def _train(tiny_dir: Path, out: Path, *more: str) -> subprocess.CompletedProcess[str]:
    return hmrec("train", "--data", str(tiny_dir), "--model", "popularity", "--out", str(out), "--quiet", *more)


def _dead_pid() -> int:
    done = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    return int(done.stdout)


def test_train_refuses_a_folder_named_like_a_model(tiny_dir: Path, tmp_path: Path) -> None:
    """model.json and serve/ are common names: only what hmrec writes in model.json makes a saved model."""
    out = tmp_path / "webapp"
    (out / "serve").mkdir(parents=True)
    (out / "model.json").write_text('{"model": "resnet", "layers": 50}')
    (out / "serve" / "index.html").write_text("<html>years of work</html>")
    before = tree(tmp_path)
    one_line_error(_train(tiny_dir, out), "webapp", "not a saved hmrec model")
    assert tree(tmp_path) == before


def test_a_killed_train_leaves_the_old_bundle_whole(tiny_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "bundle"
    assert _train(tiny_dir, out).returncode == 0
    before = tree(out)
    # kill -9 while the new bundle's serving tables are written
    killer = (
        "import os, signal, sys; import hmrec.serve.bundle_write as b; "
        "b._precompute = lambda *a, **k: os.kill(os.getpid(), signal.SIGKILL); "
        "from hmrec.cli.main import main; sys.argv[0] = 'hmrec'; main()"
    )
    args = ["train", "--data", str(tiny_dir), "--model", "popularity", "--out", str(out), "--quiet",
            "--param", "popularity.days=14"]
    killed = subprocess.run([sys.executable, "-c", killer, *args], capture_output=True, text=True, timeout=600)
    assert killed.returncode == -9, killed.stderr
    assert tree(out) == before  # the old bundle, whole
    from hmrec.serve.bundle import load_bundle

    assert load_bundle(out) is not None  # and it still loads, every checksum holding
    again = _train(tiny_dir, out, "--param", "popularity.days=14")  # the left-over does not block it
    assert again.returncode == 0, again.stderr
    assert json.loads((out / "bundle.json").read_text())["params"]["days"] == 14
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bundle"]  # the killed run's folder is gone


def test_a_train_finishing_during_another_leaves_one_runs_bundle(
    tiny_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """The race made certain: while this run writes its serving tables, another run writes the whole bundle."""
    import hmrec.serve.bundle as bundle
    import hmrec.serve.bundle_write as bundle_write

    out = tmp_path / "bundle"
    raced: list[int] = []
    real = bundle_write._precompute

    def racing(*args: object, **kwargs: object) -> object:
        if not raced:
            raced.append(_train(tiny_dir, out, "--param", "popularity.days=14").returncode)
        return real(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(bundle_write, "_precompute", racing)
    code, err = _main(monkeypatch, capsys, "train", "--data", str(tiny_dir), "--model", "popularity",
                      "--out", str(out), "--quiet", "--param", "popularity.days=7")
    assert raced == [0] and code == 0, err
    model = json.loads((out / "model.json").read_text())
    manifest = json.loads((out / "bundle.json").read_text())
    assert model["params"] == manifest["params"] and model["params"]["days"] == 7
    assert bundle.load_bundle(out) is not None  # every checksum holds: one run's files
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bundle"]


@pytest.mark.slow  # three ALS trains at once: about 30 s on two cores
def test_three_concurrent_trains_leave_one_runs_whole_bundle(tiny: Dataset, tiny_dir: Path, tmp_path: Path) -> None:
    """Three runs with different seeds race for one --out: the bundle left is one run's model and serving
    tables (a mixed bundle from two seeds was accepted by serve), and serve's loader accepts it."""
    from hmrec.registry import load_model
    from hmrec.serve.bundle import load_bundle

    out = tmp_path / "bundle"
    seeds = (1, 2, 3)
    runs = [
        subprocess.Popen(
            [sys.executable, "-m", "hmrec", "train", "--data", str(tiny_dir), "--model", "als", "--out", str(out),
             "--quiet", "--seed", str(seed), "--param", "als.factors=8", "--param", "als.iterations=2"],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )
        for seed in seeds
    ]
    finished = [(run.communicate(timeout=600), run.returncode) for run in runs]
    won = [seed for seed, ((_, err), code) in zip(seeds, finished, strict=True) if code == 0]
    for (_, err), code in finished:  # a run that finds another writing may refuse, in one line
        assert code == 0 or (code == 2 and len(err.strip().splitlines()) == 1), (code, err)
        assert "Traceback" not in err, err
    assert won, finished
    model_json = json.loads((out / "model.json").read_text())
    manifest = json.loads((out / "bundle.json").read_text())
    assert model_json["params"]["seed"] == manifest["params"]["seed"] and model_json["params"]["seed"] in won
    bundle = load_bundle(out)  # serve's loader: every checksum of bundle.json holds
    model = load_model(out, tiny)
    depth = bundle.arrays["topk_ids"].shape[1]
    ids, _ = model.recommend(np.arange(tiny.n_customers, dtype=np.int32), depth)
    np.testing.assert_array_equal(bundle.arrays["topk_ids"], ids)  # the serving tables are that model's lists
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bundle"]  # and nothing of the other runs is left


def test_left_overs_of_killed_runs_are_removed(tiny_dir: Path, tmp_path: Path) -> None:
    import os

    dead, alive = _dead_pid(), os.getpid()
    out = tmp_path / "bundle"
    sub = tmp_path / "sub.csv"
    stale = [tmp_path / f".bundle.tmp-{dead}-abc", tmp_path / f".bundle.old-{dead}-def"]
    running = [tmp_path / f".bundle.tmp-{alive}-xyz", tmp_path / f".sub.csv.tmp-{alive}-xyz.tmp"]
    for path in [*stale, running[0]]:
        (path / "previous").mkdir(parents=True)
        (path / "previous" / "model.json").write_text("{}")
    (tmp_path / f".sub.csv.tmp-{dead}-abc.tmp").write_text("customer_id,prediction\n")
    running[1].write_text("customer_id,prediction\n")
    assert _train(tiny_dir, out).returncode == 0
    done = hmrec("submit", "--model-dir", str(out), "--data", str(tiny_dir), "--out", str(sub), "--quiet")
    assert done.returncode == 0, done.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(["bundle", "sub.csv", *(p.name for p in running)])


# ---------------------------------------------------------------------- submit --out onto its inputs
@pytest.mark.parametrize("target", ["transactions_train.csv", "articles.csv", ".hmrec-cache/manifest.json"])
def test_submit_refuses_to_overwrite_its_input(tiny_dir: Path, tmp_path: Path, target: str) -> None:
    data = _copy_data(tiny_dir, tmp_path / "data")
    assert hmrec("ingest", "--data", str(data), "--quiet").returncode == 0
    before = tree(data)
    done = hmrec("submit", "--model", "popularity", "--data", str(data), "--out", str(data / target), "--quiet")
    one_line_error(done, Path(target).name, "input")
    assert tree(data) == before


def test_submit_refuses_to_write_into_the_saved_model(tiny_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "bundle"
    assert _train(tiny_dir, out).returncode == 0
    before = tree(out)
    done = hmrec("submit", "--model-dir", str(out), "--data", str(tiny_dir), "--out", str(out / "model.json"),
                 "--quiet")
    one_line_error(done, "model.json", "input")
    assert tree(out) == before


# ---------------------------------------------------------------------- symlink loops
@pytest.mark.parametrize("command", ["train", "ingest", "submit", "evaluate"])
def test_a_symlink_loop_as_output_is_one_line(tiny_dir: Path, tmp_path: Path, command: str) -> None:
    loop = tmp_path / "loop"
    loop.symlink_to(loop)
    option = "--cache" if command == "ingest" else "--out"
    extra = {"ingest": [], "evaluate": ["--models", "popularity"]}.get(command, ["--model", "popularity"])
    done = hmrec(command, "--data", str(tiny_dir), option, str(loop), *extra, "--quiet")
    one_line_error(done, "loop")
    assert loop.is_symlink() and sorted(p.name for p in tmp_path.iterdir()) == ["loop"]
