"""The engine seam's types: what an engine does (the :class:`Engine` protocol), what its fit and ingest return.

Commands ask :func:`hmrec.engines.get_engine` for an engine and call it; they never know whether polars or Spark does
the work. An engine

* ``ingest``: validates the three CSV files and builds the typed cache (the same cache on both engines);
* ``load``: the data as the driver sees it (a :class:`Dataset`; with ``transactions=False`` only the
  customers and articles, for writing ids at the edge, when the transactions never need to reach it);
* ``check_models``: refuses, before any work, the models it cannot run;
* ``fit(model, train, until)``: the registered ``model`` fitted on the transactions up to ``until`` (the
  local engine fits on ``train``, already cut there); returns something with ``recommend(customers, k)``,
  the Recommender contract, so the evaluation loop and the submission are the same code for both.

The local engine (:mod:`hmrec.engines.local`) is hmrec as it always ran; the Spark engine
(:mod:`hmrec.engines.spark`) is the only place that imports pyspark.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np

from hmrec.data.dataset import Dataset

if TYPE_CHECKING:
    from hmrec.models.base import Recommender

ENGINES = ("local", "spark")


class Fitted(Protocol):
    """What a fit returns: the Recommender's ``recommend`` (``(n, k)`` ids and scores, best first)."""

    def recommend(self, customers: np.ndarray, k: int = ...) -> tuple[np.ndarray, np.ndarray]: ...


@dataclass(frozen=True)
class IngestReport:
    """What ``ingest`` built: the data's summary (``Dataset.summary`` keys), fingerprint, cache, freshness."""

    summary: Mapping[str, Any]
    fingerprint: str
    cache: Path
    fresh: bool


class Engine(Protocol):
    name: str

    def ingest(self, data_dir: Path, cache: Path | None, *, force: bool, progress: bool) -> IngestReport: ...

    def load(
        self, data_dir: Path, cache: Path | None, *, progress: bool, transactions: bool = True
    ) -> Dataset: ...

    def check_models(self, names: Sequence[str]) -> None: ...

    def fit(self, model: Recommender, train: Dataset, until: dt.date | None = None) -> Fitted: ...

    def close(self) -> None: ...


__all__ = ["ENGINES", "Engine", "Fitted", "IngestReport"]
