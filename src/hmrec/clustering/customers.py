"""Customer features for clustering: age, and what, how and how often each customer buys.

All history features come from the transactions of the Dataset passed in: pass the *training window* (the
caller cuts it), so that no feature looks at the weeks being predicted.

Columns (float32, no NaN), by block:

- ``age``: ``age`` (missing imputed with the median age), ``age_missing`` (1 if imputed);
- ``membership``: one-hot ``club=ACTIVE|PRE-CREATE|LEFT CLUB|missing``,
  ``news=NONE|REGULARLY|MONTHLY|missing``
  (``fashion_news_frequency``, case-folded: the file spells NONE twice), ``FN`` and ``Active`` (1 or 0);
- ``index_group`` and ``colour``: the purchase mix over index groups (Ladieswear, Divided, Menswear,
  Baby/Children, Sport) and perceived colour masters, as *square roots of smoothed shares* (below);
- ``category``: ``category_pc0..`` the principal components of the same square-root shares over the
  (index, product type) categories (a few hundred of them: "Ladieswear Dress", "Menswear Trousers", ...),
  the components that carry most of their variance;
- ``price``: ``price_log = mean over the customer's rows of log(price)``: what price level they buy at
  (a taste for dearer product types shows here, as in the mix);
- ``channel``: ``channel2_share``, the share of rows bought online (sales channel 2);
- ``activity``: ``recency_log = log(1 + days from last purchase to the reference day)``,
  ``frequency_log = log(1 + distinct purchase days)``, ``basket_log = log(1 + rows per purchase day)``.

**Purchase mixes.** With ``c_j`` a customer's purchase rows in category ``j``, ``n = sum_j c_j`` and ``g_j``
the share of all rows in ``j``, the smoothed share is ``p_j = (c_j + prior * g_j) / (n + prior)`` (``prior``
pseudo-purchases spread like the global mix: a customer with one purchase is pulled towards the average, one
with a hundred barely moves) and the feature is ``sqrt(p_j)``. The Euclidean distance between two such
vectors is (up to sqrt 2) the Hellinger distance between the two mixes, and the square root stabilizes the
variance of multinomial shares (``Var sqrt(p^) ~ 1 / (4 n)`` whatever ``p``), so rare categories are not
drowned by the Ladieswear share as they are with raw shares.

The demographic blocks (``age``, ``membership``) exist for every customer; the others only for customers with
history (``fit_rows``). Everything is vectorized: purchase mixes are one sparse product
``(customers x articles counts) @ (articles x categories one-hot)``; the principal components come from the
small ``categories x categories`` Gram matrix of that sparse product; the rest is one polars group-by.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import polars as pl
import scipy.sparse as sp

from hmrec.clustering.features import FeatureSet, one_hot_columns
from hmrec.data.dataset import Dataset
from hmrec.data.schema import CUSTOMER_IDX, PRICE, SALES_CHANNEL, T_DAT
from hmrec.errors import ParameterError

CLUB_VALUES = ["ACTIVE", "PRE-CREATE", "LEFT CLUB", "missing"]
NEWS_VALUES = ["NONE", "REGULARLY", "MONTHLY", "missing"]

#: article column(s) whose distribution over a customer's purchases forms each purchase-mix block
MIX_BLOCKS: dict[str, tuple[str, ...]] = {
    "index_group": ("index_group_name",),
    "category": ("index_name", "product_type_name"),
    "colour": ("perceived_colour_master_name",),
}
#: mix blocks reduced to their principal components (a few hundred categories -> CATEGORY_COMPONENTS)
PROJECTED_BLOCKS = frozenset({"category"})
CATEGORY_COMPONENTS = 24
#: pseudo-purchases of the global mix added to every customer's mix (see the module docstring)
DEFAULT_PRIOR = 1.0

#: default block weights (see hmrec.clustering.features: a block's share of the expected squared distance between two
#: customers). Chosen by the adjusted Rand index of k-means (k = 12) against the generator's segments on the
#: small synthetic data set, block by block: age and the index-group mix say the most (ARI 0.23 and 0.15
#: alone) and halving either costs ~0.08; the category mix adds what tells the women's segments apart
#: (lingerie, dresses, basics); colour a little. The other blocks barely separate segments (ARI < 0.02
#: alone) and cost ARI at weights >= 0.25: membership flags are nearly binary and k-means would split on them;
#: activity and channel vary mostly within a segment (heavy-tailed visit rates). They keep small weights so
#: that they still order customers who are otherwise alike.
CUSTOMER_WEIGHTS: dict[str, float] = {
    "age": 1.0,
    "membership": 0.02,
    "index_group": 1.0,
    "category": 1.0,
    "colour": 0.25,
    "price": 0.05,
    "channel": 0.05,
    "activity": 0.02,
}

DEMOGRAPHIC_BLOCKS = ("age", "membership")


def _categories(values: pl.Series, allowed: list[str]) -> pl.Series:
    """Upper-cased values, with nulls and anything outside ``allowed`` mapped to "missing"."""
    text = values.cast(pl.String).str.strip_chars().str.to_uppercase()
    return text.replace_strict({v: v for v in allowed if v != "missing"}, default="missing")


def demographic_frame(customers: pl.DataFrame) -> tuple[pl.DataFrame, dict[str, list[str]]]:
    """The ``age`` and ``membership`` blocks for every customer (rows in customer_idx order)."""
    age = customers["age"].cast(pl.Float32)
    known = age.drop_nulls()
    median_age = float(known.median()) if known.len() else 36.0  # type: ignore[arg-type]
    age_block = pl.DataFrame(
        {
            "age": age.fill_null(median_age),
            "age_missing": age.is_null().cast(pl.Float32),
        }
    )
    club = one_hot_columns(_categories(customers["club_member_status"], CLUB_VALUES), "club", CLUB_VALUES)
    news = one_hot_columns(_categories(customers["fashion_news_frequency"], NEWS_VALUES), "news", NEWS_VALUES)
    flags = pl.DataFrame(
        {
            "FN": customers["FN"].cast(pl.Float32).fill_null(0.0).clip(0.0, 1.0),
            "Active": customers["Active"].cast(pl.Float32).fill_null(0.0).clip(0.0, 1.0),
        }
    )
    frame = pl.concat([age_block, club, news, flags], how="horizontal")
    blocks = {"age": age_block.columns, "membership": [*club.columns, *news.columns, *flags.columns]}
    return frame, blocks


def article_codes(articles: pl.DataFrame, column: str | tuple[str, ...]) -> tuple[np.ndarray, list[str]]:
    """Integer code per article (article_idx order) of a categorical column (or of the combination of a few,
    joined with " | "), and the sorted category names."""
    columns = (column,) if isinstance(column, str) else column
    text = pl.concat_str(
        [pl.col(c).cast(pl.String).fill_null("missing") for c in columns], separator=" | "
    )
    values = articles.select(text.alias("_v"))["_v"].to_numpy().astype(str)
    names, codes = np.unique(values, return_inverse=True)
    return codes.astype(np.int32), [str(n) for n in names]


def category_counts(counts: sp.csr_matrix, codes: np.ndarray, n_codes: int) -> sp.csr_matrix:
    """``counts @ onehot(codes)``: each customer's purchase rows per category, sparse ``(n, n_codes)``."""
    m = codes.size
    onehot = sp.csr_matrix((np.ones(m, dtype=np.float32), (np.arange(m), codes)), shape=(m, n_codes))
    out = sp.csr_matrix(counts @ onehot)
    out.sum_duplicates()
    return out


def purchase_mix(counts: sp.csr_matrix, codes: np.ndarray, n_codes: int) -> np.ndarray:
    """Row-normalized ``counts @ onehot(codes)``: each customer's share of purchases per category, (n, c)."""
    mix = np.asarray(category_counts(counts, codes, n_codes).toarray(), dtype=np.float32)
    totals = mix.sum(axis=1, keepdims=True)
    np.divide(mix, totals, out=mix, where=totals > 0)
    return mix


def _global_mix(per_category: sp.csr_matrix) -> np.ndarray:
    totals = np.asarray(per_category.sum(axis=0), dtype=np.float64).ravel()
    return totals / totals.sum() if totals.sum() > 0 else totals


def sqrt_mix(per_category: sp.csr_matrix, prior: float) -> np.ndarray:
    """Dense ``sqrt((c_j + prior * g_j) / (n + prior))`` per customer (module docstring); 0 without history.

    Dense: only for blocks with few categories (index groups, colour masters).
    """
    c = np.asarray(per_category.toarray(), dtype=np.float64)
    n = c.sum(axis=1, keepdims=True)
    smoothed = (c + prior * _global_mix(per_category)[None, :]) / np.maximum(n + prior, 1e-12)
    smoothed[n[:, 0] == 0] = 0.0
    return np.sqrt(smoothed).astype(np.float32)


def sqrt_mix_components(
    per_category: sp.csr_matrix, prior: float, components: int, fit_rows: np.ndarray
) -> np.ndarray:
    """The first ``components`` principal components of :func:`sqrt_mix`, without building it densely.

    With a prior the smoothed root ``sqrt((c_j + prior g_j) / (n + prior))`` is no longer sparse, so it is
    split as ``sqrt(g_j) r + E`` where ``r = sqrt(prior / (n + prior))`` (what a customer with no purchase in
    ``j`` has) and ``E`` the sparse correction on the customer's own categories. The covariance over
    ``fit_rows`` is then assembled from ``E^T E``, ``E^T r``, ``r^T r`` and the means (a ``c x c`` matrix),
    its top eigenvectors ``V`` taken, and the scores ``(X - mean) V`` computed as ``E V + r (sqrt(g) V) -
    mean V``: a sparse product and a rank-one term. Rows outside ``fit_rows`` get 0.
    """
    n_rows, n_cat = per_category.shape
    out = np.zeros((n_rows, components), dtype=np.float32)
    fit = np.flatnonzero(fit_rows)
    if components == 0 or fit.size < 2 or n_cat == 0:
        return out
    g = _global_mix(per_category)
    sg = np.sqrt(g)
    counts = sp.csr_matrix(per_category[fit], dtype=np.float64)
    n = np.asarray(counts.sum(axis=1), dtype=np.float64).ravel()
    denom = n + prior
    r = np.sqrt(prior / denom)
    # E: on a customer's own categories, sqrt((c + prior g) / (n + prior)) - sqrt(g) r
    row_of = np.repeat(np.arange(fit.size), np.diff(counts.indptr))
    col = counts.indices
    e_data = np.sqrt((counts.data + prior * g[col]) / denom[row_of]) - sg[col] * r[row_of]
    e = sp.csr_matrix((e_data, counts.indices, counts.indptr), shape=counts.shape)
    m = fit.size
    mean = np.asarray(e.sum(axis=0)).ravel() / m + sg * r.mean()
    et_r = np.asarray(e.T @ r).ravel()
    second = (e.T @ e).toarray() + np.outer(et_r, sg) + np.outer(sg, et_r) + float(r @ r) * np.outer(sg, sg)
    cov = second / m - np.outer(mean, mean)
    values, vectors = np.linalg.eigh(cov)
    take = min(components, n_cat)
    v = vectors[:, ::-1][:, :take]
    # a deterministic sign: the largest loading of each component is positive
    v *= np.where(v[np.abs(v).argmax(axis=0), np.arange(take)] < 0, -1.0, 1.0)[None, :]
    scores = e @ v + np.outer(r, sg @ v) - (mean @ v)[None, :]
    out[fit, :take] = scores.astype(np.float32)
    return out


def history_frame(
    train: Dataset,
    reference: dt.date | None = None,
    *,
    prior: float = DEFAULT_PRIOR,
    category_components: int = CATEGORY_COMPONENTS,
) -> tuple[pl.DataFrame, dict[str, list[str]], np.ndarray]:
    """The history blocks for every customer, and the mask of customers with at least one purchase."""
    n = train.n_customers
    tx = train.transactions
    counts = train.interactions()
    has_history = np.diff(counts.indptr) > 0
    blocks: dict[str, list[str]] = {}
    parts: list[pl.DataFrame] = []
    for block, columns in MIX_BLOCKS.items():
        codes, names = article_codes(train.articles, columns)
        per_category = category_counts(counts, codes, len(names))
        if block in PROJECTED_BLOCKS:
            matrix = sqrt_mix_components(per_category, prior, category_components, has_history)
            cols = [f"{block}_pc{i}" for i in range(matrix.shape[1])]
        else:
            matrix = sqrt_mix(per_category, prior)
            cols = [f"{block}={name}" for name in names]
        parts.append(pl.DataFrame(matrix, schema=cols, orient="row"))
        blocks[block] = cols

    price_log = np.zeros(n, dtype=np.float32)
    channel2 = np.zeros(n, dtype=np.float32)
    recency = np.zeros(n, dtype=np.float32)
    frequency = np.zeros(n, dtype=np.float32)
    basket = np.zeros(n, dtype=np.float32)
    if tx.height:
        first, last = train.start_date, train.end_date
        assert first is not None and last is not None  # there are transactions
        ref = reference or last
        per_customer = (
            tx.lazy()
            .select(
                pl.col(CUSTOMER_IDX),
                pl.col(T_DAT),
                (pl.col(SALES_CHANNEL) == 2).cast(pl.Float32).alias("online"),
            )
            .group_by(CUSTOMER_IDX)
            .agg(
                pl.len().alias("rows"),
                pl.col(T_DAT).n_unique().alias("days"),
                pl.col(T_DAT).max().alias("last"),
                pl.col("online").mean().alias("online"),  # a mean of 0/1 values: an exact sum
            )
            .with_columns(
                (pl.lit(ref, dtype=pl.Date) - pl.col("last")).dt.total_days().clip(0).alias("recency_days")
            )
            .collect()
        )
        idx = per_customer[CUSTOMER_IDX].to_numpy()
        rows = per_customer["rows"].to_numpy().astype(np.float64)
        days = per_customer["days"].to_numpy().astype(np.float64)
        # the mean log price summed by numpy in row order (polars' parallel group-by float sums change from run
        # to run; the features feed k-means and so the cluster models' rankings)
        log_price = tx.select(pl.col(PRICE).clip(lower_bound=1e-6).log())[PRICE].to_numpy().astype(np.float64)
        buyer = tx[CUSTOMER_IDX].to_numpy()
        price_sum = np.bincount(buyer, weights=log_price, minlength=n)
        price_log[idx] = price_sum[idx] / rows
        channel2[idx] = per_customer["online"].to_numpy()
        recency[idx] = np.log1p(per_customer["recency_days"].to_numpy().astype(np.float64))
        frequency[idx] = np.log1p(days)
        basket[idx] = np.log1p(rows / days)
        # No history: not seen for longer than anyone in the window (the value itself is masked in scaling).
        recency[~has_history] = np.log1p(float((ref - first).days) + 1.0)
    scalar = pl.DataFrame(
        {
            "price_log": price_log,
            "channel2_share": channel2,
            "recency_log": recency,
            "frequency_log": frequency,
            "basket_log": basket,
        }
    )
    parts.append(scalar)
    blocks["price"] = ["price_log"]
    blocks["channel"] = ["channel2_share"]
    blocks["activity"] = ["recency_log", "frequency_log", "basket_log"]
    return pl.concat(parts, how="horizontal"), blocks, has_history


def customer_features(
    train: Dataset,
    *,
    reference: dt.date | None = None,
    prior: float = DEFAULT_PRIOR,
    category_components: int = CATEGORY_COMPONENTS,
) -> FeatureSet:
    """Customer features over the transactions of ``train`` (see the module docstring for the columns).

    The result is memoized on ``train`` (same window, same arguments: the same object), so the models that
    cluster customers on one training window build the features once.

    Args:
        train: the training window (features never look past its last day).
        reference: the day recency is measured to (default: the window's last day).
        prior: pseudo-purchases of the global mix added to each customer's mixes (>= 0).
        category_components: principal components kept of the (index, product type) mix (>= 0).

    Returns:
        A :class:`FeatureSet` with one row per customer in ``customer_idx`` order, ``fit_rows`` = customers
        with at least one purchase in the window and ``demographic = ("age", "membership")``.
    """
    if isinstance(prior, bool) or not isinstance(prior, (int, float)) or not np.isfinite(prior) or prior < 0:
        raise ParameterError(f"prior must be a number >= 0, got {prior!r}")
    if (
        isinstance(category_components, bool)
        or not isinstance(category_components, (int, np.integer))
        or category_components < 0
    ):
        raise ParameterError(f"category_components must be an integer >= 0, got {category_components!r}")
    key = ("customer_features", reference, float(prior), int(category_components))
    cached = train._memo.get(key)
    if isinstance(cached, FeatureSet):
        return cached
    demo, demo_blocks = demographic_frame(train.customers)
    history, history_blocks, has_history = history_frame(
        train, reference, prior=float(prior), category_components=int(category_components)
    )
    frame = pl.concat(
        [pl.DataFrame({CUSTOMER_IDX: np.arange(train.n_customers, dtype=np.int32)}), demo, history],
        how="horizontal",
    ).with_columns(pl.exclude(CUSTOMER_IDX).cast(pl.Float32))
    blocks = {**demo_blocks, **history_blocks}
    continuous = frozenset(
        {"age", "price_log", "channel2_share", "recency_log", "frequency_log", "basket_log"}
    )
    features = FeatureSet(
        frame=frame,
        blocks=blocks,
        continuous=continuous,
        weights=dict(CUSTOMER_WEIGHTS),
        fit_rows=has_history,
        demographic=DEMOGRAPHIC_BLOCKS,
    )
    train._memo[key] = features
    return features


__all__ = [
    "CATEGORY_COMPONENTS",
    "CUSTOMER_WEIGHTS",
    "DEFAULT_PRIOR",
    "DEMOGRAPHIC_BLOCKS",
    "MIX_BLOCKS",
    "customer_features",
    "purchase_mix",
    "sqrt_mix",
    "sqrt_mix_components",
]
