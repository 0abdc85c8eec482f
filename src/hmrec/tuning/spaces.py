"""The search space of each tunable model, declared in one place, and the JSON form a user may replace it with.

A space maps a parameter name (as ``create(model, ...)`` takes it, a composite's ``fallback__factors`` or the
ranker's ``source__als__factors`` included) to one of

* ``{"type": "int", "low": 2, "high": 64, "log": false}``,
* ``{"type": "float", "low": 0.1, "high": 100, "log": true}``,
* ``{"type": "categorical", "choices": [...]}`` (JSON scalars).

The ranges come from each model's constructor and the values measured in docs/benchmarks.md: they bracket the
default by a factor of a few either way, and stay where one fit on the small data set takes minutes, not
hours (the ranker's ``trees`` and the candidate list lengths cost time in proportion).
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hmrec.errors import ParameterError

Scalar = bool | int | float | str | None


@dataclass(frozen=True)
class Dimension:
    """One parameter's range: ``kind`` int, float or categorical."""

    kind: str
    low: float = 0.0
    high: float = 0.0
    log: bool = False
    choices: tuple[Scalar, ...] = ()

    def contains(self, value: object) -> bool:
        """Whether ``value`` lies in this range (what enqueuing a model's default asks)."""
        if self.kind == "categorical":
            return any(type(value) is type(choice) and value == choice for choice in self.choices)
        number = isinstance(value, (int, float)) and not isinstance(value, bool)
        if not number or not self.low <= value <= self.high:  # type: ignore[operator]
            return False
        return self.kind == "float" or float(value).is_integer()  # type: ignore[arg-type]

    def to_json(self) -> dict[str, Any]:
        if self.kind == "categorical":
            return {"type": "categorical", "choices": list(self.choices)}
        low, high = (int(self.low), int(self.high)) if self.kind == "int" else (self.low, self.high)
        return {"type": self.kind, "low": low, "high": high, "log": self.log}


Space = dict[str, Dimension]


def _int(low: int, high: int, *, log: bool = False) -> Dimension:
    return Dimension("int", low, high, log)


def _float(low: float, high: float, *, log: bool = False) -> Dimension:
    return Dimension("float", low, high, log)


def _choice(*choices: Scalar) -> Dimension:
    return Dimension("categorical", choices=choices)


def _prefixed(prefix: str, space: Mapping[str, Dimension]) -> Space:
    """A part's space as its composite takes it (``fallback__factors``)."""
    return {f"{prefix}{name}": dim for name, dim in space.items()}


def _scaled_sources(spec: str, factor: float) -> str:
    """The ranker's ``sources`` string with every list length scaled by ``factor`` (at least 4)."""
    parts = []
    for item in spec.split(","):
        name, _, n = item.partition(":")
        parts.append(f"{name}:{max(4, round(int(n) * factor))}")
    return ",".join(parts)


def _ranker_space() -> Space:
    from hmrec.ranking.ranker import DEFAULT_SOURCES

    return {
        # LightGBM: the default (150 trees, 31 leaves, 0.05) bracketed; early stopping picks fewer trees
        "trees": _int(60, 300, log=True),
        "leaves": _int(8, 96, log=True),
        "learning_rate": _float(0.02, 0.2, log=True),
        "min_child_samples": _int(10, 200, log=True),
        "negatives": _float(5.0, 60.0, log=True),
        "objective": _choice("lambdarank", "binary"),
        # the training sample: more weeks cost time in proportion
        "weeks": _int(2, 6),
        # the candidates: shorter or longer lists from every source, fewer for inactive customers
        "sources": _choice(*(_scaled_sources(DEFAULT_SOURCES, factor) for factor in (1.0, 0.5, 1.5))),
        "inactive_scale": _int(1, 8),
        "active_weeks": _float(4.0, 52.0, log=True),
        "source__als__factors": _int(16, 128, log=True),
        "source__als__alpha": _float(10.0, 300.0, log=True),
    }


_ALS: Space = {
    "factors": _int(16, 256, log=True),
    "reg": _float(0.1, 100.0, log=True),
    "alpha": _float(1.0, 300.0, log=True),
    "iterations": _int(5, 30),
    "half_life_days": _float(1.0, 60.0, log=True),
}
_SGD: Space = {
    "factors": _int(16, 256, log=True),
    "epochs": _int(10, 120, log=True),
    "learning_rate": _float(0.003, 0.3, log=True),
    "reg": _float(1e-4, 0.05, log=True),
    "neg_samples": _int(1, 16, log=True),
    "alpha": _float(0.5, 50.0, log=True),
}
_KMEANS_CUSTOMERS: Space = {
    "k": _int(2, 32, log=True),
    "half_life_days": _float(0.5, 30.0, log=True),
    "blend": _float(0.0, 1.0),
}
_HISTORY: Space = {"half_life_days": _float(1.0, 120.0, log=True)}
_POPULARITY_DECAY: Space = {"half_life_days": _float(0.5, 30.0, log=True)}

#: the spaces by registry name; the ranker's is built on first use (it reads the ranker's module)
_SPACES: dict[str, Space] = {
    "popularity": {"days": _int(1, 28)},
    "popularity-decay": _POPULARITY_DECAY,
    "popularity-age": {"half_life_days": _float(0.5, 30.0, log=True), "buckets": _choice("quintiles", 5, 10, 20)},
    "history": _HISTORY,
    "repurchase": {**_prefixed("primary__", _HISTORY), **_prefixed("fallback__", _POPULARITY_DECAY)},
    "als": _ALS,
    "als+repurchase": {**_prefixed("primary__", _HISTORY), **_prefixed("fallback__", _ALS)},
    "sgd-bpr": _SGD,
    "sgd-mse": _SGD,
    "sgd+repurchase": {**_prefixed("primary__", _HISTORY), **_prefixed("fallback__", _SGD)},
    "kmeans-customers": _KMEANS_CUSTOMERS,
    "kmeans-customers+repurchase": {**_prefixed("primary__", _HISTORY), **_prefixed("fallback__", _KMEANS_CUSTOMERS)},
    "kmeans-articles": {
        "k": _int(4, 48, log=True),
        "half_life_days": _float(0.5, 30.0, log=True),
        "share_half_life_days": _float(14.0, 365.0, log=True),
    },
}


def tunable() -> list[str]:
    """The models with a search space, in registry order where registered."""
    return [*_SPACES, "ranker"]


def space_for(model: str) -> Space:
    """The built-in search space of ``model``; ParameterError listing the tunable models for any other."""
    if model == "ranker":
        return _ranker_space()
    if model not in _SPACES:
        raise ParameterError(
            f"model '{model}' has no search space (fix: tune one of {', '.join(tunable())}, or give --space FILE)"
        )
    return dict(_SPACES[model])


def read_space(path: Path) -> Space:
    """A space from a JSON file (the format in the module docstring); one-line ParameterError naming the file."""
    try:
        raw = json.loads(Path(path).read_text(encoding="utf-8"), parse_constant=_refuse_constant)
    except FileNotFoundError:
        raise ParameterError(f"--space {path}: no such file (fix: check the path)") from None
    except (ValueError, UnicodeDecodeError) as exc:
        raise ParameterError(f"--space {path}: not a JSON search space ({exc}) (fix: see hmrec tune --help)") from None
    if not isinstance(raw, dict) or not raw:
        raise ParameterError(
            f"--space {path}: must be a JSON object of NAME: {{\"type\": ...}} (fix: e.g. "
            '{"factors": {"type": "int", "low": 16, "high": 256, "log": true}})'
        )
    return {str(name): _dimension(path, str(name), spec) for name, spec in raw.items()}


def _refuse_constant(name: str) -> float:
    raise ValueError(f"{name} is not a finite number")


def _dimension(path: Path, name: str, spec: object) -> Dimension:
    where = f"--space {path}: parameter '{name}'"
    if not isinstance(spec, dict) or spec.get("type") not in ("int", "float", "categorical"):
        raise ParameterError(f"{where} needs \"type\": int, float or categorical (fix: see `hmrec tune --help`)")
    kind = spec["type"]
    if kind == "categorical":
        choices = spec.get("choices")
        if not isinstance(choices, list) or not choices or any(isinstance(c, (list, dict)) for c in choices):
            raise ParameterError(f"{where} needs \"choices\": a non-empty list of numbers, strings, true/false or null")
        return Dimension("categorical", choices=tuple(choices))
    low, high, log = spec.get("low"), spec.get("high"), spec.get("log", False)
    numbers = all(isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v) for v in (low, high))
    if not numbers or not low <= high or not isinstance(log, bool):  # type: ignore[operator]
        raise ParameterError(f"{where} needs finite numbers \"low\" <= \"high\" (and \"log\": true/false)")
    if log and low <= 0:  # type: ignore[operator]
        raise ParameterError(f"{where}: a log range needs \"low\" > 0, got {low}")
    if kind == "int" and not (float(low).is_integer() and float(high).is_integer()):  # type: ignore[arg-type]
        raise ParameterError(f"{where}: an int range needs whole \"low\" and \"high\", got {low} and {high}")
    return Dimension(kind, float(low), float(high), log)  # type: ignore[arg-type]


def space_json(space: Mapping[str, Dimension]) -> dict[str, Any]:
    """The space in its JSON form (what ``--space`` reads)."""
    return {name: dim.to_json() for name, dim in space.items()}


__all__ = ["Dimension", "Space", "read_space", "space_for", "space_json", "tunable"]
