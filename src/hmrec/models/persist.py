"""Saving a fitted model to a directory and loading it back, refusing data it was not trained on.

A saved model is a directory with ``arrays.npz`` (the learned arrays; read with ``allow_pickle=False``) and
``model.json``: the registry name, the hyperparameters, the learned scalars, the data fingerprint
(``Dataset.fingerprint``), the hmrec version and the format version. It is written into a temporary sibling
directory and renamed into place, so a crash never leaves a half-written model where a model was.
"""

from __future__ import annotations

import json
import shutil
import tempfile
from pathlib import Path
from typing import Any

import numpy as np

from hmrec import __version__
from hmrec.data.dataset import Dataset
from hmrec.errors import DataError, ModelMismatchError, ParameterError
from hmrec.models.base import Recommender, create

FORMAT_VERSION = 1
MODEL_JSON = "model.json"
ARRAYS_NPZ = "arrays.npz"


def _check_savable(model: Recommender) -> None:
    """Every learned attribute must be an array or a scalar: all that npz + JSON hold without pickle."""
    for key, value in vars(model).items():
        if key.endswith("_") and not isinstance(value, (np.ndarray, int, float, str, bool)):
            raise ParameterError(
                f"model '{model.name}' cannot be saved: its attribute '{key}' is a {type(value).__name__}, "
                "not an array or a number (fix: train it in the same process, or store plain arrays)"
            )


def save_model(model: Recommender, directory: str | Path, dataset: Dataset) -> Path:
    """Save fitted ``model`` (trained on ``dataset``) to ``directory``, replacing what was there atomically.

    Returns the directory. The data fingerprint written is ``dataset.fingerprint``.
    """
    directory = Path(directory)
    model._check_fitted()
    _check_savable(model)
    directory.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{directory.name}.", suffix=".tmp", dir=directory.parent))
    try:
        model.save(
            tmp,
            fingerprint=dataset.fingerprint,
            hmrec_version=__version__,
            format_version=FORMAT_VERSION,
            n_customers=dataset.n_customers,
            n_articles=dataset.n_articles,
        )
        old = None
        if directory.exists():
            # move the previous model aside first: rename() cannot replace a non-empty directory
            old = Path(tempfile.mkdtemp(prefix=f".{directory.name}.", suffix=".old", dir=directory.parent))
            old.rmdir()
            directory.rename(old)
        tmp.rename(directory)
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return directory


def read_metadata(directory: str | Path) -> dict[str, Any]:
    """The ``model.json`` of a saved model; DataError when the directory holds no model."""
    path = Path(directory) / MODEL_JSON
    if not path.is_file():
        raise DataError(
            "no saved model here (model.json is missing)",
            file=Path(directory),
            fix="train one with `hmrec train --model NAME --out DIR`",
        )
    try:
        payload: dict[str, Any] = json.loads(path.read_text())
    except json.JSONDecodeError as exc:
        raise DataError(
            f"model.json is not valid JSON ({exc.msg})", file=path, fix="train the model again"
        ) from None
    return payload


def load_model(directory: str | Path, dataset: Dataset) -> Recommender:
    """Load the model saved in ``directory`` for use on ``dataset``.

    Raises ModelMismatchError when the model was trained on other data (another fingerprint), DataError when
    the directory holds no readable model.
    """
    directory = Path(directory)
    payload = read_metadata(directory)
    saved = payload.get("fingerprint")
    if saved != dataset.fingerprint:
        raise ModelMismatchError(
            f"the model in {directory} was trained on other data (fingerprint {saved}, this data "
            f"{dataset.fingerprint}) (fix: retrain it on this data with `hmrec train --model "
            f"{payload.get('model', 'NAME')} --out {directory}`)"
        )
    if not (directory / ARRAYS_NPZ).is_file():
        raise DataError("arrays.npz is missing", file=directory, fix="train the model again")
    model = create(str(payload["model"]), **payload.get("params", {}))
    # the model's own class reads the state: a model may keep extra files beside the arrays (e.g. a booster)
    payload, arrays = type(model).load_state(directory)
    return model.restore(payload, arrays)
