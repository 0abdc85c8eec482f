"""The local engine against Spark (local[2] by default) on the same data: seconds and peak memory per step.

    python benchmarks/bench_spark.py --data DIR [--master local[2]] [--steps ingest,als,submit] [--json]

Steps, each run once per engine in a fresh child process:

* ``ingest``: CSV -> typed cache (``--force``), into a cache directory of its own per engine;
* ``als``: fit ``als`` (default hyperparameters) on every transaction, then recommend 12 articles for every
  customer; fit and recommend are timed separately;
* ``submit``: the real command ``hmrec submit --model repurchase`` (start-up, loading, fit, recommend and
  writing the file);
* ``ranker``: the same command with ``--model ranker`` (Spark: trained on the driver on the window Spark cuts,
  scored on the executors); the two engines' files are compared byte for byte.

Seconds are measured inside the child around the library calls (the JVM's start-up is reported on its own as
``session``); ``submit`` is the command's wall time. Peak memory is the largest resident set of the child's
whole process tree (the Python driver, Spark's JVM and its Python workers), sampled every 0.2 s with psutil.
Ratios are Spark / local. The figures go into docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import psutil

STEPS = ("ingest", "als", "submit", "ranker")
#: the model of each step that is a whole ``hmrec submit`` command
SUBMIT_MODELS = {"submit": "repurchase", "ranker": "ranker"}
SPARK_CONF = {"spark.ui.enabled": "false", "spark.sql.shuffle.partitions": "8", "spark.driver.memory": "8g"}


def _worker(engine_name: str, step: str, data: Path, cache: Path, master: str) -> dict[str, Any]:
    """Inside the child: the timed library calls of one step."""
    import numpy as np

    from hmrec.engines import get_engine
    from hmrec.registry import create

    started = time.perf_counter()
    if engine_name == "spark":
        engine = get_engine("spark", master=master, conf=SPARK_CONF)
        session = engine.spark  # type: ignore[attr-defined]  # start the JVM outside the timed steps
        del session
    else:
        engine = get_engine("local")
    out: dict[str, Any] = {"session": time.perf_counter() - started}
    try:
        if step == "ingest":
            started = time.perf_counter()
            report = engine.ingest(data, cache, force=True, progress=False)
            out["ingest"] = time.perf_counter() - started
            out["transactions"] = report.summary["transactions"]
        elif step == "als":
            dataset = engine.load(data, cache, progress=False, transactions=False)
            started = time.perf_counter()
            fitted = engine.fit(create("als"), dataset)
            out["als_fit"] = time.perf_counter() - started
            started = time.perf_counter()
            ids, _ = fitted.recommend(np.arange(dataset.n_customers, dtype=np.int32), 12)
            out["recommend_all"] = time.perf_counter() - started
            out["customers"] = int(ids.shape[0])
        else:
            raise ValueError(step)
    finally:
        engine.close()
    return out


def _peak_tree_rss(process: psutil.Process, stop: threading.Event, peak: list[int]) -> None:
    while not stop.is_set():
        try:
            tree = [process, *process.children(recursive=True)]
            total = 0
            for member in tree:
                with contextlib.suppress(psutil.Error):  # a worker may exit between the two calls
                    total += member.memory_info().rss
            peak[0] = max(peak[0], total)
        except psutil.Error:
            pass
        stop.wait(0.2)


def _measure(command: list[str]) -> tuple[subprocess.CompletedProcess[str], float, float]:
    """Run ``command``; its result, wall seconds and peak tree RSS in GiB."""
    started = time.perf_counter()
    child = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    stop, peak = threading.Event(), [0]
    sampler = threading.Thread(target=_peak_tree_rss, args=(psutil.Process(child.pid), stop, peak), daemon=True)
    sampler.start()
    stdout, stderr = child.communicate()
    stop.set()
    sampler.join()
    wall = time.perf_counter() - started
    done = subprocess.CompletedProcess(command, child.returncode, stdout, stderr)
    if child.returncode != 0:
        # the first error of a failed Spark job is often far above the last lines: keep the whole log
        fd, log = tempfile.mkstemp(prefix="hmrec-bench-spark-failed-", suffix=".log")
        with open(fd, "w") as out:
            out.write(stderr)
        raise RuntimeError(f"{' '.join(command)} failed (whole log: {log}):\n{stderr[-3000:]}")
    return done, wall, peak[0] / 2**30


def run(data: Path, master: str, steps: list[str], work: Path) -> dict[str, dict[str, Any]]:
    results: dict[str, dict[str, Any]] = {}
    for engine in ("local", "spark"):
        cache = work / f"cache-{engine}"
        figures: dict[str, Any] = {}
        for step in steps:
            if step in SUBMIT_MODELS:
                extra = ["--engine", "spark", "--spark-master", master] if engine == "spark" else []
                for key, value in SPARK_CONF.items():
                    extra += ["--spark-conf", f"{key}={value}"] if engine == "spark" else []
                command = [sys.executable, "-m", "hmrec", "submit", "--data", str(data), "--cache", str(cache),
                           "--model", SUBMIT_MODELS[step], "--out", str(work / f"{step}-{engine}.csv"), "--quiet",
                           *extra]
                _, wall, peak = _measure(command)
                figures[step] = wall
                if engine == "spark":
                    figures[f"{step}_same_file"] = (work / f"{step}-spark.csv").read_bytes() == (
                        work / f"{step}-local.csv"
                    ).read_bytes()
            else:
                command = [sys.executable, __file__, "--worker", engine, step, "--data", str(data), "--cache",
                           str(cache), "--master", master]
                done, _, peak = _measure(command)
                figures.update(json.loads(done.stdout.strip().splitlines()[-1]))
            figures[f"{step}_peak_gib"] = peak
            print(f"{engine:>5} {step:<7} {json.dumps(figures)}", file=sys.stderr, flush=True)
        results[engine] = figures
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, required=True)
    parser.add_argument("--master", default="local[2]")
    parser.add_argument("--steps", default=",".join(STEPS))
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    parser.add_argument("--worker", nargs=2, metavar=("ENGINE", "STEP"), help=argparse.SUPPRESS)
    parser.add_argument("--cache", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        print(json.dumps(_worker(args.worker[0], args.worker[1], args.data, args.cache, args.master)))
        return 0
    from hmrec.engines.spark.session import check_available
    from hmrec.errors import HmrecError

    try:
        check_available()
    except HmrecError as exc:
        print(f"skipped: {exc}")
        return 0
    steps = [s for s in args.steps.split(",") if s]
    unknown = sorted(set(steps) - set(STEPS))
    if unknown:
        parser.error(f"unknown step {unknown[0]!r}; choose among {', '.join(STEPS)}")
    work = Path(tempfile.mkdtemp(prefix="hmrec-bench-spark-"))
    try:
        results = run(args.data, args.master, steps, work)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    if args.json:
        print(json.dumps(results, indent=2))
        return 0
    keys = [k for k in results["local"] if k in results["spark"] and k not in ("session", "transactions", "customers")]
    print(f"{'measure':<20} {'local':>10} {'spark':>10} {'spark/local':>12}")
    for key in keys:
        local, spark = results["local"][key], results["spark"][key]
        unit = "GiB" if key.endswith("_gib") else "s"
        print(f"{key:<20} {local:>9.2f}{unit[0]} {spark:>9.2f}{unit[0]} {spark / local:>11.2f}x")
    for key, same in results["spark"].items():
        if key.endswith("_same_file"):
            print(f"{key:<20} {'yes' if same else 'NO':>10}")
    print(f"{'spark session start':<20} {'':>10} {results['spark'].get('session', 0):>9.2f}s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
