"""Clustering customers and articles with k-means: choosing k, fitting, describing the clusters, the plot."""

from hmrec.clustering.choose_k import (
    Clustering,
    KChoice,
    article_profiles,
    choose_k,
    customer_profiles,
    fit_clusters,
    kmeans,
    kneedle,
    nearest_center,
    plot_elbow,
    silhouette_from_distances,
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
    "plot_elbow",
    "silhouette_from_distances",
]
