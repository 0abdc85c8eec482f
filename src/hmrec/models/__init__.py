"""hmrec's models. Importing this package registers every built-in model."""

from hmrec.models.base import Recommender, available, create, merge_ranked, rank_global, register, top_k

__all__ = ["Recommender", "available", "create", "merge_ranked", "rank_global", "register", "top_k"]
