"""The purchases, week by week: visits, items (history, favourites, the segment's mix), duplicate rows, prices."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import polars as pl

from hmrec.synthetic.articles import Articles
from hmrec.synthetic.constants import (
    BASKET_EXTRA,
    DUPLICATE_EXTRA,
    DUPLICATE_P,
    HISTORY,
    LIFE_FLOOR,
    N_FAVOURITES,
    N_PARTNERS,
    PRICE_UNITS,
    WEEKDAY_WEIGHTS,
)
from hmrec.synthetic.customers import Customers, segment_mix
from hmrec.synthetic.plan import Calendar
from hmrec.synthetic.sampling import recency_draw, sample_rows
from hmrec.synthetic.truth import final_week_truth
from hmrec.synthetic.world import World


def simulate(
    calendar: Calendar,
    world: World,
    week_streams: list[np.random.SeedSequence],
    arts: Articles,
    custs: Customers,
    handle: Any,
    tick: Callable[[str], None],
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Draw the purchases week by week (each week from its own stream) and write them to ``handle`` as
    transactions_train.csv; return the counts and the truth of the final week, taken before it is drawn."""
    plan = calendar.plan
    n_cust = plan.n_customers
    n_art = plan.n_articles
    season = calendar.season()
    type_season = calendar.type_season()
    cat_order, cat_start = arts.cat_order, arts.cat_start
    static_sorted = arts.static[:, cat_order]
    static_fav = arts.static[:, arts.fav_order]
    weekday = (np.arange(calendar.n_days) + calendar.start_ordinal - 1) % 7  # date.toordinal()=1 is a Monday
    day_w = WEEKDAY_WEIGHTS[weekday]
    buf = np.zeros((n_cust, HISTORY), dtype=np.int32)
    ptr = np.zeros(n_cust, dtype=np.int64)
    filled = np.zeros(n_cust, dtype=np.int64)
    bought = np.zeros(n_cust, dtype=bool)
    rows_total = 0
    truth: dict[str, Any] = {}
    top_final = np.zeros(0, dtype=np.int64)
    day0 = pl.Series([plan.start]).dt.epoch("d")[0]  # days since 1970 of day index 0
    for w in range(plan.n_weeks):
        rng = np.random.Generator(np.random.PCG64(week_streams[w]))
        lo, hi = int(calendar.week_lo[w]), int(calendar.week_hi[w])
        # --- this week's popularity, article weights, category mix
        mid = (lo + hi) / 2.0
        age = mid - arts.launch
        life = np.where(
            age < 0,
            0.0,
            np.minimum(1.0, (age + 3.5) / 10.5)
            * np.maximum(np.exp(-np.maximum(age - 10.0, 0.0) / arts.tau), LIFE_FLOOR),
        )
        pop = arts.base * life
        u_sorted = static_sorted * pop[cat_order][None, :]  # (S, A) in category order
        # in favourite-group order, flatter: a favourite is a kind of article, not one article
        u_fav = (static_fav * pop[arts.fav_order][None, :]) ** world.fav_alpha
        mass = np.add.reduceat(u_sorted, cat_start, axis=1)  # (S, G), > 0: every category sells from day 0
        taste = arts.category_taste * type_season[w][arts.category_type][None, :]
        mix = segment_mix(taste * mass**world.category_eta, arts.category_group)
        week_price = _week_prices(rng, arts, mid)
        # --- who visits, when, how
        alive = (custs.join <= hi) & (custs.leave >= lo) & (custs.rate > 0)
        act = np.flatnonzero(alive)
        overlap = np.minimum(hi, custs.leave[act]) - np.maximum(lo, custs.join[act]) + 1
        mean_visits = custs.rate[act] * season[w] * custs.week_factor[w] * overlap / 7.0
        first = (custs.first_day >= lo) & (custs.first_day <= hi)
        if w == plan.n_weeks - 1:
            truth = final_week_truth(
                plan,
                world,
                arts,
                custs,
                act,
                mean_visits,
                first,
                mix,
                u_sorted,
                u_fav,
                mass,
                buf,
                ptr,
                filled,
                (lo, hi),
            )
        n_visits = rng.poisson(mean_visits)
        v_cust = np.concatenate([np.repeat(act, n_visits), np.flatnonzero(first)])
        n_random = int(n_visits.sum())
        span = np.arange(lo, hi + 1)
        days_cum = np.cumsum(day_w[span])
        v_day = span[np.minimum(np.searchsorted(days_cum, rng.random(n_random) * days_cum[-1], "right"), span.size - 1)]
        v_day = np.clip(v_day, custs.join[v_cust[:n_random]], custs.leave[v_cust[:n_random]])
        v_day = np.concatenate([v_day, custs.first_day[v_cust[n_random:]]])
        v_channel = np.where(rng.random(v_cust.size) < custs.online[v_cust], 2, 1).astype(np.int8)
        n_items = 1 + rng.poisson(BASKET_EXTRA, v_cust.size)
        i_cust = np.repeat(v_cust, n_items)
        i_day = np.repeat(v_day, n_items)
        i_channel = np.repeat(v_channel, n_items)
        i_art = _items(rng, world, arts, custs, i_cust, mix, u_sorted, u_fav, buf, ptr, filled)
        # --- rows: duplicates, prices, date order
        mult = 1 + (rng.random(i_cust.size) < DUPLICATE_P) * (1 + rng.poisson(DUPLICATE_EXTRA, i_cust.size))
        order = np.lexsort((i_cust, i_day))
        r_idx = np.repeat(order, mult[order])
        frame = pl.DataFrame(
            {
                "t_dat": pl.Series(i_day[r_idx] + day0, dtype=pl.Int32).cast(pl.Date),
                "customer_id": custs.ids.gather(i_cust[r_idx]),
                "article_id": arts.ids.gather(i_art[r_idx]),
                "price": week_price[i_art[r_idx]] / PRICE_UNITS,
                "sales_channel_id": pl.Series(i_channel[r_idx], dtype=pl.Int8),
            }
        )
        frame.write_csv(handle, include_header=w == 0)
        rows_total += frame.height
        bought[i_cust] = True
        if w == plan.n_weeks - 1:
            counts = np.bincount(i_art[r_idx], minlength=n_art)
            top_final = np.argsort(-counts, kind="stable")[:12]
        _remember(i_cust, i_day, i_art, buf, ptr, filled)
        tick(f"{rows_total:,} rows")
    stats = {"rows": rows_total, "buyers": int(bought.sum()), "top_final": top_final}
    return stats, truth


def _week_prices(rng: np.random.Generator, arts: Articles, mid: float) -> np.ndarray:
    """Price units of every article this week: articles older than six weeks are sometimes on sale."""
    n = arts.price_units.size
    sale = ((mid - arts.launch) > 42) & (rng.random(n) < 0.3)
    factor = np.where(sale, rng.choice(np.array([0.5, 0.6, 0.7, 0.8]), n), 1.0)
    return np.maximum(1, np.round(arts.price_units * factor)).astype(np.int64)


def _items(
    rng: np.random.Generator,
    world: World,
    arts: Articles,
    custs: Customers,
    i_cust: np.ndarray,
    mix: np.ndarray,
    u_sorted: np.ndarray,
    u_fav: np.ndarray,
    buf: np.ndarray,
    ptr: np.ndarray,
    filled: np.ndarray,
) -> np.ndarray:
    """The article of every item: driven by a remembered purchase (the same article, another colour of
    its product, a co-purchase partner), or new: a favourite group or a category of the segment's mix, then
    an article of it."""
    n_items = i_cust.size
    out = np.empty(n_items, dtype=np.int64)
    has_history = filled[i_cust] > 0
    repeat = has_history & (rng.random(n_items) < custs.rho[i_cust])
    # --- repeats: one of the last purchases; the same article or another colour of its product
    r = np.flatnonzero(repeat)
    rc = i_cust[r]
    back = recency_draw(rng.random(r.size), filled[rc])
    past = buf[rc, (ptr[rc] - 1 - back) % HISTORY].astype(np.int64)
    prod = arts.product[past]
    n_colours = arts.product_count[prod]
    kind = rng.random(r.size)
    other = (kind >= world.same_article) & (kind < world.same_article + world.other_colour) & (n_colours > 1)
    partner = kind >= world.same_article + world.other_colour
    pick = arts.product_start[prod] + np.floor(rng.random(r.size) * np.maximum(n_colours - 1, 1)).astype(np.int64)
    pick += pick >= past  # skip the article itself
    mate = arts.partners[past, rng.integers(0, N_PARTNERS, r.size)]
    out[r] = np.where(partner, mate, np.where(other, pick, past))
    # --- new items: a favourite category or one from the segment's mix, then an article of it; a draw
    # that lands on one of the customer's remembered purchases is drawn once more (novelty: a new item is
    # rarely one already owned, so a customer's own past articles come back mostly through the history)
    nw = np.flatnonzero(~repeat)
    nc = i_cust[nw]
    # one cumulative sum over both weightings: u for the mix's categories (in category order), u ** fav_alpha
    # for favourites (in favourite-group order)
    cum = np.cumsum(u_sorted.ravel())
    flat = np.concatenate([[0.0], cum, cum[-1] + np.cumsum(u_fav.ravel())])
    drawn = _draw_new(rng, arts, custs, nc, mix, flat, u_sorted.size)
    slots = np.arange(HISTORY)[None, :] < filled[nc][:, None]
    owned = ((buf[nc] == drawn[:, None]) & slots).any(axis=1)
    again = np.flatnonzero(owned)
    drawn[again] = _draw_new(rng, arts, custs, nc[again], mix, flat, u_sorted.size)
    out[nw] = drawn
    return out


def _draw_new(
    rng: np.random.Generator,
    arts: Articles,
    custs: Customers,
    nc: np.ndarray,
    mix: np.ndarray,
    flat: np.ndarray,
    n_cells: int,
) -> np.ndarray:
    """One new-item article for each customer row in ``nc``: a favourite group (weight ``f_c``) or a category
    of the segment's mix, then an article of it from the cumulative weights ``flat``."""
    n_art = arts.base.size
    seg = custs.segment[nc]
    fav = rng.random(nc.size) < custs.fav_weight[nc]
    cat = np.empty(nc.size, dtype=np.int64)
    sub = custs.favourites[nc[fav], rng.integers(0, N_FAVOURITES, int(fav.sum()))]
    cat[~fav] = sample_rows(rng, mix, seg[~fav], (int((~fav).sum()),))
    block_start = np.empty(nc.size, dtype=np.int64)
    block_count = np.empty(nc.size, dtype=np.int64)
    block_start[fav], block_count[fav] = arts.fav_start[sub], arts.fav_count[sub]
    block_start[~fav], block_count[~fav] = arts.cat_start[cat[~fav]], arts.cat_count[cat[~fav]]
    base = seg * n_art + fav * n_cells
    first = base + block_start
    last = first + block_count
    low, high = flat[first], flat[last]
    pos = np.searchsorted(flat, low + rng.random(nc.size) * (high - low), "right") - 1
    pos = np.clip(pos, first, last - 1)
    return np.where(fav, arts.fav_order[pos - base], arts.cat_order[pos - base]).astype(np.int64)


def _remember(
    i_cust: np.ndarray,
    i_day: np.ndarray,
    i_art: np.ndarray,
    buf: np.ndarray,
    ptr: np.ndarray,
    filled: np.ndarray,
) -> None:
    """Push this week's items into every customer's ring buffer of the last HISTORY purchases."""
    if i_cust.size == 0:
        return
    order = np.lexsort((i_day, i_cust))
    cust = i_cust[order]
    arts = i_art[order]
    uniq, first, counts = np.unique(cust, return_index=True, return_counts=True)
    rank = np.arange(cust.size) - np.repeat(first, counts)
    keep = rank >= np.repeat(counts, counts) - HISTORY  # only the newest HISTORY items matter
    pos = (ptr[cust[keep]] + rank[keep]) % HISTORY
    buf[cust[keep], pos] = arts[keep]
    ptr[uniq] = (ptr[uniq] + counts) % HISTORY
    filled[uniq] = np.minimum(filled[uniq] + counts, HISTORY)
