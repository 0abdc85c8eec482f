"""Minimum quality of every model on the fixed-seed generated data (the ``small`` scale, seed 0).

Each model is trained on everything before the final week and scored by MAP@12 (the competition's metric) on
the customers who bought in that week, exactly as ``hmrec evaluate`` does. The thresholds are orderings and
ratios with room to spare, not exact figures: the figures quoted in the comments were measured with the
default hyperparameters (chosen on the backtest week ending 2020-09-15, see ``benchmarks/tune_baselines.py``
and ``benchmarks/tune_mf.py``), and a change of the generator or of a default may move them a little without
breaking a test, while a model that stopped learning (or a leak of the test week, which would lift a model
above the oracle) fails.

The baseline ordering (``oracle`` >= everything, ``repurchase`` > ``popularity`` > ``random``) is required by
the project's issue and runs by default, with ``als`` > ``popularity`` (5-12 s with the data generation on a
2-core machine, depending on its load); the SGD models, the blends and the k-means family take about a minute
more and are marked slow.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pytest
import scipy.sparse as sp

from hmrec.data.dataset import Dataset
from hmrec.data.split import time_split
from hmrec.metrics import map_at_k
from hmrec.registry import available, create

K = 12


@dataclass(frozen=True)
class Week:
    """The final-week split of a data set, ready to score: train, the buyers and their purchases."""

    train: Dataset
    buyers: np.ndarray
    truth: sp.csr_matrix

    def map12(self, name: str, **params: Any) -> float:
        """MAP@12 of model ``name`` (defaults unless ``params``) fitted on ``train``."""
        ids, _ = create(name, **params).fit(self.train).recommend(self.buyers, K)
        return map_at_k(ids, self.truth, K)


@pytest.fixture(scope="module")
def week(small: Dataset) -> Week:
    split = time_split(small)  # the final 7 days: the generator's truth window, where the oracle runs
    truth = split.test.interactions(binary=True)
    buyers = np.flatnonzero(np.diff(truth.indptr) > 0)
    return Week(train=split.train, buyers=buyers, truth=truth[buyers])


@pytest.fixture(scope="module")
def baselines(week: Week) -> dict[str, float]:
    names = ("oracle", "random", "popularity", "popularity-decay", "popularity-age", "repurchase")
    return {name: week.map12(name) for name in names}


def test_the_final_week_is_scored_on_thousands_of_buyers(week: Week) -> None:
    # 3,182 buyers on small: enough that the orderings below are not luck of a few customers
    assert week.buyers.size > 2_000
    assert week.truth.nnz >= week.buyers.size


def test_repurchase_beats_popularity_beats_random(baselines: dict[str, float]) -> None:
    # measured on small, final week: repurchase 0.0280, popularity 0.0210, random 0.0007 (the second
    # calibration pass, docs/calibration.md: the same crowd of hits as on full makes popularity relatively
    # strong in a 10,000-article catalogue; repurchase / popularity is 1.33 / 1.83 / 1.45 on seeds 0 / 1 / 2,
    # 2.3-3.2 on full; it was 1.80 with 0.0443 / 0.0246 before)
    assert baselines["repurchase"] > baselines["popularity"] > baselines["random"]
    # with margins beyond the week-to-week noise (a few % between backtest weeks)
    assert baselines["repurchase"] > 1.2 * baselines["popularity"]
    assert baselines["popularity"] > 10 * baselines["random"]


def test_popularity_variants_are_close_to_popularity(baselines: dict[str, float]) -> None:
    # popularity-decay 0.0246, popularity-age 0.0267 vs popularity 0.0246: all far above random
    for name in ("popularity-decay", "popularity-age"):
        assert baselines[name] > 0.8 * baselines["popularity"], name
        assert baselines[name] > 10 * baselines["random"], name


def test_oracle_beats_every_baseline(baselines: dict[str, float]) -> None:
    # oracle 0.115: the generator's own purchase probabilities; repurchase reaches about 40 % of it
    others = {name: score for name, score in baselines.items() if name != "oracle"}
    assert all(baselines["oracle"] >= score for score in others.values()), baselines
    assert baselines["oracle"] > 1.5 * max(others.values())


# ---------------------------------------------------------------------------------------- factor models
def test_als_beats_popularity(week: Week, baselines: dict[str, float]) -> None:
    # the project's main collaborative model must learn something popularity does not know (2-4 s of fitting:
    # kept in the default run). Small, final week: als 0.0222 vs popularity 0.0210 (1.06x) on the data of the
    # second calibration pass (docs/calibration.md)
    als = week.map12("als")
    assert als > baselines["popularity"]
    assert als < baselines["oracle"]


@pytest.mark.xfail(
    strict=True,
    reason="second calibration pass: on small, ALS is only 1.06x popularity (0.0222 vs 0.0210; on the backtest "
    "weeks 0.0225 vs 0.0226 and 0.0227 vs 0.0241): a 10,000-article catalogue with the full catalogue's crowd "
    "of hits makes the week's popularity as good as ALS's taste, and ALS does not see the recency of rebuys; "
    "see docs/benchmarks.md for full, where the margin is measured",
)
def test_als_beats_popularity_by_a_margin(week: Week, baselines: dict[str, float]) -> None:
    # was 1.26x (0.0310 vs 0.0246) after the first calibration pass, 1.58x before it
    assert week.map12("als") > 1.15 * baselines["popularity"]


@pytest.fixture(scope="module")
def factor_models(week: Week) -> dict[str, float]:
    # every model is deterministic by default (SGD's Hogwild, which is not, is off unless hogwild=True)
    return {name: week.map12(name) for name in ("als+repurchase", "sgd-bpr", "sgd-mse", "sgd+repurchase")}


@pytest.mark.slow
@pytest.mark.parametrize("name", ["sgd-bpr", "sgd-mse"])
def test_sgd_models_are_near_popularity_and_far_above_random(
    name: str, factor_models: dict[str, float], baselines: dict[str, float]
) -> None:
    # stratified SGD with positives drawn by ALS's time-decayed confidence (small, final week): sgd-bpr 0.0220,
    # sgd-mse 0.0200 vs popularity 0.0210 and random 0.0007 (0.0115 and 0.0120 with uniform positives)
    assert factor_models[name] > 10 * baselines["random"], name
    assert factor_models[name] > 0.6 * baselines["popularity"], name


@pytest.mark.slow
def test_the_best_sgd_model_matches_popularity_and_als(
    week: Week, factor_models: dict[str, float], baselines: dict[str, float]
) -> None:
    # the project's issue: the best SGD model >= popularity and >= 0.9x ALS. Small, final week: sgd-bpr 0.0220,
    # popularity 0.0210, als 0.0222 (0.99x); seeds 1 and 2 in docs/benchmarks.md
    best = max(factor_models["sgd-bpr"], factor_models["sgd-mse"])
    assert best >= baselines["popularity"]
    assert best >= 0.9 * week.map12("als")


@pytest.mark.slow
def test_repurchase_blends_keep_repurchase_quality(
    factor_models: dict[str, float], baselines: dict[str, float]
) -> None:
    # als+repurchase 0.0436, sgd+repurchase 0.0435 vs repurchase 0.0443: the blends put the customer's own
    # purchases first, so they differ from repurchase only in the filler after them
    for name in ("als+repurchase", "sgd+repurchase"):
        assert factor_models[name] >= baselines["repurchase"] - 0.003, name


@pytest.mark.slow
def test_oracle_beats_every_model(
    week: Week, factor_models: dict[str, float], baselines: dict[str, float]
) -> None:
    # the k-means family on the final week (first calibration pass): kmeans-articles 0.0285,
    # kmeans-customers+repurchase 0.0428, kmeans-customers 0.0285; the best real model (repurchase, 0.0443)
    # reaches about 39% of the oracle. Second pass, retuned defaults: kmeans-articles 0.0247, kmeans-customers
    # 0.0285
    scores = {**baselines, **factor_models}
    for name in available():
        if name not in scores:
            scores[name] = week.map12(name)
    assert max(scores, key=lambda name: scores[name]) == "oracle", scores
