"""Load test of `hmrec serve`: startup, memory, latency under open-loop load, and a reload under load.

    python benchmarks/bench_serve.py --data DIR [--model als] [--rates 50,200,500] [--duration 20]
    python benchmarks/bench_serve.py --model-dir BUNDLE [--model-dir BUNDLE2 ...]

Without ``--model-dir`` the bundle of ``--model`` is trained on ``--data`` first (``hmrec train``, into
``DIR/.hmrec-serve-bench/MODEL``, reused when present). The service runs in its own process on a free
127.0.0.1 port (loopback only); this process is the client: an httpx async client sending single-customer
requests (``GET /v1/customers/{id}/recommendations``, random known customers, seeded) *open loop* at a fixed
rate: request ``i`` is due at ``t0 + i / rate`` whether or not earlier ones have returned, and its latency is
counted from that due time (so a stalled server is not hidden by a client that waits for it). Every run is
bounded: ``rate x duration`` requests and a 10 s timeout per request. Then the same at ``--reload-rate`` with
``POST /admin/reload`` sent halfway: every request during the swap must succeed.

Reported: time from process start to ``/ready`` and the service's resident memory (VmRSS after loading, VmHWM
at the end), and for each rate the requests sent, errors, achieved throughput, p50 / p99 / max latency.
Targets (full scale, 2 cores): start <= 10 s, <= 3 GiB, p99 <= 25 ms at 200 requests/s, zero errors.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import secrets
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import numpy as np

TIMEOUT_S = 10.0


def train_bundle(data: Path, model: str) -> Path:
    out = data / ".hmrec-serve-bench" / model
    if not (out / "bundle.json").is_file():
        started = time.perf_counter()
        subprocess.run(
            [sys.executable, "-m", "hmrec", "train", "--data", str(data), "--model", model, "--out", str(out),
             "--quiet"],
            check=True,
        )
        print(f"trained the {model} bundle in {time.perf_counter() - started:.1f} s: {out}", flush=True)
    return out


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def status_kib(pid: int, key: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(key + ":"):
            return int(line.split()[1])
    return 0


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of process ``pid`` so far (from /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def run_rate(base: str, customers: np.ndarray, rate: float, args: argparse.Namespace, server: int,
             token: str | None = None) -> dict[str, Any]:
    """One open-loop run, with the CPU time the service and this client spent per request.

    CPU per request does not depend on what else runs on the machine, so it tells the capacity of a core
    even when the latency figures are those of a shared machine.
    """
    server_before, client_before = cpu_seconds(server), time.process_time()
    run = asyncio.run(open_loop(base, customers, rate, args.duration, connections=args.connections,
                                reload_token=token))
    n = max(run["sent"], 1)
    run["server_cpu_ms_per_request"] = round((cpu_seconds(server) - server_before) / n * 1000, 3)
    run["client_cpu_ms_per_request"] = round((time.process_time() - client_before) / n * 1000, 3)
    print(json.dumps(run), flush=True)
    return run


def start_server(bundles: list[Path], port: int, token: str) -> tuple[subprocess.Popen[bytes], float]:
    """Start the service; returns it and the seconds from process start to a 200 from /ready."""
    args = [sys.executable, "-m", "hmrec", "serve", "--port", str(port)]
    for b in bundles:
        args += ["--model-dir", str(b)]
    started = time.perf_counter()
    process = subprocess.Popen(args, env={**os.environ, "HMREC_ADMIN_TOKEN": token})
    url = f"http://127.0.0.1:{port}/ready"
    while True:
        if process.poll() is not None:
            raise SystemExit(f"hmrec serve exited with {process.returncode}")
        try:
            if httpx.get(url, timeout=1).status_code == 200:
                return process, time.perf_counter() - started
        except httpx.HTTPError:
            pass
        if time.perf_counter() - started > 120:
            process.terminate()
            raise SystemExit("hmrec serve was not ready within 120 s")
        time.sleep(0.05)


async def open_loop(
    base: str,
    customers: np.ndarray,
    rate: float,
    duration: float,
    *,
    connections: int = 64,
    reload_token: str | None = None,
) -> dict[str, Any]:
    """``rate x duration`` requests due at fixed intervals; latencies from their due times.

    At most ``connections`` are open: a request due while all are busy waits for one, and that wait counts
    in its latency (as a queue in front of the service would).
    """
    n = int(rate * duration)
    latencies = np.full(n, np.nan)
    errors: list[str] = []
    reload_result: dict[str, Any] = {}
    limits = httpx.Limits(max_connections=connections, max_keepalive_connections=connections)
    async with httpx.AsyncClient(base_url=base, timeout=TIMEOUT_S, limits=limits) as client:
        loop = asyncio.get_running_loop()

        async def one(i: int, due: float) -> None:
            try:
                response = await client.get(f"/v1/customers/{customers[i % customers.size]}/recommendations")
                if response.status_code != 200 or len(response.json()["items"]) == 0:
                    errors.append(f"{response.status_code} {response.text[:80]}")
                    return
            except httpx.HTTPError as exc:
                errors.append(type(exc).__name__)
                return
            latencies[i] = loop.time() - due

        async def reload() -> None:
            started = loop.time()
            response = await client.post("/admin/reload", headers={"authorization": f"Bearer {reload_token}"},
                                         timeout=120)
            reload_result.update(status=response.status_code, seconds=loop.time() - started)

        t0 = loop.time() + 0.05
        tasks = []
        for i in range(n):
            due = t0 + i / rate
            delay = due - loop.time()
            if delay > 0:
                await asyncio.sleep(delay)
            tasks.append(asyncio.create_task(one(i, due)))
            if reload_token is not None and i == n // 2:
                tasks.append(asyncio.create_task(reload()))
        await asyncio.gather(*tasks)
        elapsed = loop.time() - t0
    ok = latencies[~np.isnan(latencies)] * 1000
    return {
        "rate": rate,
        "sent": n,
        "errors": len(errors),
        "first_errors": errors[:3],
        "throughput": round(ok.size / elapsed, 1),
        "p50_ms": round(float(np.percentile(ok, 50)), 2) if ok.size else None,
        "p99_ms": round(float(np.percentile(ok, 99)), 2) if ok.size else None,
        "max_ms": round(float(ok.max()), 2) if ok.size else None,
        **({"reload": reload_result} if reload_token is not None else {}),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, help="data set to train the bundle on (without --model-dir)")
    parser.add_argument("--model", default="als", help="model to train the bundle of (default als)")
    parser.add_argument("--model-dir", type=Path, action="append", default=[], help="serve these bundles")
    parser.add_argument("--rates", default="50,200,500", help="requests per second, comma-separated")
    parser.add_argument("--duration", type=float, default=20.0, help="seconds per rate (bounds the requests)")
    parser.add_argument("--reload-rate", type=float, default=200.0, help="rate of the run with a reload")
    parser.add_argument("--connections", type=int, default=64, help="client connections at most")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", type=Path, help="also write the results here")
    args = parser.parse_args(argv)
    if not args.model_dir:
        if args.data is None:
            parser.error("give --data (to train a bundle) or --model-dir")
        args.model_dir = [train_bundle(args.data, args.model)]
    bundle = args.model_dir[0]
    ids = np.load(bundle / "serve" / "customer_ids.npy", mmap_mode="r")
    rng = np.random.default_rng(args.seed)
    sample = np.sort(rng.choice(ids.shape[0], min(20_000, ids.shape[0]), replace=False))
    customers = np.array([bytes(c).decode() for c in ids[sample]])
    rng.shuffle(customers)

    token = secrets.token_hex(16)
    port = free_port()
    process, startup = start_server(args.model_dir, port, token)
    results: dict[str, Any] = {"bundles": [str(b) for b in args.model_dir], "startup_s": round(startup, 2)}
    try:
        results["rss_after_load_gib"] = round(status_kib(process.pid, "VmRSS") / 2**20, 3)
        base = f"http://127.0.0.1:{port}"
        asyncio.run(open_loop(base, customers, 100, 2))  # warm-up: connections, first page faults
        results["runs"] = []
        for rate in [float(r) for r in args.rates.split(",") if r]:
            results["runs"].append(run_rate(base, customers, rate, args, process.pid))
        results["reload_run"] = run_rate(base, customers, args.reload_rate, args, process.pid, token)
        results["peak_rss_gib"] = round(status_kib(process.pid, "VmHWM") / 2**20, 3)
    finally:
        process.terminate()
        process.wait(timeout=30)
    print(f"\nstartup {results['startup_s']} s to /ready; RSS {results['rss_after_load_gib']} GiB after loading, "
          f"peak {results['peak_rss_gib']} GiB")
    print("| requests/s | sent | errors | achieved/s | p50 ms | p99 ms | max ms | service CPU ms/req "
          "| client CPU ms/req |")
    print("|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for run in [*results["runs"], results["reload_run"]]:
        label = f"{run['rate']:.0f}" + (" + reload" if "reload" in run else "")
        print(f"| {label} | {run['sent']} | {run['errors']} | {run['throughput']} | {run['p50_ms']} | "
              f"{run['p99_ms']} | {run['max_ms']} | {run['server_cpu_ms_per_request']} | "
              f"{run['client_cpu_ms_per_request']} |")
    reload = results["reload_run"]["reload"]
    print(f"reload: HTTP {reload.get('status')} in {reload.get('seconds', float('nan')):.2f} s")
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))
    failed = results["reload_run"]["errors"] + sum(r["errors"] for r in results["runs"])
    return 1 if failed or reload.get("status") != 200 else 0


if __name__ == "__main__":
    raise SystemExit(main())
