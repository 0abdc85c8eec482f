"""The generator's world: its structure, drawn from the world number alone (not from the seed or the scale).

World 0 is the generator as calibrated (docs/calibration.md). Any other world ``W`` draws, from its own random
stream:

* the **favourite key**: which combination of one to three article attribute columns (FAVOURITE_COLUMNS)
  a customer's favourites are groups of (world 0: index x product type x colour master, the sub-category).
  Within a favourite group an article is drawn by ``u ** fav_alpha``; each key gets the ``fav_alpha`` that
  makes two new items from one favourite group the same article as often as in world 0 (on a reference
  catalogue), and qualifies when that ``fav_alpha`` is in FAV_ALPHA_RANGE: a coarser key than the
  sub-category is drawn more sharply within its groups. Why both: with world 0's ``fav_alpha`` and a finer
  key, customers bought their own articles again through their taste (on ``small`` the repurchase baseline
  rose by 10 to 28 % with keys that repeat 1.2 to 1.75 times as often); with a coarser key, the oracle fell
  to 3.4-3.7x repurchase (4.0x in world 0): both would take ``full`` out of its bands. With the matched
  ``fav_alpha``, coarser keys gave 4.0-4.3x and the repurchase baseline within 5-18 % of world 0's. No column
  of a key is implied by the others (``department_no`` already holds its section), no two keys group the
  articles alike, and none only splits or merges world 0's groups;
* how strong **history, taste, co-purchase and trends** are against each other: the split of a history
  item between the same article, another colour and a partner; the history propensity; the weight of the
  favourites; how strongly a category's popularity draws customers. Each is drawn in a band around world
  0's value, narrow enough to keep every calibration band of docs/calibration.md.

Models never see the world: it is written into the marker and truth metadata only.
"""

from __future__ import annotations

import functools
import itertools
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from hmrec.errors import ParameterError
from hmrec.synthetic.articles import build_articles, key_groups
from hmrec.synthetic.constants import (
    CATEGORY_ETA,
    FAV_ALPHA,
    FAVOURITE_BETA,
    FAVOURITE_COLUMNS,
    OTHER_COLOUR,
    PARTNER,
    RHO_BETA,
    SAME_ARTICLE,
    SUBCATEGORY_KEY,
)
from hmrec.synthetic.plan import Plan, Streams, make_reference_plan

#: a world's fav_alpha, chosen so that two new items from one favourite group are the same article as often as
#: in world 0 (_repeat_chance), must be in this range (a key too fine or too coarse for it does not qualify)
FAV_ALPHA_RANGE = (FAV_ALPHA, 1.0)
#: mixed into the world number's seed, so that world ``W`` and seed ``W`` draw unrelated numbers
WORLD_STREAM = 0x5EED_3A11
#: each strength is world 0's value times a draw in these bands, chosen so that the calibration bands hold
#: (docs/calibration.md, "Worlds"): ``full``'s tightest are the oracle at 2.68x repurchase (at least 2.5x),
#: which more taste and less history raise, and the popularity recall at 0.078 (at most 0.0825), which
#: stronger trends raise: with trends up to 1.08x world 0's, world 2 reached 0.083 on ``full``
HISTORY_SPLIT_BAND = (0.85, 1.15)  # each of SAME_ARTICLE, OTHER_COLOUR, PARTNER, then renormalized
RHO_MEAN_BAND = (0.9, 1.0)  # the mean history propensity
FAVOURITE_MEAN_BAND = (1.05, 1.2)  # the mean favourite weight
CATEGORY_ETA_BAND = (0.94, 1.0)  # how strongly a category's popularity draws customers (trends)


@dataclass(frozen=True)
class World:
    """The structure one world gives the generator (see the module docstring)."""

    number: int
    favourite_key: tuple[str, ...]
    same_article: float
    other_colour: float
    partner: float
    rho_beta: tuple[float, float]
    favourite_beta: tuple[float, float]
    fav_alpha: float
    category_eta: float

    def describe(self) -> dict[str, Any]:
        """The world as JSON-ready values, for the marker and the truth metadata."""
        out = asdict(self)
        return {name: list(value) if isinstance(value, tuple) else value for name, value in out.items()}


WORLD_0 = World(
    number=0,
    favourite_key=SUBCATEGORY_KEY,
    same_article=SAME_ARTICLE,
    other_colour=OTHER_COLOUR,
    partner=PARTNER,
    rho_beta=RHO_BETA,
    favourite_beta=FAVOURITE_BETA,
    fav_alpha=FAV_ALPHA,
    category_eta=CATEGORY_ETA,
)


def draw_world(number: int) -> World:
    """World ``number``: 0 is the calibrated generator; any other is drawn from ``number`` alone."""
    if isinstance(number, bool) or not isinstance(number, int | np.integer) or number < 0:
        raise ParameterError(f"--world must be an integer >= 0 (got {number!r})")
    if number == 0:
        return WORLD_0
    rng = np.random.Generator(np.random.PCG64(np.random.SeedSequence([WORLD_STREAM, int(number)])))
    keys = qualifying_keys()
    key, alpha = keys[int(rng.integers(0, len(keys)))]
    split = np.array([SAME_ARTICLE, OTHER_COLOUR, PARTNER]) * rng.uniform(*HISTORY_SPLIT_BAND, 3)
    split /= split.sum()
    return World(
        number=int(number),
        favourite_key=key,
        same_article=round(float(split[0]), 4),
        other_colour=round(float(split[1]), 4),
        partner=round(1.0 - round(float(split[0]), 4) - round(float(split[1]), 4), 4),
        rho_beta=_scaled_mean(RHO_BETA, rng.uniform(*RHO_MEAN_BAND)),
        favourite_beta=_scaled_mean(FAVOURITE_BETA, rng.uniform(*FAVOURITE_MEAN_BAND)),
        fav_alpha=alpha,
        category_eta=round(CATEGORY_ETA * float(rng.uniform(*CATEGORY_ETA_BAND)), 4),
    )


def _scaled_mean(beta: tuple[float, float], factor: float) -> tuple[float, float]:
    """The Beta(a, b) whose mean is ``factor`` times that of ``beta``, with the same a (the same shape near 0)."""
    a, b = beta
    mean = factor * a / (a + b)
    return a, round(a * (1.0 - mean) / mean, 4)


@functools.lru_cache(maxsize=1)
def qualifying_keys() -> tuple[tuple[tuple[str, ...], float], ...]:
    """Every key of one to three columns that qualifies (module docstring) with its ``fav_alpha``, in a fixed
    order, measured on the articles of ``small``, seed 0, world 0: the same for every scale and seed. A key
    that groups the articles as an earlier key does, or only splits or merges world 0's groups, is left out,
    and so is one with a column the others imply."""
    plan: Plan = make_reference_plan(Path("."))
    streams = Streams(plan)
    arts = build_articles(plan, streams.articles, streams.segments, SUBCATEGORY_KEY)
    reference = key_groups(arts.attributes, SUBCATEGORY_KEY)
    target = _repeat_chance(reference, arts.base, FAV_ALPHA)
    seen = {_partition(reference)}
    out = []
    for size in (1, 2, 3):
        for key in itertools.combinations(FAVOURITE_COLUMNS, size):
            groups = key_groups(arts.attributes, key)
            n_groups = int(groups.max()) + 1
            implied = any(int(key_groups(arts.attributes, rest).max()) + 1 == n_groups for rest in _drop_one(key))
            if implied or _partition(groups) in seen or _nested(groups, reference):
                continue
            seen.add(_partition(groups))
            # the chance grows with alpha: a key qualifies when the alpha that matches world 0's is in range
            lo, hi = FAV_ALPHA_RANGE
            if not _repeat_chance(groups, arts.base, lo) <= target <= _repeat_chance(groups, arts.base, hi):
                continue
            for _ in range(30):  # bisection, to 1e-9 of the range
                mid = (lo + hi) / 2.0
                lo, hi = (mid, hi) if _repeat_chance(groups, arts.base, mid) < target else (lo, mid)
            out.append((key, round((lo + hi) / 2.0, 3)))
    return tuple(out)


def _drop_one(key: tuple[str, ...]) -> list[tuple[str, ...]]:
    return [key[:j] + key[j + 1 :] for j in range(len(key))] if len(key) > 1 else []


def _nested(a: np.ndarray, b: np.ndarray) -> bool:
    """Whether one grouping only splits or merges the groups of the other (e.g. index group x product type x
    colour master merges world 0's groups): such a key would be world 0's taste seen coarser or finer."""
    pairs = np.unique(a * (int(b.max()) + 1) + b).size
    return pairs == max(int(a.max()), int(b.max())) + 1


def _partition(groups: np.ndarray) -> bytes:
    """The grouping itself, whatever the numbering: each article's group renumbered by first appearance."""
    _, first, inverse = np.unique(groups, return_index=True, return_inverse=True)
    rank = np.empty(first.size, dtype=np.int64)
    rank[np.argsort(first)] = np.arange(first.size)
    return rank[inverse].tobytes()


def _repeat_chance(groups: np.ndarray, base: np.ndarray, alpha: float) -> float:
    """The chance that two new items from one favourite group are the same article: a group is picked by its
    popularity ``base``, an article of it by ``base ** alpha``."""
    weight = base**alpha
    group_share = np.bincount(groups, weights=base) / base.sum()
    within = weight / np.bincount(groups, weights=weight)[groups]
    return float((group_share[groups] * within**2).sum())
