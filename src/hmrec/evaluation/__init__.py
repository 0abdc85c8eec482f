"""Evaluation: segment breakdowns, intervals and the leaderboard loop; the ranking metrics of :mod:`hmrec.metrics`."""

from hmrec.evaluation.evaluate import Leaderboard, evaluate
from hmrec.metrics import (
    average_precision,
    coverage,
    hit_rate_at_k,
    map_at_k,
    metrics_at_k,
    ndcg_at_k,
    precision_at_k,
    recall_at_k,
    recall_curve,
    row_metrics,
)

__all__ = [
    "Leaderboard",
    "average_precision",
    "coverage",
    "evaluate",
    "hit_rate_at_k",
    "map_at_k",
    "metrics_at_k",
    "ndcg_at_k",
    "precision_at_k",
    "recall_at_k",
    "recall_curve",
    "row_metrics",
]
