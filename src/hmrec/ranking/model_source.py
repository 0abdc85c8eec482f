"""A registered model as a candidate source (:class:`ModelSource`): each such source is one call of
:func:`hmrec.ranking.sources.model_source`, one line of :data:`hmrec.ranking.sources.SOURCES` (which keeps the
classes it makes as its module attributes, so that pickle finds them); the ranker reaches its model's
parameters as ``source__<source>__<param>``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

import numpy as np

from hmrec.data.dataset import Dataset
from hmrec.data.schema import CUSTOMER_IDX
from hmrec.models.base import Recommender
from hmrec.models.compose import SEP
from hmrec.ranking.candidates import Candidates
from hmrec.ranking.source import Source, SourceContext, empty_lists

#: how a ranker's parameter names a model source's: ``source__als__factors`` (the ``step__param`` of
#: :mod:`hmrec.models.compose`)
SOURCE_PARAM_PREFIX = f"source{SEP}"
#: the name under which a model source's state records its model
MODEL_KEY = "model_"
#: what the ranker gives every model source itself (its own seed and threads), not a parameter of its own
_FROM_RANKER = ("seed", "threads")


def _from_ranker(param: str) -> str | None:
    """``seed`` or ``threads`` when ``param`` is one (or a part's, ``fallback__seed``), else None."""
    last = param.rpartition(SEP)[2]
    return last if last in _FROM_RANKER else None


class ModelSource(Source):
    """A registered model as a candidate source: its ``candidates(customers, n)`` are the source's lists.

    A source of this kind is one call of :func:`model_source` (the model's registry name, the source's own
    defaults for its parameters, and what is particular to the source). Its parameters are the model's, but
    ``seed`` and ``threads`` (a part's too), which come from the ranker (:class:`SourceContext`); the ranker
    takes them as ``source__<source>__<param>`` (:func:`source_param_names`). ``fit`` fits the model on the
    source's data; the learned state is the model's own (:meth:`Recommender.state`), restored with
    :meth:`Recommender.restore`. With ``warm_only``, customers without a purchase in that data get no
    candidates (instead of the model's fallback for them). The pair feature, when the source has one, is the
    model's ``pair_method`` (``score`` by default) of each candidate pair, NaN where not finite.
    """

    #: registry name of the model
    model: ClassVar[str] = ""
    #: the source's defaults for the model's parameters (others keep the model's)
    defaults: ClassVar[Mapping[str, Any]] = {}
    #: customers without a purchase in the data the source was fitted on get no candidates
    warm_only: ClassVar[bool] = False
    #: the model's method ``(customers, articles) -> float32`` that gives the pair feature
    pair_method: ClassVar[str] = "score"

    warm_: np.ndarray  # with warm_only: bool per customer, bought in the data the source was fitted on
    #: the source's learned attributes beside the model's
    own_state: ClassVar[tuple[str, ...]] = ("warm_",)

    def __init__(self, recommender: Recommender) -> None:
        self.recommender = recommender

    @classmethod
    def param_names(cls) -> list[str]:
        """The model's parameters the ranker sets (all but those it gives itself: seed, threads)."""
        return [p for p in cls.build({}).param_names() if _from_ranker(p) is None]

    @classmethod
    def build(cls, params: Mapping[str, Any], seed: int = 0, threads: int = 0) -> Recommender:
        """The model with the source's defaults, then ``params``, and the ranker's ``seed`` and ``threads``
        (validated: a bad value is a ParameterError naming it)."""
        from hmrec.models.base import create, seed_params

        model = create(cls.model, **{**cls.defaults, **params})
        seed_params(model, seed, {})
        own = {p: threads for p in model.param_names() if _from_ranker(p) == "threads"}
        if own:
            model.set_params(**own)
        return model

    @classmethod
    def default_params(cls) -> dict[str, Any]:
        """The source's parameter values when the ranker sets none."""
        names = cls.param_names()
        return {k: v for k, v in cls.build({}).get_params().items() if k in names}

    @classmethod
    def create(cls, context: SourceContext) -> ModelSource:
        params = context.model_params.get(cls.name, {})
        return cls(cls.build(params, seed=context.seed, threads=context.threads))

    def fit(self, train: Dataset) -> ModelSource:
        self.recommender.fit(train)
        if self.warm_only:
            bought = train.transactions[CUSTOMER_IDX].to_numpy()
            self.warm_ = np.bincount(bought, minlength=train.n_customers) > 0
        return self

    def candidates(self, customers: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
        customers = np.asarray(customers, dtype=np.int64)
        if not self.warm_only:
            return self.recommender.candidates(customers, n)
        ids, scores = empty_lists(customers.size, n)
        warm = np.flatnonzero(self.warm_[customers])
        if warm.size:
            ids[warm], scores[warm] = self.recommender.candidates(customers[warm], n)
        return ids, scores

    def pair_values(self, customers: np.ndarray, cands: Candidates) -> np.ndarray:
        pair = getattr(self.recommender, self.pair_method)
        values = np.asarray(pair(customers[cands.row], cands.article), dtype=np.float32)
        return np.where(np.isfinite(values), values, np.float32(np.nan))

    # ------------------------------------------------------------------ state for saving
    def state(self) -> dict[str, Any]:
        """The model's learned scalars and arrays, and the source's own (``warm_``)."""
        scalars, arrays = self.recommender.state()
        own = super().state()
        clash = ({*own, MODEL_KEY}) & (set(scalars) | set(arrays))
        if clash:  # a bug of the source's definition, not the user's
            raise RuntimeError(f"source '{self.name}': its model's state has names of the source's: {clash}")
        # the model's registry name, which the ranker checks before it restores the state
        return {**scalars, **arrays, **own, MODEL_KEY: self.model}

    def set_state(self, state: Mapping[str, Any]) -> ModelSource:
        own = {key: value for key, value in state.items() if key in self.own_state}
        model = {key: value for key, value in state.items() if key not in own and key != MODEL_KEY}
        scalars = {key: value for key, value in model.items() if not isinstance(value, np.ndarray)}
        arrays = {key: value for key, value in model.items() if isinstance(value, np.ndarray)}
        self.recommender.restore({"attributes": scalars}, arrays)
        super().set_state(own)
        return self
