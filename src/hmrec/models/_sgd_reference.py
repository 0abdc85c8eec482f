"""Plain numpy twin of ``_sgd_kernels`` (slow, for the tests): the same samples, the same updates, in order."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np

from hmrec.models._sgd_kernels import LOSS_BPR, LOSS_MSE
from hmrec.models.popularity import splitmix64

if TYPE_CHECKING:  # the trainer's module imports the kernels, not this reference
    from hmrec.models.sgd import SGDTrainer


def _draw(h: int, cum: np.ndarray, lo: int, hi: int) -> int:
    """The index in ``[lo, hi)`` that the uniform number of hash ``h`` picks by the cumulative weights."""
    r = cum[lo] + float(h >> 11) * 2.0**-53 * (cum[hi] - cum[lo])
    return lo + int(np.searchsorted(cum[lo + 1 : hi + 1], r, side="right"))


def _warp_weight(rank: int) -> float:
    if rank <= 10:
        return sum(1.0 / k for k in range(1, rank + 1))
    return math.log(rank) + 0.5772156649015329


def sgd_blocks_ref(
    trainer: SGDTrainer, blocks: np.ndarray, keys: np.ndarray, p: np.ndarray, q: np.ndarray, lr: float, reg: float
) -> np.ndarray:
    """``_sgd_kernels.sgd_blocks`` on ``trainer``'s arrays, one block after the other (the blocks share no row,
    so the order does not matter); updates ``p`` and ``q`` in place and returns each block's summed loss."""
    n_blocks, block_ptr, pool_ptr, pool = trainer.n_blocks, trainer.block_ptr, trainer.pool_ptr, trainer.pool
    entries, entry_cum, pool_cum, rows = trainer.entries, trainer.entry_cum, trainer.pool_cum, trainer.rows
    indptr, indices, n_samples = trainer.conf.indptr, trainer.conf.indices, trainer.n_samples
    loss_kind, neg_samples, n_articles = trainer.loss_kind, trainer.neg_samples, trainer.conf.shape[1]
    out = np.zeros(blocks.size)
    for a, b in enumerate(blocks):
        c = b % n_blocks
        lo_e, hi_e, lo_p, hi_p = block_ptr[b], block_ptr[b + 1], pool_ptr[c], pool_ptr[c + 1]
        if lo_e >= hi_e or lo_p >= hi_p:
            continue
        with np.errstate(over="ignore"):
            hashes = splitmix64(keys[b] + np.arange(n_samples[b], dtype=np.uint64))
        for h in hashes:
            e = entries[_draw(int(h), entry_cum, lo_e, hi_e)]
            u, i = rows[e], indices[e]
            bought = set(indices[indptr[u] : indptr[u + 1]].tolist())
            if loss_kind == LOSS_MSE:
                s = float(p[u] @ q[i])
                out[a] += (1 - s) ** 2
                err = 1 - s
                gx = err * q[i] - reg * p[u]
                q[i] += lr * (err * p[u] - reg * q[i])
                p[u] += lr * gx
                if trainer.bias:
                    p[u, -1] = 1.0
            si = float(p[u] @ q[i])
            for n in range(neg_samples):
                with np.errstate(over="ignore"):
                    hn = int(splitmix64(h + np.uint64(n + 1)))
                j = pool[_draw(hn, pool_cum, lo_p, hi_p)]
                if j == i or j in bought:
                    continue
                if loss_kind == LOSS_BPR:
                    s = float(p[u] @ q[i] - p[u] @ q[j])
                    out[a] += float(np.log1p(np.exp(-s))) if s > -30 else -s
                    g = 1.0 / (1.0 + np.exp(s)) if s < 30 else 0.0
                elif loss_kind == LOSS_MSE:
                    s = float(p[u] @ q[j])
                    out[a] += s * s
                    gx = -s * q[j] - reg * p[u]
                    q[j] += lr * (-s * p[u] - reg * q[j])
                    p[u] += lr * gx
                    if trainer.bias:
                        p[u, -1] = 1.0
                    continue
                else:
                    sj = float(p[u] @ q[j])
                    if sj <= si - 1:
                        continue
                    g = _warp_weight(max(1, (n_articles - 1) // (n + 1)))
                    out[a] += g * (1 - si + sj)
                gx = g * (q[i] - q[j]) - reg * p[u]
                qi = q[i] + lr * (g * p[u] - reg * q[i])
                q[j] += lr * (-g * p[u] - reg * q[j])
                q[i] = qi
                p[u] += lr * gx
                if trainer.bias:
                    p[u, -1] = 1.0
                if loss_kind != LOSS_BPR:
                    break  # WARP: one step per purchase
    return out
