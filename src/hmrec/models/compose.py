"""Composition of models: ``Fill`` (one model's candidates, then another's) and the registered presets.

``Fill(primary, fallback)``: for each customer, the primary's candidates first (all of them, best first),
then the fallback's for the slots left, skipping articles already listed. Scores stay on one monotone scale:

    score(c, a) = primary.score(c, a)                              if that is finite
                = below(primary.score_floor, fallback.score(c, a))  otherwise

with :func:`hmrec.models.lists.below` mapping the fallback's scores strictly under the primary's floor
(``floor - 1 / (1 + s)`` for ``s >= 0``), in the same order. So a score at or above the floor came from the
primary, one below it from the fallback (:meth:`Fill.source` says it per slot), and the list is sorted. The
primary needs a finite ``score_floor`` (e.g. ``history``: own purchases score > 0).

Parameters of a Fill are the parts' own, prefixed with the part (scikit-learn's ``step__param``):
``primary__half_life_days``, ``fallback__factors``; on the command line
``--param als+repurchase.fallback__factors=128``. The registered presets (``repurchase``, ``als+repurchase``,
``sgd+repurchase``, ``kmeans-customers+repurchase``) are Fills of registered models with their own defaults.

A fitted Fill saves its parts' learned state with the same prefixes in the one model directory
(``primary__own_data_`` in arrays.npz, the parts' scalars under ``attributes``); ``model.json`` names the
parts' models, and loading rebuilds the Fill from the registry.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from typing import Any, ClassVar, Self

import numpy as np

from hmrec.data.dataset import Dataset
from hmrec.errors import ParameterError
from hmrec.models._params import check_customers, check_pairs
from hmrec.models.base import Recommender, check_k, create, register, registered
from hmrec.models.lists import below, concat_distinct

PARTS = ("primary", "fallback")
SEP = "__"


def _prefixed(part: str, mapping: dict[str, Any]) -> dict[str, Any]:
    return {f"{part}{SEP}{key}": value for key, value in mapping.items()}


def _unprefixed(part: str, mapping: dict[str, Any]) -> dict[str, Any]:
    head = f"{part}{SEP}"
    return {key[len(head):]: value for key, value in mapping.items() if key.startswith(head)}


@contextmanager
def as_part(owner: str, prefix: str) -> Iterator[None]:
    """Report a part's ParameterError as ``owner``'s, with the parameter named as the user wrote it
    (``prefix`` + name: ``primary__half_life_days``, a ranker's ``source__als__factors``)."""
    try:
        yield
    except ParameterError as exc:
        message = re.sub(r"parameter '", f"parameter '{prefix}", str(exc), count=1)
        raise ParameterError(f"{owner}: {message}") from None


class Fill(Recommender):
    """``primary``'s candidates, then ``fallback``'s for the rest (see the module docstring).

    Args:
        primary: a model with a finite ``score_floor`` (its finite scores are all above it).
        fallback: any model; it decides what customers without a primary list get.
    """

    def __init__(self, primary: Recommender, fallback: Recommender) -> None:
        if not np.isfinite(primary.score_floor):
            raise ParameterError(
                f"fill: the primary model '{primary.name}' has unbounded scores, so nothing can be put below "
                "them (fix: choose a primary with a score floor, e.g. history)"
            )
        self.primary = primary
        self.fallback = fallback

    # ------------------------------------------------------------------ hyperparameters
    def get_params(self) -> dict[str, Any]:
        return {**_prefixed("primary", self.primary.get_params()), **_prefixed("fallback", self.fallback.get_params())}

    def set_params(self, **params: Any) -> Self:
        for key in params:
            part, sep, _ = key.partition(SEP)
            if not sep or part not in PARTS:
                allowed = ", ".join(self.get_params())
                raise ParameterError(f"model '{self.name}' has no parameter '{key}' (allowed: {allowed})")
        for part in PARTS:
            given = _unprefixed(part, params)
            if given:
                getattr(self, part).set_params(**given)
        return self

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.primary!r}, {self.fallback!r})"

    @property
    def score_kind(self) -> str:  # type: ignore[override]
        kinds = {self.primary.score_kind, self.fallback.score_kind}
        return "raw" if kinds == {"raw"} else "rank"

    @property
    def covers_cold(self) -> bool:  # type: ignore[override]
        return self.primary.covers_cold or self.fallback.covers_cold

    # ------------------------------------------------------------------ fitting
    @property
    def is_fitted(self) -> bool:
        return self.primary.is_fitted and self.fallback.is_fitted

    def _as_part(self, part: str) -> AbstractContextManager[None]:
        return as_part(self.name, f"{part}{SEP}")

    def _validate(self) -> None:
        for part in PARTS:
            validate = getattr(getattr(self, part), "_validate", None)
            if callable(validate):
                with self._as_part(part):
                    validate()

    def fit(self, train: Dataset) -> Self:
        for part in PARTS:
            with self._as_part(part):
                getattr(self, part).fit(train)
        self.n_customers_ = int(train.n_customers)
        self.n_articles_ = int(train.n_articles)
        return self

    # ------------------------------------------------------------------ scoring
    def score(self, customers: np.ndarray, articles: np.ndarray) -> np.ndarray:
        self._check_fitted()
        customers, articles = check_pairs(customers, articles, self.n_customers_, self.n_articles_, self.name)
        first = self.primary.score(customers, articles)
        then = below(self.primary.score_floor, self.fallback.score(customers, articles))
        return np.where(np.isfinite(first), first, then).astype(np.float32)

    def candidates(self, customers: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
        ids, scores, _ = self._lists(customers, n)
        return ids, scores

    def source(self, customers: np.ndarray, n: int) -> np.ndarray:
        """``(len(customers), n)`` strings ``"primary"``/``"fallback"`` (``""`` for padding) per slot."""
        ids, _, from_fallback = self._lists(customers, n)
        return np.where(ids < 0, "", np.where(from_fallback, "fallback", "primary"))

    def _lists(self, customers: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        self._check_fitted()
        n = check_k(n)
        customers = check_customers(customers, self.n_customers_, self.name)
        ids, scores = self.primary.candidates(customers, n)
        from_fallback = np.zeros(ids.shape, dtype=bool)
        # only rows with room left need the fallback: a full primary list is the answer
        short = np.flatnonzero(ids[:, -1] < 0) if ids.size else np.zeros(0, dtype=np.int64)
        if short.size:
            # n fallback candidates are enough: at most (n - free slots) of them are already listed
            f_ids, f_scores = self.fallback.candidates(customers[short], n)
            f_scores = below(self.primary.score_floor, f_scores)
            ids, scores = ids.copy(), scores.copy()
            ids[short], scores[short], from_fallback[short] = concat_distinct(
                ids[short], scores[short], f_ids, f_scores, n
            )
        return ids, scores, from_fallback

    # ------------------------------------------------------------------ persistence
    def state(self) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
        attributes: dict[str, Any] = {"n_customers_": self.n_customers_, "n_articles_": self.n_articles_}
        arrays: dict[str, np.ndarray] = {}
        for part in PARTS:
            model = getattr(self, part)
            part_attrs, part_arrays = model.state()
            attributes.update(_prefixed(part, part_attrs))
            attributes[f"{part}{SEP}model"] = model.name
            arrays.update(_prefixed(part, part_arrays))
        return attributes, arrays

    def restore(self, payload: dict[str, Any], arrays: dict[str, Any]) -> Self:
        attributes = payload.get("attributes", {})
        for part in PARTS:
            model = getattr(self, part)
            saved = attributes.get(f"{part}{SEP}model", model.name)
            if saved != model.name:
                raise ParameterError(
                    f"{self.name}: the saved {part} is a '{saved}' model, this preset's is '{model.name}' "
                    "(fix: train the model again)"
                )
            part_attrs = {k: v for k, v in _unprefixed(part, attributes).items() if k != "model"}
            model.restore({"attributes": part_attrs}, _unprefixed(part, arrays))
        self.n_customers_ = int(attributes["n_customers_"])
        self.n_articles_ = int(attributes["n_articles_"])
        return self


class FillPreset(Fill):
    """A registered Fill of two registered models, built from flat ``primary__*``/``fallback__*`` params."""

    primary_model: ClassVar[str]
    fallback_model: ClassVar[str]
    primary_defaults: ClassVar[dict[str, Any]] = {}
    fallback_defaults: ClassVar[dict[str, Any]] = {}

    def __init__(self, **params: Any) -> None:
        super().__init__(
            create(self.primary_model, **self.primary_defaults),
            create(self.fallback_model, **self.fallback_defaults),
        )
        self.set_params(**params)

    @classmethod
    def param_names(cls) -> list[str]:
        models = registered()
        names: list[str] = []
        for part, model in (("primary", cls.primary_model), ("fallback", cls.fallback_model)):
            factory = models[model].factory
            part_names = factory.param_names() if isinstance(factory, type) and issubclass(factory, Recommender) else []
            names += [f"{part}{SEP}{p}" for p in part_names]
        return names


def register_fill(
    name: str,
    description: str,
    *,
    primary: str,
    fallback: str,
    primary_defaults: dict[str, Any] | None = None,
    fallback_defaults: dict[str, Any] | None = None,
) -> type[FillPreset]:
    """Register ``name`` as ``Fill(create(primary), create(fallback))`` with the given part defaults."""
    cls = type(
        "Fill_" + re.sub(r"\W", "_", name),
        (FillPreset,),
        {
            "__doc__": f"``{name}``: :class:`Fill` of ``{primary}`` then ``{fallback}``.",
            "primary_model": primary,
            "fallback_model": fallback,
            "primary_defaults": dict(primary_defaults or {}),
            "fallback_defaults": dict(fallback_defaults or {}),
        },
    )
    register(name, description)(cls)
    return cls
