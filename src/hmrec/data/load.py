"""Reading the competition files into a typed parquet cache, and loading a :class:`Dataset` from it.

The first load of a data directory reads ``articles.csv``, ``customers.csv`` and ``transactions_train.csv``,
validates them and writes a typed cache (``DATA/.hmrec-cache/`` by default)::

    manifest.json          cache format version, each source file's size and mtime_ns, content fingerprint
    customers.parquet      customer_idx (= row in customers.csv) + the customers.csv columns, typed
    articles.parquet       article_idx (= row in articles.csv) + the articles.csv columns, typed
    transactions.parquet   t_dat Date, customer_idx / article_idx Int32, price Float32, sales_channel_id Int8

Later loads read only the parquet files. The cache is rebuilt when a source file's size or modification time
changes, and it is never left half-written: it is built in a temporary directory beside its final place and
renamed into place at the end (the temporary directory is removed on any error).

How the 31.8M-row transactions file is read: every column as a string, in one streaming pass, so that no
column's raw text is held in memory at once. Each value is converted in the same pass, and a value that is
missing, unparseable or out of range becomes null; customer and article ids become indices with a hash join
on the (1.37M-row) customers and (105K-row) articles id maps, an unknown id also giving null, and the rows
are put back in file order by their row number. Validation is then one null count over the typed columns;
only when it fails is the first bad row located and its raw text re-read to say exactly what is wrong.
(Measured on 5M ids against 1.37M customers: the join takes 0.9 s where casting the ids to a ``pl.Enum`` of
the customer ids, whose physical codes would be the indices, takes 2.5 s.)

Beyond the types, rows must have the header's number of fields, customer ids are 64 lowercase hexadecimal
characters, transaction dates lie between 1950-01-01 and a year after today (``schema.EARLIEST_DATE``,
``schema.latest_date``) and are not a placeholder (1900-01-01, 1970-01-01, 9999-12-31), which would otherwise
move the test window; prices are finite, 0 or more and at most ``schema.MAX_PRICE``, and ages lie in
``schema.AGE_RANGE``. Blank lines at the end of a file are ignored.

Every problem with the input raises :class:`~hmrec.errors.DataError`: one line naming the file, the column,
the 1-based data row (header excluded) and the fix.
"""

from __future__ import annotations

import contextlib
import csv
import difflib
import hashlib
import json
import math
import shutil
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl

from hmrec.atomic import (
    check_not_cwd,
    remove_leftovers,
    swap_dir,
    temp_dir,
    temp_prefix,
    write_atomic,
)
from hmrec.data.dataset import Dataset
from hmrec.data.schema import (
    AGE_RANGE,
    ARTICLE_COLUMNS,
    ARTICLE_ID,
    ARTICLE_ID_DIGITS,
    ARTICLE_IDX,
    ARTICLE_INT_COLUMNS,
    ARTICLES_FILE,
    ARTICLES_SCHEMA,
    CACHE_DIRNAME,
    CUSTOMER_COLUMNS,
    CUSTOMER_ID,
    CUSTOMER_ID_PATTERN,
    CUSTOMER_IDX,
    CUSTOMERS_FILE,
    CUSTOMERS_SCHEMA,
    DATE_FORMAT,
    EARLIEST_DATE,
    MAX_PRICE,
    PLACEHOLDER_DATES,
    PRICE,
    SALES_CHANNEL,
    SOURCE_FILES,
    T_DAT,
    TRANSACTION_COLUMNS,
    TRANSACTIONS_FILE,
    TRANSACTIONS_SCHEMA,
    latest_date,
)
from hmrec.errors import DataError

#: Bump when the cache layout or types change: older caches are then rebuilt.
CACHE_VERSION = 1
MANIFEST_FILE = "manifest.json"
#: the marker in every manifest hmrec writes: only a folder carrying it is replaced as a cache
CACHE_FORMAT = "hmrec-cache"
CACHE_FILES: dict[str, str] = {
    ARTICLES_FILE: "articles.parquet",
    CUSTOMERS_FILE: "customers.parquet",
    TRANSACTIONS_FILE: "transactions.parquet",
}
SALES_CHANNELS = (1, 2)
# lz4 decodes about twice as fast as zstd level 1 (measured on 3M transactions: 0.025 s vs 0.057 s) for a
# cache about 20% larger; loading from the cache is what every command does, so it gets the fast codec.
PARQUET_OPTIONS: dict[str, Any] = {"compression": "lz4", "statistics": True}

_REQUIRED_COLUMNS: dict[str, tuple[str, ...]] = {
    ARTICLES_FILE: ARTICLE_COLUMNS,
    CUSTOMERS_FILE: CUSTOMER_COLUMNS,
    TRANSACTIONS_FILE: TRANSACTION_COLUMNS,
}
_OTHER_SEPARATORS = (";", "\t", "|")
_ROW = "_row"
_HEADER_PROBE_BYTES = 1 << 16
_HASH_CHUNK_BYTES = 1 << 23
_SWAP_ATTEMPTS = 4
_CUSTOMER_ID_RULE = "customer ids are 64 lowercase hexadecimal characters, as in the competition's files"
_MESSAGE_CHARS = 120  # a quoted library message is cut here: the error must stay one short line
_BLANK_TAIL_ROWS = 1000  # at most this many blank lines at the end of a file are dropped, not reported


# ---------------------------------------------------------------------------------------------- public API
def default_cache_dir(data_dir: Path) -> Path:
    """Where the cache of ``data_dir`` lives unless told otherwise: ``data_dir/.hmrec-cache``."""
    return Path(data_dir) / CACHE_DIRNAME


def cache_is_fresh(data_dir: Path, cache_dir: Path | None = None) -> bool:
    """True when the cache exists, has the current format and matches the source files' sizes and mtimes."""
    data_dir = Path(data_dir)
    cache = Path(cache_dir) if cache_dir is not None else default_cache_dir(data_dir)
    manifest = _read_manifest(cache)
    if manifest is None or manifest.get("version") != CACHE_VERSION:
        return False
    if not isinstance(manifest.get("fingerprint"), str) or not manifest["fingerprint"]:
        return False
    # a table is one parquet file, or a directory of part files when the Spark engine wrote it
    if not all((cache / name).exists() for name in CACHE_FILES.values()):
        return False
    try:
        current = {name: _stat(data_dir / name) for name in SOURCE_FILES}
    except OSError:
        return False
    return bool(manifest.get("sources") == current)


def build_cache(data_dir: Path, cache_dir: Path | None = None, *, progress: bool = True) -> Path:
    """Read and validate the three CSV files of ``data_dir`` and (re)write the typed cache; return its path.

    Raises :class:`DataError` (one line: file, column, row, fix) on bad input, leaving no cache behind.
    """
    path, _ = _build(Path(data_dir), cache_dir, progress=progress)
    return path


def load_dataset(
    data_dir: Path, cache_dir: Path | None = None, *, progress: bool = True, refresh: bool = False
) -> Dataset:
    """The :class:`Dataset` of ``data_dir``, from its typed cache (built first when missing or stale).

    ``refresh`` rebuilds the cache even when it is up to date. ``Dataset.source`` is ``data_dir`` and
    ``Dataset.fingerprint`` the content fingerprint of the three source files.
    """
    data_dir = Path(data_dir)
    cache = Path(cache_dir) if cache_dir is not None else default_cache_dir(data_dir)
    remove_leftovers(cache)
    if not refresh and cache_is_fresh(data_dir, cache):
        try:
            return _read_cache(cache, data_dir)
        except (OSError, ValueError, pl.exceptions.PolarsError):
            pass  # a damaged cache (e.g. a truncated file): rebuild it below
    _, dataset = _build(data_dir, cache, progress=progress)
    return dataset


# ---------------------------------------------------------------------------------------------- the build
def _build(data_dir: Path, cache_dir: Path | None, *, progress: bool) -> tuple[Path, Dataset]:
    cache = Path(cache_dir) if cache_dir is not None else default_cache_dir(data_dir)
    _check_cache_target(cache)
    paths = _check_sources(data_dir)
    # Stamps are taken before reading: a file changed during the build leaves a stale manifest, so the
    # next load rebuilds instead of trusting a cache made from a mix of old and new contents.
    stamps = {name: _stat(path) for name, path in paths.items()}
    stop = threading.Event()  # ends the hashing early when the build fails
    with _Stages(progress) as stages, ThreadPoolExecutor(max_workers=1) as pool, _set_on_exit(stop):
        # Hashing 3.3 GB takes a few seconds; hashlib releases the GIL, so it overlaps the parsing.
        fingerprint: Future[str] = pool.submit(_fingerprint, paths, stop)
        with stages.stage("customers", f"Reading {CUSTOMERS_FILE}"):
            customers = _read_customers(paths[CUSTOMERS_FILE])
        with stages.stage("articles", f"Reading {ARTICLES_FILE}"):
            articles = _read_articles(paths[ARTICLES_FILE])
        with stages.stage("transactions", f"Reading {TRANSACTIONS_FILE}"):
            transactions = _read_transactions(paths[TRANSACTIONS_FILE], customers, articles)
        with stages.stage("fingerprint", "Fingerprinting the files"):
            digest = fingerprint.result()
        with stages.stage("write", "Writing the cache"):
            manifest = {
                "format": CACHE_FORMAT,
                "version": CACHE_VERSION,
                "sources": stamps,
                "fingerprint": digest,
                "rows": {
                    ARTICLES_FILE: articles.height,
                    CUSTOMERS_FILE: customers.height,
                    TRANSACTIONS_FILE: transactions.height,
                },
                # Seconds of each stage before writing (for benchmarks and curious users).
                "build_seconds": dict(stages.seconds),
                "polars": pl.__version__,
                "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
            }
            frames = {ARTICLES_FILE: articles, CUSTOMERS_FILE: customers, TRANSACTIONS_FILE: transactions}
            _write_cache(cache, frames, manifest)
    dataset = Dataset(
        articles=articles,
        customers=customers,
        transactions=transactions,
        fingerprint=str(manifest["fingerprint"]),
        source=data_dir,
    )
    return cache, dataset


def _write_cache(
    cache: Path,
    frames: Mapping[str, pl.DataFrame],
    manifest: Mapping[str, Any] | Callable[[], Mapping[str, Any]],
    write_more: Callable[[Path], None] | None = None,
) -> None:
    """Write the cache into a temporary directory beside ``cache``, then swap it into place.

    ``write_more(tmp)`` writes further tables into the temporary directory (the Spark engine writes the
    transactions there); ``manifest`` may be a function, called once everything else is written.

    Left-overs of a killed build beside it are removed first. When another process swaps in a cache of the
    same files at the same moment, that cache is kept and this one dropped.
    """
    parent = cache.parent
    fix = "pass --cache with a writable directory on a disk with free space"
    try:
        parent.mkdir(parents=True, exist_ok=True)
        remove_leftovers(cache)
        tmp = temp_dir(parent, temp_prefix(cache, "tmp"))
    except OSError as exc:
        raise DataError(f"cannot create the cache there ({exc.strerror or exc})", file=cache, fix=fix) from None
    try:
        for name, frame in frames.items():
            try:
                frame.write_parquet(tmp / CACHE_FILES[name], **PARQUET_OPTIONS)
            except pl.exceptions.PolarsError as exc:  # polars reports a full disk as a ComputeError
                reason = str(exc).strip().splitlines()[0][:_MESSAGE_CHARS] if str(exc).strip() else "failed"
                raise DataError(f"cannot write the cache ({reason})", file=cache, fix=fix) from None
        if write_more is not None:
            write_more(tmp)
        if callable(manifest):
            manifest = manifest()
        # The manifest is written last: a directory without it is never taken for a cache.
        write_atomic(tmp / MANIFEST_FILE, json.dumps(manifest, indent=2) + "\n")
        for attempt in range(_SWAP_ATTEMPTS):
            try:
                swap_dir(tmp, cache)
                break
            except OSError:
                if _same_cache(cache, manifest):
                    shutil.rmtree(tmp, ignore_errors=True)  # a racing ingest put the same cache in place
                    break
                if attempt == _SWAP_ATTEMPTS - 1:
                    raise
                time.sleep(0.05 * (attempt + 1))
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def _same_cache(cache: Path, manifest: Mapping[str, Any]) -> bool:
    """True when ``cache`` holds a complete cache of the same files and format as ``manifest`` describes."""
    other = _read_manifest(cache)
    return (
        other is not None
        and other.get("version") == manifest["version"]
        and other.get("fingerprint") == manifest["fingerprint"]
        and all((cache / name).exists() for name in CACHE_FILES.values())
    )


def _check_cache_target(cache: Path) -> None:
    """Refuse to replace something that is not an hmrec cache (a user pointing --cache at a real folder)."""
    check_not_cwd(cache, "--cache")
    if not cache.exists():
        return
    # A cache is known by the marker hmrec writes into its manifest, not by the name manifest.json, which
    # many tools use: a folder of someone else's is never emptied for a cache.
    if cache.is_dir() and (_is_cache(cache) or not any(cache.iterdir())):
        return
    raise DataError(
        "exists and is not an hmrec cache, so it will not be replaced",
        file=cache,
        fix="pass --cache with a new or empty directory",
    )


def _is_cache(cache: Path) -> bool:
    """True when ``cache`` holds a manifest hmrec wrote (its ``format`` marker), complete or stale."""
    manifest = _read_manifest(cache)
    return manifest is not None and manifest.get("format") == CACHE_FORMAT


def _read_cache(cache: Path, data_dir: Path) -> Dataset:
    manifest = _read_manifest(cache)
    if manifest is None:
        raise ValueError(f"no manifest in {cache}")
    frames = {name: pl.read_parquet(cache / file) for name, file in CACHE_FILES.items()}
    return Dataset(
        articles=frames[ARTICLES_FILE],
        customers=frames[CUSTOMERS_FILE],
        transactions=frames[TRANSACTIONS_FILE],
        fingerprint=str(manifest["fingerprint"]),
        source=data_dir,
    )


def _read_manifest(cache: Path) -> dict[str, Any] | None:
    try:
        manifest = json.loads((cache / MANIFEST_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return manifest if isinstance(manifest, dict) else None


def _stat(path: Path) -> dict[str, int]:
    st = path.stat()
    return {"size": st.st_size, "mtime_ns": st.st_mtime_ns}


@contextlib.contextmanager
def _set_on_exit(event: threading.Event) -> Iterator[None]:
    try:
        yield
    finally:
        event.set()


def _fingerprint(paths: Mapping[str, Path], stop: threading.Event | None = None) -> str:
    """sha256 over each source file's name and sha256, shortened to 16 hex digits.

    It depends on the files' bytes only (not on where they are or when they were written), so a model
    saved on one copy of the data is accepted on another copy of the same data.
    """
    outer = hashlib.sha256()
    for name in sorted(paths):
        inner = hashlib.sha256()
        with open(paths[name], "rb") as handle:
            while chunk := handle.read(_HASH_CHUNK_BYTES):
                if stop is not None and stop.is_set():
                    return ""
                inner.update(chunk)
        outer.update(f"{name}\0{inner.hexdigest()}\0".encode())
    return outer.hexdigest()[:16]


class _Stages:
    """One progress line per build stage (rich, transient); nothing at all when ``progress`` is False."""

    def __init__(self, progress: bool) -> None:
        self._progress = progress
        self._stack = contextlib.ExitStack()
        self._bar: Any = None
        self.seconds: dict[str, float] = {}

    def __enter__(self) -> _Stages:
        if self._progress:
            from hmrec.progress import progress_bar

            self._bar = self._stack.enter_context(progress_bar())
        return self

    def __exit__(self, *exc: object) -> None:
        self._stack.close()

    @contextlib.contextmanager
    def stage(self, key: str, description: str) -> Iterator[None]:
        """Time the block under ``key`` (kept in :attr:`seconds`) and show it as one progress line."""
        task = self._bar.add_task(description, total=1, info="") if self._bar is not None else None
        started = time.perf_counter()
        yield
        self.seconds[key] = round(time.perf_counter() - started, 3)
        if task is not None:
            self._bar.update(task, completed=1, info=f"{self.seconds[key]:.1f} s")


# ---------------------------------------------------------------------------------------------- sources
def _check_sources(data_dir: Path) -> dict[str, Path]:
    """The three source files, after checking that they exist, are not empty and have the right header."""
    fix_dir = (
        "pass --data with the directory that holds articles.csv, customers.csv and transactions_train.csv"
    )
    if not data_dir.exists():
        raise DataError("the data directory does not exist", file=data_dir, fix=fix_dir)
    if not data_dir.is_dir():
        raise DataError("is not a directory", file=data_dir, fix=fix_dir)
    paths = {name: data_dir / name for name in SOURCE_FILES}
    for name, path in paths.items():
        if path.exists() and not path.is_file():
            raise DataError(
                "is not a regular file (a directory, a pipe or a device)",
                file=path,
                fix=f"put the competition's {name} file there",
            )
        if not path.is_file():
            raise DataError(
                "file not found",
                file=path,
                fix=f"put the competition's {name} in {data_dir}, or pass --data with the right directory",
            )
        if path.stat().st_size == 0:
            raise DataError(
                "the file is empty",
                file=path,
                fix=f"copy the complete {name} from the competition's data again",
            )
        _check_header(path, _REQUIRED_COLUMNS[name])
    return paths


def _check_header(path: Path, required: tuple[str, ...]) -> None:
    """Check the header line: comma-separated, with every required column."""
    with open(path, "rb") as handle:
        probe = handle.read(_HEADER_PROBE_BYTES)
    if b"\r" in probe and b"\n" not in probe:
        raise DataError(
            "lines end with a carriage return only (old Mac line endings), so the file reads as one line",
            file=path,
            fix="save it with LF or CRLF line endings",
        )
    line = probe.decode("utf-8", errors="replace").lstrip("\ufeff").splitlines()[0] if probe.strip() else ""
    fields = next(csv.reader([line])) if line.strip() else []
    if not fields:
        raise DataError(
            "the first line (the header) is empty",
            file=path,
            fix=f"start the file with the header {','.join(required[:3])},...",
        )
    if len(fields) == 1 and len(required) > 1:
        separator = next((sep for sep in _OTHER_SEPARATORS if sep in fields[0]), None)
        if separator is not None:
            shown = "TAB" if separator == "\t" else separator
            raise DataError(
                f"the header {_show(fields[0], 80)} is one field containing '{shown}': the file is "
                f"'{shown}'-separated, not comma-separated",
                file=path,
                column=required[0],
                fix="save it comma-separated, as in the competition's files",
            )
    present = {field.strip() for field in fields}
    for column in required:
        if column in fields:
            continue
        if column in present:
            fix = f"remove the spaces around '{column}' in the header"
        elif close := _close_match(column, [f for f in fields if f not in required]):
            fix = f"rename column {_show(close)} to '{column}'"
        else:
            fix = f"add it; the header must have the columns {','.join(required)}"
        raise DataError("missing column", file=path, column=column, fix=fix)


def _close_match(column: str, candidates: list[str]) -> str | None:
    """The header field that is most likely a misspelling of ``column`` (case and spaces ignored)."""
    folded = {candidate.strip().lower(): candidate for candidate in candidates}
    close = difflib.get_close_matches(column.lower(), list(folded), n=1, cutoff=0.75)
    return folded[close[0]] if close else None


def _scan(path: Path) -> pl.LazyFrame:
    """Every column as a string (converted and checked by hmrec, so that a bad value has a row number)."""
    return pl.scan_csv(path, infer_schema=False, encoding="utf8-lossy")


def _collect(frame: pl.LazyFrame, path: Path, n_columns: int) -> pl.DataFrame:
    """Collect a scan, turning a CSV parse failure into one DataError line (with the row when found)."""
    try:
        return frame.collect(engine="streaming")
    except pl.exceptions.ComputeError as exc:
        message = str(exc).strip().splitlines()[0][:_MESSAGE_CHARS] if str(exc).strip() else type(exc).__name__
        raise _parse_error(path, n_columns, message) from None


def _parse_error(path: Path, n_columns: int, message: str) -> DataError:
    """The error for a file the CSV reader could not parse: the first ragged row when one is found."""
    row = _first_ragged_row(path, n_columns)
    problem = (
        f"a row does not have the header's {n_columns} fields" if row is not None else f"unreadable CSV ({message})"
    )
    return DataError(
        problem,
        file=path,
        row=row,
        fix="check the file is a complete, comma-separated copy of the original",
    )


def _first_ragged_row(path: Path, n_columns: int) -> int | None:
    """Best effort, streamed: the first data row whose field count differs from the header's.

    Fields are counted as commas outside double quotes plus one; blank lines are not rows. When a quoted
    field spans lines (a line with an odd number of quotes), lines are not rows either, and None is returned.
    """
    lines = pl.scan_csv(
        path,
        has_header=False,
        separator="\x1f",
        quote_char=None,
        infer_schema=False,
        new_columns=["line"],
        encoding="utf8-lossy",
    ).with_row_index(_ROW)
    line = pl.col("line").fill_null("")
    try:
        quotes = line.str.count_matches('"', literal=True)
        if lines.select((quotes % 2 == 1).any()).collect(engine="streaming").item():
            return None
        # "a,b" and "a""b" are removed whole (an escaped quote splits one into two quoted runs)
        commas = line.str.replace_all(r'"[^"]*"', "").str.count_matches(",", literal=True)
        ragged = (
            lines.filter(
                (pl.col(_ROW) > 0) & (line.str.strip_chars() != "") & (commas != n_columns - 1)
            )
            .select(pl.col(_ROW).min())
            .collect(engine="streaming")
            .item()
        )
    except pl.exceptions.PolarsError:
        return None
    return int(ragged) if ragged is not None else None  # line i (header = line 0) is data row i


def _check_rows(raw: pl.DataFrame, path: Path) -> pl.DataFrame:
    """``raw`` without the blank lines at its end, after checking that no row has too few fields.

    polars fills the fields missing from a short row with nulls, like empty fields; only when the last column
    has nulls (a short row always leaves it empty) are the lines counted to tell the two apart.
    """
    raw = _drop_blank_tail(raw)
    if raw.height and raw[raw.columns[-1]].null_count():
        row = _first_ragged_row(path, raw.width)
        if row is not None:
            raise _ragged(path, row, raw.width)
    return raw


def _ragged(path: Path, row: int, n_columns: int) -> DataError:
    return DataError(
        f"a row does not have the header's {n_columns} fields",
        file=path,
        row=row,
        fix="check the file is a complete, comma-separated copy of the original",
    )


def _drop_blank_tail(raw: pl.DataFrame) -> pl.DataFrame:
    """``raw`` without its trailing rows whose fields are all empty (blank lines at the end of the file)."""
    if raw.height == 0:
        return raw
    blank = raw.select(pl.all_horizontal(pl.all().is_null())).to_series().to_numpy()
    if not blank[-1]:
        return raw
    kept = np.flatnonzero(~blank)
    return raw.head(int(kept[-1]) + 1 if kept.size else 0)


def _check_not_empty(frame: pl.DataFrame, path: Path) -> None:
    if frame.height == 0:
        raise DataError(
            "the file has a header but no data rows",
            file=path,
            fix=f"copy the complete {path.name} from the competition's data again",
        )


def _missing(raw: pl.Expr) -> pl.Expr:
    """A missing value: an empty field (null) or a quoted empty or blank string."""
    return raw.is_null() | (raw.str.strip_chars() == "")


def _rows(count: int) -> str:
    return f"{count:,} row has" if count == 1 else f"{count:,} rows have"


def _first_true(mask: pl.Series) -> int | None:
    """Position of the first True of ``mask``, or None."""
    return int(mask.arg_max() or 0) if mask.any() else None


def _show(value: object, limit: int = 40) -> str:
    """A raw value for a one-line message: quoted, escaped, shortened."""
    text = repr(str(value)) if value is not None else "''"
    return text if len(text) <= limit else text[: limit - 4] + "...'"


def _require_ids(
    raw: pl.Series, path: Path, column: str, what: str, valid: pl.Series | None = None, rule: str = ""
) -> None:
    """Ids must be present, well-formed (``valid``) and unique."""
    missing = _first_true(raw.is_null() | (raw.str.strip_chars() == ""))
    if missing is not None:
        raise DataError(
            f"missing {what} id",
            file=path,
            column=column,
            row=missing + 1,
            fix="every row needs an id",
        )
    if valid is not None:
        bad = _first_true(~valid)
        if bad is not None:
            raise DataError(
                f"malformed {what} id {_show(raw[bad])}", file=path, column=column, row=bad + 1, fix=rule
            )


def _require_unique(ids: pl.Series, path: Path, column: str, what: str, raw: pl.Series) -> None:
    if ids.n_unique() == ids.len():  # the usual case, one parallel hash pass; locate a duplicate only if not
        return
    duplicate = _first_true(~ids.is_first_distinct()) or 0
    first = _first_true(ids == ids[duplicate])
    shown = _show(raw[duplicate], 80)
    if raw[duplicate] != ids[duplicate]:
        shown += f" (as {ids[duplicate]})"
    raise DataError(
        f"{what} id {shown} appears twice (rows {(first or 0) + 1} and {duplicate + 1})",
        file=path,
        column=column,
        row=duplicate + 1,
        fix=f"keep one row per {what}",
    )


def _numeric(raw: pl.Series, dtype: pl.DataType, path: Path) -> pl.Series:
    """Cast an optional numeric column read as text; a value that is not a (whole) number is an error."""
    column = raw.name
    direct = raw.cast(dtype, strict=False)
    finite = dtype.is_integer() or bool(direct.is_finite().fill_null(True).all())
    if finite and direct.null_count() == raw.null_count():  # every value parsed as is: the usual case
        return direct.alias(column)
    missing = raw.is_null() | (raw.str.strip_chars() == "")
    value = raw.str.strip_chars().cast(pl.Float64, strict=False)
    bad = _first_true(~missing & (value.is_null() | ~value.is_finite()).fill_null(True))
    if bad is not None:
        raise DataError(
            f"{_show(raw[bad])} is not a number",
            file=path,
            column=column,
            row=bad + 1,
            fix="write a plain number or leave the field empty",
        )
    if not dtype.is_integer():
        return value.cast(dtype).alias(column)
    fractional = _first_true((value != value.round(0)).fill_null(False))
    if fractional is not None:
        raise DataError(
            f"{_show(raw[fractional])} is not a whole number",
            file=path,
            column=column,
            row=fractional + 1,
            fix="write a whole number or leave the field empty",
        )
    out = value.cast(dtype, strict=False)
    overflow = _first_true(out.is_null() & value.is_not_null())
    if overflow is not None:
        raise DataError(
            f"{_show(raw[overflow])} is out of range for {dtype}",
            file=path,
            column=column,
            row=overflow + 1,
            fix="check the value",
        )
    return out.alias(column)


def _require_range(values: pl.Series, raw: pl.Series, path: Path, bounds: tuple[float, float], fix: str) -> None:
    """A DataError at the first value outside ``bounds`` (inclusive; missing values pass)."""
    low, high = bounds
    bad = _first_true(~values.is_between(low, high).fill_null(True))
    if bad is not None:
        raise DataError(
            f"{_show(raw[bad])} is outside the plausible range {low} to {high}",
            file=path,
            column=values.name,
            row=bad + 1,
            fix=fix,
        )


# ------------------------------------------------------------------------------- customers, articles
def _read_customers(path: Path) -> pl.DataFrame:
    """customers.csv -> customer_idx + the CUSTOMERS_SCHEMA columns; ids present and unique."""
    raw = _check_rows(_collect(_scan(path).select(CUSTOMER_COLUMNS), path, len(CUSTOMER_COLUMNS)), path)
    _check_not_empty(raw, path)
    ids = raw[CUSTOMER_ID]
    _require_ids(
        ids,
        path,
        CUSTOMER_ID,
        "customer",
        valid=ids.str.contains(CUSTOMER_ID_PATTERN).fill_null(False),
        rule=_CUSTOMER_ID_RULE,
    )
    _require_unique(ids, path, CUSTOMER_ID, "customer", ids)
    columns: list[pl.Series] = []
    for name, dtype in CUSTOMERS_SCHEMA.items():
        if name == CUSTOMER_IDX:
            columns.append(pl.int_range(raw.height, dtype=pl.Int32, eager=True).alias(CUSTOMER_IDX))
        elif dtype == pl.String:
            columns.append(raw[name])
        else:
            columns.append(_numeric(raw[name], dtype, path))
    frame = pl.DataFrame(columns)
    _require_range(frame["age"], raw["age"], path, AGE_RANGE, "leave the field empty when the age is unknown")
    return frame


def _read_articles(path: Path) -> pl.DataFrame:
    """articles.csv -> article_idx + the ARTICLES_SCHEMA columns; ids digits only, normalized, unique."""
    raw = _check_rows(_collect(_scan(path).select(ARTICLE_COLUMNS), path, len(ARTICLE_COLUMNS)), path)
    _check_not_empty(raw, path)
    raw_ids = raw[ARTICLE_ID]
    _require_ids(
        raw_ids,
        path,
        ARTICLE_ID,
        "article",
        valid=raw_ids.str.contains(rf"^[0-9]{{1,{ARTICLE_ID_DIGITS}}}$").fill_null(False),
        rule=f"article ids are up to {ARTICLE_ID_DIGITS} digits, e.g. 0706016001",
    )
    # Copies of the data read with integer article ids lost the leading zero: restore it.
    ids = raw_ids.str.zfill(ARTICLE_ID_DIGITS).alias(ARTICLE_ID)
    _require_unique(ids, path, ARTICLE_ID, "article", raw_ids)
    columns: list[pl.Series] = []
    for name, dtype in ARTICLES_SCHEMA.items():
        if name == ARTICLE_IDX:
            columns.append(pl.int_range(raw.height, dtype=pl.Int32, eager=True).alias(ARTICLE_IDX))
        elif name == ARTICLE_ID:
            columns.append(ids)
        elif name in ARTICLE_INT_COLUMNS:
            columns.append(_numeric(raw[name], dtype, path))
        else:
            columns.append(raw[name])
    return pl.DataFrame(columns)


# ---------------------------------------------------------------------------------------------- transactions
def _convert_transactions(raw: pl.LazyFrame, customers: pl.LazyFrame, articles: pl.LazyFrame) -> pl.LazyFrame:
    """The conversion of the raw transaction columns; every bad value becomes null (checked afterwards).

    Values are parsed as written (no stripping of spaces: it cost a fifth of the pass and the competition's
    files have none; a padded value is reported with its row). The joins do not keep the row order (an
    order-keeping join measured ~20% slower than joining freely and sorting by the row number afterwards),
    so the row number travels along in ``_row``.
    """
    price = pl.col(PRICE).cast(pl.Float64, strict=False)
    channel = pl.col(SALES_CHANNEL).cast(pl.Int64, strict=False)
    date = pl.col(T_DAT).str.to_date(DATE_FORMAT, strict=False)
    return (
        raw.with_row_index(_ROW)
        .select(
            pl.col(_ROW),
            pl.when(date.is_between(EARLIEST_DATE, latest_date()) & ~date.is_in(PLACEHOLDER_DATES))
            .then(date)
            .alias(T_DAT),
            pl.col(CUSTOMER_ID),
            # Restores a lost leading zero; a malformed id simply finds no article.
            pl.col(ARTICLE_ID).str.zfill(ARTICLE_ID_DIGITS),
            pl.when(price.is_between(0, MAX_PRICE)).then(price).cast(pl.Float32).alias(PRICE),
            pl.when(channel.is_in(SALES_CHANNELS)).then(channel).cast(pl.Int8).alias(SALES_CHANNEL),
        )
        .join(customers, on=CUSTOMER_ID, how="left")
        .join(articles, on=ARTICLE_ID, how="left")
        .select(
            pl.col(_ROW),
            pl.col(T_DAT),
            pl.col(CUSTOMER_IDX).cast(pl.Int32),
            pl.col(ARTICLE_IDX).cast(pl.Int32),
            pl.col(PRICE),
            pl.col(SALES_CHANNEL),
        )
    )


def _read_transactions(path: Path, customers: pl.DataFrame, articles: pl.DataFrame) -> pl.DataFrame:
    """transactions_train.csv -> the TRANSACTIONS_SCHEMA frame in file order (DataError: first bad row)."""
    converted = _convert_transactions(
        _scan(path).select(TRANSACTION_COLUMNS),
        customers.lazy().select(CUSTOMER_ID, CUSTOMER_IDX),
        articles.lazy().select(ARTICLE_ID, ARTICLE_IDX),
    )
    frame = _collect(converted, path, len(TRANSACTION_COLUMNS))
    nulls = frame.null_count().row(0, named=True)
    if any(nulls.values()):
        bad = int(frame.filter(pl.any_horizontal(pl.all().is_null()))[_ROW].min())  # type: ignore[arg-type]
        if not _blank_from(path, bad, frame.height):
            _check_not_empty(frame, path)
            raise _explain_transaction(path, bad, nulls, customers, articles)
        frame = frame.filter(pl.col(_ROW) < bad)  # blank lines at the end of the file
    _check_not_empty(frame, path)
    return frame.sort(_ROW).select([pl.col(c).cast(t) for c, t in TRANSACTIONS_SCHEMA.items()])


def _blank_from(path: Path, row: int, height: int) -> bool:
    """True when data rows ``row`` to the end are all blank lines (only a short tail is read to tell)."""
    if height - row > _BLANK_TAIL_ROWS:
        return False
    tail = _scan(path).select(TRANSACTION_COLUMNS).slice(row).collect(engine="streaming")
    return bool(tail.select(pl.all_horizontal(pl.all().is_null()).all()).item())


def _explain_transaction(
    path: Path, row: int, nulls: Mapping[str, int], customers: pl.DataFrame, articles: pl.DataFrame
) -> DataError:
    """Re-read the raw text of the first bad transaction row and say what is wrong with it.

    Checks run in column order, so the message is about the row's first bad value.
    """
    raw = _scan(path).select(TRANSACTION_COLUMNS).slice(row, 1).collect(engine="streaming").row(0, named=True)
    where: dict[str, Any] = {"file": path, "row": row + 1}

    def blank(value: str | None) -> bool:
        return value is None or not value.strip()

    def missing(column: str, what: str, article: str = "a") -> DataError:
        return DataError(
            f"missing {what}", column=column, fix=f"every transaction needs {article} {what}", **where
        )

    if raw[SALES_CHANNEL] is None and _first_ragged_row(path, len(TRANSACTION_COLUMNS)) == row + 1:
        return _ragged(path, row + 1, len(TRANSACTION_COLUMNS))

    date = raw[T_DAT]
    if blank(date):
        return missing(T_DAT, "date")
    parsed = pl.Series([date], dtype=pl.String).str.to_date(DATE_FORMAT, strict=False).item()
    if parsed is None:
        return DataError(
            f"{_show(date)} is not a date",
            column=T_DAT,
            fix="write dates as YYYY-MM-DD, e.g. 2020-09-22",
            **where,
        )
    if parsed in PLACEHOLDER_DATES:
        return DataError(
            f"date {_show(date)} is a placeholder for an unknown date, not a sale's date",
            column=T_DAT,
            fix="give the real date or remove the row",
            **where,
        )
    if not EARLIEST_DATE <= parsed <= latest_date():
        return DataError(
            f"date {_show(date)} is outside the plausible range {EARLIEST_DATE} to {latest_date()}",
            column=T_DAT,
            fix="correct the date or remove the row",
            **where,
        )

    customer = raw[CUSTOMER_ID]
    if customer is None or blank(customer):
        return missing(CUSTOMER_ID, "customer id")
    if pl.Series([customer], dtype=pl.String).str.contains(CUSTOMER_ID_PATTERN).item() is not True:
        return DataError(
            f"malformed customer id {_show(customer, 80)}", column=CUSTOMER_ID, fix=_CUSTOMER_ID_RULE, **where
        )
    if not (customers[CUSTOMER_ID] == customer).any():
        return DataError(
            f"customer id {_show(customer, 80)} is not in {CUSTOMERS_FILE} "
            f"({_rows(nulls[CUSTOMER_IDX])} a missing or unknown customer id)",
            column=CUSTOMER_ID,
            fix=f"add the customer to {CUSTOMERS_FILE} or remove those transactions",
            **where,
        )

    article = raw[ARTICLE_ID]
    if article is None or blank(article):
        return missing(ARTICLE_ID, "article id", "an")
    if not (article.isascii() and article.isdigit() and len(article) <= ARTICLE_ID_DIGITS):
        return DataError(
            f"malformed article id {_show(article)}",
            column=ARTICLE_ID,
            fix=f"article ids are up to {ARTICLE_ID_DIGITS} digits, e.g. 0706016001",
            **where,
        )
    if not (articles[ARTICLE_ID] == article.zfill(ARTICLE_ID_DIGITS)).any():
        return DataError(
            f"article id {_show(article)} is not in {ARTICLES_FILE} "
            f"({_rows(nulls[ARTICLE_IDX])} a missing, malformed or unknown article id)",
            column=ARTICLE_ID,
            fix=f"add the article to {ARTICLES_FILE} or remove those transactions",
            **where,
        )

    price = raw[PRICE]
    if blank(price):
        return missing(PRICE, "price")
    number = pl.Series([price], dtype=pl.String).cast(pl.Float64, strict=False).item()
    if number is None:
        return DataError(
            f"{_show(price)} is not a number", column=PRICE, fix="write prices as plain numbers", **where
        )
    if not 0 <= number <= MAX_PRICE:  # negative, NaN, infinite or implausibly large
        if not math.isfinite(number):
            problem = "not finite"
        else:
            problem = "negative" if number < 0 else f"larger than {MAX_PRICE:g}"
        return DataError(
            f"price {_show(price)} is {problem}",
            column=PRICE,
            fix=f"prices are 0 to {MAX_PRICE:g}, e.g. 0.0254 as in the competition's scaled prices",
            **where,
        )

    channel = raw[SALES_CHANNEL]
    if blank(channel):
        return missing(SALES_CHANNEL, "sales channel")
    return DataError(
        f"sales channel {_show(channel)} is not 1 or 2",
        column=SALES_CHANNEL,
        fix="use 1 or 2, the competition's two sales channels",
        **where,
    )


__all__ = ["CACHE_VERSION", "build_cache", "cache_is_fresh", "default_cache_dir", "load_dataset"]
