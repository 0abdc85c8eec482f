"""Where hmrec's ALS fit spends its time: one iteration taken apart, wall and CPU seconds of each part.

Usage:
    python benchmarks/als_profile.py --data DIR [--threads 2] [--factors 64] [--repeat 3]

The same matrix as ``benchmarks/als_vs_implicit.py`` (train = everything before the last 7 days, the ALS
default weights and confidence). After two warm-up iterations (so that CG starts from factors near a
solution, as it does for most of a fit), each part runs ``--repeat`` times and the fastest run is shown:

* building the confidence matrix and its transpose (once per fit);
* the Gram matrices ``YᵀY + λI`` (articles, once per customers' half) and ``XᵀX + λI`` (customers), as
  computed now and, for comparison, in float64 as before;
* the CG kernel on the customers' side and on the articles' side (3 steps), and the customers' side with 0
  steps (the residual only: one product with ``YᵀY`` and one pass over the non-zeros) and with one
  non-zero per customer (what a row costs besides its non-zeros: the products with ``YᵀY``);
* the exact (Cholesky) kernel on the customers' side;
* a whole iteration.

"busy" is CPU seconds over threads x wall seconds: below 100% the threads waited (for each other at the end
of a parallel loop, or for a core on a shared machine).
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import scipy.sparse as sp

from als_vs_implicit import from_data  # benchmarks/ is the script's folder, so on sys.path


def measure(name: str, job: Callable[[], object], threads: int, repeat: int) -> None:
    best_wall, best_cpu = float("inf"), float("inf")
    for _ in range(repeat):
        started, cpu = time.perf_counter(), time.process_time()
        job()
        wall, used = time.perf_counter() - started, time.process_time() - cpu
        if wall < best_wall:
            best_wall, best_cpu = wall, used
    print(f"{name:52}{best_wall:9.3f}{best_cpu:9.3f}{best_cpu / (threads * best_wall):8.0%}", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, required=True, help="data directory (test week = its last 7 days)")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--factors", type=int, default=64)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()

    from hmrec.models import _kernels
    from hmrec.models.als import ALS, ALSSolver, confidence_matrix, gram
    from hmrec.models.scoring import numba_threads

    defaults = ALS().get_params()
    problem = from_data(args.data, defaults["half_life_days"])
    _kernels.compile_kernels()
    reg, threads, repeat = float(defaults["reg"]), args.threads, args.repeat
    conf = confidence_matrix(problem.weights, defaults["alpha"])
    print(f"matrix {conf.shape[0]:,} x {conf.shape[1]:,}, {conf.nnz:,} non-zeros; factors {args.factors}, "
          f"threads {threads}; fastest of {repeat}")
    print(f"{'':52}{'wall s':>9}{'CPU s':>9}{'busy':>8}")
    measure("confidence matrix + transpose (once per fit)",
            lambda: confidence_matrix(problem.weights, defaults["alpha"]).T.tocsr(), 1, repeat)
    solver = ALSSolver(conf, factors=args.factors, reg=reg, solver="cg", cg_steps=3, threads=threads, seed=0)
    c, ct = solver.conf, solver.conf_t
    # one non-zero per customer (the first): the kernel's cost per row besides the non-zeros
    first = sp.csr_matrix((c.data[c.indptr[:-1]], c.indices[c.indptr[:-1]], np.arange(c.shape[0] + 1)),
                          shape=c.shape)
    first_bounds = _kernels.balanced_chunks(first.indptr, threads * 16, args.factors)
    with numba_threads(threads):
        for _ in range(2):
            solver.iterate()
        x, y = solver.x, solver.y

        def float64_gram(factors: np.ndarray) -> np.ndarray:
            f64 = factors.astype(np.float64)
            return (f64.T @ f64 + reg * np.eye(factors.shape[1])).astype(np.float32)

        measure("Gram YᵀY + λI (articles)", lambda: gram(y, reg), 1, repeat)
        measure("Gram XᵀX + λI (customers)", lambda: gram(x, reg), 1, repeat)
        measure("Gram XᵀX + λI, float64 as before", lambda: float64_gram(x), 1, repeat)
        yty, xtx = gram(y, reg), gram(x, reg)

        def cg(m: sp.csr_matrix, rows: np.ndarray, cols: np.ndarray, g: np.ndarray, steps: int,
               bounds: np.ndarray) -> Callable[[], None]:
            return lambda: _kernels.als_cg(m.indptr, m.indices, m.data, rows.copy(), cols, g, steps, bounds)

        measure("CG customers, 3 steps", cg(c, x, y, yty, 3, solver.user_bounds), threads, repeat)
        measure("CG customers, 0 steps (residual only)", cg(c, x, y, yty, 0, solver.user_bounds), threads, repeat)
        measure("CG customers, 3 steps, one non-zero each", cg(first, x, y, yty, 3, first_bounds), threads, repeat)
        measure("CG articles, 3 steps", cg(ct, y, x, xtx, 3, solver.item_bounds), threads, repeat)
        yty64 = yty.astype(np.float64)
        measure("Cholesky customers (exact)",
                lambda: _kernels.als_cholesky(c.indptr, c.indices, c.data, x.copy(), y, yty64, solver.user_bounds),
                threads, 1)
        measure("one iteration (CG, as fit runs it)", solver.iterate, threads, repeat)


if __name__ == "__main__":
    main()
