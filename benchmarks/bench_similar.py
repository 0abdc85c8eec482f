"""Candidate recall of the similar-article sources (``als-similar``, ``text-similar``) beside the others.

    python benchmarks/bench_similar.py --data DIR [--test-end 2020-09-22] [--sources LIST] [--ns 12,24,50]

Fits each source as the ranker does (on the ``--history-weeks`` weeks up to the day before the test week,
seed 0) and prints its fit time (not counting scikit-learn's import, about 5 s once per process) and its
recall of the test week's (customer, article) purchase pairs at each n
(``hmrec.ranking.sources.source_recall``, customers who bought in the test week), then the union of all the
sources and the union without the similar-article ones, which says what they add. Build the cache first
(``hmrec ingest --data DIR``).
"""

from __future__ import annotations

import argparse
import datetime as dt
import time
from pathlib import Path

import numpy as np

SIMILAR = ("als-similar", "text-similar")
DEFAULT_SOURCES = "repurchase,product,copurchase,popularity,age,trending,als,taste," + ",".join(SIMILAR)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, required=True, help="a generated or real data directory (cached)")
    parser.add_argument("--test-end", default=None, help="last day of the test week (default: the data's end)")
    parser.add_argument("--sources", default=DEFAULT_SOURCES)
    parser.add_argument("--ns", default="12,24,50")
    parser.add_argument("--history-weeks", type=float, default=26)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)

    from hmrec.data.load import load_dataset
    from hmrec.data.split import time_split
    from hmrec.progress import set_quiet
    from hmrec.ranking.candidates import source_recall
    from hmrec.ranking.sources import make_source

    set_quiet(True)
    # loaded once here (about 5 s), so that it does not count as text-similar's fit time
    import sklearn.feature_extraction.text  # noqa: F401

    dataset = load_dataset(args.data, progress=False)
    split = time_split(dataset, 7, args.test_end)
    first = split.train_end - dt.timedelta(days=int(7 * args.history_weeks) - 1)
    past = split.train.between(first, split.train_end)
    everyone = split.test.interactions(binary=True)
    customers = np.flatnonzero(np.diff(everyone.indptr)).astype(np.int32)
    truth = everyone[customers]
    ns = tuple(int(n) for n in args.ns.split(","))
    print(f"train up to {split.train_end} ({args.history_weeks:g} weeks), test {split.test_start} to "
          f"{split.test_end}: {customers.size:,} buyers, {truth.nnz:,} pairs")

    sources, fit_seconds = {}, {}
    for name in [s.strip() for s in args.sources.split(",") if s.strip()]:
        started = time.perf_counter()
        sources[name] = make_source(name, seed=args.seed).fit(past)
        fit_seconds[name] = time.perf_counter() - started
    frame = source_recall(sources, customers, truth, ns, dataset.n_articles)
    recall = {(r["source"], r["n"]): r["recall"] for r in frame.iter_rows(named=True)}
    others = {name: source for name, source in sources.items() if name not in SIMILAR}
    if len(others) < len(sources) and others:
        without = source_recall(others, customers, truth, ns, dataset.n_articles)
        for row in without.filter(without["source"] == "union").iter_rows(named=True):
            recall["union without similar", row["n"]] = row["recall"]

    print("| source | " + " | ".join(f"n={n}" for n in ns) + " | fit s |")
    print("|---|" + "---:|" * (len(ns) + 1))
    for name in [*sources, "union", "union without similar"]:
        if (name, ns[0]) not in recall:
            continue
        fit = f"{fit_seconds[name]:.1f}" if name in fit_seconds else ""
        print(f"| {name} | " + " | ".join(f"{recall[name, n]:.4f}" for n in ns) + f" | {fit} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
