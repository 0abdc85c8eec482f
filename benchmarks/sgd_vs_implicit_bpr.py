"""hmrec's SGD models against implicit's ``BayesianPersonalizedRanking`` on MovieLens 100K recast as H&M files.

Usage:
    python benchmarks/sgd_vs_implicit_bpr.py --movielens SOURCE [--factors 64] [--epochs 20] [--test-days 28]
        [--seeds 0,1,2,3,4]
    python benchmarks/sgd_vs_implicit_bpr.py --data DIR ...

``SOURCE`` is RecBole's wheel (or a directory) holding MovieLens 100K (``pip download --no-deps recbole==1.2.1
-d DIR``; see ``benchmarks/movielens.py``, which converts it: ratings of 4 stars or more become purchases on
their day). ``--data`` takes any H&M-style directory instead.

Both sides train on everything before the last ``--test-days`` days and are scored by MAP@12 on the users who
rated a film (4+) in those days, over the whole catalogue with the films a user already rated in train left
out (a user does not rate a film twice). Both get the same factors, epochs, seed and threads; each keeps its
own other defaults (implicit: regularization 0.01, uniform positives and negatives, an item bias; hmrec: its
time-decayed positives, step schedule and article bias). Both are run at the learning rates 0.01 (implicit's
default), 0.05 and 0.1 (hmrec's), so that the comparison is not one of step sizes. ``popularity`` is printed
for scale. With ``--seeds``, ``sgd-bpr`` and implicit's BPR are run once per seed at each step size and each
setting's mean, lowest and highest MAP@12 over the seeds are printed: a few hundred test users make one seed's
figure move by more than the gap between the two sides.
"""

from __future__ import annotations

import argparse
import tempfile
import time
import warnings
from pathlib import Path
from typing import Any

import numpy as np
from threadpoolctl import threadpool_limits

from hmrec.data.load import load_dataset
from hmrec.data.split import time_split
from hmrec.metrics import map_at_k
from hmrec.progress import set_quiet
from hmrec.registry import create

K = 12
#: step sizes tried on both sides: implicit's default first, hmrec's sgd-bpr default last
LEARNING_RATES = (0.01, 0.05, 0.1)


def implicit_bpr(train: Any, customers: np.ndarray, args: argparse.Namespace, lr: float) -> tuple[np.ndarray, float]:
    """Top-12 ids of implicit's BPR for ``customers``, and its fit seconds."""
    from implicit.cpu.bpr import BayesianPersonalizedRanking

    matrix = train.interactions(binary=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the BLAS-threads warning: BLAS is limited below
        model = BayesianPersonalizedRanking(factors=args.factors, iterations=args.epochs, learning_rate=lr,
                                            num_threads=args.threads, random_state=args.seed)
    started = time.perf_counter()
    with threadpool_limits(limits=1, user_api="blas"):
        model.fit(matrix, show_progress=False)
    fit = time.perf_counter() - started
    ids, _ = model.recommend(customers, matrix[customers], N=K, filter_already_liked_items=True)
    return np.asarray(ids), fit


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--movielens", type=Path, help="RecBole's wheel or a directory with ml-100k.*")
    source.add_argument("--data", type=Path, help="an H&M-style data directory")
    parser.add_argument("--factors", type=int, default=64)
    parser.add_argument("--epochs", type=int, default=20)
    parser.add_argument("--test-days", type=int, default=28)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--seeds", default="", help="comma-separated seeds: BPR on both sides over each")
    args = parser.parse_args()
    set_quiet(True)
    with tempfile.TemporaryDirectory() as tmp:
        data_dir = args.data
        if args.movielens is not None:
            from movielens import convert  # the converter beside this script

            data_dir = Path(tmp) / "ml-100k"
            print("converted:", convert(args.movielens, data_dir))
        split = time_split(load_dataset(data_dir, Path(tmp) / "cache", progress=False), test_days=args.test_days)
        truth = split.test.interactions(binary=True)
        customers = np.flatnonzero(np.diff(truth.indptr) > 0)
        truth = truth[customers]
        print(f"train {split.train.n_transactions:,} purchases; test: {customers.size:,} users with "
              f"{truth.nnz:,} purchases in the last {args.test_days} days; factors {args.factors}, epochs "
              f"{args.epochs}, threads {args.threads}")
        if args.seeds:
            over_seeds(split.train, customers, truth, args, [int(x) for x in args.seeds.split(",") if x.strip()])
            return
        rows: list[tuple[str, float, float]] = []
        scoring = {"recent_weeks": None, "filter_bought": True, "threads": args.threads, "seed": args.seed}
        runs = [("sgd-bpr", {}), *(("sgd-bpr", {"learning_rate": lr}) for lr in LEARNING_RATES[:-1]),
                ("sgd-mse", {}), ("sgd-warp", {})]
        for name, extra in runs:
            model = create(name, factors=args.factors, epochs=args.epochs, **scoring, **extra)
            started = time.perf_counter()
            model.fit(split.train)
            fit = time.perf_counter() - started
            ids, _ = model.recommend(customers, K)
            label = f"hmrec {name}" + (f", lr {extra['learning_rate']}" if extra else " (defaults)")
            rows.append((label, map_at_k(ids, truth, K), fit))
        for lr in LEARNING_RATES:
            ids, fit = implicit_bpr(split.train, customers, args, lr)
            rows.append((f"implicit BPR, lr {lr}", map_at_k(ids, truth, K), fit))
        ids, _ = create("popularity", filter_bought=True).fit(split.train).recommend(customers, K)
        rows.append(("popularity (unseen films)", map_at_k(ids, truth, K), 0.0))
    print(f"{'model':32}{'MAP@12':>10}{'fit (s)':>10}")
    for name, score, fit in rows:
        print(f"{name:32}{score:10.4f}{fit:10.2f}")


def over_seeds(train: Any, customers: np.ndarray, truth: Any, args: argparse.Namespace, seeds: list[int]) -> None:
    """``sgd-bpr`` and implicit's BPR at each step size, once per seed: mean, lowest and highest MAP@12."""
    found: dict[str, list[float]] = {}
    for seed in seeds:
        args.seed = seed
        for lr in LEARNING_RATES:
            model = create("sgd-bpr", factors=args.factors, epochs=args.epochs, learning_rate=lr, recent_weeks=None,
                           filter_bought=True, threads=args.threads, seed=seed)
            ids, _ = model.fit(train).recommend(customers, K)
            found.setdefault(f"hmrec sgd-bpr, lr {lr}", []).append(map_at_k(ids, truth, K))
            ids, _ = implicit_bpr(train, customers, args, lr)
            found.setdefault(f"implicit BPR, lr {lr}", []).append(map_at_k(ids, truth, K))
    print(f"{'model':32}{'mean':>10}{'lowest':>10}{'highest':>10}   over seeds {','.join(map(str, seeds))}")
    for name, scores in found.items():
        print(f"{name:32}{np.mean(scores):10.4f}{min(scores):10.4f}{max(scores):10.4f}")
    for side in ("hmrec", "implicit"):
        best = max((n for n in found if n.startswith(side)), key=lambda n: np.mean(found[n]))
        print(f"best of {side}: {best} {np.mean(found[best]):.4f}")


if __name__ == "__main__":
    main()
