"""Benchmark the synthetic generator: seconds and peak memory per scale, and the truth's top-k for everyone.

    python benchmarks/bench_generate.py --scale small [--seed 0] [--keep DIR] [--no-truth] [--json]

The generation runs in a fresh child process so that its peak resident memory (``os.wait4``) is its own;
seconds are measured inside the child around ``generate`` (interpreter start-up and imports excluded).
Unless ``--no-truth``, a second child times ``true_top_k`` for all customers (what the oracle and the
evaluation need at full scale). Output goes to a temporary directory outside the repository (removed
afterwards) unless ``--keep DIR`` is given.

Targets: tiny < 2 s, small < 30 s, full <= 5 min with peak RSS <= 12 GiB; true_top_k for all 1.37M
customers within a few minutes.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

TARGET_SECONDS = {"tiny": 2.0, "small": 30.0, "medium": 120.0, "full": 300.0}
TARGET_PEAK_GIB = 12.0


def _worker(mode: str, out: Path, scale: str, seed: int) -> dict[str, Any]:
    """Runs inside the child process: one timed library call, reported as JSON on stdout."""
    import numpy as np

    from hmrec.synthetic import generate, true_top_k

    started = time.perf_counter()
    if mode == "generate":
        summary = generate(out, scale=scale, seed=seed, progress=False)
        seconds = time.perf_counter() - started
        sizes = {p.name: p.stat().st_size for p in out.iterdir() if p.is_file()}
        return {
            "seconds": seconds,
            "rows": summary["rows"],
            "customers": summary["customers"],
            "articles": summary["articles"],
            "bytes": sizes,
        }
    if mode == "truth":
        n_customers = sum(1 for _ in (out / "customers.csv").open()) - 1
        top = true_top_k(out, np.arange(n_customers), k=12)
        return {"seconds": time.perf_counter() - started, "customers": int(top.shape[0])}
    raise ValueError(mode)


def _child(mode: str, out: Path, scale: str, seed: int) -> dict[str, Any]:
    """Run one measurement in a fresh process; add its peak RSS in GiB."""
    command = [
        sys.executable,
        __file__,
        "--worker",
        mode,
        "--out",
        str(out),
        "--scale",
        scale,
        "--seed",
        str(seed),
    ]
    process = subprocess.Popen(command, stdout=subprocess.PIPE)
    assert process.stdout is not None
    output = process.stdout.read()
    _, status, usage = os.wait4(process.pid, 0)
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"{mode} failed with exit code {os.waitstatus_to_exitcode(status)}")
    result: dict[str, Any] = json.loads(output)
    result["peak_gib"] = usage.ru_maxrss / 2**20  # ru_maxrss is in KiB on Linux
    return result


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--scale", default="small", choices=sorted(TARGET_SECONDS))
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--keep", type=Path, help="Write the data set here and keep it (default: a temp dir)."
    )
    parser.add_argument("--no-truth", action="store_true", help="Skip timing true_top_k for all customers.")
    parser.add_argument("--json", action="store_true", help="Print the figures as JSON.")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    parser.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        print(json.dumps(_worker(args.worker, args.out, args.scale, args.seed)))
        return
    with tempfile.TemporaryDirectory(prefix="hmrec-bench-generate-") as tmp:
        out = args.keep if args.keep is not None else Path(tmp) / "data"
        figures: dict[str, Any] = {"scale": args.scale, "seed": args.seed}
        figures["generate"] = _child("generate", out, args.scale, args.seed)
        if not args.no_truth:
            figures["true_top_k"] = _child("truth", out, args.scale, args.seed)
    if args.json:
        print(json.dumps(figures, indent=2))
        return
    gen = figures["generate"]
    target = TARGET_SECONDS[args.scale]
    print(
        f"generate --scale {args.scale}: {gen['seconds']:.1f} s (target < {target:.0f} s), "
        f"peak RSS {gen['peak_gib']:.2f} GiB (target <= {TARGET_PEAK_GIB:.0f} GiB)"
    )
    print(
        f"  {gen['rows']:,} rows, {gen['customers']:,} customers, {gen['articles']:,} articles, "
        f"{sum(gen['bytes'].values()) / 2**20:,.0f} MiB of CSV"
    )
    if "true_top_k" in figures:
        truth = figures["true_top_k"]
        print(
            f"true_top_k for all {truth['customers']:,} customers: {truth['seconds']:.1f} s, "
            f"peak RSS {truth['peak_gib']:.2f} GiB"
        )


if __name__ == "__main__":
    main()
