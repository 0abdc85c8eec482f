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


def test_rebuy_intervals_and_every_attribute_column() -> None:
    # a second attribute column of two values: c0's rows are a0, a0 (colour 1) and a2 (colour 2)
    colour = [1, 2, 2, 2, 1, 1]
    data = planted(colour_group_code=colour)
    tables = FeatureTables.fit(data, CUTOFF, keys=[("product_type_no",)])
    art = {i: dict(zip(ARTICLE_FEATURES, tables.article[i], strict=True)) for i in range(data.n_articles)}
    # a0: c0 bought it on 01-01 and 01-09 (8 days apart), c1 once: half of its buyers rebought, after 8 days
    assert (art[0]["a_rebuy_rate"], art[0]["a_rebuy_days"]) == (0.5, 8.0)
    assert (art[1]["a_product_rebuy_rate"], art[1]["a_product_rebuy_days"]) == (0.5, 8.0)  # a0's product
    assert art[2]["a_rebuy_rate"] == 0 and np.isnan(art[2]["a_rebuy_days"])  # bought once
    assert art[1]["a_rebuy_rate"] == 0 and np.isnan(art[1]["a_days_since_last"])  # never sold
    assert art[4]["a_days_since_last"] == 0 and art[0]["a_price_vs_own"] == 1.0
    sources = {"repurchase": RepurchaseSource().fit(data), "product": ProductSource().fit(data)}
    cands = candidate_union([(n, *s.candidates(np.array([0]), 2)) for n, s in sources.items()], data.n_articles)
    names = feature_names(cands.sources)
    x = tables.matrix(np.array([0]), cands, sources)
    rows = {int(a): dict(zip(names, r, strict=True)) for a, r in zip(cands.article, x, strict=True)}
    # c0 last bought a0 1 day before the cut-off: 1/8 of its interval between rebuys
    assert rows[0]["p_since_over_rebuy"] == np.float32(1 / 8)
    # the attribute columns (the product type has too many values to be one), fewest values first, then
    # the more even split first: the colour (1 of c0's 3 rows in a2's, 2 in a0's), then the index group
    assert (rows[2]["p_attr0_share"], rows[2]["p_attr1_share"]) == (np.float32(1 / 3), 1.0)
    assert rows[0]["p_attr0_share"] == np.float32(2 / 3) and rows[2]["p_attr2_share"] == 1.0  # a slot left over
    # the two columns' contents swapped, with other labels: the same features
    swapped = planted(index_group_name=[f"v{c}" for c in colour], colour_group_code=[7, 7, 7, 7, 8, 8])
    again = FeatureTables.fit(swapped, CUTOFF, keys=[("product_type_no",)])
    np.testing.assert_array_equal(again.matrix(np.array([0]), cands, sources), x)
