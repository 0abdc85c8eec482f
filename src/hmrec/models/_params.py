"""Checks of hyperparameters and request arguments shared by the models: one-line errors naming the value."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from hmrec.errors import ParameterError

# Upper bounds far above any useful value (defaults: alpha 100, reg 10, learning rate 0.05, factors 64-256; a
# learning rate that merely diverges is caught by the fit itself) but low enough that the float32 arithmetic of
# the fits stays finite (a confidence 1 + alpha * w, a Gram matrix with reg on its diagonal) and that the
# customers x factors arrays of the full data (1.37M customers: 5.6 GB at 1024) can fit in memory.
MAX_ALPHA = 1e6
MAX_REG = 1e6
MAX_LEARNING_RATE = 1000.0
MAX_FACTORS = 1024


def check_positive(
    name: str,
    value: float | None,
    *,
    model: str,
    allow_none: bool = False,
    high: float = math.inf,
    low: float = 0.0,
) -> float | None:
    """``value`` if it is a finite number in (``low``, ``high``] (or None when allowed), else a ParameterError
    naming it."""
    if value is None and allow_none:
        return None
    number = isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, bool)
    # NaN fails every comparison, so "not > low" refuses it along with infinities
    if not number or not low < value <= high or not math.isfinite(value):  # type: ignore[operator,arg-type]
        bound = "" if high == math.inf else f" and <= {high:g}"
        allowed = f"a finite number > {low:g}{bound}" + (" or null" if allow_none else "")
        raise ParameterError(f"{model}: parameter '{name}' must be {allowed}, got {value!r}")
    return value


def check_int(name: str, value: Any, *, model: str, low: int = 1, high: int | None = None) -> int:
    """``value`` as an int in [``low``, ``high``], else a ParameterError naming it."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < low or (
        high is not None and value > high
    ):
        bound = f">= {low}" if high is None else f"between {low} and {high}"
        raise ParameterError(f"{model}: parameter '{name}' must be an integer {bound}, got {value!r}")
    return int(value)


def check_nonnegative(name: str, value: object, *, model: str, high: float) -> float:
    """``value`` as a float in [0, ``high``], else a ParameterError naming it (NaN and infinities refused)."""
    number = isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, bool)
    if not number or not 0 <= value <= high:  # type: ignore[operator]
        raise ParameterError(f"{model}: parameter '{name}' must be a number >= 0 and <= {high:g}, got {value!r}")
    return float(value)  # type: ignore[arg-type]


def check_bool(name: str, value: object, *, model: str) -> bool:
    if not isinstance(value, (bool, np.bool_)):
        raise ParameterError(f"{model}: parameter '{name}' must be true or false, got {value!r}")
    return bool(value)


def check_indices(values: np.ndarray, size: int, what: str, model: str) -> np.ndarray:
    """``values`` as a 1-d int64 array of ``what`` indices (customer/article), each in ``[0, size)``."""
    arr = np.asarray(values)
    if arr.ndim != 1 or (arr.size and not np.issubdtype(arr.dtype, np.integer)):
        raise ParameterError(f"{model}: {what}s must be a 1-d array of {what} indices, got shape {arr.shape}")
    arr = arr.astype(np.int64, copy=False)
    if arr.size and (arr.min() < 0 or arr.max() >= size):
        raise ParameterError(
            f"{model}: {what} index out of range [0, {size}) (got {int(arr.min())}..{int(arr.max())})"
        )
    return arr


def check_customers(customers: np.ndarray, n_customers: int, model: str) -> np.ndarray:
    """Customer indices as int64, each in ``[0, n_customers)``."""
    return check_indices(customers, n_customers, "customer", model)


def check_pairs(
    customers: np.ndarray, articles: np.ndarray, n_customers: int, n_articles: int, model: str
) -> tuple[np.ndarray, np.ndarray]:
    """Aligned (customer, article) index pairs as int64 arrays of one length, each index in range."""
    cust = check_customers(customers, n_customers, model)
    arts = check_indices(articles, n_articles, "article", model)
    if arts.size != cust.size:
        raise ParameterError(
            f"{model}: customers and articles must be aligned pairs of one length, got {cust.size} and {arts.size}"
        )
    return cust, arts
