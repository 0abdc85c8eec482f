"""Is a change to the ranker a gain beyond the noise? Two variants, paired, on backtest weeks.

Usage: python benchmarks/compare_ranker.py --data DIR [DIR ...] --base trees=150
       --variant trees=300 [--test-end 2020-09-15] [--backtest 2] [--seed 0] [--resamples 1000]

Evaluates the ranker twice on the same ``--backtest`` weeks ending ``--test-end`` (never the held-out final
week when ``--test-end`` is before it) of each data set, once with the ``--base`` parameters and once with the
``--variant`` ones (each ``NAME=VALUE``, values read as JSON when they parse, else as text), together with
repurchase, as ``hmrec evaluate`` does. Both runs score the same customers of each week, so their per-customer
AP@12 are paired: the table gives, per data set and then over all of them (their weeks pooled, each week one
window of the bootstrap), each one's MAP@12 with its 95% bootstrap interval and the paired difference
``variant - base`` with its interval. An interval that contains 0 means these weeks cannot tell the two apart.
The last line is machine-readable (JSON).
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path
from typing import Any

import numpy as np

from hmrec.data.load import load_dataset
from hmrec.evaluation.evaluate import evaluate
from hmrec.evaluation.intervals import map_intervals
from hmrec.progress import set_quiet


def _params(items: list[str]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for item in items:
        name, _, text = item.partition("=")
        try:
            out[name] = json.loads(text)
        except ValueError:
            out[name] = text
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, nargs="+", required=True)
    parser.add_argument("--base", nargs="*", default=[], help="the base variant's ranker parameters, NAME=VALUE")
    parser.add_argument("--variant", nargs="*", default=[], help="the variant's ranker parameters, NAME=VALUE")
    parser.add_argument("--test-end", default=None)
    parser.add_argument("--backtest", type=int, default=2)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--resamples", type=int, default=1000)
    args = parser.parse_args()
    set_quiet(True)  # the models' progress bars: this script prints its own lines

    pooled: list[dict[str, np.ndarray]] = []
    summary: dict[str, Any] = {}
    for data in args.data:
        dataset = load_dataset(data, progress=False)
        runs = {}
        for label, given in (("base", _params(args.base)), ("variant", _params(args.variant))):
            started = time.perf_counter()
            names = ["ranker", "repurchase"] if label == "base" else ["ranker"]
            runs[label] = evaluate(dataset, names, params={"ranker": given}, curve_k=0, progress=False,
                                   seed=args.seed, test_end=args.test_end, backtest=args.backtest,
                                   resamples=args.resamples)
            print(f"{data.name}: ranker ({label}: {given}) evaluated in {time.perf_counter() - started:.0f} s",
                  flush=True)
        weeks = [{"variant": runs["variant"].customer_ap[week]["ranker"], "base": base["ranker"],
                  "repurchase": base["repurchase"]} for week, base in runs["base"].customer_ap.items()]
        summary[data.name] = _report(f"{data.name}: {len(weeks)} backtest weeks ending {runs['base'].test_end}",
                                     weeks, args)
        pooled.extend(weeks)
    if len(args.data) > 1:
        summary["pooled"] = _report(f"all {len(args.data)} data sets, {len(pooled)} weeks pooled", pooled, args)
    print(json.dumps(summary))


def _report(title: str, weeks: list[dict[str, np.ndarray]], args: argparse.Namespace) -> dict[str, float]:
    """Print the table of ``weeks`` (each week's per-customer AP@12 of the base, the variant, repurchase);
    return its figures."""
    table = map_intervals(weeks, "base", n_resamples=args.resamples, seed=args.seed)
    means = {name: float(np.mean([np.mean(week[name]) for week in weeks])) for name in weeks[0]}
    print(f"{title}; differences paired, to the base")
    for row in table.iter_rows(named=True):
        print(f"  {row['model']:<11} MAP@12 {means[row['model']]:.4f} [{row['map_at_k_low']:.4f}, "
              f"{row['map_at_k_high']:.4f}]  diff {row['map_diff']:+.4f} [{row['map_diff_low']:+.4f}, "
              f"{row['map_diff_high']:+.4f}]  differs: {'yes' if row['map_diff_excludes_zero'] else 'no'}")
    diff = table.filter(table["model"] == "variant").row(0, named=True)
    return {"base": means["base"], "variant": means["variant"], "repurchase": means["repurchase"],
            "diff": diff["map_diff"], "low": diff["map_diff_low"], "high": diff["map_diff_high"]}


if __name__ == "__main__":
    main()
