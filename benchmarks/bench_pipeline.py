"""Benchmark the end-to-end jobs from the cache: `evaluate` of the popularity and repurchase models, and
`submit` for every customer.

    python benchmarks/bench_pipeline.py --data DIR [--models popularity,repurchase] [--submit-model repurchase]

Each job runs in a fresh child process that loads the cached Dataset, runs the library calls the CLI runs and
reports its own seconds (load included, interpreter start-up excluded); the parent adds the child's peak
resident memory from ``os.wait4``. Build the cache first (``hmrec ingest --data DIR``).

Targets at full scale (31.8M transactions, 1,371,980 customers): evaluate <= 120 s, submit <= 120 s, peak
memory <= 8 GiB each.
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

TARGET_SECONDS = 120.0
TARGET_PEAK_GIB = 8.0


def _worker(job: str, data: Path, models: str, submit_model: str) -> dict[str, Any]:
    import numpy as np

    from hmrec.data.load import load_dataset
    from hmrec.evaluation.evaluate import evaluate
    from hmrec.output import write_submission
    from hmrec.registry import create

    started = time.perf_counter()
    dataset = load_dataset(data, progress=False)
    loaded = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        if job == "evaluate":
            board = evaluate(dataset, models.split(","), progress=False)
            board.write(Path(tmp), report=False)
            rows = board.to_dict()["models"]
            result: dict[str, Any] = {
                "customers_scored": board.customers_scored,
                "map_at_12": {row["model"]: row["map_at_k"] for row in rows},
            }
        elif job == "submit":
            model = create(submit_model).fit(dataset)
            ids, _ = model.recommend(np.arange(dataset.n_customers, dtype=np.int32), 12)
            write_submission(Path(tmp) / "submission.csv", dataset, ids)
            result = {"customers": dataset.n_customers}
        else:
            raise ValueError(job)
    result.update(seconds=time.perf_counter() - started, load_seconds=loaded - started)
    return result


def _child(job: str, args: argparse.Namespace) -> dict[str, Any]:
    command = [
        sys.executable,
        __file__,
        "--worker",
        job,
        "--data",
        str(args.data),
        "--models",
        args.models,
        "--submit-model",
        args.submit_model,
    ]
    result = run_measured(command, job)
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, required=True, help="a generated or real data directory")
    parser.add_argument("--models", default="popularity,repurchase")
    parser.add_argument("--submit-model", default="repurchase")
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--worker", choices=("evaluate", "submit"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        print(json.dumps(_worker(args.worker, args.data, args.models, args.submit_model)))
        return 0
    results = {job: _child(job, args) for job in ("evaluate", "submit")}
    if args.json:
        print(json.dumps(results, indent=2))
        return 0
    ok = True
    for job, res in results.items():
        within = res["seconds"] <= TARGET_SECONDS and res["peak_gib"] <= TARGET_PEAK_GIB
        ok &= within
        print(
            f"{job:<9} {res['seconds']:7.1f} s (load {res['load_seconds']:.1f} s)  peak {res['peak_gib']:.2f} GiB"
            f"  target <= {TARGET_SECONDS:.0f} s, <= {TARGET_PEAK_GIB:.0f} GiB: {'met' if within else 'MISSED'}"
        )
    for model, value in results["evaluate"]["map_at_12"].items():
        print(
            f"  MAP@12 {model:<12} {value:.4f}  ({results['evaluate']['customers_scored']:,} customers scored)"
        )
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
