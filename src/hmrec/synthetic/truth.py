"""The truth: the exact distribution of the final week, written beside the files and read back.

``true_scores`` and ``true_top_k`` rank by it (the oracle), ``truth_window`` and ``true_segments`` describe it;
the formulas are in the package docstring."""

from __future__ import annotations

import datetime as dt
import functools
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from hmrec.errors import DataError, ParameterError
from hmrec.synthetic import _vocab as V
from hmrec.synthetic.articles import Articles
from hmrec.synthetic.constants import (
    HISTORY,
    ITEMS_PER_VISIT,
    N_FAVOURITES,
    REPEAT_DECAY,
    ROWS_PER_ITEM,
    TRUTH_ARRAYS,
    TRUTH_DIRNAME,
    TRUTH_META,
)
from hmrec.synthetic.customers import Customers
from hmrec.synthetic.plan import Plan
from hmrec.synthetic.sampling import recency_weights
from hmrec.synthetic.world import World


def truth_window(data_dir: Path) -> tuple[dt.date, dt.date]:
    """The first and last day (inclusive) of the final week the truth describes."""
    meta = _truth_meta(Path(data_dir))
    return dt.date.fromisoformat(meta["window_start"]), dt.date.fromisoformat(meta["window_end"])


def true_segments(data_dir: Path) -> np.ndarray:
    """The generator's latent segment (0 .. n_segments-1) of every customer row of customers.csv."""
    return _load_truth(Path(data_dir)).segment.astype(np.int64)


def true_scores(data_dir: Path, customers: np.ndarray) -> np.ndarray:
    """Expected number of purchase rows of every article by each customer in the final week.

    ``customers`` are row indices of customers.csv; the result is ``(len(customers), n_articles)`` float32,
    ``E_c * P_c(a)`` (see the module docstring), given everything before the final week. Ranking articles
    by it is the best possible recommendation on expectation (the oracle). Build it in blocks of customers:
    it is dense.
    """
    truth = _load_truth(Path(data_dir))
    rows = truth.check_customers(customers)
    prob = truth.new_part_dense(rows)
    rep_rows, rep_arts, rep_w = truth.repeat_pairs(rows)
    rho = truth.rho_effective(rows)
    prob *= (1.0 - rho).astype(np.float32)[:, None]
    np.add.at(prob, (rep_rows, rep_arts), (rho[rep_rows] * rep_w).astype(np.float32))
    prob *= truth.expected_rows[rows].astype(np.float32)[:, None]
    return prob


def true_top_k(data_dir: Path, customers: np.ndarray, k: int = 12) -> np.ndarray:
    """The ``k`` articles (rows of articles.csv) each customer most likely buys in the final week, best first.

    Ranked by ``P_c(a)`` (ties: lower article row first), which orders articles exactly as
    :func:`true_scores` does whenever the customer is expected to buy (``E_c > 0``); customers who will not
    buy get the articles they would most likely buy if they did. Exact without the dense matrix: an article
    can only reach the top ``k`` as one of the segment's ``k`` best, one of the ``k`` best of a favourite
    group, or through the customer's history, so only those candidates are scored. ``(n, k)`` int32,
    padded with -1 if there are fewer than ``k`` articles.
    """
    if not isinstance(k, int | np.integer) or k < 1:
        raise ParameterError(f"k must be an integer >= 1 (got {k!r})")
    truth = _load_truth(Path(data_dir))
    rows = truth.check_customers(customers)
    out = np.full((rows.size, k), -1, dtype=np.int32)
    # the novelty redraw lowers at most HISTORY remembered articles below the others: HISTORY more
    # candidates per list keep ``k`` that dominate every article left out
    seg_top, cat_top = truth.candidate_tables(int(k) + (HISTORY if truth.novelty else 0))
    block = 65_536
    for lo in range(0, rows.size, block):  # blocks bound the candidate arrays (~100 per customer)
        out[lo : lo + block] = truth.top_k_block(rows[lo : lo + block], int(k), seg_top, cat_top)
    return out


def final_week_truth(
    plan: Plan,
    world: World,
    arts: Articles,
    custs: Customers,
    act: np.ndarray,
    mean_visits: np.ndarray,
    first: np.ndarray,
    mix: np.ndarray,
    u_sorted: np.ndarray,
    u_fav: np.ndarray,
    mass: np.ndarray,
    buf: np.ndarray,
    ptr: np.ndarray,
    filled: np.ndarray,
    window: tuple[int, int],
) -> dict[str, Any]:
    """The exact ingredients of the final week's distribution, taken right before it is sampled: ``u_sorted``
    are the article weights in category order, ``u_fav`` those of the favourites in favourite-group order."""
    n_cust = plan.n_customers
    cat_order, fav_order = arts.cat_order, arts.fav_order
    visits = first.astype(np.float64)
    visits[act] += mean_visits
    q = np.empty_like(u_sorted)
    q[:, cat_order] = u_sorted / mass[:, arts.category[cat_order]]
    p_seg = mix[:, arts.category] * q
    fav_mass = np.add.reduceat(u_fav, arts.fav_start, axis=1)
    q_fav = np.empty_like(u_fav)
    q_fav[:, fav_order] = u_fav / fav_mass[:, arts.fav_group[fav_order]]
    lo, hi = window
    return {
        "window": (plan.start + dt.timedelta(days=lo), plan.start + dt.timedelta(days=hi)),
        "expected_rows": visits * ITEMS_PER_VISIT * ROWS_PER_ITEM,
        # newest first: slot k holds the k-th most recent remembered purchase
        "history": np.take_along_axis(buf, (ptr[:, None] - 1 - np.arange(HISTORY)[None, :]) % HISTORY, axis=1),
        "filled": filled.astype(np.int8),
        "q_fav": q_fav,
        "p_seg": p_seg,
        "n_customers": n_cust,
    }


def write_truth(
    plan: Plan, world: World, directory: Path, truth: dict[str, Any], arts: Articles, custs: Customers
) -> None:
    """truth/truth.npz (the arrays of :class:`Truth`) and truth/truth.json (window, constants, the world)."""
    directory.mkdir(parents=True, exist_ok=True)
    np.savez(
        directory / TRUTH_ARRAYS,
        segment=custs.segment.astype(np.int8),
        expected_rows=truth["expected_rows"],
        rho=custs.rho,
        fav_weight=custs.fav_weight,
        favourites=custs.favourites.astype(np.int32),
        history=truth["history"],
        filled=truth["filled"],
        q_fav=truth["q_fav"],
        p_seg=truth["p_seg"],
        category=arts.category.astype(np.int32),
        subcategory=arts.fav_group.astype(np.int32),  # the name of world 0's groups, kept for older truths
        partners=arts.partners.astype(np.int32),
        product=arts.product.astype(np.int32),
        product_start=arts.product_start.astype(np.int32),
        product_count=arts.product_count.astype(np.int32),
    )
    lo, hi = truth["window"]
    meta = {
        "window_start": lo.isoformat(),
        "window_end": hi.isoformat(),
        "same_article": world.same_article,
        "other_colour": world.other_colour,
        "partner": world.partner,
        "n_favourites": N_FAVOURITES,
        "novelty": True,
        "repeat_decay": REPEAT_DECAY,
        "history": HISTORY,
        "segments": [s.name for s in V.SEGMENTS],
        "customers": plan.n_customers,
        "articles": plan.n_articles,
        "seed": plan.seed,
        "world": world.describe(),
    }
    (directory / TRUTH_META).write_text(json.dumps(meta, indent=2) + "\n")


@dataclass(frozen=True, eq=False)
class Truth:
    """The arrays of ``truth/truth.npz`` and the scoring formulas of the module docstring."""

    segment: np.ndarray
    expected_rows: np.ndarray
    rho: np.ndarray
    fav_weight: np.ndarray
    favourites: np.ndarray
    history: np.ndarray
    filled: np.ndarray
    q_fav: np.ndarray
    p_seg: np.ndarray
    category: np.ndarray
    fav_group: np.ndarray  # article -> its group of the world's favourite key ("subcategory" in the file)
    partners: np.ndarray
    product: np.ndarray
    product_start: np.ndarray
    product_count: np.ndarray
    same_article: float
    other_colour: float
    partner: float
    n_favourites: int
    novelty: bool  # a new-item draw that lands on a remembered purchase is drawn once more
    repeat_decay: float  # weight ratio of the k+1-th to the k-th most recent remembered purchase

    @property
    def n_customers(self) -> int:
        return int(self.segment.size)

    @property
    def n_articles(self) -> int:
        return int(self.category.size)

    def check_customers(self, customers: np.ndarray) -> np.ndarray:
        rows = np.asarray(customers)
        if rows.ndim != 1 or (rows.size and not np.issubdtype(rows.dtype, np.integer)):
            raise ParameterError("customers must be a 1-d array of customer row indices")
        rows = rows.astype(np.int64)
        if rows.size and (rows.min() < 0 or rows.max() >= self.n_customers):
            raise ParameterError(f"customer rows must be in 0..{self.n_customers - 1} (got {rows.min()}..{rows.max()})")
        return rows

    def rho_effective(self, rows: np.ndarray) -> np.ndarray:
        """The repeat probability; 0 for customers with no purchase before the window (cold)."""
        return np.where(self.filled[rows] > 0, self.rho[rows], 0.0)

    @functools.cached_property
    def p_seg32(self) -> np.ndarray:
        return self.p_seg.astype(np.float32)

    @functools.cached_property
    def sub_members(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Articles grouped by favourite group: (article rows, start of each, size of each)."""
        order = np.argsort(self.fav_group, kind="stable")
        count = np.bincount(self.fav_group, minlength=int(self.fav_group.max()) + 1)
        return order, np.cumsum(count) - count, count

    def new_part_dense(self, rows: np.ndarray) -> np.ndarray:
        """(n, articles) float32: ``N_c(a)``, the first draw ``p_c(a) = (1 - f) m_s(g_a) q_s(a) + f n_fav(c, h_a)
        / 3 q'_s(a)`` with the novelty redraw (:meth:`owned`) when the truth has one.

        The favourite term is added sparsely (only the articles of the three favourite groups), so that
        a block costs one float32 gather of the segment rows (dense blocks are memory-bound)."""
        seg = self.segment[rows]
        f = self.fav_weight[rows]
        out = self.p_seg32[seg]
        out *= (1.0 - f).astype(np.float32)[:, None]
        order, start, count = self.sub_members
        slot_pos = np.repeat(np.arange(rows.size), self.n_favourites)
        slot_cat = self.favourites[rows].ravel()
        size = count[slot_cat]
        pos = np.repeat(slot_pos, size)
        within = np.arange(pos.size) - np.repeat(np.cumsum(size) - size, size)
        art = order[np.repeat(start[slot_cat], size) + within]
        np.add.at(out, (pos, art), ((f[pos] / self.n_favourites) * self.q_fav[seg[pos], art]).astype(out.dtype))
        if self.novelty:
            keys, raw, p_owned = self.owned(rows)
            out *= (1.0 + p_owned).astype(np.float32)[:, None]
            n_art = self.n_articles
            out[keys // n_art, keys % n_art] -= raw.astype(np.float32)
        return out

    def new_part_pairs(self, rows: np.ndarray, pos: np.ndarray, arts: np.ndarray) -> np.ndarray:
        """The new-item probability of (rows[pos], arts) pairs, as in :meth:`new_part_dense`."""
        raw = self._new_raw_pairs(rows, pos, arts)
        if not self.novelty:
            return raw
        keys, _, p_owned = self.owned(rows)
        wanted = pos.astype(np.int64) * self.n_articles + arts
        at = np.minimum(np.searchsorted(keys, wanted), max(keys.size - 1, 0))
        is_owned = keys[at] == wanted if keys.size else np.zeros(wanted.size, dtype=bool)
        return raw * (1.0 + p_owned[pos]) - np.where(is_owned, raw, 0.0)

    def owned(self, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The novelty redraw: a first draw ``x ~ p`` that is one of the customer's remembered articles ``H``
        is replaced by a second draw, so ``P(a) = p(a) (1 + p(H)) - [a in H] p(a)``. Returns the sorted keys
        ``position * n_articles + article`` of the distinct remembered articles, their ``p`` (in key order)
        and ``p(H)`` per row."""
        m = self.filled[rows].astype(np.int64)
        pos = np.repeat(np.arange(rows.size), m)
        slot = np.arange(pos.size) - np.repeat(np.cumsum(m) - m, m)
        keys = np.unique(pos * self.n_articles + self.history[rows[pos], slot].astype(np.int64))
        raw = self._new_raw_pairs(rows, keys // self.n_articles, keys % self.n_articles)
        return keys, raw, np.bincount(keys // self.n_articles, weights=raw, minlength=rows.size)

    def _new_raw_pairs(self, rows: np.ndarray, pos: np.ndarray, arts: np.ndarray) -> np.ndarray:
        """The first draw's probability ``p`` of (rows[pos], arts) pairs (before the novelty redraw)."""
        cust = rows[pos]
        seg = self.segment[cust]
        f = self.fav_weight[cust]
        n_fav = (self.favourites[cust] == self.fav_group[arts][:, None]).sum(axis=1)
        return (1.0 - f) * self.p_seg[seg, arts] + (f / self.n_favourites) * n_fav * self.q_fav[seg, arts]

    def repeat_pairs(self, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The repeat distribution ``R_c`` as (position in rows, article, probability) triples (duplicates
        add up): each of the ``m`` remembered purchases ``h`` has probability ``1/m``; it leads to itself with
        SAME_ARTICLE, to one of the other colours of its product, uniformly, with OTHER_COLOUR (to itself
        when it has one colour), and to one of its N_PARTNERS co-purchase partners with PARTNER."""
        m = self.filled[rows].astype(np.int64)
        pos = np.repeat(np.arange(rows.size), m)
        slot = np.arange(pos.size) - np.repeat(np.cumsum(m) - m, m)
        past = self.history[rows[pos], slot].astype(np.int64)
        weight = recency_weights(slot, m[pos], self.repeat_decay)
        prod = self.product[past]
        n_col = self.product_count[prod].astype(np.int64)
        single = n_col == 1
        multi = np.flatnonzero(~single)
        # other colours: expand every remembered multi-colour purchase to all articles of its product
        e_pos = np.repeat(pos[multi], n_col[multi])
        e_past = np.repeat(past[multi], n_col[multi])
        e_art = np.repeat(self.product_start[prod[multi]].astype(np.int64), n_col[multi]) + (
            np.arange(e_pos.size) - np.repeat(np.cumsum(n_col[multi]) - n_col[multi], n_col[multi])
        )
        e_w = np.repeat(self.other_colour * weight[multi] / (n_col[multi] - 1), n_col[multi])
        keep = e_art != e_past
        same_w = np.where(single, self.same_article + self.other_colour, self.same_article) * weight
        n_partners = self.partners.shape[1]
        return (
            np.concatenate([pos, e_pos[keep], np.repeat(pos, n_partners)]),
            np.concatenate([past, e_art[keep], self.partners[past].ravel()]),
            np.concatenate([same_w, e_w[keep], np.repeat(self.partner * weight / n_partners, n_partners)]),
        )

    def candidate_tables(self, k: int) -> tuple[np.ndarray, np.ndarray]:
        """Per segment: the ``k`` best articles by ``m_s q_s`` (S, k); per segment and favourite group: the ``k``
        best by ``q'_s`` (S, H, k), -1 padded. Ties go to the lower article row."""
        n_seg, n_art = self.p_seg.shape
        n_cat = int(self.fav_group.max()) + 1
        idx = np.arange(n_art)
        k_seg = min(k, n_art)
        seg_top = np.empty((n_seg, k_seg), dtype=np.int64)
        cat_top = np.full((n_seg, n_cat, k), -1, dtype=np.int64)
        for s in range(n_seg):  # a loop over segments
            seg_top[s] = np.lexsort((idx, -self.p_seg[s]))[:k_seg]
            order = np.lexsort((idx, -self.q_fav[s], self.fav_group))
            cats = self.fav_group[order]
            starts = np.searchsorted(cats, np.arange(n_cat))
            rank = np.arange(n_art) - starts[cats]
            keep = rank < k
            cat_top[s, cats[keep], rank[keep]] = order[keep]
        return seg_top, cat_top

    def top_k_block(self, rows: np.ndarray, k: int, seg_top: np.ndarray, cat_top: np.ndarray) -> np.ndarray:
        """Exact top-k by ``P_c`` for one block of customer rows, from the candidates only."""
        n, n_art = rows.size, self.n_articles
        seg = self.segment[rows]
        rep_pos, rep_art, rep_w = self.repeat_pairs(rows)
        cand_seg = seg_top[seg]
        cand_fav = cat_top[seg[:, None], self.favourites[rows]].reshape(n, -1)
        pos = np.concatenate(
            [np.repeat(np.arange(n), cand_seg.shape[1]), np.repeat(np.arange(n), cand_fav.shape[1]), rep_pos]
        )
        art = np.concatenate([cand_seg.ravel(), cand_fav.ravel(), rep_art])
        valid = art >= 0
        keys = np.sort(pos[valid] * n_art + art[valid])  # sort + mask: much faster than np.unique's hashing
        keys = keys[np.concatenate([[True], keys[1:] != keys[:-1]])]
        u_pos, u_art = keys // n_art, keys % n_art
        rep_keys = rep_pos * n_art + rep_art
        rep = np.bincount(np.searchsorted(keys, rep_keys), weights=rep_w, minlength=keys.size)
        rho = self.rho_effective(rows)[u_pos]
        prob = (1.0 - rho) * self.new_part_pairs(rows, u_pos, u_art) + rho * rep
        order = np.lexsort((-prob, u_pos))  # stable: ties keep the ascending article order of ``keys``
        s_pos, s_art = u_pos[order], u_art[order]
        rank = np.arange(s_pos.size) - np.searchsorted(s_pos, s_pos)
        keep = rank < k
        out = np.full((n, k), -1, dtype=np.int32)
        out[s_pos[keep], rank[keep]] = s_art[keep]
        return out


def _truth_dir(data_dir: Path) -> Path:
    path = data_dir / TRUTH_DIRNAME
    if not (path / TRUTH_META).is_file() or not (path / TRUTH_ARRAYS).is_file():
        raise DataError(
            "has no generator truth (truth/truth.json and truth/truth.npz)",
            file=data_dir,
            fix="use a directory written by 'hmrec generate'",
        )
    return path


def _truth_meta(data_dir: Path) -> dict[str, Any]:
    meta: dict[str, Any] = json.loads((_truth_dir(data_dir) / TRUTH_META).read_text())
    return meta


def _load_truth(data_dir: Path) -> Truth:
    path = _truth_dir(data_dir)
    stamp = (path / TRUTH_ARRAYS).stat().st_mtime_ns
    return _load_truth_cached(str(path.resolve()), stamp)


@functools.lru_cache(maxsize=2)
def _load_truth_cached(path: str, stamp: int) -> Truth:
    """Read once per file version: true_scores is called block by block."""
    meta = json.loads((Path(path) / TRUTH_META).read_text())
    with np.load(Path(path) / TRUTH_ARRAYS) as z:
        arrays = {name: z[name] for name in z.files}
    arrays["fav_group"] = arrays.pop("subcategory")
    return Truth(
        same_article=float(meta["same_article"]),
        other_colour=float(meta["other_colour"]),
        partner=float(meta["partner"]),
        n_favourites=int(meta["n_favourites"]),
        novelty=bool(meta.get("novelty", False)),  # truths written before the redraw existed have none
        repeat_decay=float(meta.get("repeat_decay", 1.0)),  # ... nor the recency weights (uniform)
        **arrays,
    )
