"""The ranker's LightGBM boosters: their files, reading a saved one safely, and the blend of several.

With one objective the ranker scores by its booster alone; with several (``lambdarank,binary``) one booster
each is trained on the same rows, and :func:`fit_blend` fits the weights of their standardized scores on the
validation week; :func:`blend_predict` scores by that blend. :func:`read_booster` refuses a damaged model
text with one line before LightGBM reads it.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from hmrec.errors import DataError

if TYPE_CHECKING:
    import lightgbm as lgb

BOOSTER_FILE = "booster.txt"
#: the LightGBM objectives the ranker trains, alone or blended
OBJECTIVES = ("lambdarank", "binary")
#: the grid of the blend's weights: multiples of this on the simplex
BLEND_STEP = 0.1
#: lines every whole LightGBM model text holds, after its trees and after its parameters
_BOOSTER_ENDS = ("end of trees", "end of parameters")


def booster_files(objectives: Sequence[str]) -> tuple[str, ...]:
    """The file of each objective's booster: the first ``booster.txt``, the others ``booster-<objective>.txt``."""
    return tuple(BOOSTER_FILE if i == 0 else f"booster-{o}.txt" for i, o in enumerate(objectives))


def read_booster(text: str, file: str | Path, n_features: int) -> lgb.Booster:
    """A booster from its saved text, refused (:class:`DataError`) when the text is not a whole LightGBM
    model or reads another number of features than ``n_features``."""
    import lightgbm as lgb

    # LightGBM crashes on a cut model text rather than raising: its checksum matched, so this is an edit
    if not text.startswith("tree\n") or any(f"\n{end}\n" not in text for end in _BOOSTER_ENDS):
        raise DataError(f"{file} is not a whole LightGBM model", file=file, fix="train the model again")
    try:
        booster = lgb.Booster(model_str=text)
    except lgb.basic.LightGBMError as exc:
        raise DataError(f"{file} cannot be read ({str(exc).splitlines()[0][:120]})",
                        file=file, fix="train the model again") from None
    if booster.num_feature() != n_features:
        raise DataError(f"{file} reads {booster.num_feature()} features, the model has {n_features}",
                        file=file, fix="train the model again")
    return booster


def blend_predict(
    boosters: Sequence[Any], blend: Sequence[dict[str, float]], x: np.ndarray, threads: int
) -> np.ndarray:
    """The blended score of rows ``x``: ``sum_b weight_b * (score_b - mean_b) / scale_b`` (float32)."""
    total = np.zeros(x.shape[0], dtype=np.float64)
    for booster, part in zip(boosters, blend, strict=True):
        total += part["weight"] * (booster.predict(x, num_threads=threads) - part["mean"]) / part["scale"]
    return total.astype(np.float32)


def validation_map(labels: np.ndarray, scores: np.ndarray, groups: np.ndarray, k: int = 12) -> float:
    """MAP@k of rows ranked by ``scores`` within each group (``groups``: the sizes of consecutive groups;
    ``labels``: 1 = bought), over the groups with a positive; each AP divides by ``min(positives, k)``
    (LightGBM's ``map`` metric: the candidates are all a group knows). Ties go to the earlier row."""
    gid = np.repeat(np.arange(groups.size), groups)
    order = np.lexsort((np.arange(gid.size), -scores, gid))
    hit = labels[order].astype(np.float64)
    start = np.concatenate([[0], np.cumsum(groups)[:-1]])
    pos = np.arange(gid.size) - start[gid]
    top = hit * (pos < k)
    before = np.concatenate([[0.0], np.cumsum(top)])[start]  # hits of the groups before each one
    precision = (np.cumsum(top) - before[gid]) / (pos + 1) * top
    positives = np.bincount(gid, weights=hit, minlength=groups.size)
    scored = positives > 0
    ap = np.bincount(gid, weights=precision, minlength=groups.size)[scored] / np.minimum(positives[scored], k)
    return float(ap.mean()) if ap.size else 0.0


def fit_blend(preds: list[np.ndarray], labels: np.ndarray, groups: np.ndarray) -> list[dict[str, float]]:
    """The blend of several boosters' scores of the same validation rows: each standardized by its mean and
    deviation there, weighted by the multiples of :data:`BLEND_STEP` summing to 1 that give the best
    :func:`validation_map` (ties to the weights listed first: more weight on the first booster). Returns per
    booster ``{"weight", "mean", "scale"}``."""
    means = [float(p.mean()) for p in preds]
    scales = [float(p.std()) or 1.0 for p in preds]
    z = np.column_stack([(p - m) / s for p, m, s in zip(preds, means, scales, strict=True)])
    steps = round(1 / BLEND_STEP)
    grid = [w for w in np.ndindex(*(steps + 1,) * (len(preds) - 1)) if sum(w) <= steps]
    weights = [np.array([steps - sum(w), *w], dtype=np.float64) / steps for w in grid]
    best = max(weights, key=lambda w: (validation_map(labels, z @ w, groups), w[0]))
    return [{"weight": float(w), "mean": m, "scale": s} for w, m, s in zip(best, means, scales, strict=True)]
