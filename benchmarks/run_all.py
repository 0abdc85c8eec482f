"""Run every benchmark on one data set and print their figures (what `make bench` runs).

    python benchmarks/run_all.py [--scale full] [--data DIR] [--skip NAME,...]

Without ``--data`` the generated data set of ``--scale`` (seed 0) is used, generated on first use into
``$HMREC_BENCH_DATA`` or the user's cache directory; generation is itself the first benchmark. Each benchmark
is a script of its own that can be run alone; see docs/benchmarks.md for the recorded figures.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


def default_data(scale: str) -> Path:
    env = os.environ.get("HMREC_BENCH_DATA")
    if env:
        return Path(env)
    base = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache"))
    return base / "hmrec" / f"bench-{scale}-seed0"


def run(name: str, args: list[str]) -> bool:
    print(f"\n=== {name}: {' '.join(args)}", flush=True)
    started = time.perf_counter()
    done = subprocess.run([sys.executable, *args], check=False)
    print(f"=== {name}: exit {done.returncode}, {time.perf_counter() - started:.0f} s wall", flush=True)
    return done.returncode == 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", default="full", choices=("tiny", "small", "medium", "full"))
    parser.add_argument(
        "--data", type=Path, default=None, help="use this data set instead of a generated one"
    )
    parser.add_argument("--skip", default="", help="comma-separated benchmark names to skip")
    args = parser.parse_args(argv)
    skip = set(filter(None, args.skip.split(",")))
    data = args.data or default_data(args.scale)
    results: dict[str, bool] = {}

    if args.data is None and "generate" not in skip:
        generate = [str(HERE / "bench_generate.py"), "--scale", args.scale]
        if not (data / "transactions_train.csv").exists():
            generate += ["--keep", str(data)]  # the timed run also produces the data set the others use
        results["generate"] = run("generate", generate)
    if not (data / "transactions_train.csv").exists():
        subprocess.run(
            [
                sys.executable,
                "-m",
                "hmrec",
                "generate",
                "--out",
                str(data),
                "--scale",
                args.scale,
                "--seed",
                "0",
                "--quiet",
            ],
            check=True,
        )
    steps = {
        "ingest": [str(HERE / "bench_ingest.py"), "--data", str(data), "--reference"],
        "metrics": [str(HERE / "bench_metrics.py")],
        "pipeline": [str(HERE / "bench_pipeline.py"), "--data", str(data)],
        "cluster": [str(HERE / "bench_cluster.py"), "--data", str(data)],
        "explore": [str(HERE / "bench_explore.py"), "--data", str(data)],
        "als_vs_implicit": [str(HERE / "als_vs_implicit.py"), "--data", str(data)],
        "sgd": [str(HERE / "bench_sgd.py"), "--data", str(data), "--repeat", "1"],
        "serve": [str(HERE / "bench_serve.py"), "--data", str(data)],
        "ranker": [str(HERE / "bench_ranker.py"), "--data", str(data)],
        "spark": [str(HERE / "bench_spark.py"), "--data", str(data)],
        "calibration": [str(HERE / "calibration.py"), "--data", str(data), "--scale", args.scale, "--check"],
    }
    for name, step in steps.items():
        if name not in skip:
            results[name] = run(name, step)
    print(
        "\nSummary: " + ", ".join(f"{name} {'ok' if ok else 'FAILED/MISSED'}" for name, ok in results.items())
    )
    return 0 if all(results.values()) else 1


if __name__ == "__main__":
    raise SystemExit(main())
