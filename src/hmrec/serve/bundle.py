"""The serving bundle: everything ``hmrec serve`` needs, written by ``hmrec train`` beside the saved model.

A bundle is the saved model's directory (``model.json``, ``arrays.npz``: ``submit --model-dir`` and
``recommend --model-dir`` keep working on it) plus ``bundle.json`` and a ``serve/`` folder:

==========================  ==================================================================================
``bundle.json``             format version, hmrec version, model, data fingerprint, sizes, and the byte size and
                            sha256 of every file below (and of the model's own files)
``serve/customer_ids.npy``  customer_idx -> customer id (fixed-width bytes); ``customer_sorted*.npy`` the
                            sorted ids and their indices, for a binary-search look-up without a hash table
``serve/article_ids.npy``   the same for articles (``article_sorted*.npy``)
``serve/articles.parquet``  what people see of an article: name, type, colour, price, sales, buyers
``serve/customers.parquet`` a customer's profile and purchase summary
``serve/recent_*.npy``      each customer's latest purchases (CSR: indptr, article, day, price)
``serve/weekly_*.npy``      weekly sales of each article (CSR: indptr, week, count)
``serve/buyer_ages.npy``    distinct buyers of each article per age bucket
``serve/topk_*.npy``        the model's top ``depth`` for every known customer (ids int32, scores float32,
                            source codes int8)
``serve/cold_*.npy``        the model's cold-start list, for customers it does not know
``serve/together_*.npy``,   every article's "bought together" and "similar" lists, ``depth`` long
``serve/similar_*.npy``     (:mod:`hmrec.serve.article_lists`; absent from bundles of older versions)
==========================  ==================================================================================

Every model's top-k is precomputed at train time, the cheap ones too: a request then costs a few array
look-ups whatever the model (the service never imports a model or numba), the lists served are those
``model.recommend`` gave for every customer (what ``hmrec submit`` writes), and memory is bounded
(1.37M customers x 12 x 9 bytes = 148 MB). The price is that ``k`` is at most ``depth``.

The service reads a bundle once into memory (a file changed under a running service changes nothing it
serves; memory-mapped, a file truncated in place killed it with SIGBUS), after checking the format version,
every file's size and sha256, every value of ``bundle.json`` (which its checksums cannot cover: the sources,
the customer id pattern, ``data_end`` and ``n_weeks`` against the first and last sale) and every served array
against its bounds (indices, row pointers, days, finite scores): a damaged or edited bundle, or one written by
another version, is refused with one line instead of answering 500 or wrong rows later.

This module holds the format (its names, sizes and bounds) and reads a bundle back; writing one is
:mod:`hmrec.serve.bundle_write`.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import json
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl

from hmrec import __version__
from hmrec.data.schema import ARTICLE_IDX
from hmrec.errors import DataError
from hmrec.serve.article_lists import LIST_ARRAYS, lists_problem

BUNDLE_FORMAT = 1
BUNDLE_JSON = "bundle.json"
SERVE_DIR = "serve"
MODEL_FILES = ("model.json", "arrays.npz")
#: files some models keep beside their arrays (the ranker's LightGBM models), covered by bundle.json too
OPTIONAL_MODEL_FILES = ("booster.txt", "booster-binary.txt")
#: bundle files the service never reads (checked for size only when it loads; loading the model checks them)
NOT_SERVED = frozenset({"arrays.npz", *OPTIONAL_MODEL_FILES})
#: recent purchases kept per customer
RECENT_PURCHASES = 20
#: customers per block when precomputing the top-k (bounds the model's temporary arrays)
TOPK_BLOCK = 262_144
#: default depth of the precomputed lists: the competition's 12
DEFAULT_DEPTH = 12
MAX_DEPTH = 100
#: source codes of the precomputed lists; code 0 is the model itself (named by the model's name)
SOURCE_MODEL, SOURCE_BOUGHT, SOURCE_COLD = 0, 1, 2
SOURCE_NAMES = ("model", "bought-before", "cold-start")
#: age buckets of an article's buyers: lower bounds; the last bucket holds unknown ages
AGE_EDGES = (0, 20, 25, 30, 40, 50, 60)
AGE_LABELS = ("<20", "20-24", "25-29", "30-39", "40-49", "50-59", "60+", "unknown")
#: articles.csv columns shown to people, if present
ARTICLE_COLUMNS = (
    "prod_name",
    "product_type_name",
    "product_group_name",
    "colour_group_name",
    "perceived_colour_master_name",
    "department_name",
    "index_group_name",
    "garment_group_name",
    "detail_desc",
)
CUSTOMER_COLUMNS = ("age", "club_member_status", "fashion_news_frequency", "FN", "Active")
HEX64 = r"^[0-9a-f]{64}$"
#: any id the service accepts at all when the data's customer ids are not 64-hex
LOOSE_ID = r"^[0-9A-Za-z_.:-]{1,128}$"
_EPOCH = dt.date(1970, 1, 1)


class BundleError(DataError):
    """A bundle that is missing, damaged, or written by another version."""


# ---------------------------------------------------------------------------------------------- loading
def _refuse(directory: Path, problem: str) -> BundleError:
    return BundleError(
        problem, file=directory, fix=f"write it again with `hmrec train --model NAME --out {directory}`"
    )


def read_manifest(directory: str | Path) -> dict[str, Any]:
    """``bundle.json``, checked for the format and hmrec version; BundleError with one line otherwise."""
    directory = Path(directory)
    path = directory / BUNDLE_JSON
    if not directory.is_dir():
        raise BundleError("no such directory", file=directory, fix="pass the --out DIR of `hmrec train`")
    if not path.is_file():
        raise BundleError(
            "not a serving bundle (bundle.json is missing)",
            file=directory,
            fix="pass the folder that `hmrec train --model NAME --out DIR` wrote",
        )
    try:
        manifest: dict[str, Any] = json.loads(path.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise _refuse(directory, "damaged bundle: bundle.json is not valid JSON") from None
    if not isinstance(manifest, dict):
        raise _refuse(directory, "damaged bundle: bundle.json is not an object")
    fmt, version = manifest.get("bundle_format"), manifest.get("hmrec_version")
    if fmt != BUNDLE_FORMAT or version != __version__:
        raise _refuse(
            directory,
            f"bundle written by hmrec {version} (bundle format {fmt}); this is hmrec {__version__} "
            f"(bundle format {BUNDLE_FORMAT})",
        )
    needed = ("model", "fingerprint", "n_customers", "n_articles", "depth", "files", "sources")
    missing = [key for key in needed if key not in manifest]
    if missing:
        raise _refuse(directory, f"damaged bundle: bundle.json has no '{missing[0]}'")
    problem = _manifest_problem(manifest)
    if problem:
        raise _refuse(directory, f"damaged bundle: bundle.json's {problem}")
    return manifest


def _count(value: Any, low: int, high: int) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and low <= value <= high


def _manifest_problem(manifest: dict[str, Any]) -> str | None:
    """What is wrong with the values of ``bundle.json`` (not covered by its own checksums), or None.

    Each value is one ``write_bundle`` could have written: the service answers from them without checking again.
    """
    if not isinstance(manifest["model"], str) or not manifest["model"]:
        return "'model' is not a name"
    if not isinstance(manifest["fingerprint"], str) or not isinstance(manifest.get("params", {}), dict):
        return "'fingerprint' or 'params' is not what hmrec writes"
    for key in ("n_customers", "n_articles"):
        if not _count(manifest[key], 0, np.iinfo(np.int32).max):
            return f"'{key}' is not a count ({str(manifest[key])[:40]})"
    if not _count(manifest["depth"], 1, MAX_DEPTH):
        return f"'depth' is not in 1..{MAX_DEPTH}"
    sources = manifest["sources"]
    if sources != [manifest["model"], *SOURCE_NAMES[1:]]:
        return f"'sources' is not [model, {', '.join(SOURCE_NAMES[1:])}]"
    if manifest.get("age_buckets", list(AGE_LABELS)) != list(AGE_LABELS):
        return f"'age_buckets' is not {list(AGE_LABELS)}"
    if manifest.get("customer_id_pattern", LOOSE_ID) not in (HEX64, LOOSE_ID):
        return "'customer_id_pattern' is not one hmrec writes"
    n_weeks, end = manifest.get("n_weeks", 0), manifest.get("data_end")
    year = _year(end)
    if end is not None and year is None:
        return f"'data_end' is not a date ({str(end)[:40]})"
    # weeks back from data_end, never before year 1 (load_bundle checks it against the first sale exactly)
    if not _count(n_weeks, 0, 52 * (year or 0)):
        return f"'n_weeks' is not a number of weeks up to 'data_end' ({str(n_weeks)[:40]})"
    files = manifest["files"]
    if not isinstance(files, dict) or not all(
        isinstance(meta, dict) and _count(meta.get("bytes"), 0, 1 << 50) and isinstance(meta.get("sha256"), str)
        for meta in files.values()
    ):
        return "'files' does not give each file's bytes and sha256"
    for name in files:
        parts = Path(name).parts
        if Path(name).is_absolute() or ".." in parts or not parts or len(parts) > 2:
            return f"'files' names a path outside the bundle ({name[:60]})"
    needed = [*MODEL_FILES, *(f"{SERVE_DIR}/{name}.npy" for name in _SHAPES),
              f"{SERVE_DIR}/articles.parquet", f"{SERVE_DIR}/customers.parquet"]
    unlisted = [name for name in needed if name not in files]
    if unlisted:
        return f"'files' does not list {unlisted[0]}"
    return None


def _year(value: Any) -> int | None:
    """The year of an ISO date string, None when ``value`` is not one."""
    if not isinstance(value, str):
        return None
    try:
        return dt.date.fromisoformat(value).year
    except ValueError:
        return None


def verify_files(directory: Path, manifest: dict[str, Any], *, checksums: bool = True) -> dict[str, bytes]:
    """Every file of the manifest present and of its recorded size; the bytes of those the service reads, read
    once and, with ``checksums``, matching their sha256 (the model's learned arrays are not read: ``--model-dir``
    commands check them when they load).

    The service answers from these bytes, never from the files again: a file truncated or rewritten in place
    under a running service (which memory-mapped, it died of SIGBUS or served the new rows) changes nothing
    served, and what is served is exactly what was checksummed. Reading and hashing run on two threads
    (file reads and hashlib release the GIL).
    """
    served: list[tuple[str, Path, int, str]] = []
    for name, meta in manifest["files"].items():
        path = directory / name
        if not path.is_file():
            raise _refuse(directory, f"damaged bundle: {name} is missing")
        size = path.stat().st_size
        if size != meta.get("bytes"):
            raise _refuse(directory, f"damaged bundle: {name} has {size} bytes, expected {meta.get('bytes')}")
        if name not in NOT_SERVED:
            served.append((name, path, size, str(meta.get("sha256"))))

    def read(item: tuple[str, Path, int, str]) -> bytes:
        name, path, size, expected = item
        data = path.read_bytes()
        if len(data) != size:  # changed between the size check and the read
            raise _refuse(directory, f"damaged bundle: {name} changed while it was read")
        if checksums and hashlib.sha256(data).hexdigest() != expected:
            raise _refuse(directory, f"damaged bundle: {name} does not match its checksum")
        return data

    with ThreadPoolExecutor(max_workers=2) as pool:
        contents = list(pool.map(read, served))
    return {name: data for (name, *_), data in zip(served, contents, strict=True)}


@dataclass(frozen=True)
class Recommendation:
    article_idx: int
    score: float
    source: str


@dataclass(eq=False)
class Bundle:
    """A loaded bundle: look-ups by public id and everything the API returns, from arrays held in memory."""

    directory: Path
    manifest: dict[str, Any]
    arrays: dict[str, np.ndarray]
    articles: dict[str, list[Any]]
    customers: pl.DataFrame
    buyer_customers: np.ndarray = field(repr=False)

    @property
    def model(self) -> str:
        """The registered name of the bundle's model."""
        return str(self.manifest["model"])

    @property
    def fingerprint(self) -> str:
        return str(self.manifest["fingerprint"])

    @property
    def depth(self) -> int:
        return int(self.manifest["depth"])

    @property
    def n_customers(self) -> int:
        return int(self.manifest["n_customers"])

    @property
    def n_articles(self) -> int:
        return int(self.manifest["n_articles"])

    # -------------------------------------------------------------- look-ups
    @staticmethod
    def _find(sorted_ids: np.ndarray, order: np.ndarray, key: str) -> int | None:
        try:
            raw = key.encode("ascii")
        except UnicodeEncodeError:
            return None
        if len(raw) > sorted_ids.dtype.itemsize:
            return None
        pos = int(np.searchsorted(sorted_ids, raw))
        if pos < sorted_ids.size and sorted_ids[pos] == raw:
            return int(order[pos])
        return None

    def customer_index(self, customer_id: str) -> int | None:
        """customer_idx of a public id, or None for a customer hmrec does not know."""
        return self._find(self.arrays["customer_sorted"], self.arrays["customer_sorted_idx"], customer_id)

    def article_index(self, article_id: str) -> int | None:
        """article_idx of a 10-digit article id (a lost leading zero is restored), or None."""
        return self._find(self.arrays["article_sorted"], self.arrays["article_sorted_idx"], article_id.zfill(10))

    def customer_id(self, idx: int) -> str:
        return bytes(self.arrays["customer_ids"][idx]).decode("ascii")

    def article_id(self, idx: int) -> str:
        return bytes(self.arrays["article_ids"][idx]).decode("ascii")

    def random_customer(self, rng: np.random.Generator) -> str:
        """A random customer who bought something (every customer if none did)."""
        pool = self.buyer_customers
        idx = int(pool[rng.integers(pool.size)]) if pool.size else int(rng.integers(self.n_customers))
        return self.customer_id(idx)

    # -------------------------------------------------------------- what the API returns
    def recommend(self, customer_idx: int | None, k: int) -> list[Recommendation]:
        """The first ``k`` of the precomputed list (``customer_idx`` None: the cold-start list)."""
        sources = self.manifest["sources"]
        if customer_idx is None:
            ids = self.arrays["cold_ids"][:k]
            scores = self.arrays["cold_scores"][:k]
            codes = np.full(ids.shape, SOURCE_COLD, dtype=np.int8)
        else:
            ids = self.arrays["topk_ids"][customer_idx, :k]
            scores = self.arrays["topk_scores"][customer_idx, :k]
            codes = self.arrays["topk_source"][customer_idx, :k]
        id_list: list[Any] = np.asarray(ids).tolist()
        score_list: list[Any] = np.asarray(scores).tolist()
        code_list: list[Any] = np.asarray(codes).tolist()
        return [
            Recommendation(i, s, str(sources[c]))
            for i, s, c in zip(id_list, score_list, code_list, strict=True)
            if i >= 0
        ]

    def article(self, idx: int) -> dict[str, Any]:
        """An article's attributes (``article_id`` first)."""
        out: dict[str, Any] = {"article_id": self.article_id(idx)}
        for name, values in self.articles.items():
            out[name] = values[idx]
        return out

    def profile(self, idx: int) -> dict[str, Any]:
        row = self.customers.row(idx, named=True)
        return {key: (value.isoformat() if isinstance(value, dt.date) else value) for key, value in row.items()}

    def recent_purchases(self, idx: int) -> list[dict[str, Any]]:
        a = self.arrays
        lo, hi = int(a["recent_indptr"][idx]), int(a["recent_indptr"][idx + 1])
        days = a["recent_day"][lo:hi].tolist()
        prices = a["recent_price"][lo:hi].tolist()
        out = []
        for art, day, price in zip(a["recent_article"][lo:hi].tolist(), days, prices, strict=True):
            item = self.article(art)
            item["date"] = (_EPOCH + dt.timedelta(days=day)).isoformat()
            item["paid"] = price
            out.append(item)
        return out

    def weekly_sales(self, idx: int) -> list[dict[str, Any]]:
        """Sales per week of article ``idx``: every week of the data (zero weeks included), oldest first."""
        a = self.arrays
        n_weeks = int(self.manifest.get("n_weeks", 0))
        counts = np.zeros(n_weeks, dtype=np.int64)
        lo, hi = int(a["weekly_indptr"][idx]), int(a["weekly_indptr"][idx + 1])
        counts[a["weekly_week"][lo:hi].astype(np.int64)] = a["weekly_count"][lo:hi]
        end = dt.date.fromisoformat(self.manifest["data_end"]) if self.manifest.get("data_end") else _EPOCH
        return [
            {"week_end": (end - dt.timedelta(days=7 * (n_weeks - 1 - w))).isoformat(), "sales": int(c)}
            for w, c in enumerate(counts.tolist())
        ]

    def buyers_by_age(self, idx: int) -> dict[str, int]:
        return dict(zip(self.manifest["age_buckets"], self.arrays["buyer_ages"][idx].tolist(), strict=True))


_SHAPES = {
    "customer_ids": ("n_customers",),
    "customer_sorted": ("n_customers",),
    "customer_sorted_idx": ("n_customers",),
    "article_ids": ("n_articles",),
    "article_sorted": ("n_articles",),
    "article_sorted_idx": ("n_articles",),
    "topk_ids": ("n_customers", "depth"),
    "topk_scores": ("n_customers", "depth"),
    "topk_source": ("n_customers", "depth"),
    "cold_ids": ("depth",),
    "cold_scores": ("depth",),
    "buyer_ages": ("n_articles", "n_age"),
    "recent_indptr": ("n_customers+1",),
    "recent_article": (None,),
    "recent_day": (None,),
    "recent_price": (None,),
    "weekly_indptr": ("n_articles+1",),
    "weekly_week": (None,),
    "weekly_count": (None,),
}


def _npy_view(data: bytes) -> np.ndarray:
    """The array of a ``.npy`` file's bytes, read-only and without a copy (the service keeps one copy of each
    served file, the bytes it checksummed); ValueError when they are not a plain numeric ``.npy``."""
    buffer = io.BytesIO(data)
    version = np.lib.format.read_magic(buffer)
    if version == (1, 0):
        shape, fortran, dtype = np.lib.format.read_array_header_1_0(buffer)
    elif version == (2, 0):
        shape, fortran, dtype = np.lib.format.read_array_header_2_0(buffer)
    else:
        raise ValueError(f"npy format {version}")
    if dtype.hasobject:
        raise ValueError("holds Python objects")
    count = int(np.prod(shape, dtype=np.int64))
    flat = np.frombuffer(data, dtype=dtype, count=count, offset=buffer.tell())
    if buffer.tell() + count * dtype.itemsize != len(data):
        raise ValueError("trailing bytes")
    return flat.reshape(shape, order="F" if fortran else "C")


#: served arrays of indices: (array, the size they index, padding -1 allowed)
_INDICES = (
    ("customer_sorted_idx", "n_customers", False),
    ("article_sorted_idx", "n_articles", False),
    ("topk_ids", "n_articles", True),
    ("cold_ids", "n_articles", True),
    ("recent_article", "n_articles", False),
)
#: served CSR rows: (row pointer, the arrays of one value per entry)
_SERVED_CSR = (
    ("recent_indptr", ("recent_article", "recent_day", "recent_price")),
    ("weekly_indptr", ("weekly_week", "weekly_count")),
)
#: days since 1970-01-01 that are dates Python can show (years 1..9999)
_DAY_RANGE = ((dt.date.min - _EPOCH).days, (dt.date.max - _EPOCH).days)


def _within(values: np.ndarray, low: int, high: int) -> bool:
    """Integer ``values`` all in ``low..high - 1`` (an empty array is)."""
    if values.dtype.kind not in "iu":
        return False
    return not values.size or (int(values.min()) >= low and int(values.max()) < high)


def _arrays_problem(arrays: dict[str, np.ndarray], sizes: dict[str, int], n_sources: int) -> str | None:
    """What in the served arrays points outside its bounds (the service indexes with them unchecked), or None."""
    for name, size, padding in _INDICES:
        if not _within(arrays[name], -1 if padding else 0, sizes[size]):
            return f"{SERVE_DIR}/{name}.npy holds values outside 0..{sizes[size] - 1}"
    if not _within(arrays["topk_source"], 0, n_sources):
        return f"{SERVE_DIR}/topk_source.npy holds source codes outside 0..{n_sources - 1}"
    for indptr, values in _SERVED_CSR:
        ptr, nnz = arrays[indptr], arrays[values[0]].shape[0]
        if not _within(ptr, 0, nnz + 1) or ptr[0] != 0 or ptr[-1] != nnz or np.any(np.diff(ptr) < 0):
            return f"{SERVE_DIR}/{indptr}.npy is not a valid row pointer"
        if any(arrays[name].shape[0] != nnz for name in values):
            return f"{SERVE_DIR}/{values[0]}.npy and its companions differ in length"
    if not _within(arrays["recent_day"], *_DAY_RANGE):
        return f"{SERVE_DIR}/recent_day.npy holds days that are not dates"
    for ids, scores in (("topk_ids", "topk_scores"), ("cold_ids", "cold_scores")):
        if not np.isfinite(arrays[scores][np.asarray(arrays[ids]) >= 0]).all():
            return f"{SERVE_DIR}/{scores}.npy holds scores that are not finite"
    if not np.isfinite(arrays["recent_price"]).all() or arrays["customer_ids"].dtype.kind != "S":
        return f"{SERVE_DIR}/recent_price.npy or customer_ids.npy holds values hmrec never writes"
    return None


def _weeks_problem(manifest: dict[str, Any], article_frame: pl.DataFrame, weeks: np.ndarray) -> str | None:
    """``data_end`` and ``n_weeks`` against the first and last sale, and the served weeks within them."""
    columns = article_frame.columns
    first = article_frame["first_sold"].min() if "first_sold" in columns else None
    last = article_frame["last_sold"].max() if "last_sold" in columns else None
    end, n_weeks = manifest.get("data_end"), manifest.get("n_weeks", 0)
    last_day = last.isoformat() if isinstance(last, dt.date) else None
    if end != last_day:
        return f"bundle.json's 'data_end' is {str(end)[:20]}, the last sale is on {last_day}"
    expected = (last - first).days // 7 + 1 if isinstance(first, dt.date) and isinstance(last, dt.date) else 0
    if n_weeks != expected:
        return f"bundle.json's 'n_weeks' is {str(n_weeks)[:20]}, the sales span {expected} weeks to 'data_end'"
    if not _within(weeks, 0, expected):
        return f"{SERVE_DIR}/weekly_week.npy holds weeks outside 0..{expected - 1}"
    return None


def load_bundle(directory: str | Path, *, checksums: bool = True) -> Bundle:
    """Open the bundle in ``directory`` read-only; BundleError (one line) if it is missing, damaged or foreign."""
    directory = Path(directory)
    manifest = read_manifest(directory)
    contents = verify_files(directory, manifest, checksums=checksums)
    sizes = {
        "n_customers": int(manifest["n_customers"]),
        "n_articles": int(manifest["n_articles"]),
        "depth": int(manifest["depth"]),
        "n_age": len(manifest.get("age_buckets", AGE_LABELS)),
    }
    sizes["n_customers+1"] = sizes["n_customers"] + 1
    sizes["n_articles+1"] = sizes["n_articles"] + 1
    arrays: dict[str, np.ndarray] = {}
    optional = {name: ("n_articles", "depth") for name in LIST_ARRAYS}
    for name, dims in {**_SHAPES, **optional}.items():
        if name in optional and f"{SERVE_DIR}/{name}.npy" not in contents:
            continue  # a bundle of an older version: lists_problem checks that none or all are there
        try:
            array = _npy_view(contents[f"{SERVE_DIR}/{name}.npy"])
        except (OSError, ValueError, EOFError, TypeError):
            raise _refuse(directory, f"damaged bundle: {SERVE_DIR}/{name}.npy is not a readable array") from None
        expected = tuple(sizes[d] if d is not None else array.shape[0] for d in dims)
        if array.shape != expected:
            raise _refuse(
                directory, f"damaged bundle: {SERVE_DIR}/{name}.npy has shape {array.shape}, expected {expected}"
            )
        arrays[name] = array
    try:
        article_frame = pl.read_parquet(io.BytesIO(contents[f"{SERVE_DIR}/articles.parquet"]))
        customers = pl.read_parquet(io.BytesIO(contents[f"{SERVE_DIR}/customers.parquet"]))
    except (OSError, pl.exceptions.PolarsError):
        raise _refuse(directory, "damaged bundle: a parquet file cannot be read") from None
    if article_frame.height != sizes["n_articles"] or customers.height != sizes["n_customers"]:
        raise _refuse(directory, "damaged bundle: the articles or customers table has the wrong number of rows")
    problem = (
        _arrays_problem(arrays, sizes, len(manifest["sources"]))
        or _weeks_problem(manifest, article_frame, arrays["weekly_week"])
        or lists_problem(arrays, sizes["n_articles"])
    )
    if problem:
        raise _refuse(directory, f"damaged bundle: {problem}")
    articles = {
        name: [v.isoformat() if isinstance(v, dt.date) else v for v in article_frame[name].to_list()]
        for name in article_frame.columns
        if name != ARTICLE_IDX
    }
    n_purchases = customers["n_purchases"].to_numpy()
    return Bundle(
        directory=directory,
        manifest=manifest,
        arrays=arrays,
        articles=articles,
        customers=customers,
        buyer_customers=np.flatnonzero(n_purchases > 0).astype(np.int32),
    )
