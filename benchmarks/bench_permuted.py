"""Does the ranker learn the data's structure, or the generator's? The same data with its article attribute
columns trading places.

    python benchmarks/bench_permuted.py --data DIR [--permutations 3] [--seed 0] [--models repurchase,ranker]
        [--params JSON] [--json]

Permutation 0 is ``DIR`` as it is; permutation ``p >= 1`` is a copy whose article attribute columns trade
places, by a permutation drawn from ``--seed`` and ``p``: each (code, name) pair of columns moves whole into the
place of another pair (product type <-> department, ...), so the file holds exactly the same information under
other headers. Customers and transactions are the same files (linked). Each data set is evaluated in a child
process on its final week (``hmrec evaluate``'s default split), and the ranker's MAP@12 / repurchase ratio of
each permutation is compared to the original's: a ranker that learns the data's structure keeps its ratio
(target: >= 0.95x the original's on every permutation). The taste keys the ranker learned are printed too.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
from pathlib import Path
from typing import Any

import numpy as np

from _measure import run_measured  # benchmarks/ is the script's folder, so on sys.path

#: the (code, name) column pairs of articles.csv that trade places: numeric codes with their names, so that
#: every column keeps its type
GROUPS = (
    ("product_type_no", "product_type_name"),
    ("graphical_appearance_no", "graphical_appearance_name"),
    ("colour_group_code", "colour_group_name"),
    ("perceived_colour_value_id", "perceived_colour_value_name"),
    ("perceived_colour_master_id", "perceived_colour_master_name"),
    ("department_no", "department_name"),
    ("index_group_no", "index_group_name"),
    ("section_no", "section_name"),
    ("garment_group_no", "garment_group_name"),
)
TARGET_RATIO = 0.95
LINKED = ("customers.csv", "transactions_train.csv", "sample_submission.csv")


def permutation(seed: int, p: int) -> list[int]:
    """The place each group moves to in permutation ``p`` (0: none); never the identity for ``p >= 1``."""
    if p == 0:
        return list(range(len(GROUPS)))
    rng = np.random.default_rng([seed, p])
    while True:
        order = [int(i) for i in rng.permutation(len(GROUPS))]
        if order != list(range(len(GROUPS))):
            return order


def permuted_copy(data: Path, out: Path, order: list[int]) -> None:
    """``out``: ``data`` with the article columns of group ``i`` holding group ``order[i]``'s values."""
    import polars as pl

    out.mkdir(parents=True, exist_ok=True)
    for name in LINKED:
        if (data / name).exists():
            (out / name).symlink_to((data / name).resolve())
    articles = pl.read_csv(data / "articles.csv", infer_schema=False)
    moved = {}
    for target, source in enumerate(order):
        for column_to, column_from in zip(GROUPS[target], GROUPS[source], strict=True):
            moved[column_to] = articles[column_from]
    articles.with_columns(*(series.alias(name) for name, series in moved.items())).write_csv(out / "articles.csv")


def _worker(data: Path, models: str, params: dict[str, Any]) -> dict[str, Any]:
    from hmrec.data.load import load_dataset
    from hmrec.evaluation.evaluate import evaluate
    from hmrec.progress import set_quiet

    set_quiet(True)
    dataset = load_dataset(data, progress=False)
    board = evaluate(dataset, models.split(","), params={"ranker": params} if params else None, progress=False,
                     curve_k=0)
    result: dict[str, Any] = {"map_at_12": {row["model"]: row["map_at_k"] for row in board.to_dict()["models"]}}
    taste = board.diagnostics.get("taste_keys")
    if taste is not None:
        result["taste_keys"] = taste.select("key", "recall").to_dicts()
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, required=True, help="a data directory with the H&M columns")
    parser.add_argument("--permutations", type=int, default=3, help="permuted copies besides the original")
    parser.add_argument("--seed", type=int, default=0, help="seeds the permutations")
    parser.add_argument("--models", default="repurchase,ranker")
    parser.add_argument("--params", default="{}", help="ranker hyperparameters as JSON")
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--worker", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker is not None:
        print(json.dumps(_worker(args.worker, args.models, json.loads(args.params))))
        return 0
    rows = []
    root = Path(tempfile.mkdtemp(prefix="permuted-"))
    try:
        for p in range(args.permutations + 1):
            order = permutation(args.seed, p)
            data = args.data
            if p:
                data = root / f"p{p}"
                permuted_copy(args.data, data, order)
            command = [sys.executable, __file__, "--worker", str(data), "--data", str(data), "--models", args.models,
                       "--params", args.params]
            result = run_measured(command, f"permutation {p}")
            maps = result["map_at_12"]
            ratio = maps["ranker"] / maps["repurchase"] if maps.get("repurchase") else float("nan")
            rows.append({"permutation": p, "order": order, "map_at_12": maps, "ratio": ratio,
                         "taste_keys": result.get("taste_keys", [])})
            print(f"permutation {p} {order}: " + ", ".join(f"{m} {v:.4f}" for m, v in maps.items())
                  + f", ranker / repurchase {ratio:.3f}", file=sys.stderr)
    finally:
        shutil.rmtree(root, ignore_errors=True)
    base = rows[0]["ratio"]
    for row in rows:
        row["ratio_vs_original"] = row["ratio"] / base
    worst = min(row["ratio_vs_original"] for row in rows[1:]) if len(rows) > 1 else 1.0
    summary = {"data": str(args.data), "rows": rows, "worst_ratio_vs_original": worst,
               "target": TARGET_RATIO, "met": worst >= TARGET_RATIO}
    if args.json:
        print(json.dumps(summary))
    else:
        print("| permutation | " + " | ".join(rows[0]["map_at_12"]) + " | ranker / repurchase | vs original |")
        print("|---|" + "---:|" * (len(rows[0]["map_at_12"]) + 2))
        for row in rows:
            print(f"| {row['permutation']} | " + " | ".join(f"{v:.4f}" for v in row["map_at_12"].values())
                  + f" | {row['ratio']:.3f} | {row['ratio_vs_original']:.3f} |")
        for row in rows:
            keys = "; ".join(f"{k['key']} ({k['recall']:.3f})" for k in row["taste_keys"][:3])
            print(f"permutation {row['permutation']}: taste keys {keys}")
        verdict = "met" if summary["met"] else "MISSED"
        verdict = "met" if summary["met"] else "MISSED"
        print(f"worst ratio vs original {worst:.3f} (target >= {TARGET_RATIO}): {verdict}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
