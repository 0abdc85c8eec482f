"""Do `hmrec tune`'s parameters beat the defaults on the test week it never read? A paired comparison.

Usage: python benchmarks/tune_ranker.py --data DIR --params-file tune-ranker/best_params.json
       [--baseline repurchase] [--seed 0] [--resamples 1000]

Evaluates the file's model twice on the held-out test week (the last 7 days; tune scored on the weeks
before it), with its defaults and with the file's parameters, as ``hmrec evaluate`` does (same split, seed and
metric), together with ``--baseline``. Both runs score the same customers, so their per-customer AP@12 are
paired: the table gives each one's MAP@12 with its 95% bootstrap interval and the paired difference to the
defaults (``tuned - defaults``) with its interval. An interval that contains 0 means the week cannot tell the
tuned parameters from the defaults. The two `hmrec evaluate` runs (with and without ``--params-file``) give the
same MAP@12 and intervals, but each compares its model only to the baseline, not to the other run.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np

from hmrec.data.load import load_dataset
from hmrec.evaluation.evaluate import evaluate
from hmrec.evaluation.intervals import map_intervals
from hmrec.progress import set_quiet
from hmrec.tuning.params_file import read_params_file


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, required=True)
    parser.add_argument("--params-file", type=Path, required=True)
    parser.add_argument("--baseline", default="repurchase")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--resamples", type=int, default=1000)
    args = parser.parse_args()
    set_quiet(True)  # the models' progress bars: this script prints its own lines

    (model, params), *others = read_params_file(args.params_file).items()
    if others:
        parser.error("give a file of one model's parameters (tune's best_params.json)")
    dataset = load_dataset(args.data, progress=False)
    runs = {}
    for label, given in (("defaults", {}), ("tuned", params)):
        started = time.perf_counter()
        names = [model, args.baseline] if label == "defaults" else [model]
        board = evaluate(dataset, names, params={model: given}, curve_k=0, progress=False, seed=args.seed,
                         resamples=args.resamples)
        runs[label] = board
        print(f"{model} ({label}): evaluated in {time.perf_counter() - started:.0f} s", flush=True)

    week = runs["defaults"].test_start
    defaults = runs["defaults"].customer_ap[week]
    paired = {f"{model} (tuned)": runs["tuned"].customer_ap[week][model], f"{model} (defaults)": defaults[model],
              args.baseline: defaults[args.baseline]}
    table = map_intervals([paired], f"{model} (defaults)", n_resamples=args.resamples, seed=args.seed)
    print(f"Test week {runs['defaults'].test_start} to {runs['defaults'].test_end}, "
          f"{runs['defaults'].customers_scored:,} customers; differences paired, to {model} (defaults)")
    for row in table.iter_rows(named=True):
        print(f"  {row['model']:<22} MAP@12 {np.mean(paired[row['model']]):.4f} [{row['map_at_k_low']:.4f}, "
              f"{row['map_at_k_high']:.4f}]  diff {row['map_diff']:+.4f} [{row['map_diff_low']:+.4f}, "
              f"{row['map_diff_high']:+.4f}]  differs: {'yes' if row['map_diff_excludes_zero'] else 'no'}")


if __name__ == "__main__":
    main()
