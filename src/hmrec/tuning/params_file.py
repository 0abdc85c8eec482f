"""``--params-file``: hyperparameters from a JSON file, checked like ``--param``, overridden by ``--param``.

Two shapes are read:

* what ``hmrec tune`` writes (``best_params.json``): ``{"model": "ranker", "params": {"trees": 212, ...}, ...}``
  (its other keys, the value and the weeks, are for the reader and ignored here);
* parameters by model: ``{"ranker": {"trees": 212}, "als": {"factors": 128}}``.

A flat ``{"trees": 212}`` is refused rather than guessed at: with ``evaluate --models a,b`` it would not say
whose parameters they are. Values are JSON numbers, strings, true/false and null, as ``--param`` takes them.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from hmrec.errors import HmrecError, ParameterError

Params = dict[str, dict[str, Any]]
#: the file name tune writes, named in the fixes
BEST = "best_params.json"


def read_params_file(path: Path) -> Params:
    """The parameters by model name in ``path``, each model's checked by creating it.

    Raises:
        ParameterError: one line naming the file: missing, unreadable, not JSON, neither shape, a value that
            is not finite, an unknown model or parameter, a value the model refuses.
    """
    where = f"--params-file {path}"
    try:
        text = Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ParameterError(f"{where}: no such file (fix: check the path, e.g. tune-ranker/{BEST})") from None
    except IsADirectoryError:
        raise ParameterError(f"{where}: is a directory (fix: give the JSON file, e.g. DIR/{BEST})") from None
    except UnicodeDecodeError:
        raise ParameterError(f"{where}: not a text file (fix: give a JSON file such as tune's {BEST})") from None
    try:
        raw = json.loads(text, parse_constant=_not_finite)
    except ValueError as exc:
        raise ParameterError(
            f"{where}: not valid JSON ({exc}) (fix: give tune's best_params.json or {{\"MODEL\": {{\"NAME\": VALUE}}}})"
        ) from None
    by_model = _shape(raw, where)
    for model, values in by_model.items():
        for name, value in values.items():
            if isinstance(value, float) and not math.isfinite(value):  # 1e400 parses as inf
                raise ParameterError(f"{where}: {model}.{name} must be a finite number, got {value!r}")
            if isinstance(value, (list, dict)):
                raise ParameterError(
                    f"{where}: {model}.{name} must be a number, string, true/false or null, got {json.dumps(value)}"
                )
        _check(model, values, where)
    return by_model


def _not_finite(name: str) -> float:
    raise ValueError(f"{name} is not a finite number")


def _shape(raw: object, where: str) -> Params:
    fix = "(fix: give tune's best_params.json, or {\"MODEL\": {\"NAME\": VALUE}})"
    if not isinstance(raw, dict) or not raw:
        raise ParameterError(f"{where}: must be a JSON object of parameters by model {fix}")
    if "params" in raw or "model" in raw:
        model, params = raw.get("model"), raw.get("params")
        if not isinstance(model, str) or not isinstance(params, dict):
            raise ParameterError(f"{where}: needs \"model\" (a name) and \"params\" (an object) {fix}")
        return {model: dict(params)}
    if not all(isinstance(values, dict) for values in raw.values()):
        flat = next(name for name, values in raw.items() if not isinstance(values, dict))
        raise ParameterError(f"{where}: '{flat}' is not a model's object of parameters {fix}")
    return {str(model): dict(values) for model, values in raw.items()}


def _check(model: str, values: Mapping[str, Any], where: str) -> None:
    from hmrec.registry import create

    try:
        create(model, **values)
    except HmrecError as exc:  # unknown model, unknown parameter, a value refused
        raise ParameterError(f"{where}: {exc}") from None


def with_params_file(path: Path | None, given: Params, models: Sequence[str] | None = None) -> Params:
    """``given`` (from ``--param``) on top of the file's parameters: the command line wins, key by key.

    ``models``: the models the command runs (None: any); a file for another model is refused, naming it.
    """
    if path is None:
        return given
    from_file = read_params_file(path)
    if models is not None:
        stray = sorted(set(from_file) - set(models))
        if stray:
            raise ParameterError(
                f"--params-file {path} is for model '{stray[0]}', which this command does not run "
                f"(fix: run {stray[0]}, or use a file for {', '.join(models)})"
            )
    merged: Params = {model: dict(values) for model, values in from_file.items()}
    for model, values in given.items():
        merged.setdefault(model, {}).update(values)
    return merged


__all__ = ["Params", "read_params_file", "with_params_file"]
