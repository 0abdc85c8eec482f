"""Saving a fitted model to a directory and loading it back, refusing data it was not trained on.

A saved model is a directory with ``arrays.npz`` (the learned arrays; read with ``allow_pickle=False``) and
``model.json``: the registry name, the hyperparameters, the learned scalars, the data fingerprint
(``Dataset.fingerprint``), the data's size, each array's dtype and shape, the hmrec version and the format
version. It is written into a temporary sibling directory and renamed into place, so a crash never leaves a
half-written model where a model was; ``--out`` may be a new or empty directory or a saved model, never a
folder of other files.

Loading checks everything before a model sees it: ``model.json`` is a JSON object with the expected keys,
every other file has the size and sha256 ``model.json`` records (``files``: the ranker's ``booster.txt``
too, on which LightGBM would crash), ``arrays.npz`` is readable and holds exactly the arrays ``model.json``
lists, with their dtypes and shapes, and those shapes agree with the data (one row of factors per customer,
article indices below the number of articles, consistent CSR rows; a model may check its own arrays with
``check_state``, as the ranker does). The fast kernels trust these arrays, so a damaged or edited file is a
one-line error here instead of a read past an array's end there.

A composite (:class:`hmrec.models.compose.Fill`) is saved the same way: its parts' arrays, scalars and
parameters carry the part's prefix (``primary__own_data_``, ``fallback__factors``), ``attributes`` names each
part's model (``primary__model``), and every part's arrays are checked as a model of their own.
"""

from __future__ import annotations

import hashlib
import json
import re
import shutil
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import numpy as np

from hmrec import __version__
from hmrec.atomic import check_not_cwd, naming, remove_leftovers, swap_dir, temp_dir, temp_prefix
from hmrec.data.dataset import Dataset
from hmrec.errors import DataError, ModelMismatchError, ParameterError
from hmrec.models.base import Recommender, create

#: 3: model.json records the size and sha256 of every other file of the model (``files``)
FORMAT_VERSION = 3
MODEL_JSON = "model.json"
ARRAYS_NPZ = "arrays.npz"
#: besides the model's own files: ``bundle.json`` and ``serve/``, what ``hmrec train`` adds for serving
#: (hmrec.serve.bundle), and the ranker's LightGBM models as text (a second one when it blends two objectives)
MODEL_FILES = frozenset({MODEL_JSON, ARRAYS_NPZ, "bundle.json", "serve", "booster.txt", "booster-binary.txt"})
# what a killed run may have left inside a saved model folder (older versions wrote the serving files there)
_LEFTOVER = re.compile(r"\.serve\.tmp-.+|model\.json\.tmp|arrays\.tmp\.npz")
_RETRAIN = "train the model again with `hmrec train --model NAME --out DIR`"
_HASH_CHUNK = 1 << 22

# What the learned arrays of hmrec's models must satisfy against the data: the size of their first axis
# ("customers", "articles", "customers+1" for CSR row pointers) and, for arrays of article indices, that
# every value is an article index (-1 is padding where allowed).
_ROWS: dict[str, str] = {
    "user_factors_": "customers",
    "has_history_": "customers",
    "labels_": "customers",
    "group_of_": "customers",
    "shares_": "customers",
    "item_factors_": "articles",
    "article_labels_": "articles",
    "within_": "articles",
    "popularity_": "articles",
    "own_indptr_": "customers+1",
    "seen_indptr_": "customers+1",
}
_ARTICLE_INDICES: dict[str, bool] = {  # name -> padding (-1) allowed
    "own_indices_": False,
    "seen_indices_": False,
    "candidates_": False,
    "fallback_ids_": True,
    "ranked_ids_": True,
    "cluster_order_": False,
}
_CSR = (("own_indptr_", "own_indices_", "own_data_"), ("seen_indptr_", "seen_indices_", None))
# arrays whose values index an axis of another array: (index array, indexed array, axis)
_INDEXING = (
    ("group_of_", "ranked_ids_", 0),
    ("group_of_", "group_scores_", 0),
    ("labels_", "ranked_ids_", 0),
    ("labels_", "cluster_scores_", 0),
    ("article_labels_", "shares_", 1),
)
#: a composite's parts: arrays and parameters named ``part__name`` (see hmrec.models.compose)
_PART = "__"


def _check_savable(model: Recommender) -> None:
    """Every learned attribute must be an array or a scalar: all that npz + JSON hold without pickle."""
    for key, value in vars(model).items():
        if key.endswith("_") and not isinstance(value, (np.ndarray, int, float, str, bool)):
            raise ParameterError(
                f"model '{model.name}' cannot be saved: its attribute '{key}' is a {type(value).__name__}, "
                "not an array or a number (fix: train it in the same process, or store plain arrays)"
            )
        if key.endswith("_") and isinstance(value, np.ndarray) and value.dtype.hasobject:
            raise ParameterError(
                f"model '{model.name}' cannot be saved: its array '{key}' holds Python objects "
                "(fix: store numeric arrays)"
            )


def check_model_target(directory: Path | str) -> None:
    """Refuse an ``--out`` that holds anything but a saved model: replacing it would delete the user's files.

    A new path and an empty directory are fine; so is a saved model, known by what hmrec writes in its
    ``model.json`` (the model's name, its parameters, hmrec's version and format), not by the file names,
    which a user's folder may share.
    """
    directory = Path(directory)
    check_not_cwd(directory)
    if directory.is_symlink() and not directory.exists():
        raise ParameterError(f"--out {directory} is a broken link (fix: remove it or choose another --out)")
    if not directory.exists():
        return
    if not directory.is_dir():
        raise ParameterError(f"--out {directory} is a file, not a model directory (fix: give a directory)")
    entries = sorted(p.name for p in directory.iterdir())
    foreign = [name for name in entries if name not in MODEL_FILES and not _LEFTOVER.fullmatch(name)]
    if foreign or (entries and not _is_saved_model(directory)):
        shown = ", ".join((foreign or entries)[:3]) + (", ..." if len(foreign or entries) > 3 else "")
        raise ParameterError(
            f"--out {directory} holds files that are not a saved hmrec model ({shown}), which would be "
            "deleted (fix: use a new or empty directory, or the directory of a saved model)"
        )


def _is_saved_model(directory: Path) -> bool:
    """True when ``directory`` holds a model.json hmrec wrote, with files where a model has files."""
    try:
        payload = json.loads((directory / MODEL_JSON).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    marked = (
        isinstance(payload, dict)
        and isinstance(payload.get("model"), str)
        and isinstance(payload.get("params"), dict)
        and isinstance(payload.get("hmrec_version"), str)
        and type(payload.get("format_version")) is int
    )
    serve = directory / "serve"
    return marked and (not serve.exists() or (serve.is_dir() and not serve.is_symlink())) and all(
        not (directory / name).exists() or (directory / name).is_file() for name in MODEL_FILES - {"serve"}
    )


def save_model(
    model: Recommender,
    directory: str | Path,
    dataset: Dataset,
    *,
    add: Callable[[Path], object] | None = None,
) -> Path:
    """Save fitted ``model`` (trained on ``dataset``) to ``directory``, replacing a saved model atomically.

    Returns the directory. The data fingerprint written is ``dataset.fingerprint``. ``directory`` must be
    new, empty or a saved model (:func:`check_model_target`). ``add(folder)`` writes more files beside the
    model's (the serving bundle) before the folder is put in place: the whole set is swapped in at once, so
    a reader, a concurrent run or a kill finds the old set or the new one, never a mix.
    """
    directory = Path(directory)
    check_model_target(directory)
    if directory.is_symlink():  # replace the folder the link points to, keeping the link
        directory = directory.resolve()
    model._check_fitted()
    _check_savable(model)
    with naming(directory):
        directory.parent.mkdir(parents=True, exist_ok=True)
        remove_leftovers(directory)
        tmp = temp_dir(directory.parent, temp_prefix(directory, "tmp"))
    try:
        with naming(directory):
            _save(model, tmp, dataset)
        if add is not None:
            add(tmp)
        with naming(directory):
            swap_dir(tmp, directory)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return directory


def sha256_file(path: Path) -> str:
    """The hex sha256 of a file, read in chunks (hashlib releases the GIL, so threads can hash in parallel)."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(_HASH_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def _save(model: Recommender, tmp: Path, dataset: Dataset) -> None:
    """The model's files in ``tmp``: its own (arrays.npz, model.json, the ranker's booster.txt) with the
    metadata loading checks, and in model.json the size and sha256 of every other file."""
    # state(): what save() writes; a composite's arrays carry their part's prefix (primary__own_data_)
    arrays = {k: {"dtype": v.dtype.str, "shape": list(v.shape)} for k, v in model.state()[1].items()}
    model.save(
        tmp,
        fingerprint=dataset.fingerprint,
        hmrec_version=__version__,
        format_version=FORMAT_VERSION,
        n_customers=dataset.n_customers,
        n_articles=dataset.n_articles,
        arrays=arrays,
    )
    # every file a loader hands to numpy or native code is covered: a truncated booster.txt crashes LightGBM
    files = {
        p.name: {"bytes": p.stat().st_size, "sha256": sha256_file(p)}
        for p in sorted(tmp.iterdir())
        if p.is_file() and p.name != MODEL_JSON
    }
    path = tmp / MODEL_JSON
    payload = json.loads(path.read_text(encoding="utf-8"))
    path.write_text(json.dumps({**payload, "files": files}, indent=2, default=str), encoding="utf-8")


def read_metadata(directory: str | Path) -> dict[str, Any]:
    """The ``model.json`` of a saved model, checked to be an object with a model name and parameters.

    DataError when the directory holds no model or an unreadable one.
    """
    path = Path(directory) / MODEL_JSON
    if not path.is_file():
        raise DataError(
            "no saved model here (model.json is missing)",
            file=Path(directory),
            fix="train one with `hmrec train --model NAME --out DIR`",
        )
    try:
        payload = json.loads(path.read_bytes().decode("utf-8"))
    except UnicodeDecodeError:
        raise DataError("model.json is not UTF-8 text", file=path, fix=_RETRAIN) from None
    except json.JSONDecodeError as exc:
        raise DataError(f"model.json is not valid JSON ({exc.msg})", file=path, fix=_RETRAIN) from None
    except OSError as exc:
        raise DataError(f"cannot read model.json ({exc.strerror or exc})", file=path, fix=_RETRAIN) from None
    if not isinstance(payload, dict):
        raise DataError(
            f"model.json holds a JSON {type(payload).__name__}, not an object", file=path, fix=_RETRAIN
        )
    if not isinstance(payload.get("model"), str) or not payload["model"]:
        raise DataError("model.json has no 'model' name", file=path, fix=_RETRAIN)
    for key in ("params", "attributes"):
        if not isinstance(payload.get(key, {}), dict):
            raise DataError(f"model.json's '{key}' is not an object", file=path, fix=_RETRAIN)
    return payload


def load_model(directory: str | Path, dataset: Dataset) -> Recommender:
    """Load the model saved in ``directory`` for use on ``dataset``.

    Raises ModelMismatchError when the model was trained on other data (another fingerprint), DataError when
    the directory holds no readable model or its arrays do not fit the data or each other.
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
    if payload.get("format_version") != FORMAT_VERSION:
        raise DataError(
            f"saved in format {payload.get('format_version')!r}, this hmrec reads format {FORMAT_VERSION}",
            file=directory / MODEL_JSON,
            fix=_RETRAIN,
        )
    # numpy reads a damaged npz safely, and naming the array that is wrong says more than a checksum
    arrays = read_arrays(directory)
    check_arrays(payload, arrays, dataset, directory)
    model = create(str(payload["model"]), **payload.get("params", {}))
    # a model may keep files of its own beside the arrays (the ranker's LightGBM booster.txt); LightGBM and
    # the numba kernels trust their input, so every file matches its checksum before they see it
    verify_model_files(directory, payload, (ARRAYS_NPZ, *getattr(model, "own_files", ())))
    check_own = getattr(model, "check_state", None)
    if check_own is not None:
        check_own(payload, arrays, dataset.n_customers, dataset.n_articles, _fail_for(directory / ARRAYS_NPZ))
    read_files = getattr(model, "read_files", None)
    if read_files is not None:
        arrays = {**arrays, **read_files(directory)}
    return model.restore(payload, arrays)


def _fail_for(path: Path) -> Callable[[str], DataError]:
    def fail(problem: str) -> DataError:
        return DataError(problem, file=path, fix=_RETRAIN)

    return fail


def verify_model_files(directory: Path, payload: Mapping[str, Any], required: tuple[str, ...]) -> None:
    """Every file ``model.json`` lists present with its recorded size and sha256, and the ``required`` ones
    listed, before numpy or LightGBM reads a byte of them; DataError naming the file otherwise."""
    fail = _fail_for(directory / MODEL_JSON)
    files = payload.get("files")
    if not isinstance(files, dict) or not all(isinstance(meta, dict) for meta in files.values()):
        raise fail("model.json does not list the model's files and their checksums")
    for name in required:
        if name not in files:
            raise fail(f"model.json does not list {name}")
    for name, meta in files.items():
        path = directory / name
        if Path(name).name != name or not path.is_file():  # only plain names: never a path out of the model
            raise DataError(f"{name} is missing", file=directory, fix=_RETRAIN)
        size = path.stat().st_size
        if size != meta.get("bytes"):
            raise DataError(f"{name} has {size} bytes, model.json says {meta.get('bytes')}", file=path, fix=_RETRAIN)
        if sha256_file(path) != meta.get("sha256"):
            raise DataError(f"{name} is damaged (it does not match its checksum)", file=path, fix=_RETRAIN)


def read_arrays(directory: Path) -> dict[str, np.ndarray]:
    """The arrays of ``arrays.npz``, read without pickle; DataError when the file is missing or damaged."""
    path = directory / ARRAYS_NPZ
    if not path.is_file():
        raise DataError("arrays.npz is missing", file=directory, fix=_RETRAIN)
    try:
        with np.load(path, allow_pickle=False) as npz:
            return {name: npz[name] for name in npz.files}
    except Exception as exc:  # noqa: BLE001  # zipfile, numpy and OS errors all mean "damaged"
        reason = str(exc).splitlines()[0][:120] if str(exc).strip() else type(exc).__name__
        raise DataError(f"arrays.npz is damaged ({reason})", file=path, fix=_RETRAIN) from None


def check_arrays(
    payload: Mapping[str, Any], arrays: Mapping[str, np.ndarray], dataset: Dataset, directory: Path
) -> None:
    """Check the arrays against ``model.json``'s list and against the data (see the module docstring)."""
    fail = _fail_for(directory / ARRAYS_NPZ)
    listed = payload.get("arrays")
    if not isinstance(listed, dict):
        raise fail("model.json does not list the saved arrays")
    if set(listed) != set(arrays):
        missing = sorted(set(listed) - set(arrays))
        extra = sorted(set(arrays) - set(listed))
        raise fail(f"holds other arrays than model.json lists (missing {missing}, unexpected {extra})")
    for name, value in arrays.items():
        spec = listed[name]
        if not isinstance(spec, dict) or value.dtype.str != spec.get("dtype"):
            raise fail(f"array '{name}' has dtype {value.dtype.str}, model.json says {spec!r}")
        if list(value.shape) != spec.get("shape"):
            raise fail(f"array '{name}' has shape {list(value.shape)}, model.json says {spec.get('shape')}")
    n = {"customers": dataset.n_customers, "articles": dataset.n_articles, "customers+1": dataset.n_customers + 1}
    for key, what in (("n_customers", "customers"), ("n_articles", "articles")):
        for where in (payload.get(key), payload.get("attributes", {}).get(f"{key}_")):
            if where is not None and where != n[what]:
                raise fail(f"the model was saved for {where} {what}, the data has {n[what]}")
    # each part of a composite (arrays and parameters prefixed "part__") is checked as a model of its own
    prefixes = {name.rpartition(_PART)[0] for name in arrays}
    params = payload.get("params", {})
    for prefix in sorted(prefixes):
        lead = f"{prefix}{_PART}" if prefix else ""
        part_arrays = {k[len(lead):]: v for k, v in arrays.items() if k.rpartition(_PART)[0] == prefix}
        part_params = {k[len(lead):]: v for k, v in params.items() if k.rpartition(_PART)[0] == prefix}

        def part_fail(problem: str, lead: str = lead) -> DataError:
            return fail(problem.replace("'", f"'{lead}", 1))  # name the array as saved: 'fallback__...'

        check_model_arrays(part_arrays, part_params, dataset.n_customers, dataset.n_articles, part_fail)


def check_model_arrays(
    arrays: Mapping[str, np.ndarray],
    params: Mapping[str, Any],
    n_customers: int,
    n_articles: int,
    fail: Callable[[str], Exception],
) -> None:
    """The checks of one model's arrays against the data's size and each other (names without a part prefix;
    the ranker checks its model sources' with it)."""
    n = {"customers": n_customers, "articles": n_articles, "customers+1": n_customers + 1}
    for name, rows in _ROWS.items():
        if name in arrays and (arrays[name].ndim == 0 or arrays[name].shape[0] != n[rows]):
            raise fail(f"array '{name}' has shape {list(arrays[name].shape)}, expected {n[rows]} rows ({rows})")
    factors = params.get("factors")
    if isinstance(factors, int) and params.get("item_bias") is True:
        factors += 1  # SGD's article bias is one more column (the customers' held at 1)
    for name in ("user_factors_", "item_factors_"):
        if name in arrays and (arrays[name].ndim != 2 or arrays[name].shape[1] != factors):
            raise fail(f"array '{name}' has shape {list(arrays[name].shape)}, expected {factors} columns")
    for name, padding in _ARTICLE_INDICES.items():
        if name in arrays and arrays[name].size:
            values = arrays[name]
            low = -1 if padding else 0
            if values.dtype.kind not in "iu" or values.min() < low or values.max() >= n_articles:
                raise fail(f"array '{name}' holds values outside the {n_articles} article indices")
    for indptr, indices, data in _CSR:
        if indptr not in arrays:
            continue
        ptr = arrays[indptr]
        nnz = arrays[indices].size if indices in arrays else -1
        if ptr.dtype.kind not in "iu" or ptr[0] != 0 or np.any(np.diff(ptr) < 0) or ptr[-1] != nnz:
            raise fail(f"array '{indptr}' is not a valid row pointer for '{indices}'")
        if data is not None and (data not in arrays or arrays[data].size != nnz):
            raise fail(f"array '{data}' does not have one value per entry of '{indices}'")
    for index, target, axis in _INDEXING:
        if index in arrays and target in arrays and arrays[index].size:
            values, size = arrays[index], arrays[target].shape[axis] if arrays[target].ndim > axis else 0
            if values.dtype.kind not in "iu" or values.min() < 0 or values.max() >= size:
                raise fail(f"array '{index}' holds values outside the {size} entries of axis {axis} of '{target}'")
