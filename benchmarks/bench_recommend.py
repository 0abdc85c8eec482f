"""Time ``recommend`` for every customer, per model, on a data directory (e.g. the generated small data set).

Usage: python benchmarks/bench_recommend.py --data DIR [--models als,als+repurchase,...] [--k 12] [--repeat 3]

Fits each model once on all of the data (fit time is not the point: the factor models' iterations are cut to
3, which changes the factors' values, not the cost of scoring them), then recommends ``k`` articles to every
customer ``repeat`` times and prints the best wall time per model, with ``popularity``'s as the reference
(``ratio`` column), so runs on different machines or code versions compare by ratio. Only the public model
interface is used (``create``, ``fit``, ``recommend``), so the same script times an older checkout too
(``PYTHONPATH=OLD/src``).
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np

from hmrec.data.load import load_dataset
from hmrec.registry import create

DEFAULT_MODELS = (
    "popularity,popularity-decay,popularity-age,random,repurchase,als,als+repurchase,sgd+repurchase,"
    "kmeans-customers,kmeans-customers+repurchase,kmeans-articles"
)
#: cheaper fits for timing the scoring (the cost of recommend does not depend on these)
FAST_FIT = {"iterations": 3, "epochs": 2}


def fast_params(names: list[str]) -> dict[str, int]:
    """``FAST_FIT`` for every parameter of that name, a composite part's (``fallback__epochs``) too."""
    return {name: FAST_FIT[name.rpartition("__")[2]] for name in names if name.rpartition("__")[2] in FAST_FIT}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, required=True)
    parser.add_argument("--models", default=DEFAULT_MODELS)
    parser.add_argument("--k", type=int, default=12)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    dataset = load_dataset(args.data, progress=False)
    everyone = np.arange(dataset.n_customers, dtype=np.int32)
    names = args.models.split(",")
    if "popularity" not in names:
        names = ["popularity", *names]
    print(f"{dataset.n_customers:,} customers, {dataset.n_articles:,} articles, k={args.k}")
    reference = None
    for name in names:
        model = create(name)
        model.set_params(**fast_params(model.param_names()))
        model.fit(dataset)
        model.recommend(everyone[:10], args.k)  # compiles numba kernels outside the timing
        best = np.inf
        for _ in range(args.repeat):
            started = time.perf_counter()
            model.recommend(everyone, args.k)
            best = min(best, time.perf_counter() - started)
        reference = best if name == "popularity" else reference
        ratio = best / reference if reference else float("nan")
        print(f"{name:30} recommend {best:8.3f} s   ratio to popularity {ratio:8.1f}", flush=True)


if __name__ == "__main__":
    main()
