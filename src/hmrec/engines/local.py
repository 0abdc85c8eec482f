"""The local engine: hmrec's own loader and models, in this process (polars, numpy, numba)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from pathlib import Path

from hmrec.data.dataset import Dataset
from hmrec.data.load import cache_is_fresh, default_cache_dir, load_dataset
from hmrec.engines.base import Fitted, IngestReport
from hmrec.models.base import Recommender


class LocalEngine:
    name = "local"

    def ingest(self, data_dir: Path, cache: Path | None, *, force: bool, progress: bool) -> IngestReport:
        fresh = not force and cache_is_fresh(data_dir, cache)
        dataset = load_dataset(data_dir, cache, progress=progress, refresh=force)
        location = cache if cache is not None else default_cache_dir(data_dir)
        return IngestReport(dataset.summary(), dataset.fingerprint, location, fresh)

    def load(self, data_dir: Path, cache: Path | None, *, progress: bool, transactions: bool = True) -> Dataset:
        return load_dataset(data_dir, cache, progress=progress)

    def check_models(self, names: Sequence[str]) -> None:
        """Every registered model runs locally."""

    def fit(self, model: Recommender, train: Dataset, until: dt.date | None = None) -> Fitted:
        return model.fit(train)

    def close(self) -> None:
        """Nothing to release."""


__all__ = ["LocalEngine"]
