"""MAP@12 of the baselines over a small grid of their options, on one test week of a data set.

Usage: python benchmarks/tune_baselines.py [--data DIR | --scale small] [--seed 0] [--test-end YYYY-MM-DD]
       [--weeks 1] [--grid baselines|kmeans] [--skip 0]

Without ``--data`` the synthetic data set of ``--scale`` is generated (seed ``--seed``) in a temporary
directory. Trains on everything before the 7-day test window ending at ``--test-end`` (default: the last day of
the data) and scores MAP@12 (the competition's metric) of the customers who bought in that window. With
``--weeks N`` the figure is the mean over N consecutive weekly windows ending at ``--test-end`` (each model
trained on everything before its window): single weeks of the small data set have a few thousand buyers, and
differences of 1-2% between options are within their week-to-week noise.

Used to pick the defaults of ``popularity-decay.half_life_days``, ``popularity-age.buckets``,
``repurchase.primary__half_life_days`` / ``primary__max_weeks`` / ``primary__recent_weeks`` and
``filter_bought`` on or off. Tune on a backtest week (``--test-end 2020-09-15`` on the generated data, whose
last day is 2020-09-22) so that the final week, on which the leaderboards are reported, is never used to
choose anything. The ``oracle`` only runs on the
final week of generated data (elsewhere it is reported as skipped).

``--grid kmeans`` runs the grid of the k-means models instead (``KMEANS_GRID``, with ``popularity`` as the
reference): ``kmeans-customers``' number of clusters ``k``, sales half-life and ``blend``, and
``kmeans-articles``' ``k``, popularity half-life, share half-life and feature sizes. Both models memoize their
clusters on the training window, so rows that change only a half-life or the blend reuse the clustering.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

from hmrec.data.load import load_dataset
from hmrec.data.split import split_at, windows
from hmrec.errors import HmrecError
from hmrec.metrics import map_at_k
from hmrec.registry import create

GRID: list[tuple[str, dict[str, Any]]] = [
    ("oracle", {}),
    ("random", {}),
    ("random", {"filter_bought": True}),
    ("popularity", {}),
    ("popularity", {"days": 3}),
    ("popularity", {"days": 14}),
    ("popularity", {"filter_bought": True}),
    ("popularity-decay", {}),  # {} rows: the current defaults
    *[("popularity-decay", {"half_life_days": h}) for h in (1, 3, 7, 14, 28)],
    ("popularity-decay", {"filter_bought": True}),
    ("popularity-age", {}),
    *[("popularity-age", {"buckets": b}) for b in (5, 10, "quintiles", "deciles")],
    *[("popularity-age", {"half_life_days": h}) for h in (3, 7, 14)],
    ("popularity-age", {"buckets": 5, "half_life_days": 7}),
    ("popularity-age", {"filter_bought": True}),
    ("repurchase", {}),
    *[("repurchase", {"primary__half_life_days": h}) for h in (7, 14, 30, 60, 120)],
    *[("repurchase", {"primary__max_weeks": w}) for w in (4, 12, 26)],
    *[("repurchase", {"primary__recent_weeks": w, "fallback__recent_weeks": w}) for w in (2, 4, 8)],
    *[("repurchase", {"fallback__half_life_days": h}) for h in (3, 7, 14)],
]

KMEANS_GRID: list[tuple[str, dict[str, Any]]] = [
    ("popularity", {}),
    ("kmeans-customers", {}),
    *[("kmeans-customers", {"k": k}) for k in (12, 48, 96)],
    *[("kmeans-customers", {"half_life_days": h}) for h in (1, 7)],
    *[("kmeans-customers", {"blend": b}) for b in (0.0, 0.5)],
    ("kmeans-articles", {}),
    *[("kmeans-articles", {"half_life_days": h}) for h in (1, 3, 7)],
    *[("kmeans-articles", {"share_half_life_days": h}) for h in (14, 30, 365)],
    *[("kmeans-articles", {"k": k}) for k in (32, 256)],
    # second round, around the best of the first
    *[("kmeans-customers", {"k": k}) for k in (4, 8, 16)],
    ("kmeans-customers", {"k": 12, "half_life_days": 7}),
    ("kmeans-customers", {"k": 12, "blend": 0.5}),
    *[("kmeans-articles", {"k": k, "half_life_days": 3}) for k in (8, 32)],
    *[("kmeans-articles", {"k": k, "half_life_days": 3}) for k in (4, 16)],
]
GRIDS = {"baselines": GRID, "kmeans": KMEANS_GRID}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=None)
    parser.add_argument("--scale", default="small")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--test-end", default=None, help="last day of the 7-day test window (YYYY-MM-DD)")
    parser.add_argument("--weeks", type=int, default=1, help="mean over this many consecutive test weeks")
    parser.add_argument("--grid", choices=sorted(GRIDS), default="baselines", help="which grid to run")
    parser.add_argument("--skip", type=int, default=0, help="skip the first rows of the grid (to resume one)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        data_dir = args.data
        if data_dir is None:
            from hmrec.synthetic import generate

            data_dir = Path(tmp) / args.scale
            generate(data_dir, scale=args.scale, seed=args.seed, progress=False)
        dataset = load_dataset(data_dir, progress=False)
        splits = []
        for window in windows(dataset, args.weeks, 7, args.test_end):
            split = split_at(dataset, window)
            truth = split.test.interactions(binary=True)
            buyers = np.flatnonzero(truth.getnnz(axis=1) > 0)
            splits.append((split, buyers, truth[buyers]))
            print(f"{data_dir}: train until {split.train_end}, {buyers.size:,} buyers in the test window "
                  f"{split.test_start}..{split.test_end}")
        for name, params in GRIDS[args.grid][args.skip :]:
            started = time.perf_counter()
            scores = []
            try:
                for split, buyers, truth in splits:
                    ids, _ = create(name, **params).fit(split.train).recommend(buyers, 12)
                    scores.append(map_at_k(ids, truth, 12))
            except HmrecError as exc:
                print(f"{name:18} {params!s:40} skipped: {str(exc)[:60]}")
                continue
            weekly = " ".join(f"{s:.5f}" for s in scores) if len(scores) > 1 else ""
            print(f"{name:18} {params!s:40} MAP@12 {np.mean(scores):.5f}  ({time.perf_counter() - started:.1f} s)"
                  f"  {weekly}", flush=True)


if __name__ == "__main__":
    main()
