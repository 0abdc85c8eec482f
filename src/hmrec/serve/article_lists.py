"""The bundle's "articles like this one" lists: written by ``hmrec train``, served by ``hmrec serve``.

``serve/together_{ids,scores}.npy`` and ``serve/similar_{ids,scores}.npy`` hold every article's
``bought-together`` and ``similar`` lists (:mod:`hmrec.ranking.neighbours`), ``(n_articles, depth)`` as the
customers' top-k: article indices (int32, -1 padding) and scores (float32, -inf padding). Like every served
file they are listed in ``bundle.json`` with their size and sha256 and checked when the bundle loads; a
bundle written before they existed has none of them, and its article lists are answered with one line.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from hmrec.data.dataset import Dataset
from hmrec.errors import HmrecError
from hmrec.ranking.neighbours import BOUGHT_TOGETHER, KINDS, SIMILAR, article_lists

#: served file stem of each kind's lists (``{stem}_ids.npy``, ``{stem}_scores.npy``)
STEMS = {BOUGHT_TOGETHER: "together", SIMILAR: "similar"}
#: every served array of the lists, each ``(n_articles, depth)``
LIST_ARRAYS = tuple(f"{STEMS[kind]}_{part}" for kind in KINDS for part in ("ids", "scores"))


class NoListsError(HmrecError):
    """A bundle written before bundles held the article lists."""


def list_arrays(dataset: Dataset, depth: int, *, seed: int = 0, threads: int = 0) -> dict[str, np.ndarray]:
    """Every article's lists of every kind, ``depth`` long, as the bundle's served arrays."""
    lists = article_lists(dataset, depth, seed=seed, threads=threads)
    out: dict[str, np.ndarray] = {}
    for kind, (ids, scores) in lists.items():
        out[f"{STEMS[kind]}_ids"] = ids.astype(np.int32)
        out[f"{STEMS[kind]}_scores"] = scores.astype(np.float32)
    return out


def lists_problem(arrays: dict[str, np.ndarray], n_articles: int) -> str | None:
    """What is wrong with the served lists (all present or none; indices in range; finite scores), or None."""
    present = [name for name in LIST_ARRAYS if name in arrays]
    if not present:
        return None
    if len(present) != len(LIST_ARRAYS):
        missing = next(name for name in LIST_ARRAYS if name not in arrays)
        return f"serve/{missing}.npy is missing beside the other article lists"
    for kind in KINDS:
        ids, scores = arrays[f"{STEMS[kind]}_ids"], arrays[f"{STEMS[kind]}_scores"]
        if ids.dtype.kind not in "iu" or (ids.size and (int(ids.min()) < -1 or int(ids.max()) >= n_articles)):
            return f"serve/{STEMS[kind]}_ids.npy holds values outside 0..{n_articles - 1}"
        if scores.dtype.kind != "f" or not np.isfinite(scores[ids >= 0]).all():
            return f"serve/{STEMS[kind]}_scores.npy holds scores that are not finite"
    return None


def served_list(arrays: dict[str, np.ndarray], directory: Any, idx: int, kind: str, k: int) -> list[tuple[int, float]]:
    """The first ``k`` of article ``idx``'s list of ``kind`` as (article_idx, score) pairs.

    NoListsError (one line naming the bundle ``directory``) when the bundle predates the lists."""
    stem = STEMS[kind]
    if f"{stem}_ids" not in arrays:
        raise NoListsError(
            f"{directory}: this bundle holds no article lists (written by an older hmrec) "
            "(fix: write it again with `hmrec train`)"
        )
    ids: list[Any] = np.asarray(arrays[f"{stem}_ids"][idx, :k]).tolist()
    scores: list[Any] = np.asarray(arrays[f"{stem}_scores"][idx, :k]).tolist()
    return [(i, s) for i, s in zip(ids, scores, strict=True) if i >= 0]
