"""Random draws and small array helpers shared by the generator's stages."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import polars as pl

from hmrec.synthetic.constants import REPEAT_DECAY


def recency_weights(back: np.ndarray, m: np.ndarray, decay: float) -> np.ndarray:
    """Probability of the ``back``-th most recent (0: the newest) of ``m`` remembered purchases:
    ``decay ** back`` normalized over the ``m`` (uniform ``1 / m`` when ``decay`` is 1)."""
    if decay == 1.0:
        return 1.0 / m
    return np.power(decay, back) * (1.0 - decay) / (1.0 - np.power(decay, m))


def recency_draw(u: np.ndarray, m: np.ndarray) -> np.ndarray:
    """Inverse CDF of :func:`recency_weights` with REPEAT_DECAY: how far back (0: the newest) each draw goes,
    for uniforms ``u`` and ``m`` remembered purchases."""
    m = m.astype(np.int64)
    if REPEAT_DECAY == 1.0:
        return np.minimum(np.floor(u * m).astype(np.int64), m - 1)
    back = np.floor(np.log1p(-u * (1.0 - REPEAT_DECAY ** m.astype(np.float64))) / math.log(REPEAT_DECAY))
    return np.clip(back.astype(np.int64), 0, m - 1)


def normalize(w: np.ndarray) -> np.ndarray:
    return w / w.sum()


def sample(rng: np.random.Generator, p: np.ndarray, size: int) -> np.ndarray:
    """``size`` draws from the categorical distribution ``p`` (inverse CDF)."""
    cum = np.cumsum(p)
    return np.minimum(np.searchsorted(cum, rng.random(size) * cum[-1], "right"), p.size - 1)


def sample_rows(rng: np.random.Generator, weights: np.ndarray, rows: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """One draw per element of ``shape`` from the categorical row ``weights[rows]`` (rows broadcast over the
    trailing axes): one searchsorted in the flat cumulative sum of all rows."""
    n_rows, n_cols = weights.shape
    flat = np.concatenate([[0.0], np.cumsum(weights.ravel())])
    row = np.broadcast_to(rows.reshape(rows.shape + (1,) * (len(shape) - rows.ndim)), shape)
    low = flat[row * n_cols]
    high = flat[(row + 1) * n_cols]
    pos = np.searchsorted(flat, low + rng.random(shape) * (high - low), "right") - 1
    return np.clip(pos, row * n_cols, (row + 1) * n_cols - 1) - row * n_cols


def allocate(rng: np.random.Generator, n: int, shares: list[float], rare_min: int) -> np.ndarray:
    """``n`` category codes with fixed counts ``floor(share * n)`` (at least one of each when
    ``n >= rare_min``, so that rare values exist), the rest given to code 0, in random order."""
    counts = [int(share * n) for share in shares]
    if n >= rare_min:
        counts = [max(c, 1) for c in counts]
    counts[0] = n - sum(counts[1:])
    return np.repeat(np.arange(len(shares)), counts)[rng.permutation(n)]


_HEX = np.array([f"{i:02x}".encode() for i in range(256)], dtype="S2")


def hex_ids(rng: np.random.Generator, n: int) -> pl.Series:
    """``n`` random 64-character lowercase hex ids (32 random bytes each)."""
    raw = rng.integers(0, 256, (n, 32), dtype=np.uint8)
    packed = np.ascontiguousarray(_HEX[raw]).view("S64").ravel()
    return pl.Series(packed).cast(pl.String)


def word_series(words: Any, positions: np.ndarray) -> pl.Series:
    """A String Series of ``words[positions]``."""
    return pl.Series(list(words), dtype=pl.String).gather(positions)
