"""Article features for clustering: catalogue attributes, price level and compact embeddings.

Columns (float32, no NaN), by block:

- ``product_type``, ``product_group``, ``colour``, ``appearance``, ``index``, ``garment_group``: one-hot of
  ``product_type_name``, ``product_group_name``, ``colour_group_name``, ``graphical_appearance_name``,
  ``index_name`` and ``garment_group_name`` (missing values form their own category);
- ``price``: ``price_level = log(median price of the article / median price of its product type)`` over the
  window (0 for articles not sold in it: the typical price of their type);
- ``text``: ``text_0..`` an L2-normalized TruncatedSVD (LSA) of the TF-IDF of ``detail_desc``, so that
  articles described alike ("jersey top with short sleeves") sit together even across product types;
- ``copurchase`` (optional): ``copurchase_0..`` an L2-normalized TruncatedSVD of the articles x customers
  purchase matrix: articles bought by the same customers sit together (0 for articles never sold).

Every row is a fit row (``fit_rows`` all True); there is no demographic block.
"""

from __future__ import annotations

import numpy as np
import polars as pl
import scipy.sparse as sp

from hmrec.clustering.features import FeatureSet, one_hot_columns
from hmrec.data.dataset import Dataset
from hmrec.data.schema import ARTICLE_IDX, PRICE
from hmrec.errors import ParameterError

ONE_HOT_BLOCKS: dict[str, str] = {
    "product_type": "product_type_name",
    "product_group": "product_group_name",
    "colour": "colour_group_name",
    "appearance": "graphical_appearance_name",
    "index": "index_name",
    "garment_group": "garment_group_name",
}

#: default block weights: what the article is (type, index) and how it is described weigh most; colour and
#: pattern less, since a customer's taste in clothes is better told by the kind of garment than its colour.
ARTICLE_WEIGHTS: dict[str, float] = {
    "product_type": 1.0,
    "product_group": 0.5,
    "colour": 0.25,
    "appearance": 0.25,
    "index": 1.0,
    "garment_group": 0.5,
    "price": 0.5,
    "text": 1.0,
    "copurchase": 1.0,
}


def _l2_rows(matrix: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(matrix, axis=1, keepdims=True)
    return np.divide(matrix, norms, out=np.zeros_like(matrix), where=norms > 0).astype(np.float32)


def text_embedding(descriptions: pl.Series, components: int, seed: int) -> np.ndarray:
    """``(m, components)`` LSA embedding of the descriptions: TF-IDF (sublinear tf, English stop words,
    terms in >= 2 descriptions) then TruncatedSVD, rows L2-normalized; fewer columns if the vocabulary is
    smaller, zeros for an empty description."""
    from sklearn.decomposition import TruncatedSVD
    from sklearn.feature_extraction.text import TfidfVectorizer

    m = descriptions.len()
    out = np.zeros((m, components), dtype=np.float32)
    texts = descriptions.cast(pl.String).fill_null("").to_list()
    if components == 0 or not any(texts):
        return out
    try:
        tfidf = TfidfVectorizer(
            min_df=2 if m >= 50 else 1,
            max_features=50_000,
            stop_words="english",
            sublinear_tf=True,
            dtype=np.float32,
        ).fit_transform(texts)
    except ValueError:  # empty vocabulary (only stop words)
        return out
    rank = min(components, tfidf.shape[1] - 1, m - 1)
    if rank < 1:
        return out
    svd = TruncatedSVD(n_components=rank, random_state=seed, algorithm="randomized", n_iter=5)
    out[:, :rank] = _l2_rows(svd.fit_transform(tfidf).astype(np.float32))
    return out


def copurchase_embedding(train: Dataset, components: int, seed: int) -> np.ndarray:
    """``(m, components)`` TruncatedSVD of the binary articles x customers matrix, rows L2-normalized."""
    from sklearn.decomposition import TruncatedSVD

    m = train.n_articles
    out = np.zeros((m, components), dtype=np.float32)
    if components == 0 or train.n_transactions == 0:
        return out
    matrix = sp.csr_matrix(train.interactions(binary=True).T)
    rank = min(components, min(matrix.shape) - 1)
    if rank < 1:
        return out
    svd = TruncatedSVD(n_components=rank, random_state=seed, algorithm="randomized", n_iter=4)
    out[:, :rank] = _l2_rows(svd.fit_transform(matrix).astype(np.float32))
    return out


def price_level(train: Dataset) -> np.ndarray:
    """``log(median price of the article / median price of its product type)``; 0 when not sold."""
    level = np.zeros(train.n_articles, dtype=np.float32)
    tx = train.transactions
    if tx.height == 0:
        return level
    types = train.articles.select(
        ARTICLE_IDX, pl.col("product_type_name").fill_null("missing").alias("ptype")
    )
    per_article = (
        tx.group_by(ARTICLE_IDX)
        .agg(pl.col(PRICE).median().alias("p"))
        .join(types, on=ARTICLE_IDX, how="left")
    )
    per_type = (
        tx.join(types, on=ARTICLE_IDX, how="left").group_by("ptype").agg(pl.col(PRICE).median().alias("pt"))
    )
    joined = per_article.join(per_type, on="ptype", how="left").filter((pl.col("p") > 0) & (pl.col("pt") > 0))
    level[joined[ARTICLE_IDX].to_numpy()] = np.log(
        joined["p"].to_numpy().astype(np.float64) / joined["pt"].to_numpy().astype(np.float64)
    )
    return level


def article_features(
    train: Dataset, *, text_components: int = 16, copurchase_components: int = 8, seed: int = 0
) -> FeatureSet:
    """Article features (see the module docstring), one row per article in ``article_idx`` order.

    Args:
        train: the training window (price levels and co-purchases come from its transactions).
        text_components: size of the ``detail_desc`` embedding (0 to leave it out).
        copurchase_components: size of the co-purchase embedding (0 to leave it out).
        seed: seed of the randomized SVDs.
    """
    for name, value in (
        ("text_components", text_components),
        ("copurchase_components", copurchase_components),
    ):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 0:
            raise ParameterError(f"{name} must be an integer >= 0, got {value!r}")
    articles = train.articles
    parts: list[pl.DataFrame] = [pl.DataFrame({ARTICLE_IDX: np.arange(train.n_articles, dtype=np.int32)})]
    blocks: dict[str, list[str]] = {}
    for block, column in ONE_HOT_BLOCKS.items():
        onehot = one_hot_columns(articles[column], block)
        parts.append(onehot)
        blocks[block] = onehot.columns
    parts.append(pl.DataFrame({"price_level": price_level(train)}))
    blocks["price"] = ["price_level"]
    weights = {b: w for b, w in ARTICLE_WEIGHTS.items() if b in blocks}
    for block, matrix in (
        ("text", text_embedding(articles["detail_desc"], int(text_components), seed)),
        ("copurchase", copurchase_embedding(train, int(copurchase_components), seed)),
    ):
        if matrix.shape[1]:
            cols = [f"{block}_{i}" for i in range(matrix.shape[1])]
            parts.append(pl.DataFrame(matrix, schema=cols, orient="row"))
            blocks[block] = cols
            weights[block] = ARTICLE_WEIGHTS[block]
    frame = pl.concat(parts, how="horizontal").with_columns(pl.exclude(ARTICLE_IDX).cast(pl.Float32))
    return FeatureSet(
        frame=frame,
        blocks=blocks,
        continuous=frozenset({"price_level"}),
        weights=weights,
        fit_rows=np.ones(train.n_articles, dtype=bool),
    )


__all__ = ["ARTICLE_WEIGHTS", "ONE_HOT_BLOCKS", "article_features", "copurchase_embedding", "text_embedding"]
