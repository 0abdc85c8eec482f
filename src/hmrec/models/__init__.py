"""hmrec's models. Importing this package registers its models (:mod:`hmrec.registry`: every built-in model)."""

from hmrec.models.base import Recommender, create, register, registered, top_k

# Baselines (registration order = listing order): the oracle (ceiling), popularity family and random (floor),
# history and repurchase (history filled with popularity-decay).
from hmrec.models import oracle, popularity, history  # noqa: E402,F401,I001  isort: skip
# Matrix factorization (ALS, SGD) and their repurchase fills.
from hmrec.models import als, sgd  # noqa: E402,F401,I001  isort: skip
# k-means clusters of customers or of articles.
from hmrec.models import clustering  # noqa: E402,F401,I001  isort: skip

__all__ = ["Recommender", "create", "register", "registered", "top_k"]
