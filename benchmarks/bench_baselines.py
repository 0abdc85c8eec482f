"""Time the baseline models' fit and recommend-for-every-customer, and writing the submission.

Usage: python benchmarks/bench_baselines.py [--customers 1371980] [--articles 105542] [--rows 3000000]
       [--models popularity,popularity-decay,...] [--seed 0]

Builds an in-memory Dataset of the real data's shape (customers and articles at full size by default,
long-tailed purchases over 105 weeks; ``--rows 31788324`` for the full transaction count) and prints, per
model, the seconds to fit and to recommend 12 articles to every customer, then the seconds to write the
submission file. Target: popularity-type models recommend for all 1.37M customers in a few seconds.
"""

from __future__ import annotations

import argparse
import datetime as dt
import tempfile
import time
from pathlib import Path

import numpy as np
import polars as pl

from hmrec.data.dataset import Dataset
from hmrec.output import write_submission
from hmrec.registry import create

DEFAULT_MODELS = (
    "popularity,popularity-decay,popularity-age,repurchase,random,"
    "popularity:filter_bought,popularity-age:filter_bought,random:filter_bought"
)


def make_dataset(n_customers: int, n_articles: int, n_rows: int, seed: int) -> Dataset:
    """Typed frames built directly (no id joins): long-tailed articles, active and inactive customers."""
    rng = np.random.default_rng(seed)
    ages = rng.integers(16, 100, n_customers).astype(np.int16)
    customers = pl.DataFrame(
        {
            "customer_idx": np.arange(n_customers, dtype=np.int32),
            "customer_id": pl.Series(np.arange(n_customers)).cast(pl.String).str.zfill(64),
            "age": pl.Series(ages).scatter(np.arange(0, n_customers, 90), None),
        }
    )
    articles = pl.DataFrame(
        {
            "article_idx": np.arange(n_articles, dtype=np.int32),
            "article_id": pl.Series(np.arange(n_articles) + 100_000_000).cast(pl.String).str.zfill(10),
        }
    )
    weights = 1.0 / np.arange(1, n_customers + 1) ** 0.6
    cust = rng.choice(n_customers, n_rows, p=weights / weights.sum()).astype(np.int32)
    # articles live a few weeks: each has a launch day and sells around it
    launch = rng.integers(0, 734, n_articles)
    popularity = 1.0 / np.arange(1, n_articles + 1) ** 0.9
    art = rng.choice(n_articles, n_rows, p=popularity / popularity.sum()).astype(np.int32)
    day = np.clip(launch[art] + rng.geometric(1 / 30, n_rows), 0, 733)
    start = dt.date(2018, 9, 20)
    tx = pl.DataFrame(
        {
            "t_dat": pl.Series((day + (start - dt.date(1970, 1, 1)).days).astype(np.int32)).cast(pl.Date),
            "customer_idx": cust,
            "article_idx": art,
            "price": rng.random(n_rows, dtype=np.float32) * 0.05,
            "sales_channel_id": rng.integers(1, 3, n_rows).astype(np.int8),
        }
    ).sort("t_dat")
    return Dataset(articles=articles, customers=customers, transactions=tx, fingerprint="bench")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=1_371_980)
    parser.add_argument("--articles", type=int, default=105_542)
    parser.add_argument("--rows", type=int, default=3_000_000)
    parser.add_argument("--models", default=DEFAULT_MODELS, help="name[:filter_bought],...")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    started = time.perf_counter()
    dataset = make_dataset(args.customers, args.articles, args.rows, args.seed)
    print(f"data: {args.customers:,} customers, {args.articles:,} articles, {args.rows:,} rows "
          f"({time.perf_counter() - started:.1f} s)")
    everyone = np.arange(dataset.n_customers, dtype=np.int32)
    ids = np.empty((0, 12), dtype=np.int32)
    for spec in [s for s in args.models.split(",") if s]:
        name, _, option = spec.partition(":")
        params = {option: True} if option else {}
        model = create(name, **params)
        t0 = time.perf_counter()
        model.fit(dataset)
        t1 = time.perf_counter()
        ids, _ = model.recommend(everyone, 12)
        t2 = time.perf_counter()
        print(f"{spec:<32} fit {t1 - t0:6.2f} s   recommend all {t2 - t1:6.2f} s")
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        write_submission(Path(tmp) / "submission.csv", dataset, ids)
        print(f"{'write_submission':<32} {time.perf_counter() - t0:6.2f} s")


if __name__ == "__main__":
    main()
