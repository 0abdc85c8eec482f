"""Features: values on the planted data, and no feature reads past the cut-off."""

from __future__ import annotations

import datetime as dt

import numpy as np
from planted import planted

from hmrec.data.dataset import Dataset
from hmrec.ranking.candidates import candidate_union
from hmrec.ranking.cutoff import CutoffState
from hmrec.ranking.features import (
    ARTICLE_FEATURES,
    CUSTOMER_FEATURES,
    FeatureTables,
    feature_names,
)
from hmrec.ranking.sources import SOURCES, ProductSource, RepurchaseSource, SourceContext

CUTOFF = dt.date(2020, 1, 10)


def test_customer_article_and_pair_values() -> None:
    data = planted()
    tables = FeatureTables.fit(data, CUTOFF, keys=[("product_type_no",)])
    c0 = dict(zip(CUSTOMER_FEATURES, tables.customer[0], strict=True))
    assert (c0["c_age"], c0["c_rows"], c0["c_rows_7d"], c0["c_days_since_last"], c0["c_days_since_first"]) == (
        25, 3, 2, 0, 9,
    )
    np.testing.assert_allclose([c0["c_online_share"], c0["c_mean_price"]], [2 / 3, 0.04 / 3], rtol=1e-6)
    assert np.isnan(tables.customer[3, CUSTOMER_FEATURES.index("c_days_since_last")])  # never bought
    a0 = dict(zip(ARTICLE_FEATURES, tables.article[0], strict=True))
    assert (a0["a_days_since_first"], a0["a_sales_7d"], a0["a_sales"], a0["a_trend"]) == (9, 2, 3, 1.0)
    assert a0["a_buyer_age"] == 25
    sources = {"repurchase": RepurchaseSource().fit(data), "product": ProductSource().fit(data)}
    lists = [(name, *s.candidates(np.array([0]), 2)) for name, s in sources.items()]
    cands = candidate_union(lists, data.n_articles)
    x = tables.matrix(np.array([0]), cands, sources)
    names = feature_names(cands.sources)
    assert x.shape == (4, len(names))
    rows = {int(a): dict(zip(names, r, strict=True)) for a, r in zip(cands.article, x, strict=True)}
    assert rows[0]["p_times_bought"] == 2 and rows[0]["p_days_since_bought"] == 1
    assert rows[1]["p_times_bought"] == 0 and np.isnan(rows[1]["p_days_since_bought"])
    assert rows[1]["p_days_since_product"] == 1 and rows[1]["p_product_rows"] == 2
    assert rows[1]["s_product_rank"] == 0 and np.isnan(rows[1]["s_repurchase_rank"]) and rows[1]["s_count"] == 1
    # the taste key is the product type: one of c0's three rows is of a2's product type
    assert rows[2]["p_taste0_share"] == np.float32(1 / 3)
    # slots beyond the keys learned see one value for every article: all of the customer's rows
    assert rows[2]["p_taste1_share"] == np.float32(1.0)
    # c0 bought a2 (product 200) last, a0 (product 100) before it: a0 is one article back, a1's product too
    assert (rows[2]["p_own_order"], rows[0]["p_own_order"]) == (0, 1) and np.isnan(rows[1]["p_own_order"])
    assert (rows[2]["p_product_order"], rows[0]["p_product_order"], rows[1]["p_product_order"]) == (0, 1, 1)
    # c0's a0 of 01-09 rebuys the product first bought on 01-01: 1 of 3 rows; c1 and c2 never rebuy
    rebuy = tables.customer[:, CUSTOMER_FEATURES.index("c_rebuy_share")]
    np.testing.assert_allclose(rebuy[:3], [1 / 3, 0, 0], rtol=1e-6)
    assert np.isnan(rebuy[3])
    # a0 and a4 share product type 1 and sold 2 rows each in the last 7 days
    assert a0["a_taste_share_7d"] == np.float32(0.5)


#: two taste keys, so that both a single column's and a pair's tables are built
TASTE_KEYS = (("product_type_no", "colour_group_code"), ("department_no",))


def _state_arrays(data: Dataset, cutoff: dt.date) -> dict[str, np.ndarray]:
    state = CutoffState.build(
        data, cutoff, list(SOURCES), active_weeks=4, history_weeks=20,
        # a few epochs of the SGD source say as much here as its default 80
        context=SourceContext(seed=0, threads=1, taste_keys=TASTE_KEYS, model_params={"bpr": {"epochs": 3}}),
    )
    customers = np.arange(data.n_customers)
    counts = dict.fromkeys(SOURCES, 8)
    cands = state.candidates(customers, counts, data.n_articles)
    out = {"features": state.features(customers, cands), "row": cands.row, "article": cands.article,
           "active": state.active}
    out.update({f"table {k}": v for k, v in state.tables.state().items()})
    return out


def test_no_feature_reads_past_the_cutoff(tiny: Dataset) -> None:
    """Everything built at a cut-off from the full data equals the same built from data truncated there."""
    end = tiny.end_date
    assert end is not None
    cutoff = end - dt.timedelta(days=10)
    full = _state_arrays(tiny, cutoff)
    cut = _state_arrays(tiny.between(None, cutoff), cutoff)
    assert full.keys() == cut.keys()
    for key in full:
        np.testing.assert_array_equal(full[key], cut[key], err_msg=key)
    # and the cut-off matters: a later one sees other purchases
    later = _state_arrays(tiny, end)
    assert not np.array_equal(later["table own_keys"], full["table own_keys"])
