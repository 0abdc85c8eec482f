"""Checks of hyperparameters and request arguments shared by the models: one-line errors naming the value."""

from __future__ import annotations

import numpy as np

from hmrec.errors import ParameterError


def check_positive(name: str, value: float | None, *, model: str, allow_none: bool = False) -> float | None:
    """``value`` if it is a number > 0 (or None when allowed), else a ParameterError naming it."""
    if value is None and allow_none:
        return None
    number = isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, bool)
    if not number or not value > 0:  # type: ignore[operator]
        allowed = "a number > 0" + (" or null" if allow_none else "")
        raise ParameterError(f"{model}: parameter '{name}' must be {allowed}, got {value!r}")
    return value


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
