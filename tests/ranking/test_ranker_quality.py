"""Minimum quality of the ranker on the small generated data (seed 0), final week, as ``hmrec evaluate``."""

from __future__ import annotations

import numpy as np
import pytest

from hmrec.data.dataset import Dataset
from hmrec.data.split import time_split
from hmrec.metrics import map_at_k
from hmrec.registry import create

#: the ranker must beat repurchase by at least this factor (the issue's target on full). Measured on small, seed 0,
#: final week (2020-09-16..22, 3,182 buyers), second calibration pass, with the taste source and the order and
#: sub-category features: ranker 0.0473, repurchase 0.0280 (1.69x; the best other model, kmeans-customers+repurchase,
#: 0.0286); the round before, without them, 1.41x on the backtest weeks. On full, final week: 1.52x.
MARGIN = 1.5


def _final_week_map(data: Dataset) -> dict[str, float]:
    """MAP@12 of repurchase and of the default ranker on the final week's buyers, as ``hmrec evaluate``."""
    split = time_split(data)
    truth = split.test.interactions(binary=True)
    buyers = np.flatnonzero(np.diff(truth.indptr) > 0)
    scores = {}
    for name in ("repurchase", "ranker"):
        ids, _ = create(name).fit(split.train).recommend(buyers, 12)
        scores[name] = map_at_k(ids, truth[buyers], 12)
    return scores


@pytest.mark.slow
def test_ranker_beats_repurchase_on_small(small: Dataset) -> None:
    scores = _final_week_map(small)
    assert scores["ranker"] >= MARGIN * scores["repurchase"], scores


#: on tiny (seed 0, final week, 209 buyers) the default ranker scored 0.0652 against repurchase's 0.0390 (1.67x);
#: with so few buyers the noise is large, so the default suite asks for a clear win, not the full margin
TINY_MARGIN = 1.25


def test_ranker_beats_repurchase_on_tiny(tiny: Dataset) -> None:
    """The default ranker, as ``hmrec evaluate`` fits it, beats the customer's own history on tiny data."""
    scores = _final_week_map(tiny)
    assert scores["ranker"] >= TINY_MARGIN * scores["repurchase"], scores

