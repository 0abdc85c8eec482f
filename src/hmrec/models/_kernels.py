"""numba kernels of the matrix-factorization models (private; plain numpy twins live in ``_reference.py``).

Every kernel works on float32 factors and a CSR matrix given as ``(indptr, indices, data)``. Parallel kernels
split the rows into *work-balanced chunks* (about the same number of non-zeros plus a per-row constant in
each) and run the chunks with ``prange``; a chunk allocates its scratch vectors once, so the per-row loop
never allocates. Rows are independent in ALS, so the result does not depend on the number of threads.

The ALS kernels follow implicit's CPU solver (benfred/implicit, ``cpu/_als.pyx``): the normal equations of
customer ``u`` are

    (YᵀY + λI + Yᵀ(Cᵤ − I)Y) xᵤ = YᵀCᵤpᵤ

where only the rows of ``Y`` the customer bought enter ``Yᵀ(Cᵤ − I)Y`` (``Cᵤ − I`` is zero elsewhere) and
``YᵀCᵤpᵤ = Σᵢ cᵤᵢ yᵢ`` over those rows. ``YᵀY + λI`` is computed once per half-iteration and passed in.

Same input, same bits, in every process. The kernels are compiled with :data:`FASTMATH`, not numba's
``fastmath=True``: no ``nnan``/``ninf`` (``-inf`` marks padding and excluded articles), and no ``reassoc``.
With ``reassoc`` the compiler may reorder float sums differently in different builds of the same code, and
it did: the process that compiled the kernels and later processes that loaded them from numba's cache
differed in the last bit of ALS factors (factors=8), enough to swap near-tied articles in a submission.
Sums are instead written with a fixed order: :func:`_dot` keeps 8 partial sums combined by a fixed tree, so
vectorizing it (8 lanes) or not gives the same bits, and :func:`_symv` sums each output over the rows in
order, 32 columns at a time in 32 accumulators (vectorized across columns, no sum reordered).
``contract`` (fused multiply-add) stays: it is decided per instruction, the same in every build on one
machine. :func:`compile_kernels` compiles all kernels once, with LLVM's SLP vectorizer on (numba leaves it
off), which packs those accumulators into vectors.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numba
import numpy as np
from llvmlite import ir
from numba import njit, prange, types
from numba.core import cgutils
from numba.extending import intrinsic

#: LLVM fast-math flags of every kernel: fused multiply-add, reciprocals and signed zeros may be relaxed;
#: NaN/inf semantics and the order of float sums are kept (see the module docstring)
FASTMATH = {"contract", "arcp", "nsz"}

# ---------------------------------------------------------------------------------------------- chunking


def balanced_chunks(indptr: np.ndarray, n_chunks: int, row_cost: int) -> np.ndarray:
    """Row boundaries ``b`` (length ``c + 1``) cutting the rows into ``c <= n_chunks`` runs of similar work.

    Work of row ``r`` is ``nnz(r) + row_cost``: ALS pays a dense ``f x f`` product per row and ``f``-long
    dots per non-zero, so ``row_cost`` is about ``f`` (in units of one non-zero).
    """
    n = indptr.size - 1
    if n == 0:
        return np.zeros(1, dtype=np.int64)
    work = np.asarray(indptr, dtype=np.int64) + row_cost * np.arange(n + 1, dtype=np.int64)
    targets = np.linspace(0, work[-1], max(1, n_chunks) + 1)
    bounds = np.searchsorted(work, targets, side="left").astype(np.int64)
    bounds[0], bounds[-1] = 0, n
    return np.unique(bounds)


# ------------------------------------------------------------------------------------------ small dense ops


@njit(fastmath=FASTMATH, cache=True, inline="always")
def _dot(a: np.ndarray, b: np.ndarray) -> np.float32:
    # lane l sums the products k = l, l + 8, ...; the tail goes to lane 0; lanes are added pairwise. The
    # order is fixed by the code, so the result is the same with or without vector instructions.
    n = a.shape[0]
    m = n - n % 8
    s0 = s1 = s2 = s3 = s4 = s5 = s6 = s7 = np.float32(0.0)
    for k in range(0, m, 8):
        s0 += a[k] * b[k]
        s1 += a[k + 1] * b[k + 1]
        s2 += a[k + 2] * b[k + 2]
        s3 += a[k + 3] * b[k + 3]
        s4 += a[k + 4] * b[k + 4]
        s5 += a[k + 5] * b[k + 5]
        s6 += a[k + 6] * b[k + 6]
        s7 += a[k + 7] * b[k + 7]
    for k in range(m, n):
        s0 += a[k] * b[k]
    return ((s0 + s1) + (s2 + s3)) + ((s4 + s5) + (s6 + s7))


@njit(fastmath=FASTMATH, cache=True, inline="always")
def _symv(a: np.ndarray, x: np.ndarray, out: np.ndarray) -> None:
    # out = A x for a small dense symmetric (f, f) matrix, as out[j] = Σₖ xₖ A[k, j] summed over k = 0, 1, ...
    # in order (A[k, :] = A[:, k] by symmetry): the sums of a sequence of axpy steps, but 32 columns at a
    # time in 32 scalar accumulators, which the compiler packs into vector registers that stay there over
    # all k. An axpy sequence loads and stores ``out`` once per k (the compiler cannot keep it in registers:
    # it does not know that ``out`` and ``a`` never overlap); this took a fifth off the customers' half.
    f = x.shape[0]
    j = 0
    while j + 32 <= f:
        t0 = t1 = t2 = t3 = t4 = t5 = t6 = t7 = t8 = t9 = t10 = t11 = t12 = t13 = t14 = t15 = np.float32(0.0)
        t16 = t17 = t18 = t19 = t20 = t21 = t22 = t23 = np.float32(0.0)
        t24 = t25 = t26 = t27 = t28 = t29 = t30 = t31 = np.float32(0.0)
        for k in range(f):
            xk = x[k]
            row = a[k]
            t0 += xk * row[j + 0]
            t1 += xk * row[j + 1]
            t2 += xk * row[j + 2]
            t3 += xk * row[j + 3]
            t4 += xk * row[j + 4]
            t5 += xk * row[j + 5]
            t6 += xk * row[j + 6]
            t7 += xk * row[j + 7]
            t8 += xk * row[j + 8]
            t9 += xk * row[j + 9]
            t10 += xk * row[j + 10]
            t11 += xk * row[j + 11]
            t12 += xk * row[j + 12]
            t13 += xk * row[j + 13]
            t14 += xk * row[j + 14]
            t15 += xk * row[j + 15]
            t16 += xk * row[j + 16]
            t17 += xk * row[j + 17]
            t18 += xk * row[j + 18]
            t19 += xk * row[j + 19]
            t20 += xk * row[j + 20]
            t21 += xk * row[j + 21]
            t22 += xk * row[j + 22]
            t23 += xk * row[j + 23]
            t24 += xk * row[j + 24]
            t25 += xk * row[j + 25]
            t26 += xk * row[j + 26]
            t27 += xk * row[j + 27]
            t28 += xk * row[j + 28]
            t29 += xk * row[j + 29]
            t30 += xk * row[j + 30]
            t31 += xk * row[j + 31]
        out[j + 0] = t0
        out[j + 1] = t1
        out[j + 2] = t2
        out[j + 3] = t3
        out[j + 4] = t4
        out[j + 5] = t5
        out[j + 6] = t6
        out[j + 7] = t7
        out[j + 8] = t8
        out[j + 9] = t9
        out[j + 10] = t10
        out[j + 11] = t11
        out[j + 12] = t12
        out[j + 13] = t13
        out[j + 14] = t14
        out[j + 15] = t15
        out[j + 16] = t16
        out[j + 17] = t17
        out[j + 18] = t18
        out[j + 19] = t19
        out[j + 20] = t20
        out[j + 21] = t21
        out[j + 22] = t22
        out[j + 23] = t23
        out[j + 24] = t24
        out[j + 25] = t25
        out[j + 26] = t26
        out[j + 27] = t27
        out[j + 28] = t28
        out[j + 29] = t29
        out[j + 30] = t30
        out[j + 31] = t31
        j += 32
    # the last f % 32 columns as axpy steps over k: the same order, without the accumulators
    for jj in range(j, f):
        out[jj] = 0.0
    for k in range(f):
        xk = x[k]
        row = a[k]
        for jj in range(j, f):
            out[jj] += xk * row[jj]


@njit(fastmath=FASTMATH, cache=True, inline="always")
def _axpy(alpha: np.float32, x: np.ndarray, y: np.ndarray) -> None:
    for k in range(x.shape[0]):
        y[k] += alpha * x[k]


#: how many non-zeros ahead of the one being read a pass over a row's non-zeros prefetches the factors of
#: (the fastest of 4, 8 and 16 on ``medium``)
PREFETCH_AHEAD = 8


def _prefetch_row_typed(typingctx: Any, matrix: Any, row: Any) -> tuple[Any, Callable[..., Any]]:
    """Ask the processor to bring row ``row`` of a 2-D array into cache (LLVM's ``prefetch``, four 64-byte
    lines: the 256 bytes of 64 float32 factors). A hint only: it changes no result and never faults.

    The factors a row's non-zeros point to are scattered over ``Y`` (``X`` on the articles' side: hundreds of
    MB at full scale), so reading them is mostly waiting for memory. The processor cannot look far enough
    ahead by itself; asking for the rows a few non-zeros early took a third off the articles' half of an
    iteration and a tenth off the customers' on ``medium`` (CPU seconds).
    """

    def codegen(context: Any, builder: Any, signature: Any, args: Any) -> Any:
        matrix_type, row_type = signature.args
        array = context.make_array(matrix_type)(context, builder, args[0])
        index = context.cast(builder, args[1], row_type, types.intp)
        start = cgutils.get_item_pointer(context, builder, matrix_type, array,
                                         [index, context.get_constant(types.intp, 0)])
        byte = ir.IntType(8).as_pointer()
        i32 = ir.IntType(32)
        prefetch = cgutils.get_or_insert_function(
            builder.module, ir.FunctionType(ir.VoidType(), [byte, i32, i32, i32]), "llvm.prefetch.p0"
        )
        first = builder.bitcast(start, byte)
        for offset in (0, 64, 128, 192):
            line = builder.gep(first, [ir.Constant(ir.IntType(64), offset)])
            builder.call(prefetch, [line, i32(0), i32(3), i32(1)])  # read, keep in all cache levels, data
        return context.get_dummy_value()

    return types.void(matrix, row), codegen


# called as _prefetch_row(matrix, row) inside kernels (numba supplies the typing context)
_prefetch_row: Any = intrinsic(_prefetch_row_typed)


# ---------------------------------------------------------------------------------------------- ALS, CG


@njit(fastmath=FASTMATH, cache=True)
def _cg_row(
    lo: int,
    hi: int,
    indices: np.ndarray,
    conf: np.ndarray,
    x: np.ndarray,
    y: np.ndarray,
    yty: np.ndarray,
    cg_steps: int,
    r: np.ndarray,
    p: np.ndarray,
    ap: np.ndarray,
) -> None:
    one = np.float32(1.0)
    # residual r = b - A x = Σ cᵢ yᵢ - (YᵀY + λI) x - Σ (cᵢ - 1)(yᵢ·x) yᵢ
    _symv(yty, x, r)
    for k in range(r.shape[0]):
        r[k] = -r[k]
    # prefetching runs past the row's end into the next row's non-zeros: they are read next
    last = indices.size - PREFETCH_AHEAD
    for idx in range(lo, hi):
        if idx < last:
            _prefetch_row(y, indices[idx + PREFETCH_AHEAD])
        yi = y[indices[idx]]
        c = conf[idx]
        _axpy(c - (c - one) * _dot(yi, x), yi, r)
    for k in range(r.shape[0]):
        p[k] = r[k]
    rsold = _dot(r, r)
    if rsold < 1e-20:
        return
    for _ in range(cg_steps):
        # Ap = (YᵀY + λI) p + Σ (cᵢ - 1)(yᵢ·p) yᵢ, without forming the matrix
        _symv(yty, p, ap)
        for idx in range(lo, hi):
            if idx < last:
                _prefetch_row(y, indices[idx + PREFETCH_AHEAD])
            yi = y[indices[idx]]
            _axpy((conf[idx] - one) * _dot(yi, p), yi, ap)
        pap = _dot(p, ap)
        if pap <= 0:
            return
        step = rsold / pap
        _axpy(step, p, x)
        _axpy(-step, ap, r)
        rsnew = _dot(r, r)
        if rsnew < 1e-20:
            return
        beta = rsnew / rsold
        for k in range(p.shape[0]):
            p[k] = r[k] + beta * p[k]
        rsold = rsnew


@njit(parallel=True, fastmath=FASTMATH, cache=True)
def als_cg(
    indptr: np.ndarray,
    indices: np.ndarray,
    conf: np.ndarray,
    x: np.ndarray,
    y: np.ndarray,
    yty: np.ndarray,
    cg_steps: int,
    bounds: np.ndarray,
) -> None:
    """Update every row of ``x`` in place by ``cg_steps`` conjugate-gradient steps (Takács et al. 2011).

    Warm-started from the current ``x`` (as implicit does): after the first iterations the previous solution
    is close, and three steps reach about the accuracy of the exact solve. ``conf`` holds the confidences
    ``c = 1 + alpha * w`` of the non-zeros; ``yty`` is ``YᵀY + λI``. Rows without non-zeros are set to zero.
    """
    f = x.shape[1]
    for chunk in prange(bounds.size - 1):
        r = np.empty(f, dtype=np.float32)
        p = np.empty(f, dtype=np.float32)
        ap = np.empty(f, dtype=np.float32)
        for u in range(bounds[chunk], bounds[chunk + 1]):
            lo, hi = indptr[u], indptr[u + 1]
            if lo == hi:
                x[u, :] = 0.0
                continue
            _cg_row(lo, hi, indices, conf, x[u], y, yty, cg_steps, r, p, ap)


# ---------------------------------------------------------------------------------------------- ALS, Cholesky


@njit(fastmath=FASTMATH, cache=True)
def _cholesky_solve(a: np.ndarray, b: np.ndarray) -> None:
    """Solve ``a z = b`` for symmetric positive definite ``a`` in place: ``a`` becomes L, ``b`` becomes z."""
    f = b.shape[0]
    for j in range(f):
        s = a[j, j]
        for k in range(j):
            s -= a[j, k] * a[j, k]
        d = np.sqrt(s) if s > 0 else 1e-12
        a[j, j] = d
        for i in range(j + 1, f):
            s = a[i, j]
            for k in range(j):
                s -= a[i, k] * a[j, k]
            a[i, j] = s / d
    for i in range(f):  # L w = b
        s = b[i]
        for k in range(i):
            s -= a[i, k] * b[k]
        b[i] = s / a[i, i]
    for i in range(f - 1, -1, -1):  # Lᵀ z = w
        s = b[i]
        for k in range(i + 1, f):
            s -= a[k, i] * b[k]
        b[i] = s / a[i, i]


@njit(parallel=True, fastmath=FASTMATH, cache=True)
def als_cholesky(
    indptr: np.ndarray,
    indices: np.ndarray,
    conf: np.ndarray,
    x: np.ndarray,
    y: np.ndarray,
    yty: np.ndarray,
    bounds: np.ndarray,
) -> None:
    """Exact ALS update of every row of ``x``: form ``YᵀY + λI + Yᵀ(Cᵤ − I)Y`` and solve by Cholesky.

    Costs ``f²`` per non-zero plus ``f³/3`` per row (against ``~4·2f`` per non-zero for CG); accumulated in
    float64 so that it is the accurate reference the CG solver is measured against.
    """
    f = x.shape[1]
    for chunk in prange(bounds.size - 1):
        a = np.empty((f, f), dtype=np.float64)
        b = np.empty(f, dtype=np.float64)
        for u in range(bounds[chunk], bounds[chunk + 1]):
            lo, hi = indptr[u], indptr[u + 1]
            if lo == hi:
                x[u, :] = 0.0
                continue
            for j in range(f):
                b[j] = 0.0
                for k in range(f):
                    a[j, k] = yty[j, k]
            for idx in range(lo, hi):
                yi = y[indices[idx]]
                c = np.float64(conf[idx])
                for j in range(f):
                    yj = np.float64(yi[j])
                    b[j] += c * yj
                    w = (c - 1.0) * yj
                    for k in range(j + 1):  # lower triangle only: that is all the factorization reads
                        a[j, k] += w * yi[k]
            _cholesky_solve(a, b)
            for j in range(f):
                x[u, j] = b[j]


# ---------------------------------------------------------------------------------------------- ALS, loss


@njit(parallel=True, fastmath=FASTMATH, cache=True)
def als_loss_terms(
    indptr_t: np.ndarray,
    indices_t: np.ndarray,
    conf_t: np.ndarray,
    x: np.ndarray,
    y: np.ndarray,
    xtx: np.ndarray,
    bounds: np.ndarray,
) -> np.ndarray:
    """Per-row part of the weighted squared loss ``Σᵤᵢ cᵤᵢ (pᵤᵢ − xᵤ·yᵢ)²``, one term per row of ``y``.

    Written for rows ``i`` of ``y`` against the columns' factors ``x`` (call it with the roles of the two
    factor matrices as needed): row ``i`` contributes ``yᵢᵀ(XᵀX)yᵢ`` (every column as if ``p = 0, c = 1``)
    corrected on its stored entries: ``+ (c − 1)s² − 2cs + c`` with ``s = xᵤ·yᵢ`` (that is
    ``c(1 − s)² − s²``). ``indptr_t`` etc. are the confidence matrix with one row per row of ``y``;
    ``xtx = XᵀX`` without regularization. Costs ``f²`` per row and ``f`` per non-zero. Returns float64
    terms, summed by the caller in a fixed order (deterministic).
    """
    n, f = y.shape
    out = np.zeros(n, dtype=np.float64)
    for chunk in prange(bounds.size - 1):
        tmp = np.empty(f, dtype=np.float32)
        for i in range(bounds[chunk], bounds[chunk + 1]):
            yi = y[i]
            _symv(xtx, yi, tmp)
            total = np.float64(_dot(yi, tmp))
            for idx in range(indptr_t[i], indptr_t[i + 1]):
                c = np.float64(conf_t[idx])
                s = np.float64(_dot(x[indices_t[idx]], yi))
                total += (c - 1.0) * s * s - 2.0 * c * s + c
            out[i] = total
    return out


# ---------------------------------------------------------------------------------------------- top-k


@njit(parallel=True, fastmath=FASTMATH, cache=True)
def factor_top_k(
    p: np.ndarray,
    customers: np.ndarray,
    q: np.ndarray,
    q_ids: np.ndarray,
    q_norms: np.ndarray,
    k: int,
    tile_rows: int,
    tile_cols: int,
    exclude_indptr: np.ndarray,
    exclude_indices: np.ndarray,
    position: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Exact top ``k`` of ``p[c]·q[j]`` over the rows ``j`` of ``q`` for each customer ``c``, best first.

    ``q`` holds the candidates' factors sorted by decreasing norm ``q_norms``; ``q_ids`` are their article
    indices (returned in ``ids``; ties go to the lower article index). Each thread takes ``tile_rows``
    customers and walks the candidates in tiles of ``tile_cols``: one small ``sgemm`` per tile (BLAS, one
    thread), whose scores are still in cache when they are merged into the running top-``k`` buffers.

    Pruning (exact): by Cauchy-Schwarz no candidate after position ``j`` can score above ``‖p‖·q_norms[j]``;
    once every customer of the tile has ``k`` scores at least that high, the remaining candidates are skipped.
    With factor models, whose popular articles have the largest norms, this often skips most of the catalogue.

    ``exclude_indptr``/``exclude_indices`` (a CSR over all customers; empty ``indptr`` = no exclusion) list
    articles never to return; ``position[a]`` is the row of article ``a`` in ``q`` (-1 if not a candidate).
    Also returns, per customer tile, how many candidates were scored (for measuring the pruning).
    """
    n = customers.size
    m, f = q.shape
    ids = np.full((n, k), -1, dtype=np.int32)
    vals = np.full((n, k), -np.inf, dtype=np.float32)
    n_tiles = (n + tile_rows - 1) // tile_rows
    scored = np.zeros(n_tiles, dtype=np.int64)
    use_exclude = exclude_indptr.size > 0
    for t in prange(n_tiles):
        lo = t * tile_rows
        rows = min(n, lo + tile_rows) - lo
        pb = np.empty((rows, f), dtype=np.float32)
        norms = np.empty(rows, dtype=np.float32)
        for r in range(rows):
            pb[r] = p[customers[lo + r]]
            norms[r] = np.sqrt(_dot(pb[r], pb[r]))
        block = np.empty((rows, tile_cols), dtype=np.float32)
        c0 = 0
        while c0 < m:
            c1 = min(m, c0 + tile_cols)
            width = c1 - c0
            if width == tile_cols:
                np.dot(pb, q[c0:c1].T, block)
                s = block
            else:
                s = np.dot(pb, q[c0:c1].T)
            scored[t] += width
            for r in range(rows):
                rv = vals[lo + r]
                ri = ids[lo + r]
                if use_exclude:
                    u = customers[lo + r]
                    for idx in range(exclude_indptr[u], exclude_indptr[u + 1]):
                        pos = position[exclude_indices[idx]]
                        if c0 <= pos < c1:
                            s[r, pos - c0] = -np.inf
                for j in range(width):
                    v = s[r, j]
                    col = q_ids[c0 + j]
                    if v > rv[k - 1] or (v == rv[k - 1] and v > -np.inf and col < ri[k - 1]):
                        pos = k - 1
                        while pos > 0 and (v > rv[pos - 1] or (v == rv[pos - 1] and col < ri[pos - 1])):
                            rv[pos] = rv[pos - 1]
                            ri[pos] = ri[pos - 1]
                            pos -= 1
                        rv[pos] = v
                        ri[pos] = col
            c0 = c1
            if c0 < m:
                done = True
                for r in range(rows):
                    # strictly above the bound (a tie could still win on the article index), with a margin
                    # for float32 rounding of the computed scores and norms
                    if not vals[lo + r, k - 1] > norms[r] * q_norms[c0] * 1.0001 + 1e-6:
                        done = False
                        break
                if done:
                    break
    return ids, vals, scored


# ---------------------------------------------------------------------------------------------- compilation

_compiled = {"done": False}


@contextmanager
def _slp_vectorization() -> Iterator[None]:
    """numba's SLP vectorizer switched on while the kernels compile (numba reads the setting per compilation;
    it is off by default). It only changes speed: the sums have a fixed order (module docstring)."""
    config: Any = numba.core.config
    previous = getattr(config, "SLP_VECTORIZE", None)
    if previous is None:  # a numba without the setting: compile as it does by default
        yield
        return
    config.SLP_VECTORIZE = 1
    try:
        yield
    finally:
        config.SLP_VECTORIZE = previous


def _kernels() -> list[Any]:
    return [als_cg, als_cholesky, als_loss_terms, factor_top_k]


def _in_cache(kernel: Any) -> bool:
    """Whether numba's on-disk cache already holds ``kernel`` (a heuristic: its index file exists)."""
    try:
        return Path(kernel._cache._cache_file._index_path).is_file()
    except AttributeError:
        return False


def compile_kernels(say: Callable[[str], None] | None = None) -> float:
    """Compile every kernel once per process on tiny inputs of the production dtypes (or load it from numba's
    on-disk cache), before any timed or long-running call. ``say`` (default: the status console) gets a
    one-line message when the kernels are actually compiled (first run only; tens of seconds). Returns the
    seconds spent."""
    if _compiled["done"]:
        return 0.0
    started = time.perf_counter()
    if not all(_in_cache(k) for k in _kernels()):
        if say is None:
            from hmrec.progress import console

            say = console().print
        say("compiling kernels (first run only)…")
    f32, i32, i64 = np.float32, np.int32, np.int64
    indptr = np.array([0, 2, 3], dtype=i32)
    indices = np.array([0, 1, 1], dtype=i32)
    conf = np.ones(3, dtype=f32)
    bounds = np.array([0, 2], dtype=i64)
    factors = np.full((2, 9), 0.1, dtype=f32)  # 9 columns: the 8-lane loop and its tail
    gram = np.eye(9, dtype=f32)
    with _slp_vectorization():
        als_cg(indptr, indices, conf, factors.copy(), factors, gram, 1, bounds)
        als_cholesky(indptr, indices, conf, factors.copy(), factors, gram.astype(np.float64), bounds)
        als_loss_terms(indptr, indices, conf, factors, factors, gram, bounds)
        none64, none32 = np.zeros(0, dtype=i64), np.zeros(0, dtype=i32)
        factor_top_k(factors, np.arange(2, dtype=i64), factors, np.arange(2, dtype=i32), np.ones(2, dtype=f32), 1,
                     2, 2, none64, none32, np.arange(2, dtype=i64))
    _compiled["done"] = True
    return time.perf_counter() - started
