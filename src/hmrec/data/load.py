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
the 1-based data row (header excluded) and the fix. Reading and checking the files is :mod:`hmrec.data.read`;
this module holds the cache (its manifest, the atomic build, freshness) and loading the Dataset.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import shutil
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any

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
from hmrec.data.read import MESSAGE_CHARS, check_sources, read_articles, read_customers, read_transactions
from hmrec.data.schema import (
    ARTICLES_FILE,
    CACHE_DIRNAME,
    CUSTOMERS_FILE,
    SOURCE_FILES,
    TRANSACTIONS_FILE,
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
# lz4 decodes about twice as fast as zstd level 1 (measured on 3M transactions: 0.025 s vs 0.057 s) for a
# cache about 20% larger; loading from the cache is what every command does, so it gets the fast codec.
PARQUET_OPTIONS: dict[str, Any] = {"compression": "lz4", "statistics": True}

_HASH_CHUNK_BYTES = 1 << 23
_SWAP_ATTEMPTS = 4


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
    paths = check_sources(data_dir)
    # Stamps are taken before reading: a file changed during the build leaves a stale manifest, so the
    # next load rebuilds instead of trusting a cache made from a mix of old and new contents.
    stamps = {name: _stat(path) for name, path in paths.items()}
    stop = threading.Event()  # ends the hashing early when the build fails
    with _Stages(progress) as stages, ThreadPoolExecutor(max_workers=1) as pool, _set_on_exit(stop):
        # Hashing 3.3 GB takes a few seconds; hashlib releases the GIL, so it overlaps the parsing.
        fingerprint: Future[str] = pool.submit(_fingerprint, paths, stop)
        with stages.stage("customers", f"Reading {CUSTOMERS_FILE}"):
            customers = read_customers(paths[CUSTOMERS_FILE])
        with stages.stage("articles", f"Reading {ARTICLES_FILE}"):
            articles = read_articles(paths[ARTICLES_FILE])
        with stages.stage("transactions", f"Reading {TRANSACTIONS_FILE}"):
            transactions = read_transactions(paths[TRANSACTIONS_FILE], customers, articles)
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
                reason = str(exc).strip().splitlines()[0][:MESSAGE_CHARS] if str(exc).strip() else "failed"
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


__all__ = ["CACHE_VERSION", "build_cache", "cache_is_fresh", "default_cache_dir", "load_dataset"]
