"""Checking a saved ranker before it scores: its arrays against the data's sizes and its own parameters.

Loading (:func:`hmrec.models.persist.load_model`) has checked every file's checksum; these checks catch what a
checksum cannot (a model edited on purpose, or saved by another version): the feature columns kept, one active
flag per customer, the taste keys, each model source's state (as that model's own saved state would be
checked) and every source's CSR rows and article indices, before the kernels and LightGBM index with them.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

from hmrec.models.persist import check_model_arrays
from hmrec.ranking.cutoff import valid_taste_keys
from hmrec.ranking.features import check_table_state
from hmrec.ranking.model_source import MODEL_KEY
from hmrec.ranking.sources import model_sources, parse_sources


def check_saved(
    payload: Mapping[str, Any],
    arrays: Mapping[str, np.ndarray],
    n_customers: int,
    n_articles: int,
    fail: Callable[[str], Exception],
    *,
    expected: np.ndarray,
    sources: str,
    source_params: Mapping[str, Any],
) -> None:
    """A saved ranker's arrays against their bounds before scoring indexes with them: the feature columns kept
    (``expected``: those its parameters keep), the active flags, the taste keys, every model source's state and
    every source's CSR rows."""
    keep, active = arrays.get("keep"), arrays.get("active")
    if keep is None or active is None:
        raise fail("the ranker's arrays 'keep' or 'active' are missing")
    # the columns kept follow from the parameters: any other value would pick the wrong columns
    if keep.shape != expected.shape or keep.dtype.kind not in "iu" or not np.array_equal(keep, expected):
        raise fail(f"array 'keep' is not the {expected.size} feature columns these parameters keep")
    if active.shape != (n_customers,) or active.dtype != np.bool_:
        raise fail(f"array 'active' is not one flag per customer ({n_customers})")
    if not valid_taste_keys(payload.get("attributes", {}).get("taste_keys_", "[]")):
        raise fail("attribute 'taste_keys_' is not a list of taste keys (column names and a recall)")
    _check_model_sources(arrays, n_customers, n_articles, fail, sources, source_params)
    for name in arrays:
        if not name.endswith(".indptr_"):
            continue
        lead = name[: -len("indptr_")]
        ptr, indices, data = arrays[name], arrays.get(f"{lead}indices_"), arrays.get(f"{lead}data_")
        nnz = -1 if indices is None else indices.size
        if (ptr.ndim != 1 or ptr.dtype.kind not in "iu" or ptr.size != n_customers + 1 or ptr[0] != 0
                or np.any(np.diff(ptr) < 0) or ptr[-1] != nnz or data is None or data.size != nnz):
            raise fail(f"array '{name}' is not a valid row pointer for '{lead}indices_'")
        if indices is not None and nnz and (
            indices.dtype.kind not in "iu" or indices.min() < 0 or indices.max() >= n_articles
        ):
            raise fail(f"array '{lead}indices_' holds values outside the {n_articles} article indices")
    check_table_state({k[4:]: v for k, v in arrays.items() if k.startswith("tab.")}, n_customers, n_articles,
                      lambda problem: fail(problem.replace("array '", "array 'tab.", 1)))



def _check_model_sources(
    arrays: Mapping[str, np.ndarray],
    n_customers: int,
    n_articles: int,
    fail: Callable[[str], Exception],
    sources: str,
    source_params: Mapping[str, Any],
) -> None:
    """Each model source's saved state: of its model, and checked as that model's saved alone would be."""
    used = parse_sources(sources)
    for name, source in model_sources().items():
        if name not in used:
            continue
        lead = f"src.{name}."
        state = {key[len(lead):]: value for key, value in arrays.items() if key.startswith(lead)}
        saved = state.get(MODEL_KEY)
        if saved is None or saved.ndim != 0 or str(saved) != source.model:
            raise fail(f"the saved source '{name}' is not a fitted '{source.model}' model")
        warm = state.get("warm_")
        if source.warm_only and (warm is None or warm.shape != (n_customers,) or warm.dtype != np.bool_):
            raise fail(f"array '{lead}warm_' is not one flag per customer ({n_customers})")
        params = {**source.default_params(), **source_params.get(name, {})}

        def named(problem: str, lead: str = lead) -> Exception:
            return fail(problem.replace("'", f"'{lead}", 1))  # the array as saved: 'src.als.item_factors_'

        check_model_arrays(state, params, n_customers, n_articles, named)
