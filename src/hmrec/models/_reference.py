"""Plain numpy twins of the numba kernels in ``_kernels.py``, written for clarity, used only by the tests.

They loop over rows in Python and are meant for matrices of a few hundred rows; the production code never
calls them. Each follows the docstring formula of its kernel so that a test comparing the two checks the
kernel against the mathematics, not against itself.
"""

from __future__ import annotations

import numpy as np
import polars as pl
import scipy.sparse as sp


def als_cg_ref(conf: sp.csr_matrix, x: np.ndarray, y: np.ndarray, reg: float, cg_steps: int) -> np.ndarray:
    """``cg_steps`` of textbook conjugate gradient on each row's normal equations, warm-started from ``x``.

    Row ``u`` solves ``A xᵤ = b`` with ``A = YᵀY + λI + Yᵀ diag(cᵤ − 1) Y`` (bought rows of ``Y`` only) and
    ``b = Yᵀ cᵤ``; rows without non-zeros become zero. Returns a new array.
    """
    x = np.array(x, dtype=np.float64, copy=True)
    y64 = y.astype(np.float64)
    f = x.shape[1]
    yty = y64.T @ y64 + reg * np.eye(f)
    for u in range(conf.shape[0]):
        lo, hi = conf.indptr[u], conf.indptr[u + 1]
        if lo == hi:
            x[u] = 0.0
            continue
        yu = y64[conf.indices[lo:hi]]
        c = conf.data[lo:hi].astype(np.float64)
        a = yty + yu.T @ ((c - 1.0)[:, None] * yu)
        b = yu.T @ c
        xu = x[u]
        r = b - a @ xu
        p = r.copy()
        rsold = r @ r
        for _ in range(cg_steps):
            if rsold < 1e-20:
                break
            ap = a @ p
            step = rsold / (p @ ap)
            xu = xu + step * p
            r = r - step * ap
            rsnew = r @ r
            if rsnew < 1e-20:
                break
            p = r + (rsnew / rsold) * p
            rsold = rsnew
        x[u] = xu
    return x.astype(np.float32)


def als_exact_ref(conf: sp.csr_matrix, y: np.ndarray, reg: float) -> np.ndarray:
    """The exact solution of each row's normal equations (``np.linalg.solve``), zero for empty rows."""
    y64 = y.astype(np.float64)
    f = y.shape[1]
    yty = y64.T @ y64 + reg * np.eye(f)
    x = np.zeros((conf.shape[0], f))
    for u in range(conf.shape[0]):
        lo, hi = conf.indptr[u], conf.indptr[u + 1]
        if lo == hi:
            continue
        yu = y64[conf.indices[lo:hi]]
        c = conf.data[lo:hi].astype(np.float64)
        x[u] = np.linalg.solve(yty + yu.T @ ((c - 1.0)[:, None] * yu), yu.T @ c)
    return x.astype(np.float32)


def als_loss_ref(conf: sp.csr_matrix, x: np.ndarray, y: np.ndarray, reg: float) -> float:
    """The implicit-feedback objective computed densely (small matrices only).

    ``L = Σᵤᵢ Cᵤᵢ (Pᵤᵢ − xᵤ·yᵢ)² + λ(‖X‖² + ‖Y‖²)`` with ``C = 1`` and ``P = 0`` where nothing was bought.
    """
    dense_c = np.ones(conf.shape)
    pref = np.zeros(conf.shape)
    coo = conf.tocoo()
    dense_c[coo.row, coo.col] = coo.data
    pref[coo.row, coo.col] = 1.0
    pred = x.astype(np.float64) @ y.astype(np.float64).T
    return float((dense_c * (pref - pred) ** 2).sum() + reg * ((x.astype(np.float64) ** 2).sum()
                                                               + (y.astype(np.float64) ** 2).sum()))


def top_k_ref(scores: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Per row, the ``k`` best columns by (score descending, column ascending); -inf/NaN never chosen."""
    n, m = scores.shape
    ids = np.full((n, k), -1, dtype=np.int32)
    vals = np.full((n, k), -np.inf, dtype=np.float32)
    for r in range(n):
        row = np.where(np.isnan(scores[r]), -np.inf, scores[r])
        order = np.lexsort((np.arange(m), -row))
        order = order[np.isfinite(row[order]) | (row[order] > 0)][:k]
        ids[r, : order.size] = order
        vals[r, : order.size] = row[order]
    return ids, vals


def planted_frames(
    n_customers: int = 240,
    n_articles: int = 60,
    groups: int = 4,
    per_customer: int = 10,
    days: int = 28,
    cold_customers: int = 5,
    seed: int = 0,
) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame]:
    """Frames (articles, customers, transactions) with a planted rank-``groups`` purchase pattern.

    Customer ``u`` (but the last ``cold_customers``, who never buy) belongs to group ``u % groups`` and buys
    ``per_customer`` articles drawn uniformly from its group's articles (article ``a`` is in group
    ``a % groups``) on uniform random days of a ``days``-day window starting 2020-01-01. A rank-``groups``
    factorization explains it exactly, so a factor model should rank a customer's group first. For
    ``Dataset.from_frames`` in tests.
    """
    rng = np.random.default_rng(seed)
    buyers = n_customers - cold_customers
    cust = np.repeat(np.arange(buyers), per_customer)
    group = cust % groups
    per_group = n_articles // groups
    art = group + groups * rng.integers(0, per_group, cust.size)
    day = rng.integers(0, days, cust.size)
    articles = pl.DataFrame({"article_id": [f"{a + 100_000_001:010d}" for a in range(n_articles)]})
    customers = pl.DataFrame({"customer_id": [f"{c:064x}" for c in range(n_customers)]})
    start = np.datetime64("2020-01-01")
    transactions = pl.DataFrame({
        "t_dat": pl.Series((start + day).astype("datetime64[D]")).cast(pl.Date),
        "customer_id": customers["customer_id"].to_numpy()[cust],
        "article_id": articles["article_id"].to_numpy()[art],
        "price": np.full(cust.size, 0.03),
        "sales_channel_id": np.full(cust.size, 2, dtype=np.int64),
    })
    return articles, customers, transactions
