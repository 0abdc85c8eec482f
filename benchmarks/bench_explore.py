"""Time and peak memory of ``hmrec explore`` on a data directory.

Usage: ``python benchmarks/bench_explore.py --data DIR [--out DIR]``

Prints the load time, the time of each query section and of the whole report, and the process's peak
resident memory (the target on the full 31.8M-row data: at most 2 minutes and 10 GiB for the report).
"""

from __future__ import annotations

import argparse
import resource
import sys
import tempfile
import time
from pathlib import Path

TARGET_SECONDS = 120.0
TARGET_GIB = 10.0


def peak_rss_gib() -> float:
    """Peak resident set size of this process so far (ru_maxrss is KiB on Linux, bytes on macOS)."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / (1024**3 if sys.platform == "darwin" else 1024**2)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, required=True, help="directory with the three competition CSVs")
    parser.add_argument("--out", type=Path, default=None, help="report directory (default: a temporary one)")
    args = parser.parse_args()

    from hmrec.data.load import load_dataset
    from hmrec.reports import explore as ex

    started = time.perf_counter()
    dataset = load_dataset(args.data, progress=False)
    dataset.transactions.shape  # noqa: B018 - make sure the frame is materialized before timing queries
    load_seconds = time.perf_counter() - started
    rss_after_load = peak_rss_gib()
    print(
        f"data: {dataset.n_transactions:,} transactions, {dataset.n_customers:,} customers, "
        f"{dataset.n_articles:,} articles; loaded in {load_seconds:.1f} s (peak RSS {rss_after_load:.2f} GiB)"
    )

    # The heavy queries one by one, so that a slow one is visible.
    for name, query in (
        ("overview", lambda: ex.overview(dataset)),
        ("per customer", lambda: ex.customer_activity(dataset)),
        ("week x article", lambda: ex.weekly_article_sales(dataset)),
        ("repurchase", lambda: ex.repurchase_by_week(dataset)),
        ("test week", lambda: ex.history_of_test_week_customers(dataset)),
    ):
        t0 = time.perf_counter()
        query()
        print(f"  query {name:<15} {time.perf_counter() - t0:6.2f} s   peak RSS {peak_rss_gib():.2f} GiB")

    with tempfile.TemporaryDirectory() as tmp:
        out = args.out or Path(tmp)
        t0 = time.perf_counter()
        report = ex.explore(dataset, out, progress=False)
        seconds = time.perf_counter() - t0
        size_mb = report.stat().st_size / 1e6
        n_png = len(list(out.glob("*.png")))
    peak = peak_rss_gib()
    print(f"explore: {seconds:.1f} s for the report ({n_png} plots, report.html {size_mb:.1f} MB)")
    print(f"peak RSS of the process: {peak:.2f} GiB (after loading: {rss_after_load:.2f} GiB)")
    ok = seconds <= TARGET_SECONDS and peak <= TARGET_GIB
    print(f"target <= {TARGET_SECONDS:.0f} s and <= {TARGET_GIB:.0f} GiB: {'met' if ok else 'NOT met'}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
