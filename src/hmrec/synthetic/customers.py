"""The customers: segments, membership fields, join and churn, visit rates, history propensity, favourites."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import polars as pl

from hmrec.data.schema import CUSTOMER_COLUMNS
from hmrec.synthetic import _vocab as V
from hmrec.synthetic.articles import Articles
from hmrec.synthetic.constants import (
    ITEMS_PER_VISIT,
    LIFETIME,
    N_FAVOURITES,
    NEVER_BUY,
    ROWS_PER_ITEM,
)
from hmrec.synthetic.plan import Calendar
from hmrec.synthetic.sampling import allocate, hex_ids, sample, sample_rows
from hmrec.synthetic.world import World


@dataclass
class Customers:
    """The customers and what the purchase model needs of them (one row per customer)."""

    frame: pl.DataFrame
    ids: pl.Series
    segment: np.ndarray
    join: np.ndarray
    leave: np.ndarray
    first_day: np.ndarray  # the forced first visit (-1: never buys)
    rate: np.ndarray  # relative visit rate
    week_factor: np.ndarray  # per week: visits per 7 active days and unit of rate
    rho: np.ndarray
    fav_weight: np.ndarray
    favourites: np.ndarray  # (n, N_FAVOURITES) groups of the favourite key
    online: np.ndarray


def build_customers(
    calendar: Calendar, world: World, arts: Articles, rng: np.random.Generator, rng_ids: np.random.Generator
) -> Customers:
    """The customers: segment, membership fields, life (join, churn, the forced first visit), visit rate,
    history propensity, favourites (groups of the world's favourite key); the ids come from their own stream
    ``rng_ids``."""
    n = calendar.plan.n_customers
    days = calendar.n_days
    segs = V.SEGMENTS
    share = np.array([s.share for s in segs])
    segment = sample(rng, share / share.sum(), n)
    age_mean = np.array([s.age_mean for s in segs])[segment]
    age_sd = np.array([s.age_sd for s in segs])[segment]
    age = np.clip(np.round(rng.normal(age_mean, age_sd)), 16, 99).astype(np.int64)
    age_missing = rng.random(n) < 0.01156
    # --- membership fields: exact shares (a permutation of fixed counts), rare values kept when n allows
    club_values = ["ACTIVE", "PRE-CREATE", "LEFT CLUB", None]
    club_codes = allocate(rng, n, [0.92747, 0.06776, 0.00034, 0.00442], rare_min=1000)
    news_values = ["NONE", "Regularly", "Monthly", "None", None]
    news_codes = allocate(rng, n, [0.63973, 0.34797, 0.000614, 0.0000015, 0.011668], rare_min=1000)
    fn = (news_codes == 1) | (news_codes == 2)  # the newsletter readers (Regularly, Monthly)
    active = fn & (rng.random(n) < 0.9737)
    # --- life: join day, churn day, the forced first visit, the visit rate
    # a steady flow: sign-ups at a constant rate, and the members from before the start as many as that
    # flow leaves alive, so that churn, and the weeks since a customer's last purchase, have no artefact
    # at the start. A member from before is in the file because they buy in it: the more days they have
    # left, the likelier, so their remaining life is size-biased (Gamma(2), not exponential), which keeps
    # the forced first visits of short remaining lives from piling up in the first weeks.
    pre = rng.random(n) < LIFETIME / (days + LIFETIME)
    join = np.where(pre, 0, np.floor(days * rng.random(n))).astype(np.int64)
    churn = rng.random(n) < 0.8
    lifetime = np.where(pre, rng.gamma(2.0, LIFETIME, n), 14 + rng.exponential(LIFETIME, n))
    left_club = club_codes == 2
    lifetime = np.where(left_club, 14 + rng.exponential(30.0, n), lifetime)
    leave = np.where(churn | left_club, join + lifetime, days + 10_000).astype(np.int64)
    last_active = np.minimum(leave, days - 1)
    first_day = np.where(pre, np.floor(rng.random(n) * (last_active + 1)), join).astype(np.int64)
    never = rng.random(n) < NEVER_BUY
    first_day[never] = -1
    activity = np.array([s.activity for s in segs])[segment]
    # heavy-tailed activity; pre-created members buy less
    rate = rng.lognormal(0.0, 1.1, n) * activity * np.where(club_codes == 1, 0.5, 1.0)
    rate[never] = 0.0
    week_factor = _week_factor(calendar, rate, join, last_active, first_day)
    rho = rng.beta(*world.rho_beta, n)
    fav_weight = rng.beta(*world.favourite_beta, n)
    online_mean = np.array([s.online for s in segs])[segment]
    online = rng.beta(online_mean * 2.5, (1 - online_mean) * 2.5)
    # favourites: groups of the world's key, as the segment buys them: a category from the segment's static
    # mix (taste x all-time popularity mass), then an article of it by the segment's taste-weighted mass.
    # The groups are cut into cells (category x group); a group's weight is the sum of its cells' (world 0:
    # a sub-category is one cell, category x colour master)
    mass = np.zeros(arts.category_group.size)
    np.add.at(mass, arts.category, arts.base)
    static_mix = segment_mix(arts.category_taste * mass[None, :] ** world.category_eta, arts.category_group)
    n_fav = arts.fav_count.size
    cell_keys, a_cell = np.unique(arts.category * n_fav + arts.fav_group, return_inverse=True)
    cell_cat, cell_fav = cell_keys // n_fav, cell_keys % n_fav
    cell_mass = np.stack(
        [np.bincount(a_cell, weights=row * arts.base, minlength=cell_keys.size) for row in arts.static]
    )
    cat_mass = np.stack([np.bincount(cell_cat, weights=row) for row in cell_mass])
    cell_mix = static_mix[:, cell_cat] * cell_mass / cat_mass[:, cell_cat]
    fav_mix = np.stack([np.bincount(cell_fav, weights=row, minlength=n_fav) for row in cell_mix])
    favourites = sample_rows(rng, fav_mix, segment, (n, N_FAVOURITES))
    # --- public fields
    ids = hex_ids(rng_ids, n)
    n_postal = max(1, round(n * 0.2572))
    postal_ids = hex_ids(rng_ids, n_postal)
    postal_w = rng.lognormal(0.0, 1.0, n_postal)
    postal = sample(rng, postal_w / postal_w.sum(), n)
    postal = np.where(rng.random(n) < 0.0877, 0, postal)  # one placeholder code shared by many
    frame = pl.DataFrame(
        {
            "customer_id": ids,
            "FN": pl.Series(np.where(fn, 1.0, np.nan)).fill_nan(None),
            "Active": pl.Series(np.where(active, 1.0, np.nan)).fill_nan(None),
            "club_member_status": pl.Series(club_values, dtype=pl.String).gather(club_codes),
            "fashion_news_frequency": pl.Series(news_values, dtype=pl.String).gather(news_codes),
            "age": pl.Series(np.where(age_missing, 0, age), dtype=pl.Int64).set(pl.Series(age_missing), None),
            "postal_code": postal_ids.gather(postal),
        }
    )
    assert tuple(frame.columns) == CUSTOMER_COLUMNS
    return Customers(
        frame=frame,
        ids=ids,
        segment=segment,
        join=join,
        leave=leave,
        first_day=first_day,
        rate=rate,
        week_factor=week_factor,
        rho=rho,
        fav_weight=fav_weight,
        favourites=favourites,
        online=online,
    )


def _week_factor(
    calendar: Calendar, rate: np.ndarray, join: np.ndarray, last_active: np.ndarray, first_day: np.ndarray
) -> np.ndarray:
    """Per week, the visits per unit of rate and 7 active days that make the week's expected rows follow
    the season exactly and add up to the plan: the volume does not depend on how many customers are
    alive (no warm-up while the first members churn and new ones join)."""
    days, n_weeks = calendar.n_days, calendar.plan.n_weeks
    week_len = calendar.week_hi - calendar.week_lo + 1
    day_week = np.repeat(np.arange(n_weeks), week_len)
    delta = np.bincount(join, weights=rate, minlength=days + 1) - np.bincount(
        last_active + 1, weights=rate, minlength=days + 1
    )
    alive_rate = np.bincount(day_week, weights=np.cumsum(delta)[:days], minlength=n_weeks) / 7.0
    firsts = np.bincount(day_week[first_day[first_day >= 0]], minlength=n_weeks)
    season = calendar.season()
    share = season * week_len / float((season * week_len).sum())
    total = share * calendar.plan.rows / (ITEMS_PER_VISIT * ROWS_PER_ITEM)
    wanted = np.maximum(total - firsts, 0.2 * total)
    return wanted / np.maximum(alive_rate * season, 1e-12)


def segment_mix(weight: np.ndarray, category_group: np.ndarray) -> np.ndarray:
    """(segments, categories) mix: within each index group proportional to ``weight``, and each index
    group gets the segment's share of it (renormalized over the groups that have categories)."""
    ig = np.array([s.index_groups for s in V.SEGMENTS], dtype=np.float64)  # (S, 5)
    n_groups = ig.shape[1]
    sums = np.zeros((weight.shape[0], n_groups))
    for j in range(n_groups):
        sums[:, j] = weight[:, category_group == j].sum(axis=1)
    ig = np.where(sums > 0, ig, 0.0)
    ig /= ig.sum(axis=1, keepdims=True)
    mix = weight * (ig / np.where(sums > 0, sums, 1.0))[:, category_group]
    return mix / mix.sum(axis=1, keepdims=True)
