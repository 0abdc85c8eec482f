"""The sizes of a dataset that docs/scale-out.md's cost model and projection use.

    python benchmarks/data_figures.py --data DIR [--json]

From the local cache (built first when missing): transactions, customers and articles; the purchase pairs
(distinct customer x article), buyers and articles sold, whose sum is the number of rows ALS solves per
iteration; the candidates ALS scores every customer against (articles sold in its ``recent_weeks``); the
ranker's window (the transactions its fit reads, :meth:`Ranker.first_day_read`) and its size at 17 bytes a
row (the cache's five columns: a date, two int32 indices, a float32 price and an int8 channel); the fewest
and most customers who bought in one of the last six weeks (what the ranker's training weeks hold, the scale
of ``ranker.max_buyers``).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

#: weeks counted back from the last day for the buyers per week
WEEKS = 6
#: bytes per collected transaction: date (4), customer_idx (4), article_idx (4), price (4), channel (1)
ROW_BYTES = 17


def figures(data: Path) -> dict[str, Any]:
    import datetime as dt

    import polars as pl

    from hmrec.data.load import load_dataset
    from hmrec.data.schema import ARTICLE_IDX, CUSTOMER_IDX, T_DAT
    from hmrec.models.scoring import candidate_articles
    from hmrec.registry import create

    ds = load_dataset(data, progress=False)
    tx = ds.transactions
    pairs = tx.select(CUSTOMER_IDX, ARTICLE_IDX).unique()
    buyers = pairs[CUSTOMER_IDX].n_unique()
    sold = pairs[ARTICLE_IDX].n_unique()
    als = create("als")
    end = ds.end_date
    out: dict[str, Any] = {
        "transactions": tx.height,
        "customers": ds.n_customers,
        "articles": ds.n_articles,
        "purchase_pairs": pairs.height,
        "buyers": buyers,
        "articles_sold": sold,
        "als_rows": buyers + sold,
        "als_recent_weeks": als.recent_weeks,
        "als_candidates": int(candidate_articles(ds, als.recent_weeks).size),
    }
    if end is not None:
        first = create("ranker").first_day_read(end)
        window = tx if first is None else tx.filter(pl.col(T_DAT) >= first)
        out.update({
            "ranker_window_first_day": None if first is None else first.isoformat(),
            "ranker_window_rows": window.height,
            "ranker_window_gb": window.height * ROW_BYTES / 1e9,
        })
        weekly = [
            tx.filter(pl.col(T_DAT).is_between(end - dt.timedelta(days=7 * w + 6), end - dt.timedelta(days=7 * w)))[
                CUSTOMER_IDX
            ].n_unique()
            for w in range(WEEKS)
        ]
        out.update({"buyers_per_week_min": min(weekly), "buyers_per_week_max": max(weekly)})
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, required=True)
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = parser.parse_args(argv)
    result = figures(args.data)
    if args.json:
        print(json.dumps(result, indent=2))
        return 0
    for key, value in result.items():
        print(f"{key:<26} {value:,}" if isinstance(value, int) else f"{key:<26} {value}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
