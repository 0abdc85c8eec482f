"""Bad input through the real ``hmrec ingest`` command: one line naming file, column, row and fix; exit 2.

Each case writes a tiny valid set of the three files by hand and corrupts it in one way. The problems the
issue lists run ``python -m hmrec ingest --data DIR`` in a subprocess (concurrently: they are independent
processes), and each test checks one of them: exit code 2, a single stderr line with the file name, the
column and the row, no traceback, and no cache (or temporary cache) left in the data directory. Every case,
including the variants, is also checked in-process against the exact DataError fields.
"""

from __future__ import annotations

import hashlib
import subprocess
import sys
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest

from hmrec.data.load import build_cache
from hmrec.data.schema import ARTICLE_COLUMNS, ARTICLE_INT_COLUMNS, CUSTOMER_COLUMNS
from hmrec.errors import DataError

TX = "transactions_train.csv"
CU = "customers.csv"
AR = "articles.csv"
CUSTOMERS = [hashlib.sha256(f"c{i}".encode()).hexdigest() for i in range(3)]
ARTICLES = ["0108775015", "0706016001", "0110065001"]

Files = dict[str, list[list[str]]]


def valid_files() -> Files:
    """Header + rows per file, as lists of fields (joined with commas when written)."""
    articles = [list(ARTICLE_COLUMNS)]
    for i, article in enumerate(ARTICLES):
        row = {name: f"{name} {i}" for name in ARTICLE_COLUMNS}
        row.update({name: str(10 + i) for name in ARTICLE_INT_COLUMNS})
        row["article_id"] = article
        articles.append([row[name] for name in ARTICLE_COLUMNS])
    customers = [list(CUSTOMER_COLUMNS)]
    customers += [[cid, "1.0", "", "ACTIVE", "NONE", str(20 + i), f"p{i}"] for i, cid in enumerate(CUSTOMERS)]
    transactions = [
        ["t_dat", "customer_id", "article_id", "price", "sales_channel_id"],
        ["2020-09-01", CUSTOMERS[0], ARTICLES[0], "0.0169", "2"],
        ["2020-09-02", CUSTOMERS[1], "706016001", "0.0254", "1"],  # lost leading zero: accepted
        ["2020-09-03", CUSTOMERS[2], ARTICLES[2], "0.0339", "2"],
        ["2020-09-04", CUSTOMERS[0], ARTICLES[1], "0.0508", "1"],
    ]
    return {AR: articles, CU: customers, TX: transactions}


def write_files(directory: Path, files: Files) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    for name, rows in files.items():
        (directory / name).write_text("".join(",".join(row) + "\n" for row in rows), encoding="utf-8")


def set_value(name: str, row: int, column: str, value: str) -> Callable[[Files, Path], None]:
    """Corrupt one field: ``row`` is the 1-based data row (the header is row 0)."""

    def apply(files: Files, directory: Path) -> None:
        header = files[name][0]
        files[name][row][header.index(column)] = value

    return apply


def drop_column(name: str, column: str) -> Callable[[Files, Path], None]:
    def apply(files: Files, directory: Path) -> None:
        at = files[name][0].index(column)
        files[name] = [row[:at] + row[at + 1 :] for row in files[name]]

    return apply


def rename_column(name: str, column: str, new: str) -> Callable[[Files, Path], None]:
    def apply(files: Files, directory: Path) -> None:
        header = files[name][0]
        header[header.index(column)] = new

    return apply


def duplicate_row(name: str, row: int, at: int) -> Callable[[Files, Path], None]:
    def apply(files: Files, directory: Path) -> None:
        files[name].insert(at, list(files[name][row]))

    return apply


def header_only(name: str) -> Callable[[Files, Path], None]:
    def apply(files: Files, directory: Path) -> None:
        del files[name][1:]

    return apply


def semicolons(name: str) -> Callable[[Files, Path], None]:
    def apply(files: Files, directory: Path) -> None:
        files[name] = [[";".join(row)] for row in files[name]]

    return apply


def remove_file(name: str) -> Callable[[Files, Path], None]:
    def apply(files: Files, directory: Path) -> None:
        (directory / name).unlink()

    return apply


def empty_file(name: str) -> Callable[[Files, Path], None]:
    def apply(files: Files, directory: Path) -> None:
        (directory / name).write_text("")

    return apply


def long_row(name: str, row: int) -> Callable[[Files, Path], None]:
    def apply(files: Files, directory: Path) -> None:
        files[name][row] = [*files[name][row], "extra"]

    return apply


def short_row(name: str, row: int) -> Callable[[Files, Path], None]:
    """Drop the last two fields of one row (a truncated line)."""

    def apply(files: Files, directory: Path) -> None:
        files[name][row] = files[name][row][:-2]

    return apply


def cr_line_endings(name: str) -> Callable[[Files, Path], None]:
    def apply(files: Files, directory: Path) -> None:
        path = directory / name
        path.write_bytes(path.read_bytes().replace(b"\n", b"\r"))

    return apply


@dataclass(frozen=True)
class Case:
    """One corruption and what the error line must name (``row`` None: no row applies)."""

    corrupt: Callable[[Files, Path], None]
    file: str
    column: str | None
    row: int | None
    words: str
    after_write: bool = False  # corrupt the written files (remove, empty) instead of the rows


CASES: dict[str, Case] = {
    "missing-file": Case(remove_file(AR), AR, None, None, "not found", after_write=True),
    "empty-file": Case(empty_file(CU), CU, None, None, "empty", after_write=True),
    "header-only": Case(header_only(TX), TX, None, None, "no data rows"),
    "semicolon-separated": Case(semicolons(TX), TX, "t_dat", None, "';'"),
    "missing-column": Case(drop_column(TX, "price"), TX, "price", None, "missing column"),
    "misspelled-column": Case(
        rename_column(CU, "customer_id", "Customer_ID"), CU, "customer_id", None, "rename"
    ),
    "bad-date": Case(set_value(TX, 3, "t_dat", "2020-13-45"), TX, "t_dat", 3, "not a date"),
    "slash-date": Case(set_value(TX, 2, "t_dat", "2020/09/02"), TX, "t_dat", 2, "YYYY-MM-DD"),
    "missing-date": Case(set_value(TX, 4, "t_dat", ""), TX, "t_dat", 4, "missing"),
    "negative-price": Case(set_value(TX, 2, "price", "-0.0254"), TX, "price", 2, "negative"),
    "text-price": Case(set_value(TX, 1, "price", "cheap"), TX, "price", 1, "not a number"),
    "missing-price": Case(set_value(TX, 3, "price", ""), TX, "price", 3, "missing"),
    "channel-3": Case(set_value(TX, 4, "sales_channel_id", "3"), TX, "sales_channel_id", 4, "not 1 or 2"),
    "channel-text": Case(
        set_value(TX, 1, "sales_channel_id", "web"), TX, "sales_channel_id", 1, "not 1 or 2"
    ),
    "missing-channel": Case(set_value(TX, 2, "sales_channel_id", ""), TX, "sales_channel_id", 2, "missing"),
    "unknown-customer": Case(
        set_value(TX, 3, "customer_id", "f" * 64), TX, "customer_id", 3, "not in customers"
    ),
    "missing-customer": Case(set_value(TX, 1, "customer_id", ""), TX, "customer_id", 1, "missing"),
    "unknown-article": Case(
        set_value(TX, 4, "article_id", "0999999001"), TX, "article_id", 4, "not in articles"
    ),
    "malformed-article": Case(set_value(TX, 2, "article_id", "07060A6001"), TX, "article_id", 2, "malformed"),
    "missing-article": Case(set_value(TX, 3, "article_id", ""), TX, "article_id", 3, "missing"),
    "duplicate-customer": Case(duplicate_row(CU, 1, 3), CU, "customer_id", 3, "appears twice"),
    "missing-customer-id": Case(set_value(CU, 2, "customer_id", ""), CU, "customer_id", 2, "missing"),
    "nan-fn": Case(set_value(CU, 2, "FN", "nan"), CU, "FN", 2, "not a number"),
    "fractional-age": Case(set_value(CU, 3, "age", "36.5"), CU, "age", 3, "not a whole number"),
    "text-age": Case(set_value(CU, 1, "age", "young"), CU, "age", 1, "not a number"),
    # 0706016001 and 706016001 are the same article once the lost leading zero is restored.
    "duplicate-article": Case(
        set_value(AR, 3, "article_id", "706016001"), AR, "article_id", 3, "appears twice"
    ),
    "malformed-article-id": Case(set_value(AR, 1, "article_id", "ABC"), AR, "article_id", 1, "malformed"),
    "missing-article-id": Case(set_value(AR, 2, "article_id", ""), AR, "article_id", 2, "missing"),
    "bad-int-article": Case(set_value(AR, 2, "product_code", "x12"), AR, "product_code", 2, "not a number"),
    "long-row": Case(long_row(TX, 2), TX, None, 2, "fields"),
    "short-customer-row": Case(short_row(CU, 2), CU, None, 2, "fields"),
    "short-article-row": Case(short_row(AR, 3), AR, None, 3, "fields"),
    "short-transaction-row": Case(short_row(TX, 3), TX, None, 3, "fields"),
    "future-date": Case(set_value(TX, 2, "t_dat", "2099-01-01"), TX, "t_dat", 2, "plausible range"),
    "last-date": Case(set_value(TX, 4, "t_dat", "9999-12-31"), TX, "t_dat", 4, "placeholder"),
    "old-date": Case(set_value(TX, 1, "t_dat", "1900-01-01"), TX, "t_dat", 1, "placeholder"),
    "epoch-date": Case(set_value(TX, 3, "t_dat", "1970-01-01"), TX, "t_dat", 3, "placeholder"),
    "ancient-date": Case(set_value(TX, 2, "t_dat", "1949-12-31"), TX, "t_dat", 2, "plausible range"),
    "huge-price": Case(set_value(TX, 2, "price", "1e300"), TX, "price", 2, "larger than 1e+09"),
    "float32-overflow-price": Case(set_value(TX, 3, "price", "1e39"), TX, "price", 3, "larger than 1e+09"),
    "infinite-price": Case(set_value(TX, 1, "price", "inf"), TX, "price", 1, "not finite"),
    "negative-age": Case(set_value(CU, 2, "age", "-5"), CU, "age", 2, "outside the plausible range 1 to 120"),
    "huge-age": Case(set_value(CU, 3, "age", "250"), CU, "age", 3, "outside the plausible range 1 to 120"),
    "short-customer-id": Case(set_value(CU, 2, "customer_id", "abc"), CU, "customer_id", 2, "malformed"),
    "uppercase-customer-id": Case(
        set_value(CU, 3, "customer_id", CUSTOMERS[2].upper()), CU, "customer_id", 3, "malformed"
    ),
    "malformed-customer": Case(set_value(TX, 2, "customer_id", "abc"), TX, "customer_id", 2, "malformed"),
    "cr-line-endings": Case(cr_line_endings(CU), CU, None, None, "carriage return", after_write=True),
}


@dataclass(frozen=True)
class Run:
    directory: Path
    returncode: int
    stdout: str
    stderr: str


def _ingest(directory: Path, *extra: str) -> Run:
    proc = subprocess.run(
        [sys.executable, "-m", "hmrec", "ingest", "--data", str(directory), "--quiet", *extra],
        capture_output=True,
        text=True,
        timeout=120,
    )
    return Run(directory, proc.returncode, proc.stdout, proc.stderr)


def _prepare(root: Path, name: str, case: Case) -> Path:
    directory = root / name
    files = valid_files()
    if not case.after_write:
        case.corrupt(files, directory)
    write_files(directory, files)
    if case.after_write:
        case.corrupt(files, directory)
    return directory


# The problems listed in the issue, one each through the real command (each is a Python process that
# imports hmrec, so the variants below run in-process by default and through the command when slow).
COMMAND_CASES = (
    "missing-file",
    "empty-file",
    "semicolon-separated",
    "missing-column",
    "bad-date",
    "negative-price",
    "channel-3",
    "unknown-customer",
    "unknown-article",
    "duplicate-customer",
    "duplicate-article",
    "malformed-article",
    "missing-price",
    "short-customer-row",
    "short-article-row",
    "last-date",
    "epoch-date",
    "huge-price",
    "negative-age",
    "short-customer-id",
    "malformed-customer",
    "cr-line-endings",
)
MORE_CASES = tuple(name for name in CASES if name not in COMMAND_CASES)


def _run_all(jobs: dict[str, Path]) -> dict[str, Run]:
    with ThreadPoolExecutor(max_workers=4) as pool:
        futures = {name: pool.submit(_ingest, directory) for name, directory in jobs.items()}
        return {name: future.result() for name, future in futures.items()}


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Run]:
    """The command cases, the valid set and a missing directory through the real command, concurrently."""
    root = tmp_path_factory.mktemp("bad-input")
    jobs = {name: _prepare(root, name, CASES[name]) for name in COMMAND_CASES}
    valid = root / "valid"
    write_files(valid, valid_files())
    jobs["valid"] = valid
    blank_tail = root / "blank-tail"
    write_files(blank_tail, valid_files())
    for name in (AR, CU, TX):  # one blank line at the end of every file, as some editors leave
        with open(blank_tail / name, "a", encoding="utf-8") as handle:
            handle.write("\n")
    jobs["blank-tail"] = blank_tail
    nineties = root / "nineties"
    files = valid_files()
    for row, day in zip(files[TX][1:], ("1994-03-01", "1995-06-15", "1999-12-31", "2020-09-04"), strict=True):
        row[0] = day  # a shop's real records from the 1990s
    write_files(nineties, files)
    jobs["nineties"] = nineties
    jobs["missing-directory"] = root / "no-such-directory"
    return _run_all(jobs)


def _assert_one_line_error(run: Run) -> str:
    assert "Traceback" not in run.stderr, run.stderr
    assert run.returncode == 2, (run.returncode, run.stderr)
    lines = run.stderr.strip().splitlines()
    assert len(lines) == 1, run.stderr
    assert len(lines[0]) < 400, lines[0]  # one short line, not a quote of the file
    assert "(fix: " in lines[0], lines[0]
    assert run.stdout == ""
    return lines[0]


def _check_run(name: str, run: Run) -> None:
    case = CASES[name]
    line = _assert_one_line_error(run)
    assert case.file in line
    if case.column is not None:
        assert case.column in line, line
    if case.row is not None:
        assert f"row {case.row}:" in line, line
    assert case.words in line.replace(str(run.directory), ""), line
    leftovers = [p.name for p in run.directory.iterdir() if p.name.startswith(".hmrec-cache")]
    assert leftovers == []


@pytest.mark.parametrize("name", COMMAND_CASES)
def test_bad_input_through_the_command(runs: dict[str, Run], name: str) -> None:
    _check_run(name, runs[name])


@pytest.mark.slow
@pytest.mark.parametrize("name", MORE_CASES)
def test_more_bad_input_through_the_command(tmp_path: Path, name: str) -> None:
    _check_run(name, _ingest(_prepare(tmp_path, name, CASES[name])))


@pytest.mark.parametrize("name", list(CASES))
def test_bad_input_error_fields(tmp_path: Path, name: str) -> None:
    """In-process: the DataError names exactly the file, column and row of the corruption."""
    case = CASES[name]
    directory = _prepare(tmp_path, name, case)
    with pytest.raises(DataError) as info:
        build_cache(directory, progress=False)
    error = info.value
    assert Path(str(error.file)).name == case.file
    assert (error.column, error.row) == (case.column, case.row)
    # the words must be in the message itself, not in the file's path (which holds the case's name)
    assert case.words in str(error).replace(str(error.file), "") and "\n" not in str(error) and error.fix
    assert sorted(p.name for p in directory.iterdir()) == sorted(
        p for p in (AR, CU, TX) if (directory / p).exists()
    )


def test_missing_directory(runs: dict[str, Run]) -> None:
    line = _assert_one_line_error(runs["missing-directory"])
    assert "no-such-directory" in line and "does not exist" in line
    assert not runs["missing-directory"].directory.exists()


def test_valid_set_is_accepted(runs: dict[str, Run]) -> None:
    """The control: the uncorrupted files ingest, so each failure above is due to its corruption."""
    run = runs["valid"]
    assert run.returncode == 0, run.stderr
    assert "Traceback" not in run.stderr
    assert "transactions" in run.stdout and " 4\n" in run.stdout
    assert "2020-09-01 to 2020-09-04" in run.stdout
    assert (run.directory / ".hmrec-cache" / "manifest.json").is_file()


def test_old_real_dates_are_accepted(runs: dict[str, Run]) -> None:
    run = runs["nineties"]
    assert run.returncode == 0, run.stderr
    assert "1994-03-01 to 2020-09-04" in run.stdout


def test_blank_lines_at_the_end_are_accepted(runs: dict[str, Run]) -> None:
    run = runs["blank-tail"]
    assert run.returncode == 0, run.stderr
    assert "2020-09-01 to 2020-09-04" in run.stdout
    assert "transactions                 4\n" in run.stdout and "customers                    3\n" in run.stdout


def test_custom_cache_and_summary(tmp_path: Path) -> None:
    data = tmp_path / "data"
    write_files(data, valid_files())
    cache = tmp_path / "cache"
    first = _ingest(data, "--cache", str(cache))
    assert first.returncode == 0, first.stderr
    assert "cache built" in first.stdout and str(cache) in first.stdout
    assert "buying customers" in first.stdout
    assert not (data / ".hmrec-cache").exists() and (cache / "manifest.json").is_file()
    second = _ingest(data, "--cache", str(cache))
    assert second.returncode == 0 and "cache up to date" in second.stdout


def test_foreign_cache_directory_is_not_replaced(tmp_path: Path) -> None:
    data = tmp_path / "data"
    write_files(data, valid_files())
    foreign = tmp_path / "photos"
    foreign.mkdir()
    (foreign / "cat.jpg").write_bytes(b"meow")
    line = _assert_one_line_error(_ingest(data, "--cache", str(foreign)))
    assert "photos" in line and "not an hmrec cache" in line
    assert (foreign / "cat.jpg").read_bytes() == b"meow"
