"""Choosing the number of clusters, fitting k-means, and describing the clusters.

The rule (:func:`choose_k`):

1. fit k-means for every ``k`` in ``[k_min, k_max]`` on a random sample of the rows and record the inertia
   (sum of squared distances to the nearest centre). The runs are *warm-started*: ``k`` starts from the
   ``k - 1`` centres plus one new centre drawn by the k-means++ rule (probability proportional to the
   squared distance to the nearest centre), then scikit-learn's ``KMeans`` from those
   centres. The inertia curve is then smooth
   (each ``k`` refines the previous solution instead of restarting from scratch) and the scan costs a few
   iterations per ``k`` instead of a full k-means++ fit;
2. find the elbow of the inertia curve with **Kneedle** (Satopää, Albrecht, Irwin, Raghavan 2011, "Finding a
   'Kneedle' in a Haystack"): normalize ``k`` and the inertia to ``[0, 1]``, turn the decreasing convex curve
   into an increasing concave one (``y' = 1 - y``), and take the ``k`` where the difference curve
   ``y' - x`` (the height above the chord from the first to the last point) is largest;
3. compute the silhouette of each ``k`` on a sub-sample, and move from the elbow to the nearest *local peak*
   of the silhouette within ``elbow - window .. elbow + window`` (a ``k`` whose silhouette is at least that
   of both neighbours: its split is cleaner than the ones with one cluster more or less); ties in distance
   go to the higher silhouette; without a peak in the window the elbow stays. The silhouette is not
   maximized outright: on overlapping groups (customer segments that share ages and tastes) it falls
   almost steadily with ``k`` and would always pick the smallest ``k`` it is offered (often ``k = 2``),
   while the elbow alone is only known to a point or two. Without an elbow (a straight or concave curve)
   the best silhouette over the whole range is chosen.

The silhouette of point ``i`` is ``s(i) = (b(i) - a(i)) / max(a(i), b(i))``, with ``a(i)`` its mean distance
to the other points of its cluster and ``b(i)`` the smallest mean distance to the points of another cluster
(``s = 0`` for a point alone in its cluster); the score is the mean over points. It is computed here from one
distance matrix shared by every ``k`` and a BLAS product ``D @ onehot(labels)`` (equal to scikit-learn's
``silhouette_score``, which recomputes the distances for each call).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import polars as pl

from hmrec.clustering.features import FeatureSet
from hmrec.data.dataset import Dataset
from hmrec.data.schema import ARTICLE_IDX, CUSTOMER_IDX, PRICE
from hmrec.errors import ParameterError

#: most points the silhouette is computed on (the distance matrix is sample^2 float32: 1.6 GB at 20,000)
MAX_SILHOUETTE_SAMPLE = 20_000
DEFAULT_SILHOUETTE_SAMPLE = 5_000
#: default number of rows the k scan fits on, and the most rows a final fit learns its centres from: the
#: inertia curve of 20,000 rows has the shape of the full one (the elbow moved by at most one k against
#: 50,000 rows on the small synthetic data) for a fraction of the time
DEFAULT_SCAN_SAMPLE = 20_000
DEFAULT_FIT_SAMPLE = 200_000
#: k-means iterations of each warm-started scan step: from the previous centres the inertia is within ~0.5 %
#: of its converged value after 30 (the curve, not the exact centres, is what the scan needs)
SCAN_MAX_ITER = 30
#: k-means iterations of the final fit (k-means++ seeding, ``n_init`` restarts)
FIT_MAX_ITER = 100
DEFAULT_WINDOW = 2


# ---------------------------------------------------------------------------------------------- kneedle
def kneedle(x: np.ndarray, y: np.ndarray, *, convex: bool = True) -> int | None:
    """Index of the knee of the monotone curve ``y(x)`` by Kneedle (offline form, no smoothing), or None.

    Both axes are scaled to ``[0, 1]``; the knee is the point farthest, vertically, from the chord joining the
    first and last points, on the side where the curve bends: below it for a ``convex`` curve (an inertia
    curve, decreasing), above it for a concave one. This is Satopää et al.'s difference curve
    ``y_d = y_n' - x_n'`` after their flips, which only choose that side. Returns None when the gap is never
    positive on that side (a straight line, or a curve bent the other way) or with fewer than 3 points.

    Example: for ``y = [10, 4, 2, 1.5, 1, 0.5]`` over ``x = 0..5`` (convex, decreasing) the gaps below the
    chord are ``[0, 0.43, 0.44, 0.29, 0.15, 0]`` and the knee is index 2.
    """
    x = np.asarray(x, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    if x.shape != y.shape or x.ndim != 1:
        raise ParameterError(f"kneedle needs two 1-d arrays of the same length, got {x.shape} and {y.shape}")
    if x.size < 3 or np.ptp(x) == 0 or np.ptp(y) == 0:
        return None
    order = np.argsort(x, kind="stable")
    xn = (x[order] - x.min()) / np.ptp(x)
    yn = (y[order] - y.min()) / np.ptp(y)
    chord = yn[0] + (yn[-1] - yn[0]) * xn
    gap = chord - yn if convex else yn - chord
    best = int(np.argmax(gap))  # the first maximum: the smaller x on ties
    return int(order[best]) if gap[best] > 1e-12 else None


# ---------------------------------------------------------------------------------------------- silhouette
def silhouette_from_distances(distances: np.ndarray, labels: np.ndarray) -> float:
    """Mean silhouette from a full ``(n, n)`` distance matrix and labels (see the module docstring)."""
    labels = np.asarray(labels)
    _, codes = np.unique(labels, return_inverse=True)
    n_clusters = int(codes.max()) + 1 if codes.size else 0
    n = codes.size
    if n_clusters < 2 or n_clusters >= n:
        return float("nan")
    onehot = np.zeros((n, n_clusters), dtype=distances.dtype)
    onehot[np.arange(n), codes] = 1.0
    sums = distances @ onehot  # sums[i, c] = total distance from i to the points of cluster c
    sizes = onehot.sum(axis=0).astype(np.float64)
    own = sizes[codes]
    a = sums[np.arange(n), codes] / np.maximum(own - 1.0, 1.0)
    mean_to = sums / sizes[None, :]
    mean_to[np.arange(n), codes] = np.inf
    b = mean_to.min(axis=1)
    denom = np.maximum(a, b)
    s = np.where((own > 1) & (denom > 0), (b - a) / np.where(denom > 0, denom, 1.0), 0.0)
    return float(s.mean())


def _pairwise_distances(points: np.ndarray) -> np.ndarray:
    """Euclidean distances of all pairs, float32, via ``|x|^2 + |y|^2 - 2 x.y`` (one GEMM)."""
    p = np.asarray(points, dtype=np.float32)
    sq = np.einsum("ij,ij->i", p, p)
    d2 = sq[:, None] + sq[None, :] - 2.0 * (p @ p.T)
    np.maximum(d2, 0.0, out=d2)
    np.fill_diagonal(d2, 0.0)
    return np.sqrt(d2, out=d2)


# ---------------------------------------------------------------------------------------------- k scan
@dataclass(frozen=True)
class KChoice:
    """The result of a k scan.

    Attributes:
        ks: the k values tried, ascending.
        inertias: k-means inertia for each k (on ``n_fit`` sampled rows).
        silhouettes: mean silhouette for each k (on ``n_silhouette`` rows).
        chosen: the k retained.
        reason: one sentence stating the rule and how it applied.
        elbow: the Kneedle elbow (None when the curve has none).
        n_fit: rows the k-means runs were fitted on.
        n_silhouette: rows the silhouette was computed on.
        window: the range of k the silhouette chose from (None without an elbow: the whole range).
    """

    ks: list[int]
    inertias: list[float]
    silhouettes: list[float]
    chosen: int
    reason: str
    elbow: int | None = None
    n_fit: int = 0
    n_silhouette: int = 0
    window: tuple[int, int] | None = None

    def to_frame(self) -> pl.DataFrame:
        """``k, inertia, silhouette, elbow, chosen`` (the content of choose_k.csv)."""
        return pl.DataFrame(
            {
                "k": self.ks,
                "inertia": self.inertias,
                "silhouette": self.silhouettes,
                "elbow": [k == self.elbow for k in self.ks],
                "chosen": [k == self.chosen for k in self.ks],
            }
        )


def _check_int(name: str, value: object, low: int) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < low:
        raise ParameterError(f"{name} must be an integer >= {low}, got {value!r}")
    return int(value)


def _distances_to_centers(points: np.ndarray, centers: np.ndarray) -> np.ndarray:
    """``(n, k)`` squared Euclidean distances (float32, one GEMM: ``|x|^2 - 2 x.c + |c|^2``, clipped at 0)."""
    c = np.asarray(centers, dtype=np.float32)
    x_sq = np.einsum("ij,ij->i", points, points)
    d2 = points @ c.T
    d2 *= -2.0
    d2 += x_sq[:, None]
    d2 += np.einsum("ij,ij->i", c, c)[None, :]
    return np.maximum(d2, 0.0, out=d2)


def _plus_plus_center(points: np.ndarray, d2_nearest: np.ndarray, rng: np.random.Generator) -> int:
    """The k-means++ draw: a row with probability proportional to its squared distance to the centres."""
    weights = d2_nearest.astype(np.float64)
    total = float(weights.sum())
    if total <= 0:
        return int(rng.integers(points.shape[0]))
    return int(rng.choice(points.shape[0], p=weights / total))


def kmeans(
    points: np.ndarray,
    k: int,
    *,
    init: np.ndarray | None = None,
    n_init: int = 1,
    max_iter: int = FIT_MAX_ITER,
    seed: int = 0,
) -> tuple[np.ndarray, np.ndarray, float]:
    """scikit-learn's ``KMeans`` (Lloyd, k-means++ seeding unless ``init`` centres are given):
    ``(centers, labels, inertia)``. The one place hmrec runs k-means, so the scan and the fits agree."""
    from sklearn.cluster import KMeans  # imported here: a second to import, and most commands never cluster

    model = KMeans(
        n_clusters=k,
        init="k-means++" if init is None else np.asarray(init, dtype=np.float32),
        n_init=n_init if init is None else 1,
        max_iter=max_iter,
        tol=1e-4,
        random_state=seed,
    )
    model.fit(points)
    return (
        np.asarray(model.cluster_centers_, dtype=np.float32),
        np.asarray(model.labels_, dtype=np.int32),
        float(model.inertia_),
    )


def choose_k(
    features: np.ndarray,
    k_min: int = 2,
    k_max: int = 30,
    seed: int = 0,
    sample: int = DEFAULT_SCAN_SAMPLE,
    *,
    silhouette_sample: int = DEFAULT_SILHOUETTE_SAMPLE,
    window: int = DEFAULT_WINDOW,
    n_init: int = 2,
) -> KChoice:
    """Scan ``k_min..k_max`` with k-means and choose ``k`` by the elbow + silhouette rule (module docstring).

    Args:
        features: ``(n, d)`` scaled feature matrix (rows to cluster).
        k_min, k_max: the range of k (``2 <= k_min <= k_max``; ``k_max`` is cut to the number of rows - 1).
        seed: seeds the row samples and k-means; same seed, same result.
        sample: rows the k-means runs are fitted on (a random sample when there are more).
        silhouette_sample: rows of that sample the silhouette is computed on (at most 20,000).
        window: the silhouette may move the choice up to ``window`` away from the elbow.
        n_init: k-means++ restarts of the first ``k`` (the others are warm-started from it).
    """
    k_min = _check_int("k_min", k_min, 2)
    k_max = _check_int("k_max", k_max, 2)
    sample = _check_int("sample", sample, 3)
    window = _check_int("window", window, 0)
    n_init = _check_int("n_init", n_init, 1)
    silhouette_sample = min(_check_int("silhouette_sample", silhouette_sample, 3), MAX_SILHOUETTE_SAMPLE)
    if k_max < k_min:
        raise ParameterError(f"k_max ({k_max}) must be >= k_min ({k_min}) (fix: e.g. --k-min 2 --k-max 30)")
    x = np.asarray(features, dtype=np.float32)
    n = x.shape[0]
    rng = np.random.default_rng(seed)
    if n > sample:
        x = x[np.sort(rng.choice(n, size=sample, replace=False))]
    x = np.ascontiguousarray(x)
    n_fit = x.shape[0]
    k_max = min(k_max, n_fit - 1)
    if k_max < k_min:
        raise ParameterError(
            f"only {n} rows to cluster: too few for k >= {k_min} (fix: lower --k-min or use more data)"
        )
    sil_rows = np.sort(rng.choice(n_fit, size=min(silhouette_sample, n_fit), replace=False))
    distances = _pairwise_distances(x[sil_rows])
    ks = list(range(k_min, k_max + 1))
    inertias: list[float] = []
    silhouettes: list[float] = []
    centers: np.ndarray | None = None
    for k in ks:  # one warm-started k-means per k (a few dozen), each vectorized
        if centers is None:
            centers, labels, inertia = kmeans(x, k, n_init=n_init, max_iter=SCAN_MAX_ITER, seed=seed)
        else:
            # the k-means++ step: one new centre, drawn with probability ~ squared distance to the others
            d2 = _distances_to_centers(x, centers).min(axis=1)
            pick = _plus_plus_center(x, d2, rng)
            centers, labels, inertia = kmeans(
                x, k, init=np.vstack([centers, x[pick : pick + 1]]), max_iter=SCAN_MAX_ITER, seed=seed
            )
        inertias.append(inertia)
        silhouettes.append(silhouette_from_distances(distances, labels[sil_rows]))
    chosen, elbow, reason, span = _apply_rule(ks, inertias, silhouettes, window)
    return KChoice(ks, inertias, silhouettes, chosen, reason, elbow, n_fit, int(sil_rows.size), span)


def _apply_rule(
    ks: list[int], inertias: list[float], silhouettes: list[float], window: int
) -> tuple[int, int | None, str, tuple[int, int] | None]:
    """The choice, the elbow, the sentence explaining it and the window the silhouette chose from."""
    sil = np.nan_to_num(np.asarray(silhouettes, dtype=np.float64), nan=-np.inf)
    knee = kneedle(np.asarray(ks, dtype=np.float64), np.asarray(inertias), convex=True)
    if knee is None:
        best = int(np.argmax(sil))  # argmax takes the first maximum: the smaller k on ties
        return (
            ks[best],
            None,
            (
                f"the inertia curve has no Kneedle elbow in k={ks[0]}..{ks[-1]}; chose the best silhouette, "
                f"k={ks[best]} ({silhouettes[best]:.3f})"
            ),
            None,
        )
    elbow = ks[knee]
    lo = max(0, knee - window)
    hi = min(len(ks) - 1, knee + window)
    # local silhouette peaks: at least both neighbours (an end of the scanned range has one neighbour)
    left = np.concatenate([[-np.inf], sil[:-1]])
    right = np.concatenate([sil[1:], [-np.inf]])
    peaks = [i for i in range(lo, hi + 1) if np.isfinite(sil[i]) and sil[i] >= left[i] and sil[i] >= right[i]]
    if peaks:
        best = min(peaks, key=lambda i: (abs(i - knee), -sil[i], i))
        how = (
            "the elbow is itself a local silhouette peak"
            if best == knee
            else f"moved to the nearest local silhouette peak, k={ks[best]} ({silhouettes[best]:.3f} vs "
            f"{silhouettes[knee]:.3f} at the elbow)"
        )
    else:
        best = knee
        how = "no local silhouette peak nearby, so the elbow stays"
    return (
        ks[best],
        elbow,
        (
            f"Kneedle elbow of the inertia curve at k={elbow} (Satopää et al. 2011); within "
            f"k={ks[lo]}..{ks[hi]} {how}"
        ),
        (ks[lo], ks[hi]),
    )


# ---------------------------------------------------------------------------------------------- fitting
@dataclass(frozen=True)
class Clustering:
    """Cluster labels of every row and the centres they came from.

    Attributes:
        labels: ``(n,)`` int32 cluster of each row (``[0, k)``).
        centers: ``(k, d)`` float32 centres in the scaled feature space.
        k: the number of clusters.
        choice: the k scan, when k was chosen automatically.
        placed_by_demographics: rows assigned on the demographic columns only (not in ``fit_rows``).
    """

    labels: np.ndarray
    centers: np.ndarray
    k: int
    choice: KChoice | None = None
    placed_by_demographics: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=bool))


def nearest_center(points: np.ndarray, centers: np.ndarray, block_rows: int = 262_144) -> np.ndarray:
    """Index of the nearest centre (Euclidean) of each row, in row blocks (ties: the lower index)."""
    out = np.empty(points.shape[0], dtype=np.int32)
    c = np.asarray(centers, dtype=np.float32)
    c_sq = np.einsum("ij,ij->i", c, c)
    for lo in range(0, points.shape[0], block_rows):
        block = np.asarray(points[lo : lo + block_rows], dtype=np.float32)
        # |x - c|^2 = |x|^2 - 2 x.c + |c|^2; |x|^2 is the same for every centre of a row
        out[lo : lo + block.shape[0]] = np.argmin(c_sq[None, :] - 2.0 * (block @ c.T), axis=1)
    return out


def fit_clusters(
    features: FeatureSet,
    k: int | None = None,
    *,
    seed: int = 0,
    k_min: int = 2,
    k_max: int = 30,
    sample: int = DEFAULT_SCAN_SAMPLE,
    fit_sample: int = DEFAULT_FIT_SAMPLE,
    weights: dict[str, float] | None = None,
    n_init: int = 3,
) -> Clustering:
    """Cluster the rows of a feature set with k-means.

    Centres are learnt on the ``fit_rows`` (at most ``fit_sample`` of them, drawn with ``seed``): with
    ``k`` None, ``k`` is first chosen by :func:`choose_k` on ``sample`` of them. Every fit row then joins its
    nearest centre; rows outside ``fit_rows`` (customers without history) join the centre nearest on the
    demographic columns alone, the only ones they have.
    """
    matrix = features.scaled(weights)
    fit_idx = np.flatnonzero(features.fit_rows)
    if fit_idx.size == 0:  # nothing has history: cluster on what exists for everyone
        fit_idx = np.arange(matrix.shape[0])
    rng = np.random.default_rng(seed)
    learn = (
        fit_idx
        if fit_idx.size <= fit_sample
        else np.sort(rng.choice(fit_idx, size=fit_sample, replace=False))
    )
    choice = None
    if k is None:
        choice = choose_k(matrix[learn], k_min, k_max, seed, sample)
        k = choice.chosen
    k = _check_int("k", k, 1)
    if k > learn.size:
        raise ParameterError(f"k={k} is more than the {learn.size} rows to cluster (fix: choose a smaller k)")
    points = np.ascontiguousarray(matrix[learn])
    centers = kmeans(points, k, n_init=n_init, max_iter=FIT_MAX_ITER, seed=seed)[0]  # best of n_init restarts
    labels = nearest_center(matrix, centers)
    outside = ~features.fit_rows if features.fit_rows.any() else np.zeros(matrix.shape[0], dtype=bool)
    if outside.any() and features.demographic:
        demo = features.block_mask(list(features.demographic))
        labels[outside] = nearest_center(matrix[outside][:, demo], centers[:, demo])
    return Clustering(labels, centers, k, choice, outside)


# ---------------------------------------------------------------------------------------------- profiles
def _top_shares(frame: pl.DataFrame, cluster_col: str, cat_col: str, n: int, name: str) -> pl.DataFrame:
    """Per cluster, the ``n`` largest categories of ``cat_col`` by share of rows: "A 61%, B 22%"."""
    counts = frame.group_by(cluster_col, cat_col).agg(pl.len().alias("_n"))
    return (
        counts.with_columns((pl.col("_n") / pl.col("_n").sum().over(cluster_col)).alias("_share"))
        .sort([cluster_col, "_share", cat_col], descending=[False, True, False])
        .group_by(cluster_col, maintain_order=True)
        .head(n)
        .with_columns(
            pl.format(
                "{} {}%",
                pl.col(cat_col).fill_null("missing"),
                (pl.col("_share") * 100).round(0).cast(pl.Int64),
            ).alias(name)
        )
        .group_by(cluster_col, maintain_order=True)
        .agg(pl.col(name).str.join(", "))
    )


def customer_profiles(train: Dataset, labels: np.ndarray, *, top: int = 2) -> pl.DataFrame:
    """One row per customer cluster: who they are and what they buy in ``train``.

    Columns: ``cluster, customers, share, buyers`` (share with a purchase), ``mean_age``, ``rows_per_buyer``
    (purchase rows per customer with history), ``mean_price`` (of their purchase rows), ``online_share``,
    ``top_index_groups`` and ``top_product_groups`` (largest shares of their purchase rows).
    """
    labels = np.asarray(labels, dtype=np.int32)
    customers = train.customers.select(CUSTOMER_IDX, "age").with_columns(pl.Series("cluster", labels))
    tx = train.transactions.select(CUSTOMER_IDX, ARTICLE_IDX, PRICE, "sales_channel_id").with_columns(
        pl.Series("cluster", labels[train.transactions[CUSTOMER_IDX].to_numpy()])
    )
    tx = tx.join(
        train.articles.select(ARTICLE_IDX, "index_group_name", "product_group_name"),
        on=ARTICLE_IDX,
        how="left",
    )
    sizes = customers.group_by("cluster").agg(
        pl.len().alias("customers"), pl.col("age").cast(pl.Float64).mean().round(1).alias("mean_age")
    )
    activity = tx.group_by("cluster").agg(
        pl.col(CUSTOMER_IDX).n_unique().alias("buyers"),
        pl.len().alias("_rows"),
        pl.col(PRICE).mean().alias("mean_price"),
        (pl.col("sales_channel_id") == 2).mean().alias("online_share"),
    )
    table = (
        sizes.join(activity, on="cluster", how="left")
        .join(
            _top_shares(tx, "cluster", "index_group_name", top, "top_index_groups"), on="cluster", how="left"
        )
        .join(
            _top_shares(tx, "cluster", "product_group_name", top, "top_product_groups"),
            on="cluster",
            how="left",
        )
        .with_columns(
            (pl.col("customers") / pl.col("customers").sum()).alias("share"),
            pl.col("buyers").fill_null(0),
            (pl.col("_rows") / pl.col("buyers")).round(2).alias("rows_per_buyer"),
        )
        .sort("cluster")
    )
    return table.select(
        "cluster",
        "customers",
        "share",
        "buyers",
        "mean_age",
        "rows_per_buyer",
        "mean_price",
        "online_share",
        "top_index_groups",
        "top_product_groups",
    )


def article_profiles(train: Dataset, labels: np.ndarray, *, top: int = 2) -> pl.DataFrame:
    """One row per article cluster: what is in it and how it sells in ``train``.

    Columns: ``cluster, articles, share, sold`` (articles with a sale), ``sales`` (purchase rows),
    ``mean_price`` (of those rows), ``top_index_groups``, ``top_product_groups`` and ``top_colours`` (largest
    shares of the cluster's articles).
    """
    labels = np.asarray(labels, dtype=np.int32)
    articles = train.articles.select(
        ARTICLE_IDX, "index_group_name", "product_group_name", "perceived_colour_master_name"
    ).with_columns(pl.Series("cluster", labels))
    tx = train.transactions.select(ARTICLE_IDX, PRICE).with_columns(
        pl.Series("cluster", labels[train.transactions[ARTICLE_IDX].to_numpy()])
    )
    sizes = articles.group_by("cluster").agg(pl.len().alias("articles"))
    sales = tx.group_by("cluster").agg(
        pl.col(ARTICLE_IDX).n_unique().alias("sold"),
        pl.len().alias("sales"),
        pl.col(PRICE).mean().alias("mean_price"),
    )
    table = (
        sizes.join(sales, on="cluster", how="left")
        .join(
            _top_shares(articles, "cluster", "index_group_name", top, "top_index_groups"),
            on="cluster",
            how="left",
        )
        .join(
            _top_shares(articles, "cluster", "product_group_name", top, "top_product_groups"),
            on="cluster",
            how="left",
        )
        .join(
            _top_shares(articles, "cluster", "perceived_colour_master_name", top, "top_colours"),
            on="cluster",
            how="left",
        )
        .with_columns(
            (pl.col("articles") / pl.col("articles").sum()).alias("share"),
            pl.col("sold").fill_null(0),
            pl.col("sales").fill_null(0),
        )
        .sort("cluster")
    )
    return table.select(
        "cluster",
        "articles",
        "share",
        "sold",
        "sales",
        "mean_price",
        "top_index_groups",
        "top_product_groups",
        "top_colours",
    )


__all__ = [
    "Clustering",
    "KChoice",
    "article_profiles",
    "choose_k",
    "customer_profiles",
    "fit_clusters",
    "kneedle",
    "kmeans",
    "nearest_center",
    "silhouette_from_distances",
]
