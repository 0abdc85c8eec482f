"""What leaves hmrec: the competition's submission file and readable recommendations for one customer.

This is an edge of the system, where int32 indices turn back into public ids (10-digit article ids, 64-hex
customer ids). The submission strings are built column-wise by polars, never per customer in Python.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import numpy as np
import polars as pl

from hmrec.atomic import atomic_file, resolved
from hmrec.data.dataset import Dataset
from hmrec.data.schema import ARTICLE_ID, ARTICLE_IDX, CUSTOMER_ID, CUSTOMER_IDX, T_DAT
from hmrec.errors import DataError, ParameterError

PREDICTION = "prediction"
#: rows per chunk when building the prediction strings (bounds the temporary string columns)
SUBMISSION_BLOCK_ROWS = 262_144
#: article columns shown next to an article id
ARTICLE_DETAILS = ("prod_name", "product_type_name", "colour_group_name")


def prediction_strings(dataset: Dataset, ids: np.ndarray) -> pl.Series:
    """One string per row of ``ids``: its 10-digit article ids joined by spaces, padding (-1) dropped.

    ``ids`` is ``(n, k)`` article indices; an index outside ``[0, n_articles)`` is treated as padding.
    """
    ids = np.asarray(ids)
    if ids.ndim != 2:
        raise ParameterError(f"recommendations must be a 2-d (customers, k) array, got shape {ids.shape}")
    n, k = ids.shape
    article_ids = dataset.articles[ARTICLE_ID]
    if k == 0:
        return pl.Series(PREDICTION, [""] * n, dtype=pl.String)
    parts: list[pl.Series] = []
    for lo in range(0, n, SUBMISSION_BLOCK_ROWS):
        block = ids[lo : lo + SUBMISSION_BLOCK_ROWS].astype(np.int64)
        valid = (block >= 0) & (block < dataset.n_articles)
        # gather the 10-digit ids of the whole block at once; padding becomes null and is dropped by the join
        names = article_ids.gather(np.where(valid, block, 0).ravel())
        names = pl.select(pl.when(pl.Series(valid.ravel())).then(names)).to_series()
        joined = names.reshape((block.shape[0], k)).arr.to_list().list.drop_nulls().list.join(" ")
        parts.append(joined)
    if not parts:
        return pl.Series(PREDICTION, [], dtype=pl.String)
    return pl.concat(parts).alias(PREDICTION)


def write_submission(path: Path | str, dataset: Dataset, ids: np.ndarray) -> Path:
    """Write the competition's ``customer_id,prediction`` file for every customer, in customers.csv order.

    ``ids`` is ``(n_customers, k)``: row ``i`` holds the recommendations of customer_idx ``i``; up to ``k``
    (normally 12) 10-digit article ids are written per customer, padding dropped. The file is written to a
    temporary file in the target directory and renamed into place, so a reader never sees half a file.

    Returns the path written. A missing target directory raises :class:`DataError`.
    """
    path = Path(path)
    ids = np.asarray(ids)
    if ids.ndim != 2 or ids.shape[0] != dataset.n_customers:
        raise ParameterError(
            f"a submission needs one row of recommendations per customer ({dataset.n_customers}), "
            f"got shape {ids.shape}"
        )
    check_submission_target(path)
    frame = pl.DataFrame(
        {CUSTOMER_ID: dataset.customers[CUSTOMER_ID], PREDICTION: prediction_strings(dataset, ids)}
    )
    # an empty prediction is written as an empty field (null), not as a quoted ""
    frame = frame.with_columns(pl.when(pl.col(PREDICTION) != "").then(pl.col(PREDICTION)).alias(PREDICTION))
    with atomic_file(path) as handle:
        frame.write_csv(handle)
    return path


def check_submission_target(path: Path, inputs: Iterable[Path] = ()) -> None:
    """Refuse a submission path that is a directory or '' (``--out ''``), or whose directory is missing.

    ``inputs`` are the files and folders the command reads (the data's files, the cache, a saved model):
    the submission may be none of them and lie in none of those folders, or it would overwrite its input.
    """
    if not str(path).strip() or path.is_dir():
        raise DataError(
            "is a directory, not a file name", file=path, fix="give the submission's file, e.g. --out submission.csv"
        )
    directory = path.parent if str(path.parent) else Path(".")
    if not directory.is_dir():
        raise DataError(
            "the output directory does not exist", file=directory, fix="create it or choose another --out"
        )
    target = resolved(path)
    for source in inputs:
        source = resolved(source)
        if target == source or source in target.parents:
            raise DataError(
                f"is {'an input' if target == source else 'inside an input folder'} of this command ({source}), "
                "which would be overwritten",
                file=path,
                fix="write the submission elsewhere, e.g. --out submission.csv",
            )


def article_details(dataset: Dataset, article_idx: np.ndarray) -> pl.DataFrame:
    """``article_id`` and the name, product type and colour of each article index (in the given order)."""
    columns = [ARTICLE_ID, *[c for c in ARTICLE_DETAILS if c in dataset.articles.columns]]
    idx = pl.Series(ARTICLE_IDX, np.asarray(article_idx, dtype=np.int64))
    return dataset.articles.select(columns)[idx]


def recommendations_frame(
    dataset: Dataset, ids: np.ndarray, scores: np.ndarray | None = None
) -> pl.DataFrame:
    """One customer's recommendations as a frame: rank, article_id, name, type, colour, score.

    ``ids``/``scores`` are one row of a model's output (1-d, or ``(1, k)``); padding (-1) is dropped.
    """
    ids = np.asarray(ids).reshape(-1)
    valid = ids >= 0
    frame = article_details(dataset, ids[valid])
    frame = frame.insert_column(0, pl.Series("rank", np.arange(1, int(valid.sum()) + 1, dtype=np.int32)))
    if scores is not None:
        frame = frame.with_columns(
            pl.Series("score", np.asarray(scores, dtype=np.float32).reshape(-1)[valid])
        )
    return frame


def purchases_frame(dataset: Dataset, customer_idx: int, limit: int | None = 20) -> pl.DataFrame:
    """A customer's purchases, most recent first: date, article_id, name, type, colour (``limit`` rows)."""
    tx = (
        dataset.transactions.filter(pl.col(CUSTOMER_IDX) == customer_idx)
        .with_row_index("_row")
        .sort([T_DAT, "_row"], descending=[True, False])
    )
    if limit is not None:
        tx = tx.head(limit)
    details = article_details(dataset, tx[ARTICLE_IDX].to_numpy())
    return pl.concat([tx.select(pl.col(T_DAT).alias("date")), details], how="horizontal")
