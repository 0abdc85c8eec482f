"""Time the k-means customer (or article) clustering: features, fit, and the peak memory.

Usage::

    python benchmarks/bench_cluster.py --data DIR [--what customers|articles] [--k 24] [--scan] [--seed 0]

Prints the seconds spent building the features, fitting k-means (fixed ``--k``; with ``--scan`` also the k
scan of ``hmrec cluster`` over ``--k-min..--k-max``) and assigning every row, and the process's peak resident
memory. The target at full scale (1.37M customers, 31.8M transactions): features + fit <= 3 min, <= 8 GiB.
"""

from __future__ import annotations

import argparse
import resource
import sys
import time
from pathlib import Path


def peak_rss_gib() -> float:
    """Peak resident set size of this process (Linux reports ru_maxrss in KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, required=True, help="directory with the three competition CSVs")
    parser.add_argument("--what", choices=("customers", "articles"), default="customers")
    parser.add_argument("--k", type=int, default=24, help="clusters for the timed fit (kmeans-customers' default)")
    parser.add_argument("--scan", action="store_true", help="also time the k scan (choose_k)")
    parser.add_argument("--k-min", type=int, default=2)
    parser.add_argument("--k-max", type=int, default=30)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)

    from hmrec.clustering import article_features, choose_k, customer_features, fit_clusters
    from hmrec.data.load import load_dataset

    started = time.perf_counter()
    data = load_dataset(args.data, progress=False)
    loaded = time.perf_counter()
    print(
        f"data: {data.n_transactions:,} transactions, {data.n_customers:,} customers, {data.n_articles:,} "
        f"articles (load {loaded - started:.1f} s, peak RSS {peak_rss_gib():.2f} GiB)"
    )

    t0 = time.perf_counter()
    features = customer_features(data) if args.what == "customers" else article_features(data, seed=args.seed)
    matrix = features.scaled()
    t1 = time.perf_counter()
    print(
        f"features: {matrix.shape[0]:,} x {matrix.shape[1]} in {t1 - t0:.1f} s "
        f"({int(features.fit_rows.sum()):,} fit rows; peak RSS {peak_rss_gib():.2f} GiB)"
    )

    clustering = fit_clusters(features, args.k, seed=args.seed)
    t2 = time.perf_counter()
    print(f"fit k={clustering.k} and assign all rows: {t2 - t1:.1f} s (peak RSS {peak_rss_gib():.2f} GiB)")
    print(f"features + fit: {t2 - t0:.1f} s")

    if args.scan:
        fit = matrix[features.fit_rows] if features.fit_rows.any() else matrix
        choice = choose_k(fit, args.k_min, args.k_max, args.seed)
        t3 = time.perf_counter()
        print(
            f"k scan {args.k_min}..{args.k_max} on {choice.n_fit:,} rows: {t3 - t2:.1f} s; chosen k = "
            f"{choice.chosen} ({choice.reason})"
        )
    print(f"peak RSS: {peak_rss_gib():.2f} GiB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
