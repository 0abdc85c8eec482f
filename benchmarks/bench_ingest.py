"""Benchmark the loader: CSV -> typed cache seconds and peak memory, cached-load seconds, and their ratio.

    python benchmarks/bench_ingest.py --data DIR [--cache DIR] [--repeat 3] [--reference] [--json]

Each measurement runs in a fresh child process, so that its peak resident memory (from ``os.wait4``) is its
own and no earlier import or file cache inside the process helps it. Seconds are measured inside the child
around the library call (interpreter start-up and imports excluded). ``--reference`` also times polars
reading transactions_train.csv alone, the floor for the CSV stage. The cache is rebuilt (``--cache``, else
the data directory's usual ``.hmrec-cache``).

Targets at full scale (31.8M transactions, 3.3 GB of CSV): CSV -> cache <= 60 s with peak RSS <= 10 GiB;
loading from the cache >= 10x faster than from CSV.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

TARGET_BUILD_SECONDS = 60.0
TARGET_PEAK_GIB = 10.0
TARGET_SPEEDUP = 10.0


def _worker(mode: str, data: Path, cache: Path | None) -> dict[str, Any]:
    """Runs inside the child process: one timed library call, reported as JSON on stdout."""
    import polars as pl

    from hmrec.data.load import build_cache, load_dataset
    from hmrec.data.schema import CSV_SCHEMAS, TRANSACTIONS_FILE

    started = time.perf_counter()
    if mode == "build":
        path = build_cache(data, cache, progress=False)
        seconds = time.perf_counter() - started
        manifest = json.loads((path / "manifest.json").read_text())
        return {
            "seconds": seconds,
            "stages": manifest.get("build_seconds", {}),
            "rows": manifest["rows"],
            "cache_bytes": sum(p.stat().st_size for p in path.iterdir()),
        }
    if mode == "load":
        dataset = load_dataset(data, cache, progress=False)
        seconds = time.perf_counter() - started
        return {"seconds": seconds, "transactions": dataset.n_transactions}
    if mode == "reference":
        frame = pl.read_csv(data / TRANSACTIONS_FILE, schema_overrides=CSV_SCHEMAS[TRANSACTIONS_FILE])
        return {"seconds": time.perf_counter() - started, "rows": frame.height}
    raise ValueError(mode)


def _child(mode: str, data: Path, cache: Path | None) -> dict[str, Any]:
    """Run one measurement in a fresh process; add its peak RSS in GiB."""
    command = [sys.executable, __file__, "--worker", mode, "--data", str(data)]
    if cache is not None:
        command += ["--cache", str(cache)]
    proc = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    output = proc.stdout.read()
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        raise SystemExit(f"{mode} failed (exit {proc.returncode})")
    result: dict[str, Any] = json.loads(output.strip().splitlines()[-1])
    # ru_maxrss is in KiB on Linux.
    result["peak_gib"] = usage.ru_maxrss / (1 << 20)
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, required=True, help="directory with the three competition CSVs")
    parser.add_argument("--cache", type=Path, default=None, help="default: DATA/.hmrec-cache")
    parser.add_argument("--repeat", type=int, default=3, help="cached loads to time (the best is reported)")
    parser.add_argument("--reference", action="store_true", help="also time polars reading the transactions")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    parser.add_argument("--worker", choices=("build", "load", "reference"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    if args.worker:
        print(json.dumps(_worker(args.worker, args.data, args.cache)))
        return 0

    build = _child("build", args.data, args.cache)
    loads = [_child("load", args.data, args.cache) for _ in range(max(1, args.repeat))]
    load = min(loads, key=lambda r: r["seconds"])
    figures: dict[str, Any] = {
        "transactions": build["rows"]["transactions_train.csv"],
        "csv_to_cache_seconds": round(build["seconds"], 2),
        "csv_to_cache_peak_gib": round(build["peak_gib"], 2),
        "stages_seconds": build["stages"],
        "cache_mib": round(build["cache_bytes"] / (1 << 20), 1),
        "cached_load_seconds": round(load["seconds"], 3),
        "cached_load_peak_gib": round(load["peak_gib"], 2),
        "speedup": round(build["seconds"] / load["seconds"], 1),
    }
    if args.reference:
        reference = _child("reference", args.data, None)
        figures["polars_read_transactions_seconds"] = round(reference["seconds"], 2)
        figures["polars_read_transactions_peak_gib"] = round(reference["peak_gib"], 2)
    checks = {
        f"CSV -> cache <= {TARGET_BUILD_SECONDS:.0f} s": (
            figures["csv_to_cache_seconds"] <= TARGET_BUILD_SECONDS
        ),
        f"peak memory <= {TARGET_PEAK_GIB:.0f} GiB": figures["csv_to_cache_peak_gib"] <= TARGET_PEAK_GIB,
        f"cached load >= {TARGET_SPEEDUP:.0f}x faster": figures["speedup"] >= TARGET_SPEEDUP,
    }
    figures["targets_met"] = {name: bool(ok) for name, ok in checks.items()}
    if args.json:
        print(json.dumps(figures, indent=2))
        return 0
    stages = ", ".join(f"{k} {v:.2f} s" for k, v in figures["stages_seconds"].items())
    print(f"data: {args.data} ({figures['transactions']:,} transactions)")
    f = figures
    print(
        f"CSV -> cache   {f['csv_to_cache_seconds']:8.2f} s   peak RSS {f['csv_to_cache_peak_gib']:.2f} GiB"
    )
    print(f"  stages: {stages}; cache size {f['cache_mib']} MiB")
    print(f"cached load    {f['cached_load_seconds']:8.3f} s   peak RSS {f['cached_load_peak_gib']:.2f} GiB")
    print(f"speed-up       {figures['speedup']:8.1f}x")
    if args.reference:
        print(
            f"polars read_csv of the transactions alone: {f['polars_read_transactions_seconds']:.2f} s, "
            f"peak RSS {figures['polars_read_transactions_peak_gib']:.2f} GiB"
        )
    for name, ok in checks.items():
        print(f"  {'ok  ' if ok else 'MISS'} {name}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
