"""Writing the serving bundle (:mod:`hmrec.serve.bundle` says what it holds and reads it back): the id look-up
tables, the articles' and customers' frames, the recent purchases and weekly sales as CSR arrays, the model's
precomputed top-k for every customer and its cold-start list, then ``bundle.json`` with every file's size and
sha256, all staged in a temporary folder and swapped into place.
"""

from __future__ import annotations

import datetime as dt
import json
import shutil
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl

from hmrec import __version__
from hmrec.atomic import swap_dir, temp_dir, write_atomic
from hmrec.data.dataset import Dataset
from hmrec.data.schema import ARTICLE_ID, ARTICLE_IDX, CUSTOMER_ID, CUSTOMER_IDX, PRICE, SALES_CHANNEL, T_DAT
from hmrec.errors import DataError, ParameterError
from hmrec.models.persist import sha256_file
from hmrec.serve.article_lists import list_arrays
from hmrec.serve.bundle import (
    AGE_EDGES,
    AGE_LABELS,
    ARTICLE_COLUMNS,
    BUNDLE_FORMAT,
    BUNDLE_JSON,
    CUSTOMER_COLUMNS,
    DEFAULT_DEPTH,
    HEX64,
    LOOSE_ID,
    MAX_DEPTH,
    MODEL_FILES,
    OPTIONAL_MODEL_FILES,
    RECENT_PURCHASES,
    SERVE_DIR,
    SOURCE_BOUGHT,
    SOURCE_COLD,
    SOURCE_MODEL,
    SOURCE_NAMES,
    TOPK_BLOCK,
    BundleError,
)


# ---------------------------------------------------------------------------------------------- writing
def _fixed_bytes(values: pl.Series, what: str) -> np.ndarray:
    """Strings as a fixed-width bytes array (``S{max length}``): compact, memory-mappable, sortable."""
    longest = values.str.len_bytes().max()
    width = max(1, int(longest) if isinstance(longest, int) else 1)
    try:
        return np.array(values.to_list(), dtype=f"S{width}")
    except UnicodeEncodeError:
        raise DataError(
            f"{what} ids must be ASCII to be served", column=f"{what}_id", fix="use ASCII ids"
        ) from None


def _lookup_arrays(ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The ids sorted (bytes order) and the index each came from, for ``np.searchsorted`` look-ups."""
    order = np.argsort(ids, kind="stable").astype(np.int32)
    return ids[order], order


def _csr_indptr(rows: np.ndarray, n_rows: int) -> np.ndarray:
    indptr = np.zeros(n_rows + 1, dtype=np.int64)
    np.cumsum(np.bincount(rows, minlength=n_rows), out=indptr[1:])
    return indptr


def _days(dates: pl.Series) -> np.ndarray:
    return dates.cast(pl.Int32).to_numpy().astype(np.int32)


def _article_frame(dataset: Dataset) -> tuple[pl.DataFrame, np.ndarray]:
    """Display attributes and sales figures per article (article_idx order), and buyers per age bucket."""
    tx = dataset.transactions
    n = dataset.n_articles
    cols = [c for c in ARTICLE_COLUMNS if c in dataset.articles.columns]
    stats = tx.group_by(ARTICLE_IDX).agg(
        pl.len().alias("n_sales"),
        pl.col(PRICE).median().alias("price"),
        (pl.col(SALES_CHANNEL) == 2).mean().alias("online_share"),
        pl.col(T_DAT).min().alias("first_sold"),
        pl.col(T_DAT).max().alias("last_sold"),
    )
    frame = (
        dataset.articles.select(ARTICLE_IDX, *cols)
        .join(stats, on=ARTICLE_IDX, how="left", maintain_order="left")
        .with_columns(pl.col("n_sales").fill_null(0).cast(pl.Int32))
    )
    # distinct buyers of each article per age bucket
    ages = dataset.customers.select(CUSTOMER_IDX, pl.col("age").cast(pl.Int32, strict=False)) if (
        "age" in dataset.customers.columns
    ) else dataset.customers.select(CUSTOMER_IDX, pl.lit(None, dtype=pl.Int32).alias("age"))
    # bucket i holds AGE_EDGES[i] <= age < AGE_EDGES[i + 1]: the number of upper edges the age reaches
    reached = pl.sum_horizontal([(pl.col("age") >= edge).cast(pl.Int32) for edge in AGE_EDGES[1:]])
    bucket = pl.when(pl.col("age").is_null()).then(len(AGE_EDGES)).otherwise(reached).cast(pl.Int32)
    pairs = (
        tx.select(ARTICLE_IDX, CUSTOMER_IDX)
        .unique()
        .join(ages.with_columns(bucket.alias("bucket")).select(CUSTOMER_IDX, "bucket"), on=CUSTOMER_IDX)
        .group_by(ARTICLE_IDX, "bucket")
        .len()
    )
    buyers = np.zeros((n, len(AGE_LABELS)), dtype=np.int32)
    buyers[pairs[ARTICLE_IDX].to_numpy(), pairs["bucket"].to_numpy()] = pairs["len"].to_numpy()
    frame = frame.with_columns(pl.Series("n_buyers", buyers.sum(axis=1), dtype=pl.Int32))
    return frame, buyers


def _customer_frame(dataset: Dataset) -> pl.DataFrame:
    """Profile columns and a purchase summary per customer (customer_idx order)."""
    cols = [c for c in CUSTOMER_COLUMNS if c in dataset.customers.columns]
    stats = dataset.transactions.group_by(CUSTOMER_IDX).agg(
        pl.len().cast(pl.Int32).alias("n_purchases"),
        pl.col(ARTICLE_IDX).n_unique().cast(pl.Int32).alias("n_articles"),
        pl.col(PRICE).sum().alias("total_spent"),
        pl.col(T_DAT).min().alias("first_purchase"),
        pl.col(T_DAT).max().alias("last_purchase"),
    )
    return (
        dataset.customers.select(CUSTOMER_IDX, *cols)
        .join(stats, on=CUSTOMER_IDX, how="left", maintain_order="left")
        .with_columns(pl.col("n_purchases").fill_null(0), pl.col("n_articles").fill_null(0))
        .drop(CUSTOMER_IDX)
    )


def _recent_purchases(dataset: Dataset) -> dict[str, np.ndarray]:
    """Each customer's latest ``RECENT_PURCHASES`` purchases, newest first (file order within a day)."""
    recent = (
        dataset.transactions.with_row_index("_row")
        .sort([CUSTOMER_IDX, T_DAT, "_row"], descending=[False, True, False])
        .filter(pl.int_range(pl.len()).over(CUSTOMER_IDX) < RECENT_PURCHASES)
    )
    return {
        "recent_indptr": _csr_indptr(recent[CUSTOMER_IDX].to_numpy(), dataset.n_customers),
        "recent_article": recent[ARTICLE_IDX].to_numpy().astype(np.int32),
        "recent_day": _days(recent[T_DAT]),
        "recent_price": recent[PRICE].to_numpy().astype(np.float32),
    }


def _weekly_sales(dataset: Dataset) -> tuple[dict[str, np.ndarray], int]:
    """Sales per article and week (weeks end on the data's last day, as the competition's test week)."""
    end = dataset.end_date
    if end is None:
        empty: dict[str, np.ndarray] = {
            "weekly_indptr": np.zeros(dataset.n_articles + 1, dtype=np.int64),
            "weekly_week": np.zeros(0, dtype=np.int16),
            "weekly_count": np.zeros(0, dtype=np.int32),
        }
        return empty, 0
    back = ((pl.lit(end, dtype=pl.Date) - pl.col(T_DAT)).dt.total_days() // 7).cast(pl.Int32)
    n_weeks = int(dataset.transactions.select(back.max()).item()) + 1
    weekly = (
        dataset.transactions.select(ARTICLE_IDX, (n_weeks - 1 - back).alias("week"))
        .group_by(ARTICLE_IDX, "week")
        .len()
        .sort(ARTICLE_IDX, "week")
    )
    arrays = {
        "weekly_indptr": _csr_indptr(weekly[ARTICLE_IDX].to_numpy(), dataset.n_articles),
        "weekly_week": weekly["week"].to_numpy().astype(np.int16),
        "weekly_count": weekly["len"].to_numpy().astype(np.int32),
    }
    return arrays, n_weeks


def _cold_start(model: Any, dataset: Dataset, depth: int, has_history: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The model's list for a customer it knows nothing about.

    The model's own fallback when it keeps one (``fallback_ids_``/``fallback_scores_``, as the factor models);
    else what it recommends to a known customer without any purchase; else (every customer bought something)
    the ``popularity-decay`` list, hmrec's usual cold start.
    """
    ids = getattr(model, "fallback_ids_", None)
    scores = getattr(model, "fallback_scores_", None)
    if isinstance(ids, np.ndarray) and isinstance(scores, np.ndarray) and ids.size == scores.size:
        out_ids = np.full(depth, -1, dtype=np.int32)
        out_scores = np.full(depth, -np.inf, dtype=np.float32)
        m = min(depth, ids.size)
        out_ids[:m], out_scores[:m] = ids[:m], scores[:m]
        return out_ids, out_scores
    cold = np.flatnonzero(~has_history)
    if cold.size:
        got_ids, got_scores = model.recommend(cold[:1].astype(np.int32), depth)
        return got_ids[0].astype(np.int32), got_scores[0].astype(np.float32)
    from hmrec.registry import create

    fallback = create("popularity-decay").fit(dataset)
    got_ids, got_scores = fallback.recommend(np.zeros(1, dtype=np.int32), depth)
    return got_ids[0].astype(np.int32), got_scores[0].astype(np.float32)


def _precompute(model: Any, dataset: Dataset, depth: int) -> tuple[np.ndarray, np.ndarray]:
    from hmrec.progress import progress_bar

    n = dataset.n_customers
    ids = np.full((n, depth), -1, dtype=np.int32)
    scores = np.full((n, depth), -np.inf, dtype=np.float32)
    with progress_bar() as bar:
        task = bar.add_task(f"{model.name}: top {depth} for every customer", total=n, info="")
        for lo in range(0, n, TOPK_BLOCK):
            hi = min(n, lo + TOPK_BLOCK)
            ids[lo:hi], scores[lo:hi] = model.recommend(np.arange(lo, hi, dtype=np.int32), depth)
            bar.advance(task, hi - lo)
    return ids, scores


def _sources(dataset: Dataset, ids: np.ndarray, has_history: np.ndarray) -> np.ndarray:
    """Source code of every recommended cell: bought before by that customer, cold start, or the model."""
    seen = dataset.interactions(binary=True)
    n, depth = ids.shape
    # one int64 key per (customer, article): the CSR's keys are sorted, so membership is a binary search
    seen_keys = np.repeat(np.arange(n, dtype=np.int64), np.diff(seen.indptr)) * dataset.n_articles + seen.indices
    keys = np.arange(n, dtype=np.int64)[:, None] * dataset.n_articles + ids
    pos = np.minimum(np.searchsorted(seen_keys, keys), max(seen_keys.size - 1, 0))
    bought = (ids >= 0) & (seen_keys.size > 0) & (seen_keys[pos] == keys) if seen_keys.size else ids < -1
    codes = np.full((n, depth), SOURCE_MODEL, dtype=np.int8)
    codes[bought] = SOURCE_BOUGHT
    codes[~has_history] = SOURCE_COLD
    return codes


def check_depth(depth: int) -> int:
    """The precomputed depth, an integer in ``1..MAX_DEPTH`` (checked before a long fit)."""
    if isinstance(depth, bool) or not isinstance(depth, (int, np.integer)) or not 1 <= depth <= MAX_DEPTH:
        raise ParameterError(
            f"--serve-k must be an integer in 1..{MAX_DEPTH}, got {depth!r} (fix: e.g. --serve-k 12)"
        )
    return int(depth)


def write_bundle(
    model: Any, dataset: Dataset, directory: str | Path, *, depth: int = DEFAULT_DEPTH, seed: int = 0
) -> Path:
    """Add the serving files for fitted ``model`` (trained on ``dataset``) to its saved directory.

    ``directory`` already holds the model saved by :func:`hmrec.models.persist.save_model`. The serving files
    are written to a temporary folder and renamed into place; ``bundle.json`` comes last, so a bundle without
    it (a crash midway) is refused as incomplete rather than served half-written. ``seed`` makes the article
    lists (:mod:`hmrec.serve.article_lists`).
    """
    depth = check_depth(depth)
    directory = Path(directory)
    for name in MODEL_FILES:
        if not (directory / name).is_file():
            raise BundleError(f"{name} is missing", file=directory, fix="save the model there first")
    (directory / BUNDLE_JSON).unlink(missing_ok=True)
    tmp = temp_dir(directory, ".serve.tmp-")
    try:
        customer_ids = _fixed_bytes(dataset.customers[CUSTOMER_ID], "customer")
        article_ids = _fixed_bytes(dataset.articles[ARTICLE_ID], "article")
        has_history = np.bincount(
            dataset.transactions[CUSTOMER_IDX].to_numpy(), minlength=dataset.n_customers
        ) > 0
        top_ids, top_scores = _precompute(model, dataset, depth)
        cold_ids, cold_scores = _cold_start(model, dataset, depth, has_history)
        articles, buyers = _article_frame(dataset)
        weekly, n_weeks = _weekly_sales(dataset)
        c_sorted, c_order = _lookup_arrays(customer_ids)
        a_sorted, a_order = _lookup_arrays(article_ids)
        arrays: dict[str, np.ndarray] = {
            "customer_ids": customer_ids,
            "customer_sorted": c_sorted,
            "customer_sorted_idx": c_order,
            "article_ids": article_ids,
            "article_sorted": a_sorted,
            "article_sorted_idx": a_order,
            "topk_ids": top_ids,
            "topk_scores": top_scores,
            "topk_source": _sources(dataset, top_ids, has_history),
            "cold_ids": cold_ids,
            "cold_scores": cold_scores,
            "buyer_ages": buyers,
            **_recent_purchases(dataset),
            **weekly,
            **list_arrays(dataset, depth, seed=seed),
        }
        for name, array in arrays.items():
            np.save(tmp / f"{name}.npy", np.ascontiguousarray(array), allow_pickle=False)
        articles.write_parquet(tmp / "articles.parquet")
        _customer_frame(dataset).write_parquet(tmp / "customers.parquet")
        serve_dir = directory / SERVE_DIR
        swap_dir(tmp, serve_dir)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    own = [name for name in OPTIONAL_MODEL_FILES if (directory / name).is_file()]
    files = [*MODEL_FILES, *own, *sorted(f"{SERVE_DIR}/{p.name}" for p in serve_dir.iterdir())]
    all_hex = bool(dataset.customers[CUSTOMER_ID].str.contains(HEX64).all())
    end = dataset.end_date
    manifest = {
        "bundle_format": BUNDLE_FORMAT,
        "hmrec_version": __version__,
        "model": model.name,
        "params": model.get_params(),
        "fingerprint": dataset.fingerprint,
        "created": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "n_customers": dataset.n_customers,
        "n_articles": dataset.n_articles,
        "depth": depth,
        "recent_purchases": RECENT_PURCHASES,
        "sources": [model.name, *SOURCE_NAMES[1:]],
        "age_buckets": list(AGE_LABELS),
        "customer_id_pattern": HEX64 if all_hex else LOOSE_ID,
        "data_end": end.isoformat() if end else None,
        "n_weeks": n_weeks,
        "files": {name: {"bytes": (directory / name).stat().st_size, "sha256": sha256_file(directory / name)}
                  for name in files},
    }
    write_atomic(directory / BUNDLE_JSON, json.dumps(manifest, indent=2, default=str))
    return directory
