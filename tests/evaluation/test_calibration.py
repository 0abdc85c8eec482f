"""The generator's calibration figures (hmrec.evaluation.calibration) on the ``small`` data set, seed 0, in
world 0 and (marked slow) in worlds 1 and 2: every band holds in every world.

The targets are set on ``full`` (docs/calibration.md, checked by benchmarks/calibration.py); ``small`` has a
tenth of its articles, so every list is more accurate there and the figures are higher. The bands below are
the small figures measured with the calibrated generator, with room for a change of seed (measured on seeds
0, 1 and 2), while the orderings and ratios that make the generated data a fair judge of a ranker hold on
every scale.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import numpy as np
import polars as pl
import pytest

from hmrec.data.dataset import Dataset
from hmrec.data.load import load_dataset
from hmrec.evaluation.calibration import SOURCES, calibration_figures, source_candidates
from hmrec.synthetic import generate


@pytest.fixture(
    scope="module",
    params=[0, pytest.param(1, marks=pytest.mark.slow), pytest.param(2, marks=pytest.mark.slow)],
    ids=lambda world: f"world{world}",
)
def figures(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The figures of ``small``, seed 0, in world 0 (the calibrated generator) and in worlds 1 and 2 (another
    favourite key and other strengths, docs/calibration.md "Worlds"): every band must hold in every world."""
    if request.param == 0:
        data: Dataset = request.getfixturevalue("small")
    else:
        out = tmp_path_factory.mktemp(f"small-w{request.param}")
        generate(out, scale="small", seed=0, world=request.param, progress=False)
        data = load_dataset(out, progress=False)
    return calibration_figures(data)


def test_baseline_maps_within_the_small_bands(figures: dict[str, Any]) -> None:
    # measured on small, seeds 0/1/2: popularity 0.0210 / 0.0168 / 0.0186 (the same crowd of hits as on full
    # in a 10,000-article catalogue; 0.0246 / 0.0476 / 0.0296 before the hits were capped), repurchase
    # 0.0280 / 0.0307 / 0.0270; full: 0.0077 / 0.0074 / 0.0103 and 0.0229 / 0.0237 / 0.0237 (real 0.0087, 0.022)
    assert 0.014 <= figures["map_popularity"] <= 0.028
    assert 0.023 <= figures["map_repurchase"] <= 0.036


def test_repurchase_over_popularity_and_room_above_repurchase(figures: dict[str, Any]) -> None:
    # real data: repurchase 2.5x popularity, the best single ranker about 2x repurchase; the oracle must leave
    # room above 2x (2.5x to 5x on full)
    # small, seeds 0/1/2: repurchase / popularity 1.33 / 1.83 / 1.45 (seed 0 is the one tested; full 2.99 /
    # 3.21 / 2.31), oracle / repurchase 3.99 / 3.73 / 4.03 (full 2.68 / 2.67 / 2.64)
    assert 1.15 <= figures["repurchase_over_popularity"] <= 3.0
    assert 2.5 <= figures["oracle_over_repurchase"] <= 5.0


def test_source_recalls_keep_the_real_order(figures: dict[str, Any]) -> None:
    # real (11th place): popularity 0.055 > repurchase 0.039 ~ same product 0.037 > co-purchase 0.024; small,
    # seed 0: 0.194 > 0.088 > same product 0.047 ~ co-purchase 0.050 (the ranker's sources; 0.048 and
    # 0.057 with the calibration's own definitions before; on full co-purchase is below)
    same, co = figures["recall_same_product"], figures["recall_copurchase"]
    assert figures["recall_popularity"] > figures["recall_repurchase"] > max(same, co)
    assert 1 / 1.5 < same / co < 1.5
    assert figures["recall_all"] < sum(figures[f"recall_{name}"] for name in SOURCES)
    assert figures["candidates_per_buyer"] <= sum(SOURCES.values())


def test_catalogue_shape(figures: dict[str, Any]) -> None:
    # real: 0.9 % of articles never sold; 250 department names. Small, seeds 0/1/2: 2.4 / 1.8 / 2.4 % (fewer
    # buyers per article than full, where it is 1.1-1.3 %; it was 4.9 % before) and 220 / 222 / 228 names
    # (fewer departments exist among 10,000 articles; full 260; was 63)
    assert figures["never_sold"] < 0.045
    assert 200 <= figures["department_names"] <= 260


def test_no_warm_up_and_no_pile_up_of_old_last_purchases(figures: dict[str, Any]) -> None:
    # the first 13 weeks against the next 13, over the same ratio a year later: the season cancels; before
    # the recalibration the first months ran 42 % high
    assert figures["warmup_ratio"] == pytest.approx(1.0, abs=0.1)
    # customers whose last purchase was 96-104 weeks ago, per week, against 80-95 weeks ago: was 1.62
    assert figures["recency_bump"] < 1.05


def test_sources_on_a_hand_made_history() -> None:
    day = dt.date(2020, 9, 1)
    # customer 0 bought articles 0 (product 10) and 2 (product 20) the same day; customer 1 bought 0 and 3
    # together, 2 earlier; article 1 is another colour of product 10, article 4 sold 20 days before
    rows = [(day, 0, 0), (day, 0, 2), (day, 1, 0), (day, 1, 3), (day - dt.timedelta(days=3), 1, 2)]
    rows.append((day - dt.timedelta(days=20), 1, 4))
    ids = [f"{100 + i:010d}" for i in range(5)]
    tx = pl.DataFrame(
        {
            "t_dat": [r[0] for r in rows],
            "customer_id": [f"{r[1]:064x}" for r in rows],
            "article_id": [ids[r[2]] for r in rows],
            "price": [0.02] * len(rows),
            "sales_channel_id": [2] * len(rows),
        }
    )
    articles = pl.DataFrame({"article_id": ids, "product_code": [10, 10, 20, 30, 40]})
    customers = pl.DataFrame({"customer_id": [f"{i:064x}" for i in range(2)]})
    train = Dataset.from_frames(articles, customers, tx)
    found = source_candidates(train, np.array([0]))
    got = {name: sorted(int(a) for a in matrix.indices) for name, matrix in found.items()}
    assert got["popularity"] == [0, 2, 3]  # every article sold in the last 7 days, not article 4
    assert got["repurchase"] == [0, 2]
    assert got["same_product"] == [1]
    # bought by customer 1 with article 0 (same day) and 3 days after article 2; 4 was 20 days before 2;
    # articles 0 and 2 themselves are customer 0's own and not proposed
    assert got["copurchase"] == [3, 4]
