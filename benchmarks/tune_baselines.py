"""MAP@12 of the baselines over a small grid of their options, on the final week of a data set.

Usage: python benchmarks/tune_baselines.py [--data DIR | --scale small] [--seed 0]

Without ``--data`` the synthetic data set of ``--scale`` is generated (seed ``--seed``) in a temporary
directory. Trains on everything before the last 7 days and scores MAP@12 (the competition's metric) of the
customers who bought in those 7 days. Used to pick the defaults: ``popularity-decay.half_life_days``,
``repurchase.half_life_days`` / ``max_weeks`` / ``recent_weeks``, and ``filter_bought`` on or off.
"""

from __future__ import annotations

import argparse
import datetime as dt
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

from hmrec.data.load import load_dataset
from hmrec.errors import HmrecError
from hmrec.evaluation.metrics import map_at_k
from hmrec.models.base import create

GRID: list[tuple[str, dict[str, Any]]] = [
    ("oracle", {}),
    ("random", {}),
    ("popularity", {"days": 7}),
    ("popularity", {"days": 14}),
    ("popularity", {"filter_bought": True}),
    *[("popularity-decay", {"half_life_days": h}) for h in (3, 7, 14, 28)],
    ("popularity-decay", {"filter_bought": True}),
    *[("popularity-age", {"buckets": b}) for b in (5, 10, "deciles")],
    ("popularity-age", {"filter_bought": True}),
    *[("repurchase", {"half_life_days": h}) for h in (7, 14, 30, 60, 120)],
    *[("repurchase", {"max_weeks": w}) for w in (4, 12, 26)],
    *[("repurchase", {"recent_weeks": w}) for w in (2, 4, 8)],
]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=None)
    parser.add_argument("--scale", default="small")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        data_dir = args.data
        if data_dir is None:
            from hmrec.data.synthetic import generate

            data_dir = Path(tmp) / args.scale
            generate(data_dir, scale=args.scale, seed=args.seed, progress=False)
        dataset = load_dataset(data_dir, progress=False)
        end = dataset.end_date
        assert end is not None, "no transactions"
        start = end - dt.timedelta(days=6)
        train = dataset.between(None, start - dt.timedelta(days=1))
        truth = dataset.between(start, end).interactions(binary=True)
        buyers = np.flatnonzero(truth.getnnz(axis=1) > 0)
        truth = truth[buyers]
        print(f"{data_dir}: {buyers.size:,} buyers in the test window {start}..{end}")
        for name, params in GRID:
            started = time.perf_counter()
            try:
                ids, _ = create(name, **params).fit(train).recommend(buyers, 12)
            except HmrecError as exc:
                print(f"{name:18} {params!s:40} skipped: {exc}")
                continue
            score = map_at_k(ids, truth, 12)
            print(f"{name:18} {params!s:40} MAP@12 {score:.5f}  ({time.perf_counter() - started:.1f} s)")


if __name__ == "__main__":
    main()
