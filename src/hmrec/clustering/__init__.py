"""Clustering customers and articles with k-means: their features, choosing k, fitting, describing the clusters.

* :mod:`hmrec.clustering.features`: a feature set's frame and blocks, and the block scaling shared by both;
* :mod:`hmrec.clustering.customers`, :mod:`hmrec.clustering.articles`: the customers' and the articles' features;
* :mod:`hmrec.clustering.choose_k`: k-means, choosing k (Kneedle elbow and silhouette), fitting the clusters,
  their profiles.

The models built on the clusters (``kmeans-customers``, ``kmeans-articles``) are in
:mod:`hmrec.models.clustering`; the elbow plot is :func:`hmrec.reports.plots.plot_elbow`.
"""

from hmrec.clustering.articles import article_features
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
    silhouette_from_distances,
)
from hmrec.clustering.customers import customer_features
from hmrec.clustering.features import CLIP, FeatureSet, one_hot_columns

__all__ = [
    "CLIP",
    "Clustering",
    "FeatureSet",
    "KChoice",
    "article_features",
    "article_profiles",
    "choose_k",
    "customer_features",
    "customer_profiles",
    "fit_clusters",
    "kneedle",
    "kmeans",
    "nearest_center",
    "one_hot_columns",
    "silhouette_from_distances",
]
