"""Customer and article features: exact values on hand-made frames, no NaN and the expected columns."""

from __future__ import annotations

import datetime as dt

import numpy as np
import polars as pl
import pytest

from hmrec.clustering import FeatureSet, article_features, customer_features
from hmrec.clustering.customers import (
    CATEGORY_COMPONENTS,
    CUSTOMER_WEIGHTS,
    article_codes,
    category_counts,
    sqrt_mix,
    sqrt_mix_components,
)
from hmrec.data.dataset import Dataset
from hmrec.errors import ParameterError

ARTICLE_COLS_STR = (
    "prod_name",
    "product_type_name",
    "product_group_name",
    "graphical_appearance_name",
    "colour_group_name",
    "perceived_colour_value_name",
    "perceived_colour_master_name",
    "department_name",
    "index_code",
    "index_name",
    "index_group_name",
    "section_name",
    "garment_group_name",
    "detail_desc",
)


def _articles(rows: list[dict[str, object]]) -> pl.DataFrame:
    base = {c: "x" for c in ARTICLE_COLS_STR}
    ints = {
        "product_code": 1,
        "product_type_no": 1,
        "graphical_appearance_no": 1,
        "colour_group_code": 1,
        "perceived_colour_value_id": 1,
        "perceived_colour_master_id": 1,
        "department_no": 1,
        "index_group_no": 1,
        "section_no": 1,
        "garment_group_no": 1,
    }
    return pl.DataFrame([{**base, **ints, **row} for row in rows])


@pytest.fixture()
def hand() -> Dataset:
    """3 customers (c2 never buys), 3 articles of two product types."""
    articles = _articles(
        [
            {
                "article_id": "0100000001",
                "product_type_no": 1,
                "product_type_name": "Top",
                "index_group_name": "Ladieswear",
                "product_group_name": "Garment Upper body",
                "perceived_colour_master_name": "Black",
                "garment_group_name": "Jersey",
                "detail_desc": "soft jersey top with short sleeves",
            },
            {
                "article_id": "0100000002",
                "product_type_no": 1,
                "product_type_name": "Top",
                "index_group_name": "Ladieswear",
                "product_group_name": "Garment Upper body",
                "perceived_colour_master_name": "White",
                "garment_group_name": "Jersey",
                "detail_desc": "jersey top in soft cotton",
            },
            {
                "article_id": "0100000003",
                "product_type_no": 2,
                "product_type_name": "Trousers",
                "index_group_name": "Menswear",
                "product_group_name": "Garment Lower body",
                "perceived_colour_master_name": "Black",
                "garment_group_name": "Trousers",
                "detail_desc": None,
            },
        ]
    )
    customers = pl.DataFrame(
        {
            "customer_id": ["a" * 64, "b" * 64, "c" * 64],
            "FN": [1.0, None, None],
            "Active": [1.0, None, None],
            "club_member_status": ["ACTIVE", "PRE-CREATE", None],
            "fashion_news_frequency": ["Regularly", "None", "NONE"],
            "age": [20.0, None, 40.0],
            "postal_code": ["p", "q", "r"],
        }
    )
    d = dt.date(2020, 9, 1)
    tx = pl.DataFrame(
        {
            "t_dat": [d, d, d + dt.timedelta(days=3), d + dt.timedelta(days=10)],
            "customer_id": ["a" * 64, "a" * 64, "a" * 64, "b" * 64],
            "article_id": ["0100000001", "0100000003", "0100000002", "0100000003"],
            "price": [0.02, 0.04, 0.01, 0.02],
            "sales_channel_id": [2, 2, 1, 1],
        }
    )
    return Dataset.from_frames(articles, customers, tx, fingerprint="hand")


def test_customer_features_exact_values(hand: Dataset) -> None:
    feats = customer_features(hand)
    f = feats.frame
    assert f.height == 3 and f["customer_idx"].to_list() == [0, 1, 2]
    assert f.null_count().sum_horizontal()[0] == 0
    assert not np.isnan(f.drop("customer_idx").to_numpy()).any()
    assert feats.fit_rows.tolist() == [True, True, False]
    # age: the missing one imputed with the median of 20 and 40, and flagged
    assert f["age"].to_list() == [20.0, 30.0, 40.0]
    assert f["age_missing"].to_list() == [0.0, 1.0, 0.0]
    assert f["club=ACTIVE"].to_list() == [1.0, 0.0, 0.0]
    assert f["club=missing"].to_list() == [0.0, 0.0, 1.0]
    # "None" and "NONE" are one category; "Regularly" is upper-cased
    assert f["news=NONE"].to_list() == [0.0, 1.0, 1.0]
    assert f["news=REGULARLY"].to_list() == [1.0, 0.0, 0.0]
    assert f["FN"].to_list() == [1.0, 0.0, 0.0]
    # purchase mix of customer a: 2 of 3 rows Ladieswear, 1 Menswear; b: 1 Menswear; all rows: 2 and 2.
    # Smoothed with one pseudo-purchase of the global mix (prior = 1), then square-rooted; c2 has none.
    assert f["index_group=Ladieswear"].to_list() == pytest.approx(
        [np.sqrt((2 + 0.5) / (3 + 1)), np.sqrt((0 + 0.5) / (1 + 1)), 0.0]
    )
    assert f["index_group=Menswear"].to_list() == pytest.approx(
        [np.sqrt((1 + 0.5) / (3 + 1)), np.sqrt((1 + 0.5) / (1 + 1)), 0.0]
    )
    # without the prior, the plain square roots of the shares: a 2 of 3 rows Black, b 1 of 1
    raw = customer_features(hand, prior=0.0).frame
    assert raw["colour=Black"].to_list() == pytest.approx([np.sqrt(2 / 3), 1.0, 0.0])
    assert raw["index_group=Ladieswear"].to_list() == pytest.approx([np.sqrt(2 / 3), 0.0, 0.0])
    # mean log price of the rows
    assert f["price_log"].to_list()[:2] == pytest.approx(
        [np.mean(np.log([0.02, 0.04, 0.01])), np.log(0.02)], rel=1e-5
    )
    # activity: reference = last day (d+10); a bought on days d and d+3 (2 days, 3 rows)
    assert f["recency_log"].to_list()[:2] == pytest.approx([np.log1p(7), np.log1p(0)])
    assert f["frequency_log"].to_list()[:2] == pytest.approx([np.log1p(2), np.log1p(1)])
    assert f["basket_log"].to_list()[:2] == pytest.approx([np.log1p(1.5), np.log1p(1)])
    expected_blocks = set(CUSTOMER_WEIGHTS)
    assert set(feats.blocks) == expected_blocks
    assert feats.columns == [c for c in f.columns if c != "customer_idx"]


def test_scaled_blocks_carry_their_weight() -> None:
    rng = np.random.default_rng(0)
    n = 2000
    frame = pl.DataFrame(
        {
            "idx": np.arange(n),
            "age": rng.normal(40, 12, n),
            "s1": rng.random(n),
            "s2": rng.random(n),
            "s3": rng.random(n),
        }
    ).with_columns(pl.exclude("idx").cast(pl.Float32))
    feats = FeatureSet(
        frame=frame,
        blocks={"age": ["age"], "shares": ["s1", "s2", "s3"]},
        continuous=frozenset({"age"}),
        weights={"age": 1.0, "shares": 0.25},
        fit_rows=np.arange(n) < 1500,
        demographic=("age",),
    )
    x = feats.scaled()
    fit = x[:1500]
    # total variance of each block on the fit rows = its weight (age is barely touched by the 4-sigma clip)
    assert fit[:, :1].var(axis=0).sum() == pytest.approx(1.0, rel=0.02)
    assert fit[:, 1:].var(axis=0).sum() == pytest.approx(0.25, rel=1e-4)
    # rows outside fit_rows keep their demographics and sit at the mean (0) elsewhere
    assert np.all(x[1500:, 1:] == 0.0)
    assert np.abs(x[1500:, 0]).max() > 0
    # the shares keep their relative geometry: no per-column standardization
    ratio = x[:1500, 1] / (frame["s1"].to_numpy()[:1500] - frame["s1"].to_numpy()[:1500].mean())
    assert np.allclose(ratio, ratio[0], rtol=1e-3)
    assert feats.scaled({"shares": 1.0})[:1500, 1:].var(axis=0).sum() == pytest.approx(1.0, rel=1e-4)
    with pytest.raises(ParameterError, match="unknown feature block 'colour'"):
        feats.scaled({"colour": 1.0})
    with pytest.raises(ParameterError, match=">= 0"):
        feats.scaled({"age": -1.0})


def test_article_features_exact_values(hand: Dataset) -> None:
    feats = article_features(hand, text_components=2, copurchase_components=1, seed=0)
    f = feats.frame
    assert f.height == 3 and f.null_count().sum_horizontal()[0] == 0
    assert not np.isnan(f.drop("article_idx").to_numpy()).any()
    assert f["product_type=Top"].to_list() == [1.0, 1.0, 0.0]
    assert f["index=x"].to_list() == [1.0, 1.0, 1.0]
    # price level: article 1 sold at 0.02, Tops' median 0.015 -> log(4/3); article 3: median 0.03 of 0.03
    assert f["price_level"].to_list() == pytest.approx(
        [np.log(0.02 / 0.015), np.log(0.01 / 0.015), 0.0], abs=1e-6
    )
    text = f.select(feats.blocks["text"]).to_numpy()
    assert np.linalg.norm(text[:2], axis=1) == pytest.approx([1.0, 1.0], abs=1e-5)
    assert np.all(text[2] == 0)  # no description: no text signal
    assert set(feats.blocks) == {
        "product_type",
        "product_group",
        "colour",
        "appearance",
        "index",
        "garment_group",
        "price",
        "text",
        "copurchase",
    }
    assert feats.fit_rows.all()
    no_embed = article_features(hand, text_components=0, copurchase_components=0)
    assert "text" not in no_embed.blocks and "copurchase" not in no_embed.blocks
    with pytest.raises(ParameterError, match="text_components"):
        article_features(hand, text_components=-1)


def test_features_without_transactions(hand: Dataset) -> None:
    empty = hand.between(dt.date(2000, 1, 1), dt.date(2000, 1, 2))
    feats = customer_features(empty)
    assert not feats.fit_rows.any()
    assert not np.isnan(feats.scaled()).any()
    arts = article_features(empty, text_components=2)
    assert not np.isnan(arts.scaled()).any()


def test_generated_features_have_no_nan(tiny: Dataset) -> None:
    feats = customer_features(tiny)
    assert feats.frame.height == tiny.n_customers
    assert feats.frame.null_count().sum_horizontal()[0] == 0
    x = feats.scaled()
    assert x.dtype == np.float32 and np.isfinite(x).all()
    for column in (
        "age",
        "age_missing",
        "club=ACTIVE",
        "news=NONE",
        "FN",
        "Active",
        "index_group=Ladieswear",
        "price_log",
        "channel2_share",
        "recency_log",
        "frequency_log",
        "basket_log",
    ):
        assert column in feats.frame.columns
    # square roots of shares: their squares sum to 1 for every customer with history
    mix = feats.frame.select(feats.blocks["index_group"]).to_numpy()
    assert np.allclose((mix[feats.fit_rows] ** 2).sum(axis=1), 1.0, atol=1e-5)
    assert len(feats.blocks["category"]) == CATEGORY_COMPONENTS
    # memoized on the window: the same object for the same arguments
    assert customer_features(tiny) is feats
    arts = article_features(tiny)
    assert arts.frame.height == tiny.n_articles and np.isfinite(arts.scaled()).all()


@pytest.mark.parametrize("prior", [0.0, 1.0, 3.0])
def test_category_components_equal_dense_pca(tiny: Dataset, prior: float) -> None:
    """The sparse principal components equal a dense PCA of the smoothed square-root mix (up to sign)."""
    codes, names = article_codes(tiny.articles, ("index_name", "product_type_name"))
    per_category = category_counts(tiny.interactions(), codes, len(names))
    fit = np.diff(tiny.interactions().indptr) > 0
    ours = sqrt_mix_components(per_category, prior, 6, fit)
    dense = sqrt_mix(per_category, prior).astype(np.float64)[fit]
    centred = dense - dense.mean(axis=0)
    _, vectors = np.linalg.eigh(centred.T @ centred / fit.sum())
    expected = centred @ vectors[:, ::-1][:, :6]
    got = ours[fit].astype(np.float64)
    for j in range(6):
        sign = np.sign(got[:, j] @ expected[:, j])
        assert np.allclose(got[:, j], sign * expected[:, j], atol=2e-4)
    assert np.all(ours[~fit] == 0)
    with pytest.raises(ParameterError, match="prior"):
        customer_features(tiny, prior=-1.0)
