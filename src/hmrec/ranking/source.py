"""What every candidate source is: the :class:`Source` base class and the :class:`SourceContext` the ranker hands
each source it creates. The sources themselves are in :mod:`hmrec.ranking.sources` (computed from the
transactions) and :mod:`hmrec.ranking.model_source` (a registered model as a source).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar

import numpy as np

from hmrec.data.dataset import Dataset
from hmrec.ranking.candidates import Candidates


def empty_lists(n: int, k: int) -> tuple[np.ndarray, np.ndarray]:
    return np.full((n, k), -1, dtype=np.int32), np.full((n, k), -np.inf, dtype=np.float32)


@dataclass(frozen=True)
class SourceContext:
    """What the ranker hands every source it creates: the seed, the threads, the taste keys it learned
    (column combinations, best first; :func:`hmrec.ranking.taste.learn_keys`) and its model sources'
    parameters."""

    seed: int = 0
    threads: int = 0
    taste_keys: tuple[tuple[str, ...], ...] = ()
    #: per model source (:class:`ModelSource`) the parameters the ranker was given for its model
    model_params: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)


class Source:
    """Base of the candidate sources: learned attributes end in ``_`` and are arrays or numbers.

    What is particular to a source is said on its class, so that a new source is one class:
    ``full_for_inactive`` (inactive customers get its whole list, not a shortened one),
    ``cold_by_age`` (for a customer without purchases its list depends on their age at most: the ranker then
    ranks one customer per age for all of them; False, the safe default, turns that shortcut off) and
    :meth:`create` (what it takes from the ranker's :class:`SourceContext`, e.g. the seed).
    """

    name: ClassVar[str] = ""
    full_for_inactive: ClassVar[bool] = False
    cold_by_age: ClassVar[bool] = False
    #: the name of the ranker's pair feature this source computes (:meth:`pair_values`), if any
    pair_feature: ClassVar[str | None] = None

    def pair_values(self, customers: np.ndarray, cands: Candidates) -> np.ndarray:
        """The source's own strength of each candidate pair (``customers[cands.row]``, ``cands.article``),
        float32, for the feature :attr:`pair_feature`."""
        raise NotImplementedError

    @classmethod
    def create(cls, context: SourceContext) -> Source:
        """A new unfitted source for the ranker (by default with its default parameters)."""
        return cls()

    def fit(self, train: Dataset) -> Source:
        raise NotImplementedError

    def candidates(self, customers: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
        raise NotImplementedError

    # ------------------------------------------------------------------ state for saving
    def state(self) -> dict[str, Any]:
        """The learned attributes (arrays and numbers), for the ranker's save."""
        return {k: v for k, v in vars(self).items() if k.endswith("_") and not k.startswith("_")}

    def set_state(self, state: Mapping[str, Any]) -> Source:
        for key, value in state.items():
            setattr(self, key, value)
        return self
