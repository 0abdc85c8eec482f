"""numba kernels of the SGD matrix factorization (private; the numpy twin is ``_sgd_reference.py``).

Stratified SGD (DSGD, Gemulla et al. 2011). The customers are cut into ``B`` row blocks and the articles into
``B`` column blocks, so the matrix falls into ``B x B`` blocks. Stratum ``s`` is the ``B`` blocks
``(r, (r + s) mod B)``: no two of them share a customer or an article, so they are updated in parallel without
any write conflict, and an epoch runs the ``B`` strata one after the other (in a seeded order). A block's
samples run in order on one thread, and ``B`` does not depend on the number of threads: the same seed gives the
same factors, bit for bit, on any number of threads and in every process.

A block's samples come from a counter-based hash: sample ``t`` of block ``b`` is ``h = splitmix64(kᵦ + t)``
with ``kᵦ`` the block's key for the epoch. Its positive is drawn among the block's purchases with probability
proportional to their sampling weight (binary search of a uniform number from ``h`` in the cumulative weights
``cum``); each negative ``n`` hashes ``h + n + 1`` and is drawn the same way among the articles of the
block's column block, by their own cumulative weights (so negatives never leave the stratum). A negative the
customer bought is skipped.

Losses (``loss_kind``), per positive ``(u, i)``:

* 0, BPR (Rendle et al. 2009): per negative ``j``, ``s = xᵤ·(yᵢ − yⱼ)``, loss ``−log σ(s)``, ascent step with
  ``g = σ(−s)``: ``xᵤ += lr (g (yᵢ − yⱼ) − λxᵤ)``, ``yᵢ += lr (g xᵤ − λyᵢ)``, ``yⱼ += lr (−g xᵤ − λyⱼ)``.
* 1, squared: ``(1 − xᵤ·yᵢ)² + Σⱼ (xᵤ·yⱼ)²``, each term a gradient step ``xᵤ += lr (e yₐ − λxᵤ)``,
  ``yₐ += lr (e xᵤ − λyₐ)`` with error ``e = 1 − s`` or ``−s``. The confidence ``c`` weighs the positive
  term through the draw (a purchase is drawn ``c`` times as often) instead of multiplying the step: the same
  objective in expectation, up to the scale of the positive terms, with steps that stay bounded when ``c``
  reaches the hundreds (a step multiplied by ``c`` diverges there).
* 2, WARP (Weston et al. 2011, as LightFM): negatives are drawn, up to ``neg_samples`` of them, until one
  violates the margin, ``xᵤ·yⱼ > xᵤ·yᵢ − 1``. Found at draw ``N``, the positive's rank is estimated as
  ``r = ⌊(n_articles − 1) / N⌋`` and the hinge ``1 − xᵤ·yᵢ + xᵤ·yⱼ`` gets the weight ``L(r) = Σₖ₌₁ʳ 1/k``
  (approximated by ``ln r + 0.5772``, exact below 10): a positive ranked low is pushed up hard.

With ``bias`` the last factor column holds an article bias (as implicit's BPR): the customers' last column is
1 and stays 1 (it is reset after every step), so ``xᵤ·yᵢ`` includes ``bᵢ = yᵢ[-1]`` and the steps above learn it.
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

from hmrec.models._kernels import FASTMATH, _axpy, _dot

LOSS_BPR = 0
LOSS_MSE = 1
LOSS_WARP = 2

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_MIX1 = np.uint64(0xBF58476D1CE4E5B9)
_MIX2 = np.uint64(0x94D049BB133111EB)
#: 2⁻⁵³: the top 53 bits of a hash as a uniform float64 in [0, 1)
_UNIT = 1.0 / 9007199254740992.0
_EULER = 0.5772156649015329


@njit(cache=True, inline="always")
def splitmix64(z: np.uint64) -> np.uint64:
    """SplitMix64 finalizer (as ``hmrec.models.popularity.splitmix64``): a counter-based random number, so a
    sample is the same whatever thread draws it and the numpy reference can recompute it."""
    z = z + _GOLDEN
    z = (z ^ (z >> np.uint64(30))) * _MIX1
    z = (z ^ (z >> np.uint64(27))) * _MIX2
    return z ^ (z >> np.uint64(31))


@njit(cache=True, inline="always")
def _draw(h: np.uint64, cum: np.ndarray, lo: int, hi: int) -> int:
    """Index ``e`` in ``[lo, hi)`` drawn with probability ``(cum[e + 1] − cum[e]) / (cum[hi] − cum[lo])``:
    the first ``e`` with ``cum[e + 1] > r`` for ``r`` uniform in ``[cum[lo], cum[hi])``."""
    r = cum[lo] + np.float64(h >> np.uint64(11)) * _UNIT * (cum[hi] - cum[lo])
    a, b = lo, hi - 1
    while a < b:
        mid = (a + b) // 2
        if cum[mid + 1] > r:
            b = mid
        else:
            a = mid + 1
    return a


@njit(cache=True, inline="always")
def _contains(indices: np.ndarray, lo: int, hi: int, col: int) -> bool:
    # binary search in a sorted CSR row
    while lo < hi:
        mid = (lo + hi) // 2
        v = indices[mid]
        if v == col:
            return True
        if v < col:
            lo = mid + 1
        else:
            hi = mid
    return False


@njit(cache=True, inline="always")
def warp_weight(rank: int) -> np.float32:
    """``L(r) = Σₖ₌₁ʳ 1/k`` (exact up to 10, then ``ln r + γ``: the two differ by under 0.05 there)."""
    if rank <= 10:
        total = 0.0
        for k in range(1, rank + 1):
            total += 1.0 / k
        return np.float32(total)
    return np.float32(np.log(np.float64(rank)) + _EULER)


@njit(fastmath=FASTMATH, cache=True)
def _block(
    key: np.uint64,
    n_samples: int,
    entry_lo: int,
    entry_hi: int,
    pool_lo: int,
    pool_hi: int,
    loss_kind: int,
    entries: np.ndarray,
    entry_cum: np.ndarray,
    pool: np.ndarray,
    pool_cum: np.ndarray,
    rows: np.ndarray,
    indptr: np.ndarray,
    indices: np.ndarray,
    p: np.ndarray,
    q: np.ndarray,
    lr: np.float32,
    reg: np.float32,
    neg_samples: int,
    n_articles: int,
    bias: bool,
    grad: np.ndarray,
) -> float:
    """``n_samples`` SGD steps in one block (module docstring); returns their summed loss before each step."""
    one = np.float32(1.0)
    zero = np.float32(0.0)
    f = p.shape[1]
    total = np.float64(0.0)
    if entry_lo >= entry_hi or pool_lo >= pool_hi:
        return total
    for t in range(n_samples):
        h = splitmix64(key + np.uint64(t))
        e = entries[_draw(h, entry_cum, entry_lo, entry_hi)]
        u = rows[e]
        i = indices[e]
        xu = p[u]
        yi = q[i]
        lo, hi = indptr[u], indptr[u + 1]
        if loss_kind == 1:
            s = _dot(xu, yi)
            err = one - s
            total += err * err
            for k in range(f):
                grad[k] = err * yi[k] - reg * xu[k]
                yi[k] += lr * (err * xu[k] - reg * yi[k])
            _axpy(lr, grad, xu)
            if bias:
                xu[f - 1] = one
        si = _dot(xu, yi)
        for n in range(neg_samples):
            j = pool[_draw(splitmix64(h + np.uint64(n + 1)), pool_cum, pool_lo, pool_hi)]
            if j == i or _contains(indices, lo, hi, j):
                continue
            yj = q[j]
            if loss_kind == 0:
                s = _dot(xu, yi) - _dot(xu, yj)
                # -log σ(s) = log(1 + e^{-s}), written to stay finite for large |s|
                total += np.log1p(np.exp(-s)) if s > -30 else -s
                g = one / (one + np.exp(s)) if s < 30 else zero
                for k in range(f):
                    grad[k] = g * (yi[k] - yj[k]) - reg * xu[k]
                    yi[k] += lr * (g * xu[k] - reg * yi[k])
                    yj[k] += lr * (-g * xu[k] - reg * yj[k])
                _axpy(lr, grad, xu)
                if bias:
                    xu[f - 1] = one
            elif loss_kind == 1:
                s = _dot(xu, yj)
                total += s * s
                for k in range(f):
                    grad[k] = -s * yj[k] - reg * xu[k]
                    yj[k] += lr * (-s * xu[k] - reg * yj[k])
                _axpy(lr, grad, xu)
                if bias:
                    xu[f - 1] = one
            else:
                sj = _dot(xu, yj)
                if sj <= si - one:
                    continue  # within the margin: draw again
                w = warp_weight(max(1, (n_articles - 1) // (n + 1)))
                total += w * (one - si + sj)
                for k in range(f):
                    grad[k] = w * (yi[k] - yj[k]) - reg * xu[k]
                    yi[k] += lr * (w * xu[k] - reg * yi[k])
                    yj[k] += lr * (-w * xu[k] - reg * yj[k])
                _axpy(lr, grad, xu)
                if bias:
                    xu[f - 1] = one
                break
    return total


@njit(parallel=True, fastmath=FASTMATH, cache=True)
def sgd_blocks(
    blocks: np.ndarray,
    keys: np.ndarray,
    n_samples: np.ndarray,
    block_ptr: np.ndarray,
    pool_ptr: np.ndarray,
    n_blocks: int,
    loss_kind: int,
    entries: np.ndarray,
    entry_cum: np.ndarray,
    pool: np.ndarray,
    pool_cum: np.ndarray,
    rows: np.ndarray,
    indptr: np.ndarray,
    indices: np.ndarray,
    p: np.ndarray,
    q: np.ndarray,
    lr: np.float32,
    reg: np.float32,
    neg_samples: int,
    n_articles: int,
    bias: bool,
) -> np.ndarray:
    """Run the blocks ``blocks`` (ids ``row_block * n_blocks + column_block``) in parallel, one thread each;
    returns each block's summed loss.

    Blocks of one stratum share no customer and no article, so the result is the same on any number of
    threads. Given blocks that do share (Hogwild), concurrent writes to a row are tolerated and the result
    depends on thread timing.
    """
    out = np.zeros(blocks.size, dtype=np.float64)
    for a in prange(blocks.size):
        grad = np.empty(p.shape[1], dtype=np.float32)
        b = blocks[a]
        c = b % n_blocks
        out[a] = _block(keys[b], n_samples[b], block_ptr[b], block_ptr[b + 1], pool_ptr[c], pool_ptr[c + 1],
                        loss_kind, entries, entry_cum, pool, pool_cum, rows, indptr, indices, p, q, lr,
                        reg, neg_samples, n_articles, bias, grad)
    return out


def compile_kernels() -> None:
    """Compile (or load from numba's cache) the kernel on tiny inputs of the production dtypes."""
    f32, i32, i64 = np.float32, np.int32, np.int64
    factors = np.full((2, 9), 0.1, dtype=f32)  # 9 columns: the 8-lane loop and its tail
    cum = np.array([0.0, 1.0, 2.0], dtype=np.float64)
    indices = np.array([0, 1], dtype=i32)
    sgd_blocks(np.zeros(1, dtype=i64), np.ones(1, dtype=np.uint64), np.ones(1, dtype=i64),
               np.array([0, 2], dtype=i64), np.array([0, 2], dtype=i64), 1, LOSS_BPR, np.arange(2, dtype=i64),
               cum, indices, cum, np.array([0, 1], dtype=i32), np.array([0, 1, 2], dtype=i32), indices,
               factors.copy(), factors.copy(), f32(0.01), f32(0.0), 1, 2, True)
