"""Minimum quality of the ranker on the small generated data (seed 0), final week, as ``hmrec evaluate``."""

from __future__ import annotations

import numpy as np
import pytest

from hmrec.data.dataset import Dataset
from hmrec.data.split import time_split
from hmrec.evaluation.metrics import map_at_k
from hmrec.models.base import create

#: the ranker must beat repurchase by at least this factor. Measured on small, seed 0, final week (2020-09-16..22,
#: 3,182 buyers) after the first calibration pass: repurchase 0.0443, ranker 0.0508; after the second, on its
#: two backtest weeks ending 2020-09-15: 0.0408 against 0.0289 (1.41x); on full, final week: 1.31x.
MARGIN = 1.10


@pytest.mark.slow
def test_ranker_beats_repurchase_on_small(small: Dataset) -> None:
    split = time_split(small)
    truth = split.test.interactions(binary=True)
    buyers = np.flatnonzero(np.diff(truth.indptr) > 0)
    scores = {}
    for name in ("repurchase", "ranker"):
        ids, _ = create(name).fit(split.train).recommend(buyers, 12)
        scores[name] = map_at_k(ids, truth[buyers], 12)
    assert scores["ranker"] >= MARGIN * scores["repurchase"], scores
