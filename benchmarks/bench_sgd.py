"""Fitting time and MAP@12 of an SGD model on 1 and 2 threads (stratified) and in Hogwild mode, and whether the
factors are the same bytes.

Usage: python benchmarks/bench_sgd.py --data DIR [--model sgd-bpr] [--repeat 2] [-p NAME=VALUE ...]

Trains on everything before the data's last 7 days and scores the customers who bought in them (as
``hmrec evaluate``). Each setting is fitted ``--repeat`` times, interleaved (1 thread, 2 threads, Hogwild, then
again), and the fastest fit of each is kept: the machine may be shared, so compare the ratios printed on one
run, not absolute seconds across runs.
"""

from __future__ import annotations

import argparse
import hashlib
import time
from pathlib import Path

import numpy as np

from hmrec.data.load import load_dataset
from hmrec.data.split import time_split
from hmrec.metrics import map_at_k
from hmrec.models.sgd import SGDModel
from hmrec.progress import set_quiet
from hmrec.registry import create

SETTINGS = {"1 thread": {"threads": 1}, "2 threads": {"threads": 2}, "2 threads, Hogwild": {"threads": 2,
                                                                                             "hogwild": True}}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, required=True)
    parser.add_argument("--model", default="sgd-bpr")
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("-p", "--param", action="append", default=[], help="NAME=VALUE (a number)")
    args = parser.parse_args()
    set_quiet(True)
    extra = {k: float(v) if "." in v or "e" in v else int(v) for k, v in (p.split("=", 1) for p in args.param)}
    split = time_split(load_dataset(args.data, progress=False))
    truth = split.test.interactions(binary=True)
    buyers = np.flatnonzero(np.diff(truth.indptr) > 0)
    create(args.model, epochs=1, **extra).fit(split.train)  # compile (or load) the kernels before timing
    best: dict[str, float] = {}
    result: dict[str, tuple[float, str]] = {}
    for _ in range(args.repeat):
        for label, setting in SETTINGS.items():
            model = create(args.model, **extra, **setting)
            assert isinstance(model, SGDModel)
            started = time.perf_counter()
            model.fit(split.train)
            best[label] = min(best.get(label, np.inf), time.perf_counter() - started)
            ids, _ = model.recommend(buyers, 12)
            digest = hashlib.sha256(model.user_factors_.tobytes() + model.item_factors_.tobytes()).hexdigest()
            result[label] = (map_at_k(ids, truth[buyers], 12), digest[:16])
    base = best["1 thread"]
    print(f"{args.model} {extra or ''} on {split.train.n_transactions:,} purchases; {buyers.size:,} buyers scored")
    print(f"{'setting':22}{'fit (s)':>10}{'speed-up':>10}{'MAP@12':>10}  factors sha256")
    for label in SETTINGS:
        score, digest = result[label]
        print(f"{label:22}{best[label]:10.2f}{base / best[label]:9.2f}x{score:10.4f}  {digest}")


if __name__ == "__main__":
    main()
