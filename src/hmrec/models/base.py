"""The Recommender interface, the model registry and the shared top-k routine.

Every model follows scikit-learn's conventions: the constructor only stores hyperparameters; ``fit`` validates,
learns attributes whose names end in ``_`` and returns ``self``; fitting twice equals fitting once (a refit
starts from scratch).

Every fitted model answers three questions, all on its own score scale (the same for every row):

* ``score(customers, articles)``: the score of each aligned (customer, article) pair, float32; ``-inf`` for
  an article the model cannot recommend to that customer (not a candidate, already bought with
  ``filter_bought``, ...).
* ``candidates(customers, n)``: ``(ids, scores)``, two ``(len(customers), n)`` arrays, best first: the top
  ``n`` of ``score(c, .)`` over the articles with a finite score (ties: lower article index first), padded
  with -1 / -inf when there are fewer. So ``score(c, ids[c, j]) == scores[c, j]``.
* ``recommend(customers, k)``: the top ``k``, i.e. ``candidates(customers, k)``.

``score_kind`` says what a score is: ``"raw"``, the model's own quantity (a sales count, a dot product, a
probability), or ``"rank"``, only an order (e.g. a position); ``hmrec models`` shows it. Customers the model
knows nothing about get a documented fallback, never an exception (unless ``covers_cold`` is False: a part
meant to be filled by another model, see :mod:`hmrec.models.compose`).
"""

from __future__ import annotations

import inspect
import json
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar, Self

import numpy as np
import scipy.sparse as sp

from hmrec.atomic import atomic_file, write_atomic
from hmrec.data.dataset import Dataset
from hmrec.errors import NotFittedError, ParameterError, UnknownModelError

DEFAULT_K = 12
BLOCK_ROWS = 65_536


class Recommender(ABC):
    """Base class of every hmrec model."""

    #: registry name, set by :func:`register`
    name: ClassVar[str] = ""
    #: "raw" (the model's own quantity) or "rank" (a position-based score); see the module docstring
    score_kind: ClassVar[str] = "raw"
    #: a strict lower bound of the finite scores (-inf: none); :class:`~hmrec.models.compose.Fill` puts a
    #: fallback's scores below it
    score_floor: ClassVar[float] = -np.inf
    #: False for a model that gives customers without history nothing (meant as a part of a Fill)
    covers_cold: ClassVar[bool] = True

    # ------------------------------------------------------------------ hyperparameters
    @classmethod
    def param_names(cls) -> list[str]:
        signature = inspect.signature(cls.__init__)
        return [
            p.name
            for p in signature.parameters.values()
            if p.name != "self"
            and p.kind == p.KEYWORD_ONLY
            or p.name != "self"
            and p.kind == p.POSITIONAL_OR_KEYWORD
        ]

    def get_params(self) -> dict[str, Any]:
        """The constructor's hyperparameters and their current values."""
        return {name: getattr(self, name) for name in self.param_names()}

    def set_params(self, **params: Any) -> Self:
        allowed = self.param_names()
        for key, value in params.items():
            if key not in allowed:
                raise ParameterError(
                    f"model '{self.name}' has no parameter '{key}' (allowed: {', '.join(allowed) or 'none'})"
                )
            setattr(self, key, value)
        return self

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_params().items())
        return f"{type(self).__name__}({args})"

    # ------------------------------------------------------------------ the interface
    @abstractmethod
    def fit(self, train: Dataset) -> Self:
        """Learn from the transactions of ``train`` (all of them: the caller has cut the window)."""

    @abstractmethod
    def score(self, customers: np.ndarray, articles: np.ndarray) -> np.ndarray:
        """Float32 scores of the aligned pairs ``(customers[i], articles[i])``; -inf where not a candidate."""

    @abstractmethod
    def candidates(self, customers: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
        """The top ``n`` articles of each customer by :meth:`score`, ``(ids, scores)`` padded -1 / -inf."""

    def recommend(self, customers: np.ndarray, k: int = DEFAULT_K) -> tuple[np.ndarray, np.ndarray]:
        """Top-``k`` article indices and scores for each customer index, best first."""
        return self.candidates(customers, k)

    # ------------------------------------------------------------------ helpers for subclasses
    @property
    def is_fitted(self) -> bool:
        return any(name.endswith("_") and not name.startswith("_") for name in vars(self))

    def _check_fitted(self) -> None:
        if not self.is_fitted:
            raise NotFittedError(f"model '{self.name}' is not fitted (fix: call fit() before recommend())")

    def _reset(self) -> None:
        """Forget everything learned, so that a refit starts from scratch."""
        for attr in [a for a in vars(self) if a.endswith("_") and not a.startswith("_")]:
            delattr(self, attr)

    # ------------------------------------------------------------------ persistence
    def state(self) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
        """What a fitted model saves: ``(attributes, arrays)``, the learned scalars and arrays by name."""
        arrays = {k: v for k, v in vars(self).items() if k.endswith("_") and isinstance(v, np.ndarray)}
        scalars = {
            k: v
            for k, v in vars(self).items()
            if k.endswith("_") and isinstance(v, (int, float, str, bool)) and not k.startswith("_")
        }
        return scalars, arrays

    def save(self, directory: Path, **meta: Any) -> None:
        """Save hyperparameters (JSON) and learned arrays (npz, no pickle) to ``directory``."""
        self._check_fitted()
        scalars, arrays = self.state()
        write_saved(directory, arrays, {"model": self.name, "params": self.get_params(), "attributes": scalars, **meta})

    @classmethod
    def load_state(cls, directory: Path) -> tuple[dict[str, Any], dict[str, Any]]:
        """Read ``model.json`` and the arrays saved by :meth:`save`."""
        payload = json.loads((directory / "model.json").read_text())
        with np.load(directory / "arrays.npz", allow_pickle=False) as npz:
            arrays = {k: npz[k] for k in npz.files}
        return payload, arrays

    def restore(self, payload: dict[str, Any], arrays: dict[str, Any]) -> Self:
        """Take the learned state ``payload["attributes"]`` and ``arrays`` (as :meth:`state` gave them)."""
        self._reset()
        for key, value in {**payload.get("attributes", {}), **arrays}.items():
            setattr(self, key, value)
        return self


def write_saved(directory: Path, arrays: Mapping[str, np.ndarray], payload: Mapping[str, Any]) -> None:
    """A saved model's two files in ``directory``: ``arrays.npz`` (no pickle) and ``model.json`` (``payload``),
    each written to a temporary file and renamed into place (:mod:`hmrec.atomic`)."""
    directory.mkdir(parents=True, exist_ok=True)
    with atomic_file(directory / "arrays.npz") as handle:
        np.savez(handle, **arrays)  # type: ignore[arg-type]
    write_atomic(directory / "model.json", json.dumps(payload, indent=2, default=str))


# ---------------------------------------------------------------------- registry
@dataclass(frozen=True)
class ModelInfo:
    name: str
    description: str
    factory: Callable[..., Recommender]
    needs_truth: bool = False
    #: an extra is evaluated only when named: left out of the default set of `evaluate` and `demo`
    extra: bool = False


_REGISTRY: dict[str, ModelInfo] = {}


def register(name: str, description: str, *, needs_truth: bool = False, extra: bool = False) -> Callable[[Any], Any]:
    """Class or factory decorator: make a model available by ``name`` to ``create`` and the CLI (an ``extra``
    only when named, not in the commands' default set of models)."""

    def decorate(factory: Any) -> Any:
        _REGISTRY[name] = ModelInfo(name, description, factory, needs_truth, extra)
        if isinstance(factory, type) and issubclass(factory, Recommender):
            factory.name = name
        return factory

    return decorate


def unregister(name: str) -> None:
    """Remove ``name`` from the registry (for models registered temporarily, e.g. in tests)."""
    _REGISTRY.pop(name, None)


def registered() -> dict[str, ModelInfo]:
    """The models registered so far by name, in registration order.

    Importing :mod:`hmrec.models` registers its models; :mod:`hmrec.registry` (above this package and
    :mod:`hmrec.ranking`) registers every built-in model, the ranker included, and is where commands look.
    """
    return dict(_REGISTRY)


def create(name: str, **params: Any) -> Recommender:
    """A new, unfitted model by registry name, with hyperparameters ``params`` (among the models registered so
    far: :func:`hmrec.registry.create` is the same with every built-in model registered)."""
    models = registered()
    if name not in models:
        raise UnknownModelError(
            f"unknown model '{name}' (fix: choose one of {', '.join(models)}; `hmrec models` lists them)"
        )
    factory = models[name].factory
    if isinstance(factory, type) and issubclass(factory, Recommender):
        # an unknown hyperparameter is a user error (one line, exit 2), not a TypeError traceback
        allowed = factory.param_names()
        for key in params:
            if key not in allowed:
                raise ParameterError(
                    f"model '{name}' has no parameter '{key}' (allowed: {', '.join(allowed) or 'none'})"
                )
    model = factory(**params)
    model.name = name  # type: ignore[misc]  # a factory's instance takes its registry name
    # A bad value (als.factors=abc) is refused now, before any data is loaded or another model is fitted,
    # just like a bad name; fit() checks again for values set later with set_params.
    validate = getattr(model, "_validate", None)
    if callable(validate):
        validate()
    return model


def seed_params(model: Recommender, seed: int, given: Mapping[str, Any]) -> Recommender:
    """Give ``seed`` to every seed parameter of ``model`` (``seed``, or a part's ``..__seed``) not in ``given``."""
    for name in model.param_names():
        if (name == "seed" or name.endswith("__seed")) and name not in given:
            model.set_params(**{name: seed})
    return model


#: the longest list a command writes per customer (the competition asks for 12): a million customers' lists of
#: 1000 ids and scores are already 8 GB
MAX_K = 1000


def check_k(k: int, high: int | None = None) -> int:
    """``k`` as an int in [1, ``high``] (no upper bound for None), else a ParameterError naming it."""
    if not isinstance(k, (int, np.integer)) or isinstance(k, bool) or k < 1:
        raise ParameterError(f"k must be an integer >= 1, got {k!r} (fix: pass --k 12)")
    if high is not None and k > high:
        raise ParameterError(f"k must be an integer between 1 and {high}, got {k!r} (fix: pass --k 12)")
    return int(k)


def available_memory() -> int | None:
    """The bytes of memory the system has available (MemAvailable), None where the system does not say."""
    try:
        with open("/proc/meminfo", encoding="ascii") as handle:
            fields = dict(line.split(":", 1) for line in handle)
        return int(fields["MemAvailable"].split()[0]) * 1024
    except (OSError, KeyError, ValueError):  # not Linux: the allocation itself will tell
        return None


def check_memory(needed: int, what: str, fix: str = "ask for a smaller --k") -> None:
    """A ParameterError when ``needed`` bytes exceed the memory the system has available, before allocating."""
    available = available_memory()
    if available is not None and needed > available:
        raise ParameterError(
            f"{what} would need {_size(needed)} of memory and {_size(available)} is available (fix: {fix})"
        )


def _size(n_bytes: int) -> str:
    return f"{n_bytes / 2**30:.1f} GB" if n_bytes >= 2**30 / 10 else f"{n_bytes / 2**20:.1f} MB"


# ---------------------------------------------------------------------- shared top-k
def top_k(
    scores: np.ndarray,
    k: int,
    *,
    exclude: sp.csr_matrix | None = None,
    candidates: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """The ``k`` best columns of each row of ``scores``, best first.

    Args:
        scores: ``(n, m)`` float scores; NaN and -inf mean "not a candidate".
        k: how many to return; rows with fewer than ``k`` candidates are padded with id -1 and score -inf.
        exclude: optional ``(n, m)`` sparse matrix whose non-zeros are removed (e.g. already bought).
        candidates: optional column indices (or boolean mask of length m) outside which nothing is returned.

    Returns:
        ``(ids, scores)``: int32 column indices and float32 scores, each ``(n, k)``. Ties are broken by the
        lower column index, so the result is deterministic.
    """
    k = check_k(k)
    scores = np.array(scores, dtype=np.float32, copy=True, ndmin=2)
    n, m = scores.shape
    np.nan_to_num(scores, copy=False, nan=-np.inf, posinf=float(np.finfo(np.float32).max), neginf=-np.inf)
    if candidates is not None:
        mask = np.zeros(m, dtype=bool)
        cand = np.asarray(candidates)
        if cand.dtype == bool:
            mask[: cand.size] = cand
        else:
            mask[cand] = True
        scores[:, ~mask] = -np.inf
    if exclude is not None and exclude.nnz:
        coo = sp.csr_matrix(exclude).tocoo()
        scores[coo.row, coo.col] = -np.inf
    kk = min(k, m)
    # argpartition needs kth < m; with k >= m every column is kept
    if kk < m:
        # argpartition alone settles a tie at the k-th place arbitrarily: keep every score above the k-th
        # value, then the lowest-index columns equal to it, so that ties go to the lower column index
        kth = -np.partition(-scores, kk - 1, axis=1)[:, kk - 1 : kk]
        above = scores > kth
        level = scores == kth
        keep = above | (level & (np.cumsum(level, axis=1) <= kk - above.sum(axis=1, keepdims=True)))
        part = (np.flatnonzero(keep) % m).reshape(n, kk)
    else:
        part = np.tile(np.arange(m), (n, 1))
    part_scores = np.take_along_axis(scores, part, axis=1)
    # lexsort: primary key descending score, secondary ascending column index (deterministic ties)
    order = np.lexsort((part, -part_scores), axis=1)
    ids = np.take_along_axis(part, order, axis=1).astype(np.int32)
    out_scores = np.take_along_axis(part_scores, order, axis=1).astype(np.float32)
    if kk < k:
        ids = np.pad(ids, ((0, 0), (0, k - kk)), constant_values=-1)
        out_scores = np.pad(out_scores, ((0, 0), (0, k - kk)), constant_values=-np.inf)
    ids[~np.isfinite(out_scores) & (out_scores < 0)] = -1
    return ids, out_scores
