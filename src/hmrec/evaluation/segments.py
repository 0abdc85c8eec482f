"""Per-segment breakdown of the metrics: who does a model serve well?

Scored customers (those who bought in the test window) are grouped three ways, each a ``segment_kind``:

* ``history``: ``with history`` (at least one purchase in the training data) or ``without history``
  (cold customers, who can only get a fallback);
* ``age``: ``<25``, ``25-34``, ``35-44``, ``45-54``, ``55+`` or ``unknown`` (age missing in customers.csv);
* ``activity``: the number of purchase rows in the training data, ``0``, ``1-4``, ``5-19`` or ``20+``.

For each segment the frame gives the number of customers and the mean of AP@k (``map_at_k``), recall@k and
hit@k over them. Segments without any scored customer are left out.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import polars as pl

from hmrec.data.dataset import Dataset
from hmrec.data.schema import CUSTOMER_IDX

AGE_EDGES = (25, 35, 45, 55)
AGE_LABELS = ("<25", "25-34", "35-44", "45-54", "55+")
AGE_UNKNOWN = "unknown"
ACTIVITY_EDGES = (1, 5, 20)
ACTIVITY_LABELS = ("0", "1-4", "5-19", "20+")
HISTORY_LABELS = ("with history", "without history")
SEGMENT_KINDS = ("history", "age", "activity")
SEGMENT_METRICS = ("map_at_k", "recall_at_k", "hit_rate_at_k")

#: the order in which segments are listed (and sorted) in the frame
SEGMENT_ORDER: dict[str, tuple[str, ...]] = {
    "history": HISTORY_LABELS,
    "age": (*AGE_LABELS, AGE_UNKNOWN),
    "activity": ACTIVITY_LABELS,
}

SEGMENT_SCHEMA: dict[str, pl.DataType] = {
    "model": pl.String(),
    "segment_kind": pl.String(),
    "segment": pl.String(),
    "customers": pl.Int64(),
    **{name: pl.Float64() for name in SEGMENT_METRICS},
}


def customer_segments(train: Dataset, customers: np.ndarray) -> pl.DataFrame:
    """The segment of each customer, computed once per split (it does not depend on the model).

    Args:
        train: the training data of the split (defines history and activity).
        customers: customer indices, in the order of the metric arrays they will be joined with.

    Returns:
        A frame with one row per customer: ``customer_idx``, ``history``, ``age``, ``activity``.
    """
    customers = np.asarray(customers, dtype=np.int64)
    purchases = np.bincount(
        train.transactions[CUSTOMER_IDX].to_numpy().astype(np.int64), minlength=train.n_customers
    )[customers]
    activity = np.asarray(ACTIVITY_LABELS)[np.searchsorted(ACTIVITY_EDGES, purchases, side="right")]
    history = np.where(purchases > 0, HISTORY_LABELS[0], HISTORY_LABELS[1])
    if "age" in train.customers.columns:
        age_col = train.customers["age"].cast(pl.Float64).to_numpy()[customers]
    else:
        age_col = np.full(customers.size, np.nan)
    known = ~np.isnan(age_col)
    age = np.full(customers.size, AGE_UNKNOWN, dtype=object)
    age[known] = np.asarray(AGE_LABELS)[np.searchsorted(AGE_EDGES, age_col[known], side="right")]
    return pl.DataFrame(
        {
            CUSTOMER_IDX: customers.astype(np.int32),
            "history": history.astype(str),
            "age": age.astype(str),
            "activity": activity.astype(str),
        }
    )


def segment_breakdown(model: str, segments: pl.DataFrame, rows: Mapping[str, np.ndarray]) -> pl.DataFrame:
    """Mean per-row metrics per segment for one model.

    Args:
        model: the model's name (first column of the result).
        segments: :func:`customer_segments` for the scored customers.
        rows: per-row metric arrays aligned with ``segments`` (at least the keys of ``SEGMENT_METRICS``);
            NaN rows (not scored) are ignored.

    Returns:
        Columns ``model, segment_kind, segment, customers, map_at_k, recall_at_k, hit_rate_at_k``, segments
        in the order of :data:`SEGMENT_ORDER`.
    """
    frame = segments.with_columns(
        [pl.Series(name, np.asarray(rows[name], dtype=np.float64)) for name in SEGMENT_METRICS]
    ).filter(pl.col(SEGMENT_METRICS[0]).is_not_nan())
    parts = [
        frame.group_by(kind)
        .agg(pl.len().cast(pl.Int64).alias("customers"), *[pl.col(m).mean() for m in SEGMENT_METRICS])
        .rename({kind: "segment"})
        .with_columns(pl.lit(kind).alias("segment_kind"))
        for kind in SEGMENT_KINDS
    ]
    out = pl.concat(parts, how="diagonal").with_columns(pl.lit(model).alias("model"))
    return _order(out.select(list(SEGMENT_SCHEMA)).cast(SEGMENT_SCHEMA))  # type: ignore[arg-type]


def combine_segments(frames: Sequence[pl.DataFrame]) -> pl.DataFrame:
    """Pool breakdowns of several test windows: customer-weighted means of each segment's metrics."""
    if not frames:
        return pl.DataFrame(schema=SEGMENT_SCHEMA)
    both = pl.concat(frames)
    pooled = both.group_by("model", "segment_kind", "segment").agg(
        pl.col("customers").sum(),
        *[
            ((pl.col(m) * pl.col("customers")).sum() / pl.col("customers").sum()).alias(m)
            for m in SEGMENT_METRICS
        ],
    )
    return _order(pooled.select(list(SEGMENT_SCHEMA)).cast(SEGMENT_SCHEMA))  # type: ignore[arg-type]


def _order(frame: pl.DataFrame) -> pl.DataFrame:
    """Sort by model (first appearance), kind and segment in their natural order, not alphabetically."""
    kind_rank = {kind: i for i, kind in enumerate(SEGMENT_KINDS)}
    seg_rank = {f"{kind}\x00{seg}": i for kind, segs in SEGMENT_ORDER.items() for i, seg in enumerate(segs)}
    models = list(dict.fromkeys(frame["model"].to_list()))
    return (
        frame.with_columns(
            pl.col("model").replace_strict({m: i for i, m in enumerate(models)}, return_dtype=pl.Int32)
            .alias("_m"),
            pl.col("segment_kind").replace_strict(kind_rank, default=len(kind_rank), return_dtype=pl.Int32)
            .alias("_k"),
            (pl.col("segment_kind") + "\x00" + pl.col("segment"))
            .replace_strict(seg_rank, default=len(seg_rank), return_dtype=pl.Int32)
            .alias("_s"),
        )
        .sort("_m", "_k", "_s")
        .drop("_m", "_k", "_s")
    )


__all__ = [
    "AGE_LABELS",
    "ACTIVITY_LABELS",
    "SEGMENT_KINDS",
    "SEGMENT_METRICS",
    "SEGMENT_SCHEMA",
    "combine_segments",
    "customer_segments",
    "segment_breakdown",
]
