"""The registry of every built-in model: importing this module registers them all.

A model registers itself where it is defined (:func:`hmrec.models.base.register`): the baselines, ALS, SGD and
k-means in :mod:`hmrec.models`, the two-stage ranker in :mod:`hmrec.ranking`. This module sits one floor above
both packages, so that neither has to know the other exists; whatever asks for a model by name (the commands,
the evaluation loop, the serving bundle, the loader of a saved model) asks here.
"""

from __future__ import annotations

# registration order is listing order (`hmrec models`): the models package's models, then the ranker
import hmrec.models  # noqa: F401
import hmrec.ranking.ranker  # noqa: F401
from hmrec.models.base import ModelInfo, create, registered
from hmrec.models.persist import load_model


def available() -> dict[str, ModelInfo]:
    """Every registered model by name, in registration order: the built-ins and any registered since."""
    return registered()


def default_models() -> list[str]:
    """The models ``evaluate`` and ``demo`` run when none are named: every registered model but the extras."""
    return [name for name, info in registered().items() if not info.extra]


__all__ = ["ModelInfo", "available", "create", "default_models", "load_model"]
