"""Benchmark the two-stage ranker: the full submit (time, peak memory), the quality ladder on the final week,
each candidate source's recall, and an ablation (the ranker without each feature family).

    python benchmarks/bench_ranker.py --data DIR [--jobs submit,quality,ablation] [--models LIST] [--json]

Each job runs in a fresh child process that loads the cached Dataset and runs the library calls the CLI runs
(``hmrec submit --model ranker``: fit on all the data, i.e. sources, features and LightGBM over the past weeks,
then score every customer and write the file); the parent adds the child's peak resident memory from
``os.wait4``. Build the cache first (``hmrec ingest --data DIR``).

- ``submit``: seconds (load, fit, recommend, write) and peak GiB. Target at full scale (1,371,980 customers,
  2 cores): <= 20 minutes and <= 16 GiB.
- ``quality``: ``evaluate`` of ``--models`` (default: the baselines, repurchase blends and the ranker) on the
  final week (train until the day before it), MAP@12 per model, the ranker / repurchase ratio, and the
  ranker's candidate recall per source at n = 12..300 and its feature importance by family.
- ``ablation``: the ranker's MAP@12 on the same week with each feature family left out
  (``--param ranker.drop_features=FAMILY``).
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from _measure import run_measured  # benchmarks/ is the script's folder, so on sys.path

TARGET_SECONDS = 20 * 60.0
TARGET_PEAK_GIB = 16.0
DEFAULT_MODELS = "popularity,popularity-age,repurchase,als+repurchase,kmeans-customers+repurchase,ranker"
FAMILIES = ("customer", "article", "pair", "source")


def _worker(job: str, data: Path, models: str, params: dict[str, Any]) -> dict[str, Any]:
    import numpy as np

    from hmrec.data.load import load_dataset
    from hmrec.evaluation.evaluate import evaluate
    from hmrec.output import write_submission
    from hmrec.progress import set_quiet
    from hmrec.registry import create

    set_quiet(True)
    started = time.perf_counter()
    dataset = load_dataset(data, progress=False)
    loaded = time.perf_counter()
    result: dict[str, Any] = {}
    if job == "submit":
        model = create("ranker", **params)
        model.fit(dataset)
        fitted = time.perf_counter()
        ids, _ = model.recommend(np.arange(dataset.n_customers, dtype=np.int32), 12)
        recommended = time.perf_counter()
        with tempfile.TemporaryDirectory() as tmp:
            write_submission(Path(tmp) / "submission.csv", dataset, ids)
        result = {
            "customers": dataset.n_customers, "fit_seconds": fitted - loaded,
            "recommend_seconds": recommended - fitted, "write_seconds": time.perf_counter() - recommended,
            "train_rows": int(getattr(model, "train_rows_", 0)), "trees": int(getattr(model, "best_iteration_", 0)),
        }
    elif job == "quality":
        board = evaluate(dataset, models.split(","), params={"ranker": params} if "ranker" in models else None,
                         progress=False, curve_k=0)
        rows = board.to_dict()["models"]
        result = {"customers_scored": board.customers_scored,
                  "map_at_12": {row["model"]: row["map_at_k"] for row in rows},
                  "fit_seconds": {row["model"]: row["fit_seconds"] for row in rows}}
        for name, table in board.diagnostics.items():
            result[name] = table.drop("test_start").to_dicts()
    elif job.startswith("ablation"):
        family = job.partition(":")[2]
        board = evaluate(dataset, ["ranker"], params={"ranker": {**params, "drop_features": family}},
                         progress=False, curve_k=0)
        result = {"dropped": family, "map_at_12": board.to_dict()["models"][0]["map_at_k"]}
    else:
        raise ValueError(job)
    result.update(seconds=time.perf_counter() - started, load_seconds=loaded - started)
    return result


def _child(job: str, args: argparse.Namespace) -> dict[str, Any]:
    command = [sys.executable, __file__, "--worker", job, "--data", str(args.data), "--models", args.models,
               "--params", args.params]
    result = run_measured(command, job)
    return result


def _recall_table(rows: list[dict[str, Any]]) -> str:
    ns = sorted({int(r["n"]) for r in rows})
    sources = list(dict.fromkeys(r["source"] for r in rows))
    value = {(r["source"], int(r["n"])): r for r in rows}
    lines = ["| source | " + " | ".join(f"n={n}" for n in ns) + " |", "|---|" + "---:|" * len(ns)]
    for source in sources:
        lines.append(f"| {source} | " + " | ".join(f"{value[(source, n)]['recall']:.4f}" for n in ns) + " |")
    lines.append("| union: candidates per customer | "
                 + " | ".join(f"{value[('union', n)]['candidates_per_customer']:.1f}" for n in ns) + " |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, required=True, help="a generated or real data directory (cached)")
    parser.add_argument("--jobs", default="submit,quality,ablation")
    parser.add_argument("--models", default=DEFAULT_MODELS, help="the quality ladder")
    parser.add_argument("--params", default="{}", help="ranker hyperparameters as JSON, e.g. '{\"weeks\": 4}'")
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        print(json.dumps(_worker(args.worker, args.data, args.models, json.loads(args.params))))
        return 0
    jobs = [j.strip() for j in args.jobs.split(",") if j.strip()]
    results: dict[str, Any] = {}
    for job in jobs:
        if job == "ablation":
            results["ablation"] = [_child(f"ablation:{family}", args) for family in FAMILIES]
        else:
            results[job] = _child(job, args)
    if args.json:
        print(json.dumps(results, indent=2))
        return 0
    ok = True
    if "submit" in results:
        res = results["submit"]
        within = res["seconds"] <= TARGET_SECONDS and res["peak_gib"] <= TARGET_PEAK_GIB
        ok &= within
        print(f"submit {res['seconds']:.1f} s (load {res['load_seconds']:.1f}, fit {res['fit_seconds']:.1f}, "
              f"recommend {res['recommend_seconds']:.1f}, write {res['write_seconds']:.1f}) peak "
              f"{res['peak_gib']:.2f} GiB, {res['cpu_seconds']:.0f} CPU s for {res['customers']:,} customers; "
              f"{res['train_rows']:,} training rows, "
              f"{res['trees']} trees; target <= {TARGET_SECONDS:.0f} s, <= {TARGET_PEAK_GIB:.0f} GiB: "
              f"{'met' if within else 'MISSED'}")
    if "quality" in results:
        res = results["quality"]
        maps = res["map_at_12"]
        print(f"quality ({res['customers_scored']:,} customers scored, {res['seconds']:.0f} s)")
        for model, value in maps.items():
            print(f"  {model:<28} MAP@12 {value:.4f}  fit {res['fit_seconds'][model]:.1f} s")
        if "ranker" in maps and maps.get("repurchase"):
            print(f"  ranker / repurchase: {maps['ranker'] / maps['repurchase']:.2f}x")
        if res.get("candidate_recall"):
            print(_recall_table(res["candidate_recall"]))
        if res.get("feature_importance"):
            by_family: dict[str, float] = {}
            for row in res["feature_importance"]:
                by_family[row["family"]] = by_family.get(row["family"], 0.0) + row["share"]
            print("  gain by family: " + ", ".join(f"{k} {v:.1%}" for k, v in by_family.items()))
            top = sorted(res["feature_importance"], key=lambda r: -r["share"])[:10]
            print("  top features: " + ", ".join(f"{r['feature']} {r['share']:.1%}" for r in top))
    if "ablation" in results:
        base = results.get("quality", {}).get("map_at_12", {}).get("ranker")
        for res in results["ablation"]:
            delta = f" ({res['map_at_12'] - base:+.4f})" if base is not None else ""
            print(f"  without {res['dropped']:<9} MAP@12 {res['map_at_12']:.4f}{delta}")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
