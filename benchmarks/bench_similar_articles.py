"""Articles like this one: do an article's lists hold what its buyers buy next week?

    python benchmarks/bench_similar_articles.py --data DIR [--test-end 2020-09-22] [--k 12] [--seed 0] [--only TEXT]

Fits the lists of :mod:`hmrec.ranking.neighbours` on the data before the test week (as ``hmrec train`` would
on all the data). For every (customer, article ``a``) pair of the last training week whose customer buys in
the test week, the recall of that customer's test-week articles by ``a``'s list of ``k``: ``|list(a) & bought
| / |bought|``, averaged over the pairs, and over articles (each article's pairs averaged first); ``hit`` is
the share of pairs with at least one bought article in the list.

Lists compared: ``bought-together`` and ``similar`` (projection, the default, and cosine) with their default
parameters, a few variants of each, and the baseline of the issue: the ``k`` best sellers of ``a``'s product
type (``product_type_no``) in the last training week, ``a`` left out. The baseline names a column; the lists
never do. Build the cache first (``hmrec ingest --data DIR``).
"""

from __future__ import annotations

import argparse
import datetime as dt
import time
from dataclasses import replace
from pathlib import Path

import numpy as np
import scipy.sparse as sp

from hmrec.data.dataset import Dataset


def type_baseline(train: Dataset, k: int, sales: np.ndarray) -> np.ndarray:
    """Per article the ``k`` best sellers (``sales``) of its ``product_type_no``, itself left out (ids, -1 pad)."""
    codes = train.articles.sort("article_idx")["product_type_no"].to_numpy()
    _, types = np.unique(codes, return_inverse=True)
    m = types.size
    order = np.lexsort((np.arange(m), -sales, types))  # by type, best sellers first, ties to the lower article
    sold = sales[order] > 0
    order, ordered_types = order[sold], types[order][sold]
    first = np.searchsorted(ordered_types, np.arange(types.max() + 2))
    out = np.full((m, k), -1, dtype=np.int32)
    for t in range(types.max() + 1):  # one loop per product type (a few hundred), not per article
        best = order[first[t] : first[t + 1]][: k + 1]
        members = np.flatnonzero(types == t)
        if not best.size or not members.size:
            continue
        lists = np.broadcast_to(best, (members.size, best.size)).copy()
        lists[lists == members[:, None]] = -1  # the article itself is not its own neighbour
        keep = np.argsort(lists < 0, axis=1, kind="stable")[:, :k]  # the others, in order
        chosen = np.take_along_axis(lists, keep, axis=1)
        out[members, : chosen.shape[1]] = chosen
    return out


def recall(ids: np.ndarray, pairs_c: np.ndarray, pairs_a: np.ndarray, truth: sp.csr_matrix) -> dict[str, float]:
    """Mean recall over the pairs, over articles, and the hit rate, of lists ``ids[a]`` against ``truth[c]``."""
    from hmrec.models.lists import csr_lookup

    lists = ids[pairs_a]
    k = lists.shape[1]
    rows = np.repeat(pairs_c, k)
    hits = (csr_lookup(truth, rows, np.maximum(lists.reshape(-1), 0)) > 0) & (lists.reshape(-1) >= 0)
    per_pair = hits.reshape(-1, k).sum(axis=1) / np.diff(truth.indptr)[pairs_c]
    _, inverse = np.unique(pairs_a, return_inverse=True)
    per_article = np.bincount(inverse, per_pair) / np.bincount(inverse)
    return {
        "pairs": float(per_pair.mean()),
        "articles": float(per_article.mean()),
        "hit": float((hits.reshape(-1, k).sum(axis=1) > 0).mean()),
        "filled": float((lists >= 0).mean()),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, required=True, help="a generated or real data directory (cached)")
    parser.add_argument("--test-end", default=None, help="last day of the test week (default: the data's end)")
    parser.add_argument("--k", type=int, default=12)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--quick", action="store_true", help="the defaults and the baseline only, no variants")
    parser.add_argument("--only", default="", help="only the lists whose label holds this text (and the baseline)")
    args = parser.parse_args(argv)

    from hmrec.data.load import load_dataset
    from hmrec.data.split import time_split
    from hmrec.models.sales import article_sales
    from hmrec.progress import set_quiet
    from hmrec.ranking.neighbours import BOUGHT_TOGETHER, SIMILAR, NeighbourParams, article_lists

    set_quiet(True)
    dataset = load_dataset(args.data, progress=False)
    split = time_split(dataset, 7, args.test_end)
    train = split.train
    last_week = article_sales(train, days=7)
    week = train.between(split.train_end - dt.timedelta(days=6), split.train_end)
    bought = week.interactions(binary=True)
    test = split.test.interactions(binary=True)
    buyers_next = np.diff(test.indptr) > 0
    pairs_c, pairs_a = bought.nonzero()
    keep = buyers_next[pairs_c]
    pairs_c, pairs_a = pairs_c[keep].astype(np.int64), pairs_a[keep].astype(np.int64)
    print(f"train up to {split.train_end}, test {split.test_start} to {split.test_end}: "
          f"{pairs_c.size:,} (customer, article) pairs of the last training week whose customer buys in the test "
          f"week ({np.unique(pairs_a).size:,} articles), k={args.k}")

    rows: list[tuple[str, dict[str, float], float]] = []
    started = time.perf_counter()
    baseline = type_baseline(train, args.k, last_week)
    rows.append(("baseline: best sellers of its product type, last week", recall(baseline, pairs_c, pairs_a, test),
                 time.perf_counter() - started))
    default = NeighbourParams()
    variants: list[tuple[str, str, NeighbourParams]] = [
        (BOUGHT_TOGETHER, "bought-together (default)", default),
        (SIMILAR, "similar (default: projection)", default),
    ]
    if not args.quick:
        variants += [
            (BOUGHT_TOGETHER, "bought-together, no decay (half-life 10000 days)", replace(default, half_life_days=1e4)),
            (BOUGHT_TOGETHER, "bought-together, 4 weeks", replace(default, weeks=4)),
            (BOUGHT_TOGETHER, "bought-together, 26 weeks", replace(default, weeks=26)),
            (BOUGHT_TOGETHER, "bought-together, within 3 days", replace(default, days=3)),
            (SIMILAR, "similar, cosine", replace(default, similarity="cosine")),
            (SIMILAR, "similar, targets sold in the last 4 weeks", replace(default, recent_weeks=4)),
            (SIMILAR, "similar, 64 factors", replace(default, factors=64)),
            (SIMILAR, "similar + learned taste key (weight 0.25)", replace(default, taste_weight=0.25)),
            (SIMILAR, "similar within the learned taste key first (weight 10)", replace(default, taste_weight=10)),
        ]
    for kind, label, params in [v for v in variants if args.only in v[1]]:
        started = time.perf_counter()
        ids, _ = article_lists(train, args.k, kinds=(kind,), params=params, seed=args.seed)[kind]
        rows.append((label, recall(ids, pairs_c, pairs_a, test), time.perf_counter() - started))

    print(f"\n| list | recall@{args.k} (pairs) | recall@{args.k} (articles) | hit rate | filled | seconds |")
    print("|---|---:|---:|---:|---:|---:|")
    for label, got, seconds in rows:
        print(f"| {label} | {got['pairs']:.4f} | {got['articles']:.4f} | {got['hit']:.4f} | {got['filled']:.3f} | "
              f"{seconds:.1f} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
