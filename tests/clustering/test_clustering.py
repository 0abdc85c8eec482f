"""k-means clustering: Kneedle, silhouette, the k rule, the cluster recommenders and ``hmrec cluster``."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import polars as pl
import pytest
from sklearn.metrics import adjusted_rand_score, silhouette_score

from hmrec.clustering import (
    KChoice,
    choose_k,
    customer_features,
    fit_clusters,
    kneedle,
    silhouette_from_distances,
)
from hmrec.clustering.choose_k import _pairwise_distances
from hmrec.data.dataset import Dataset
from hmrec.errors import NotFittedError, ParameterError
from hmrec.registry import create
from hmrec.reports.plots import plot_elbow

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
INDEX_GROUPS = ["Ladieswear", "Menswear", "Baby/Children", "Divided", "Sport"]


def planted(n_customers: int = 1500, n_articles: int = 300, seed: int = 0) -> tuple[Dataset, np.ndarray]:
    """Three planted segments: young/online/Ladieswear+Divided, older/Menswear, mid-age/Baby-Children.

    5% of customers never buy (they still have an age). Returns the data and the segment of each customer.
    """
    rng = np.random.default_rng(seed)
    art_group = rng.integers(0, 5, n_articles)
    strings = {
        c: "x"
        for c in (
            "prod_name",
            "product_type_name",
            "graphical_appearance_name",
            "colour_group_name",
            "perceived_colour_value_name",
            "department_name",
            "index_code",
            "section_name",
        )
    }
    articles = pl.DataFrame(
        {
            "article_id": [f"{i + 100_000_000:010d}" for i in range(n_articles)],
            **{
                c: [1] * n_articles
                for c in (
                    "product_code",
                    "product_type_no",
                    "graphical_appearance_no",
                    "colour_group_code",
                    "perceived_colour_value_id",
                    "perceived_colour_master_id",
                    "department_no",
                    "section_no",
                    "garment_group_no",
                )
            },
            **{c: [v] * n_articles for c, v in strings.items()},
            "index_group_no": art_group,
            "index_name": [INDEX_GROUPS[g] for g in art_group],
            "index_group_name": [INDEX_GROUPS[g] for g in art_group],
            "product_group_name": [["Upper", "Lower", "Shoes"][i % 3] for i in range(n_articles)],
            "perceived_colour_master_name": [
                ["Black", "White", "Blue"][i % 3] for i in rng.integers(0, 3, n_articles)
            ],
            "garment_group_name": [["Jersey", "Knitwear"][i % 2] for i in range(n_articles)],
            "detail_desc": [
                f"{['soft', 'warm', 'denim'][i % 3]} {['top', 'dress'][i % 2]}" for i in range(n_articles)
            ],
        }
    )
    segment = rng.integers(0, 3, n_customers)
    age = np.choose(
        segment,
        [rng.normal(23, 3, n_customers), rng.normal(55, 5, n_customers), rng.normal(36, 4, n_customers)],
    ).round()
    customers = pl.DataFrame(
        {
            "customer_id": [f"{i:064x}" for i in range(n_customers)],
            "FN": pl.Series(np.where(rng.random(n_customers) < 0.4, 1.0, np.nan)).fill_nan(None),
            "Active": pl.Series(np.where(rng.random(n_customers) < 0.4, 1.0, np.nan)).fill_nan(None),
            "club_member_status": ["ACTIVE"] * n_customers,
            "fashion_news_frequency": ["NONE"] * n_customers,
            "age": age,
            "postal_code": ["x"] * n_customers,
        }
    )
    preference = np.array(
        [[0.5, 0.02, 0.03, 0.4, 0.05], [0.05, 0.8, 0.03, 0.02, 0.1], [0.2, 0.05, 0.7, 0.03, 0.02]]
    )
    buyers = np.flatnonzero(rng.random(n_customers) >= 0.05)
    n_rows = 40 * buyers.size
    who = buyers[rng.integers(0, buyers.size, n_rows)]
    group = (rng.random(n_rows)[:, None] > np.cumsum(preference[segment[who]], axis=1)).sum(axis=1)
    # within a group, articles are drawn with a skewed (Zipf-like) popularity
    order = np.argsort(art_group, kind="stable")
    starts = np.searchsorted(art_group[order], np.arange(5))
    sizes = np.bincount(art_group, minlength=5)
    rank = np.minimum((rng.pareto(1.2, n_rows) * 3).astype(np.int64), sizes[group] - 1)
    article = order[starts[group] + rank]
    day = rng.integers(0, 90, n_rows)
    tx = pl.DataFrame(
        {
            "t_dat": (np.datetime64("2020-06-01") + day.astype("timedelta64[D]")).astype("datetime64[D]"),
            "customer_id": customers["customer_id"].to_numpy()[who],
            "article_id": articles["article_id"].to_numpy()[article],
            "price": rng.uniform(0.01, 0.05, n_rows),
            "sales_channel_id": np.where(segment[who] == 0, 2, rng.integers(1, 3, n_rows)),
        }
    )
    return Dataset.from_frames(articles, customers, tx, fingerprint=f"planted-{seed}"), segment


@pytest.fixture(scope="module")
def planted_data() -> tuple[Dataset, np.ndarray]:
    return planted()


# ---------------------------------------------------------------------------------------------- kneedle
def test_kneedle_on_hand_made_curves() -> None:
    x = np.arange(6, dtype=float)
    assert kneedle(x, np.array([10, 4, 2, 1.5, 1, 0.5])) == 2
    # two straight pieces meeting at x = 5: the corner is the knee
    xs = np.arange(16, dtype=float)
    ys = np.where(xs <= 5, 100 - 18 * xs, 10 - 0.5 * (xs - 5))
    assert kneedle(xs, ys) == 5
    # concave increasing (a saturating curve) with the knee where it flattens
    assert kneedle(xs, np.minimum(xs, 4.0), convex=False) == 4
    # no knee: a straight line, too few points, a flat curve, or a curve bent the other way
    assert kneedle(xs, 3 - 2 * xs) is None
    assert kneedle(np.arange(2.0), np.array([1.0, 0.0])) is None
    assert kneedle(xs, np.ones_like(xs)) is None
    assert kneedle(xs, -(xs**2)) is None  # concave decreasing asked as convex
    # order of the points does not matter
    perm = np.random.default_rng(0).permutation(16)
    assert kneedle(xs[perm], ys[perm]) == int(np.flatnonzero(perm == 5)[0])
    with pytest.raises(ParameterError):
        kneedle(np.arange(3.0), np.arange(4.0))


def test_silhouette_matches_scikit_learn() -> None:
    rng = np.random.default_rng(1)
    points = np.concatenate([rng.normal(c, 1.0, (60, 3)) for c in (0, 4, 9)]).astype(np.float32)
    labels = np.repeat([0, 1, 2], 60)
    labels[:5] = 1  # a few misassigned points
    ours = silhouette_from_distances(_pairwise_distances(points), labels)
    assert ours == pytest.approx(silhouette_score(points, labels), abs=1e-4)
    single = labels.copy()
    single[0] = 7  # a singleton cluster scores 0 for its point, as in scikit-learn
    assert silhouette_from_distances(_pairwise_distances(points), single) == pytest.approx(
        silhouette_score(points, single), abs=1e-4
    )


# ---------------------------------------------------------------------------------------------- choose_k
def _blobs(n_per: int = 300, centers: int = 4, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    means = rng.normal(0, 10, (centers, 5))
    return np.concatenate([rng.normal(m, 1.0, (n_per, 5)) for m in means]).astype(np.float32)


def test_choose_k_finds_planted_blobs_and_is_deterministic() -> None:
    x = _blobs()
    choice = choose_k(x, 2, 9, seed=3, sample=1000)
    assert isinstance(choice, KChoice)
    assert choice.ks == list(range(2, 10))
    assert choice.chosen == 4
    assert choice.elbow is not None and abs(choice.elbow - 4) <= 2
    assert "Kneedle" in choice.reason and "silhouette" in choice.reason
    assert choice.n_fit == 1000 and choice.n_silhouette == 1000
    assert np.all(np.diff(choice.inertias) < 0.05 * choice.inertias[0])  # (nearly) decreasing
    assert max(choice.silhouettes) == pytest.approx(choice.silhouettes[choice.ks.index(4)])
    again = choose_k(x, 2, 9, seed=3, sample=1000)
    assert again == choice
    frame = choice.to_frame()
    assert frame.columns == ["k", "inertia", "silhouette", "elbow", "chosen"]
    assert frame.filter(pl.col("chosen"))["k"].to_list() == [4]


def test_choose_k_rejects_bad_ranges() -> None:
    x = _blobs(20, 2)
    with pytest.raises(ParameterError, match="k_max"):
        choose_k(x, 5, 3)
    with pytest.raises(ParameterError, match="k_min"):
        choose_k(x, 1, 3)
    with pytest.raises(ParameterError, match="too few"):
        choose_k(x[:2], 2, 5)
    # k_max beyond the rows is cut to rows - 1
    assert choose_k(x[:6], 2, 30, sample=6).ks == [2, 3, 4, 5]


def test_plot_elbow_writes_png(tmp_path: Path) -> None:
    choice = choose_k(_blobs(50, 3), 2, 8, seed=0)
    data = plot_elbow(choice, tmp_path / "sub" / "elbow.png")
    written = (tmp_path / "sub" / "elbow.png").read_bytes()
    assert written == data and written.startswith(PNG_MAGIC) and len(written) > 5000
    assert not [p for p in (tmp_path / "sub").iterdir() if p.name != "elbow.png"]  # no temporary left


# ---------------------------------------------------------------------------------------------- fitting
def test_customer_clusters_recover_planted_segments(planted_data: tuple[Dataset, np.ndarray]) -> None:
    data, segment = planted_data
    feats = customer_features(data)
    clustering = fit_clusters(feats, None, seed=0, k_min=2, k_max=10)
    assert clustering.choice is not None and clustering.k == clustering.choice.chosen
    assert clustering.k == 3
    assert adjusted_rand_score(segment, clustering.labels) > 0.9
    # customers without history are placed on demographics (age) alone, and mostly right
    cold = ~feats.fit_rows
    assert cold.sum() > 30 and np.array_equal(clustering.placed_by_demographics, cold)
    assert adjusted_rand_score(segment[cold], clustering.labels[cold]) > 0.6
    again = fit_clusters(feats, 3, seed=0)
    assert np.array_equal(again.labels, fit_clusters(feats, 3, seed=0).labels)
    with pytest.raises(ParameterError, match="k=100000"):
        fit_clusters(feats, 100_000, seed=0)


# ---------------------------------------------------------------------------------------------- models
@pytest.mark.parametrize("name", ["kmeans-customers", "kmeans-customers+repurchase", "kmeans-articles"])
def test_models_shape_determinism_and_round_trip(
    name: str, planted_data: tuple[Dataset, np.ndarray], tmp_path: Path
) -> None:
    data, _ = planted_data
    prefix = "fallback__" if name.endswith("+repurchase") else ""
    params = {f"{prefix}k": 3, f"{prefix}seed": 1}
    model = create(name, **params)
    with pytest.raises(NotFittedError):
        model.recommend(np.arange(3), 12)
    model.fit(data)
    customers = np.arange(data.n_customers)
    ids, scores = model.recommend(customers, 12)
    assert ids.shape == scores.shape == (data.n_customers, 12)
    assert ids.dtype == np.int32 and scores.dtype == np.float32
    assert (ids >= 0).all() and (ids < data.n_articles).all()  # fallback fills every list
    assert all(np.unique(row).size == 12 for row in ids[:200])
    assert np.all(np.diff(scores, axis=1) <= 0)
    # batch and single-customer results agree; a refit gives the same lists
    one_ids, _ = model.recommend(customers[7:8], 12)
    assert np.array_equal(one_ids[0], ids[7])
    assert np.array_equal(create(name, **params).fit(data).recommend(customers, 12)[0], ids)
    model.save(tmp_path / name)
    payload, arrays = model.load_state(tmp_path / name)
    restored = create(name, **payload["params"]).restore(payload, arrays)
    assert np.array_equal(restored.recommend(customers, 12)[0], ids)
    # more than the depth of one list: filled from the global ranking, still distinct
    long_ids, _ = model.recommend(customers[:5], 250)
    assert all(np.unique(r[r >= 0]).size == (r >= 0).sum() for r in long_ids)


def test_kmeans_customers_lists_follow_the_cluster(planted_data: tuple[Dataset, np.ndarray]) -> None:
    data, segment = planted_data
    model = create("kmeans-customers", k=3, seed=0).fit(data)
    ids, _ = model.recommend(np.arange(data.n_customers), 12)
    groups = data.articles["index_group_name"].to_numpy()
    # the older segment (Menswear 80%) gets mostly Menswear; the young one almost none
    men = (groups[ids] == "Menswear").mean(axis=1)
    assert men[segment == 1].mean() > 0.6 and men[segment == 0].mean() < 0.2
    assert model.k_ == 3 and "fixed" in model.chosen_reason_
    auto = create("kmeans-customers", k=None, seed=0, k_max=8).fit(data)
    assert auto.k_ == 3 and "Kneedle" in auto.chosen_reason_


def test_repurchase_puts_own_purchases_first(planted_data: tuple[Dataset, np.ndarray]) -> None:
    data, _ = planted_data
    model = create("kmeans-customers+repurchase", fallback__k=3, fallback__seed=0).fit(data)
    customers = np.arange(50)
    ids, scores = model.recommend(customers, 12)
    own = data.interactions(binary=True)[customers]
    for row in range(0, 50, 7):  # spot checks over a handful of rows
        bought = set(own[row].indices.tolist())
        first = ids[row, : min(12, len(bought))]
        assert set(first.tolist()) <= bought
        # own purchases score > 0 (their decayed count), the cluster's fill below 0
        assert (scores[row, : len(first)] > 0).all() and (scores[row, len(first) :] < 0).all()


def test_kmeans_articles_score_formula(planted_data: tuple[Dataset, np.ndarray]) -> None:
    data, _ = planted_data
    model = create("kmeans-articles", k=4, seed=0, text_components=4, copurchase_components=2).fit(data)
    labels = model.article_labels_
    assert labels.shape == (data.n_articles,) and np.unique(labels).size == 4
    ids, scores = model.recommend(np.arange(30), 5)
    # recompute the best score of row 3 by brute force: share(u, c(a)) * pop(a) / pop(cluster)
    from hmrec.models.sales import article_sales

    pop = article_sales(data, half_life_days=model.half_life_days).astype(np.float64)
    cluster_pop = np.bincount(labels, weights=pop, minlength=4)
    share = model.shares_[3]
    brute = share[labels] * pop / cluster_pop[labels]
    assert scores[3, 0] == pytest.approx(brute.max(), rel=1e-4)
    assert brute[ids[3, 0]] == pytest.approx(brute.max(), rel=1e-4)
    assert np.allclose(model.shares_.sum(axis=1)[model.shares_.sum(axis=1) > 0], 1.0, atol=1e-5)


def test_model_parameter_errors(planted_data: tuple[Dataset, np.ndarray]) -> None:
    data, _ = planted_data
    for params, match in (
        ({"k": 0}, "'k'"),
        ({"k_min": 1}, "k_min"),
        ({"k_min": 5, "k_max": 3}, "k_max"),
        ({"half_life_days": 0}, "half_life_days"),
    ):
        with pytest.raises(ParameterError, match=match):
            create("kmeans-customers", **params).fit(data)


# ------------------------------------------------------------------------------------------ generated data
#: Floors of the adjusted Rand index against the generator's 12 true segments, on the tiny data set (seed 0),
#: measured with the features and rule of this version, minus a margin of ~0.06 for harmless changes in the
#: generator or k-means' draws. Measured: k = 12 (fit_clusters, seeds 0 / 1 / 2) 0.343 / 0.379 / 0.373;
#: the automatic choice over k = 2..30 (as ``hmrec cluster`` does) k = 9, ARI 0.409. For comparison, on the
#: small data set: k = 12 gives 0.415 / 0.398 / 0.397 and the automatic choice k = 9, ARI 0.406 (the
#: previous features gave 0.22). The ceiling is well below 1: segments overlap in age and taste, and a
#: customer with two purchases says little about their taste.
ARI_FLOOR_K12 = 0.28
ARI_FLOOR_AUTO = 0.34


def test_customer_clusters_recover_generator_segments(tiny: Dataset, tiny_dir: Path) -> None:
    from hmrec.synthetic import true_segments

    truth = np.asarray(true_segments(tiny_dir))
    assert truth.shape == (tiny.n_customers,)
    feats = customer_features(tiny)
    clustering = fit_clusters(feats, 12, seed=0)
    ari = adjusted_rand_score(truth, clustering.labels)
    assert ari > ARI_FLOOR_K12, f"ARI {ari:.3f}"
    # the purchase mix carries the segments beyond age: age alone recovers much less of them
    age_only = fit_clusters(feats, 12, seed=0, weights={b: float(b == "age") for b in feats.blocks})
    assert ari > adjusted_rand_score(truth, age_only.labels) + 0.05


def test_cluster_command_writes_plot_and_tables(tiny_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "clusters"
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "hmrec",
            "cluster",
            "--data",
            str(tiny_dir),
            "--what",
            "customers",
            "--k-min",
            "2",
            "--k-max",
            "30",
            "--out",
            str(out),
            "--quiet",
        ],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
        env={**os.environ, "COLUMNS": "80"},
    )
    assert done.returncode == 0, done.stderr
    assert max(len(line) for line in done.stdout.splitlines()) <= 80  # readable in an 80-column terminal
    assert (out / "elbow.png").read_bytes().startswith(PNG_MAGIC)
    scan = pl.read_csv(out / "choose_k.csv")
    assert scan.columns[:3] == ["k", "inertia", "silhouette"] and scan["k"].to_list() == list(range(2, 31))
    summary = json.loads((out / "summary.json").read_text())
    profiles = pl.read_csv(out / "clusters.csv")
    assert profiles.height == summary["chosen_k"] and profiles["customers"].sum() == summary["rows"]
    assert {"mean_age", "top_index_groups", "top_product_groups", "mean_price", "rows_per_buyer"} <= set(
        profiles.columns
    )
    assert "adjusted_rand_index" in summary and summary["adjusted_rand_index"] > ARI_FLOOR_AUTO
    assert 6 <= summary["chosen_k"] <= 14  # a meaningful number of segments (12 planted), not k = 2
    assert f"Chosen k = {summary['chosen_k']}" in done.stdout and "Kneedle" in done.stdout
    # every customer's cluster, in the order of customers.csv, matching the profile counts
    members = pl.read_csv(out / "customer_clusters.csv", schema={"customer_id": pl.String, "cluster": pl.Int64})
    customers = pl.read_csv(tiny_dir / "customers.csv", columns=["customer_id"])
    assert members["customer_id"].to_list() == customers["customer_id"].to_list()
    sizes = members.group_by("cluster").len().sort("cluster")
    assert sizes["cluster"].to_list() == list(range(summary["chosen_k"]))
    assert sizes["len"].to_list() == profiles.sort("cluster")["customers"].to_list()
    assert not any(p.name.endswith(".tmp") for p in out.iterdir())
    bad = subprocess.run(
        [
            sys.executable,
            "-m",
            "hmrec",
            "cluster",
            "--data",
            str(tiny_dir),
            "--k-min",
            "9",
            "--k-max",
            "3",
            "--out",
            str(tmp_path / "bad"),
            "--quiet",
        ],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert bad.returncode == 2 and bad.stderr.startswith("error:") and "k_max" in bad.stderr


def _final_week_maps(small: Dataset) -> dict[str, float]:
    from hmrec.data.split import time_split
    from hmrec.metrics import map_at_k

    split = time_split(small, test_days=7)
    truth = split.test.interactions(binary=True)
    customers = np.arange(small.n_customers)
    scores = {}
    for name in ("popularity", "kmeans-customers", "kmeans-articles"):
        ids, _ = create(name).fit(split.train).recommend(customers, 12)
        scores[name] = map_at_k(ids, truth, 12)
    return scores


@pytest.mark.slow
@pytest.mark.parametrize("name", ["kmeans-customers", "kmeans-articles"])
def test_kmeans_beats_popularity_on_small(small: Dataset, name: str) -> None:
    """The final week of the small data set (defaults tuned on the weeks before it, see models/clustering.py).

    Second calibration pass, retuned defaults (kmeans-customers k = 12, kmeans-articles k = 16 with a 3-day
    half-life): popularity 0.0210, kmeans-customers 0.0285 (+36 %), kmeans-articles 0.0247 (+17 %); with the
    defaults before the retuning 0.0255 (+22 %) and 0.0209 (-0.5 %). The first pass: 0.0246, 0.0285 (+16 %),
    0.0285 (+16 %); before it kmeans-articles reached +71 %. The assertion keeps a margin of 5 %.
    """
    scores = _final_week_maps(small)
    assert scores[name] > scores["popularity"] * 1.05, scores


def test_cluster_command_on_csv_files(tmp_path: Path) -> None:
    """The command end to end through the real loader, on planted data written as the competition's CSVs."""
    data, _ = planted(600, 120, seed=2)
    src = tmp_path / "data"
    src.mkdir()
    data.articles.drop("article_idx").write_csv(src / "articles.csv")
    data.customers.drop("customer_idx").write_csv(src / "customers.csv")
    tx = data.transactions.with_columns(
        pl.Series("customer_id", data.customer_ids[data.transactions["customer_idx"].to_numpy()]),
        pl.Series("article_id", data.article_ids[data.transactions["article_idx"].to_numpy()]),
    )
    tx.select("t_dat", "customer_id", "article_id", "price", "sales_channel_id").write_csv(
        src / "transactions_train.csv"
    )
    out = tmp_path / "out"
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "hmrec",
            "cluster",
            "--data",
            str(src),
            "--what",
            "articles",
            "--k-min",
            "2",
            "--k-max",
            "8",
            "--out",
            str(out),
            "--quiet",
            "--cache",
            str(tmp_path / "cache"),
        ],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert (out / "elbow.png").read_bytes().startswith(PNG_MAGIC)
    summary = json.loads((out / "summary.json").read_text())
    profiles = pl.read_csv(out / "clusters.csv")
    assert profiles.height == summary["chosen_k"] and profiles["articles"].sum() == 120
    assert pl.read_csv(out / "choose_k.csv")["k"].to_list() == list(range(2, 9))
    assert "adjusted_rand_index" not in summary  # no generator truth in a plain data directory
    assert sorted(p.name for p in out.iterdir()) == [
        "article_clusters.csv",
        "choose_k.csv",
        "clusters.csv",
        "elbow.png",
        "summary.json",
    ]
    members = pl.read_csv(out / "article_clusters.csv", schema={"article_id": pl.String, "cluster": pl.Int64})
    assert members.height == 120 and members["article_id"].str.contains(r"^\d{10}$").all()
    assert members["cluster"].value_counts().sort("cluster")["count"].to_list() == profiles["articles"].to_list()
