"""Time the metrics on a week the size of the real validation week (about 70K buying customers).

Usage: python benchmarks/bench_metrics.py [--customers 70000] [--articles 105542] [--depth 100] [--seed 0]
    [--models 16] [--resamples 1000]

Prints the seconds for: MAP@12 alone (the competition's metric from (n, 12) lists), every metric at 12 in one
pass, the evaluation loop's full scoring (hits to depth 100, metrics at 12, coverage, recall curve), and the
leaderboard's intervals (bootstrap of MAP@12 and paired differences for ``--models`` models).
Targets: scoring 70K customers in under 2 s; the intervals of a 16-model leaderboard within a few seconds.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import scipy.sparse as sp

from hmrec.evaluation.intervals import map_intervals
from hmrec.metrics import (
    coverage,
    curve_from_hits,
    hit_matrix,
    map_at_k,
    metrics_at_k,
    rows_from_hits,
    truth_counts,
)


def make_week(n: int, m: int, depth: int, seed: int) -> tuple[np.ndarray, sp.csr_matrix]:
    """Long-tailed purchases (about 3.5 rows per customer, with repeats) and lists that often hit them."""
    rng = np.random.default_rng(seed)
    popularity = 1.0 / np.arange(1, m + 1) ** 0.9
    popularity /= popularity.sum()
    per_customer = rng.geometric(0.3, size=n)
    rows = np.repeat(np.arange(n), per_customer)
    cols = rng.choice(m, size=rows.size, p=popularity)
    truth = sp.csr_matrix((np.ones(rows.size, dtype=np.float32), (rows, cols)), shape=(n, m))
    truth.sum_duplicates()
    recommended = rng.choice(m, size=(n, depth), p=popularity).astype(np.int32)
    recommended[:, -5:] = -1  # some padding
    return recommended, truth


def timed(label: str, fn: object, repeat: int = 3) -> None:
    best = float("inf")
    for _ in range(repeat):
        started = time.perf_counter()
        fn()  # type: ignore[operator]
        best = min(best, time.perf_counter() - started)
    print(f"{label:<58} {best:8.3f} s (best of {repeat})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--customers", type=int, default=70_000)
    parser.add_argument("--articles", type=int, default=105_542)
    parser.add_argument("--depth", type=int, default=100)
    parser.add_argument("--k", type=int, default=12)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--models", type=int, default=16)
    parser.add_argument("--resamples", type=int, default=1000)
    args = parser.parse_args()
    rec, truth = make_week(args.customers, args.articles, args.depth, args.seed)
    k = args.k
    print(
        f"{args.customers:,} customers, {args.articles:,} articles, {truth.nnz:,} purchases, "
        f"depth {args.depth}"
    )
    print(f"MAP@{k} = {map_at_k(rec[:, :k], truth, k):.5f}")

    timed(f"map_at_k on ({args.customers}, {k}) lists", lambda: map_at_k(rec[:, :k], truth, k))
    timed(f"metrics_at_k (all five) at {k}", lambda: metrics_at_k(rec[:, :k], truth, k))

    def full() -> None:
        hits = hit_matrix(rec, truth, args.depth)
        n_truth = truth_counts(truth)
        rows_from_hits(hits, n_truth, k)
        coverage(rec[:, :k], args.articles)
        curve_from_hits(hits, n_truth, args.depth)

    timed(f"evaluation scoring: depth {args.depth}, metrics, coverage, curve", full)

    # the leaderboard's intervals: one AP vector per model (each model's lists shifted, so they differ)
    weeks = [{f"model-{j}": rows_from_hits(hit_matrix(np.roll(rec[:, :k], j, axis=0), truth, k),
                                          truth_counts(truth), k)["map_at_k"] for j in range(args.models)}]
    timed(f"intervals: {args.models} models x {args.resamples} resamples",
          lambda: map_intervals(weeks, "model-0", n_resamples=args.resamples, seed=args.seed))


if __name__ == "__main__":
    main()
