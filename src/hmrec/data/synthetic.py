"""The synthetic generator: H&M-like competition files with a known truth.

``generate(out, scale, seed)`` writes ``articles.csv``, ``customers.csv``, ``transactions_train.csv`` and
``sample_submission.csv`` with the columns and formats of the real competition files, and ``truth/`` with
what is needed to compute, exactly, the distribution the final 7 days were drawn from.

The model (everything vectorized; the only Python loops run over weeks, segments or small tables):

* **Articles**: products (one product type, index, section, garment group, department, launch day, price,
  base popularity) in one or more colours (an article). In week ``w`` an article's popularity is
  ``pop_w(a) = base(a) * life(age)``: a ramp over ~10 days after launch, then exponential decay with a
  time constant of a few weeks (most articles) or months (basics), floored at 3 % of the peak. Base
  popularity is log-normal with its top ``1 - BASE_CAP`` raised to ``HIT_BOOST`` times the cap: the
  best-sellers are a crowd of similar hits, so the week's top 12 holds a steady share. A category
  ``g`` is (index, product type); a sub-category ``h`` is (category, colour master). Every product has
  ``N_PARTNERS`` co-purchase partners: products launched about the same time in the same index group (one
  colour of each), the articles that "go together".
* **Customers**: a latent segment ``s`` (age, taste over index groups / product groups / colours, price
  elasticity ``gamma_s``, activity, online share), a join day, a churn day, a heavy-tailed relative visit
  rate ``lambda_c``, a history propensity ``rho_c``, three favourite sub-categories with weight ``f_c``.
  Sign-ups come at a constant rate and the members from before the start are as many as that flow keeps
  alive, with a size-biased remaining life (no warm-up, no pile-up of last purchases in the first weeks).
* **Purchases**, week by week: visits ``~ Poisson(lambda_c * k_w * season_w * active_days / 7)`` (+ one
  first visit: on the join day, or on a random active day for customers who joined before the start; 0.7 %
  of customers never buy), where ``k_w`` makes the week's expected volume follow the season whoever is
  alive; ``1 + Poisson(1.3)`` items per visit; each item is

  - with probability ``rho_c`` (if the customer bought before this week) driven by one of the last
    ``HISTORY`` items the customer bought, the ``k``-th most recent with weight ``REPEAT_DECAY ** k`` (a
    rebuy follows a recent purchase): ``h`` itself with probability ``SAME_ARTICLE``,
    another colour of its product with ``OTHER_COLOUR`` (``h`` itself when it has one colour), one of its
    partners, uniformly, with ``PARTNER``;
  - else *new*: with probability ``f_c`` a favourite sub-category ``h`` (uniformly among the three), then an
    article of it with probability ``q'_sw(a) = u_sw(a)^alpha / U'_sw(h)``; else a category ``g`` from the
    segment's weekly mix ``m_sw(g)``, then an article of ``g`` with ``q_sw(a) = u_sw(a) / U_sw(g)``;
    ``u_sw(a) = colour_s(a) * (price(a)/median)^gamma_s * pop_w(a)``, ``U`` its sums over ``g`` or ``h``.
    A new item that is one of the ``HISTORY`` remembered purchases is drawn once more (novelty: customers
    rarely buy an article they own through their taste alone).
    The mix is ``m_sw(g) = ig_s(group(g)) * r / sum r`` over the categories of the index group,
    ``r = taste_s(g) * season_w(type) * U_sw(g)^0.8``.

  Each item is written ``1 + Bernoulli(DUPLICATE_P) * (1 + Poisson(DUPLICATE_EXTRA))`` times (the same
  item bought more than once that day: exact duplicate rows), at the article's price that week (sometimes
  discounted).

The truth of the final week (``truth_window``) is therefore, for customer ``c`` and article ``a``::

    E[rows(c, a)] = E_c * P_c(a),
    P_c(a) = (1 - rho'_c) * N_c(a) + rho'_c * R_c(a),
    N_c(a) = p_c(a) * (1 + p_c(H_c)) - [a in H_c] * p_c(a),
    p_c(a) = (1 - f_c) * m_s(g_a) * q_s(a) + f_c * n_fav(c, h_a) / 3 * q'_s(a)

with ``E_c`` the expected number of rows of ``c`` that week, ``rho'_c = rho_c`` if ``c`` bought before
(else 0), ``H_c`` the customer's remembered purchases (the redraw) and ``R_c`` the history distribution over
them (recency-weighted), their other colours and their partners.
"""

from __future__ import annotations

import datetime as dt
import functools
import json
import math
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl

from hmrec.atomic import write_atomic
from hmrec.data import _vocab as V
from hmrec.data.schema import (
    ARTICLE_COLUMNS,
    ARTICLES_FILE,
    CUSTOMER_COLUMNS,
    CUSTOMERS_FILE,
    SAMPLE_SUBMISSION_FILE,
    TRANSACTIONS_FILE,
)
from hmrec.errors import DataError, ParameterError

# ------------------------------------------------------------------------------------------------ constants
FULL_START = dt.date(2018, 9, 20)
FULL_END = dt.date(2020, 9, 22)
TRUTH_DAYS = 7
TRUTH_DIRNAME = "truth"
TRUTH_ARRAYS = "truth.npz"
TRUTH_META = "truth.json"
MARKER_FILE = ".hmrec-generated.json"
#: raised whenever the same scale and seed give other data (written into MARKER_FILE): 3 is the second
#: calibration pass. The demo data set is regenerated when its version differs.
GENERATOR_VERSION = 3
#: entries of an output directory that hmrec itself writes (anything else makes ``generate`` refuse)
OWN_ENTRIES = frozenset(
    {
        ARTICLES_FILE,
        CUSTOMERS_FILE,
        TRANSACTIONS_FILE,
        SAMPLE_SUBMISSION_FILE,
        TRUTH_DIRNAME,
        MARKER_FILE,
        ".hmrec-cache",
    }
)

#: prices are multiples of 1/PRICE_UNITS (the real file's prices look like SEK / 590 with two decimals)
PRICE_UNITS = 59000
#: how many recent purchases a customer's repeats choose from
HISTORY = 16
#: an item driven by a remembered purchase is the same article, another colour of its product (the same
#: article when it has one colour) or one of its co-purchase partners, with these probabilities
SAME_ARTICLE = 0.35
OTHER_COLOUR = 0.4
PARTNER = 0.25  # the rest: SAME_ARTICLE + OTHER_COLOUR + PARTNER = 1
N_PARTNERS = 4
REPEAT_DECAY = 0.3  # the k-th most recent remembered purchase drives a history item with weight REPEAT_DECAY**k
PARTNER_SPREAD = 10.0  # days of noise on the launch order that makes products partners
DEPT_PREFIXED = 0.45  # share of department names prefixed by their section's first word
N_FAVOURITES = 3
RHO_BETA = (1.7, 18.0)  # a customer's probability that an item is driven by a remembered purchase
FAVOURITE_BETA = (1.5, 4.0)  # ... that a new item comes from a favourite sub-category
FAV_ALPHA = 0.6  # within a favourite sub-category an article is drawn by u ** FAV_ALPHA (u: see above)
BASKET_EXTRA = 1.3  # items per visit = 1 + Poisson(BASKET_EXTRA)
DUPLICATE_P = 0.068  # an item is written more than once with this probability ...
DUPLICATE_EXTRA = 0.35  # ... 1 + Poisson(DUPLICATE_EXTRA) extra times
ROWS_PER_ITEM = 1.0 + DUPLICATE_P * (1.0 + DUPLICATE_EXTRA)
ITEMS_PER_VISIT = 1.0 + BASKET_EXTRA
CATEGORY_ETA = 0.8  # how strongly a category's weekly popularity mass draws customers to it
PRICE_SCALE = 1.34  # calibrates the mean price to the published 0.0278
ARTICLES_PER_PRODUCT = 2.235  # 105,542 articles / 47,224 products
NEVER_BUY = 0.007
LIFETIME = 260.0  # mean days a churning customer stays
#: an old article keeps this fraction of its peak popularity (so that few articles are never sold)
LIFE_FLOOR = 0.03
BASIC_SHARE = 0.1  # products that sell for months (the rest fade within weeks)
BASIC_TAU = (60.0, 200.0)  # their decay time constant, days (uniform)
BASE_SIGMA = 1.1  # log-sd of a product's base popularity
BASE_CAP = 0.985  # article base popularity is capped at this quantile: the best-sellers are many similar hits
HIT_BOOST = 3.1  # ... and those at the cap get this multiple of it
FADE_TAU = 22.0  # median decay time constant (days) of the products that fade
WEEKDAY_WEIGHTS = np.array([0.9, 0.9, 1.0, 1.0, 1.15, 1.2, 0.85])  # Monday .. Sunday


@dataclass(frozen=True)
class ScaleSpec:
    """A preset size: customers, articles, expected transaction rows and the date range."""

    customers: int
    articles: int
    rows: int
    start: dt.date
    end: dt.date

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1


SCALES: dict[str, ScaleSpec] = {
    # tiny spans one year so that ~15 rows per customer stay close to the real per-day activity
    "tiny": ScaleSpec(2_000, 1_000, 30_000, dt.date(2019, 9, 24), FULL_END),
    "small": ScaleSpec(50_000, 10_000, 1_000_000, FULL_START, FULL_END),
    "medium": ScaleSpec(300_000, 40_000, 7_000_000, FULL_START, FULL_END),
    "full": ScaleSpec(1_371_980, 105_542, 31_788_324, FULL_START, FULL_END),
}


# ======================================================================================== public API
def generate(
    out: Path,
    scale: str = "small",
    seed: int = 0,
    *,
    customers: int | None = None,
    articles: int | None = None,
    start: dt.date | None = None,
    end: dt.date | None = None,
    progress: bool = True,
) -> dict[str, Any]:
    """Write the four competition files and ``truth/`` into ``out``; return a summary.

    ``customers``/``articles``/``start``/``end`` override the preset of ``scale``; the expected number of
    rows scales with customers x days. The same arguments give byte-identical CSV files. Files are written
    under temporary names and renamed at the end, so an interrupted run leaves the directory as it was.
    Raises :class:`ParameterError` for bad arguments or an output directory holding other files.
    """
    started = time.perf_counter()
    plan = _plan(Path(out), scale, seed, customers, articles, start, end)
    from hmrec.progress import progress_bar

    if not progress:
        summary = _Generator(plan).run(lambda info: None)
    else:
        with progress_bar() as bar:
            task = bar.add_task("generating (weeks)", total=plan.n_weeks + 1, info="")

            def tick(info: str) -> None:
                bar.update(task, advance=1, info=info)

            summary = _Generator(plan).run(tick)
    summary["seconds"] = round(time.perf_counter() - started, 2)
    return summary


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
    sub-category, or through the customer's history, so only those candidates are scored. ``(n, k)`` int32,
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


# ======================================================================================== planning
@dataclass(frozen=True)
class _Plan:
    out: Path
    scale: str
    seed: int
    n_customers: int
    n_articles: int
    rows: int
    start: dt.date
    end: dt.date

    @property
    def n_days(self) -> int:
        return (self.end - self.start).days + 1

    @property
    def n_weeks(self) -> int:
        return math.ceil(self.n_days / 7)


def _plan(
    out: Path,
    scale: str,
    seed: int,
    customers: int | None,
    articles: int | None,
    start: dt.date | None,
    end: dt.date | None,
) -> _Plan:
    """Validate the arguments (ParameterError naming the option) and resolve the preset."""
    if scale not in SCALES:
        raise ParameterError(f"--scale '{scale}' is unknown (fix: use one of {', '.join(SCALES)})")
    spec = SCALES[scale]
    if not isinstance(seed, int | np.integer) or seed < 0:
        raise ParameterError(f"--seed must be an integer >= 0 (got {seed!r})")
    if customers is not None and customers < 1:
        raise ParameterError(f"--customers must be at least 1 (got {customers})")
    if articles is not None and articles < 12:
        raise ParameterError(f"--articles must be at least 12, one submission's worth (got {articles})")
    n_customers = customers if customers is not None else spec.customers
    n_articles = articles if articles is not None else spec.articles
    end_date = end if end is not None else spec.end
    start_date = start if start is not None else spec.start
    if start is None and end is not None:  # keep the preset's length when only the end moves
        start_date = end_date - dt.timedelta(days=spec.days - 1)
    if start_date >= end_date:
        raise ParameterError(f"--start {start_date} must be before --end {end_date} (fix: swap or widen them)")
    n_days = (end_date - start_date).days + 1
    if n_days < 2 * TRUTH_DAYS:
        raise ParameterError(
            f"--start {start_date} to --end {end_date} spans {n_days} days (fix: use at least {2 * TRUTH_DAYS})"
        )
    rows = max(1, round(spec.rows * (n_customers / spec.customers) * (n_days / spec.days)))
    _check_out(out)
    return _Plan(out, scale, int(seed), n_customers, n_articles, rows, start_date, end_date)


def _check_out(out: Path) -> None:
    """Refuse a file, or a directory holding anything hmrec did not write (e.g. real competition files)."""
    if out.exists() and not out.is_dir():
        raise ParameterError(f"--out {out} is a file (fix: give a directory)")
    if not out.is_dir():
        return
    entries = sorted(p.name for p in out.iterdir())
    foreign = [name for name in entries if name not in OWN_ENTRIES and not name.startswith(".hmrec-tmp-")]
    if foreign:
        shown = ", ".join(foreign[:3]) + (", ..." if len(foreign) > 3 else "")
        raise ParameterError(
            f"--out {out} holds files hmrec did not write ({shown}) (fix: use an empty or new directory)"
        )
    if entries and MARKER_FILE not in entries:
        raise ParameterError(
            f"--out {out} holds data files the generator did not write (fix: use an empty or new directory)"
        )


# ======================================================================================== generation
@dataclass
class _Articles:
    frame: pl.DataFrame
    product: np.ndarray  # article -> product (articles are sorted by id, so a product's articles are contiguous)
    product_start: np.ndarray  # product -> first article row
    product_count: np.ndarray  # product -> number of articles (colours)
    category: np.ndarray  # article -> category (index x product type)
    subcategory: np.ndarray  # article -> sub-category (category x colour master)
    sub_category: np.ndarray  # sub-category -> category
    cat_order: np.ndarray  # articles by category, then colour master: both kinds of block are contiguous
    cat_start: np.ndarray  # category -> first position in cat_order
    cat_count: np.ndarray
    sub_start: np.ndarray  # sub-category -> first position in cat_order
    sub_count: np.ndarray
    partners: np.ndarray  # (articles, N_PARTNERS) articles bought after this one ("go together")
    category_group: np.ndarray  # category -> index group (position in INDEX_GROUPS)
    category_type: np.ndarray  # category -> product type (position in PRODUCT_TYPES)
    category_taste: np.ndarray  # (segments, categories) static taste multiplier
    static: np.ndarray  # (segments, articles) colour and price preference
    base: np.ndarray  # article base popularity
    launch: np.ndarray  # article launch day (day index, negative = before the start)
    tau: np.ndarray  # article decay time constant, days
    price_units: np.ndarray  # article base price in 1/PRICE_UNITS
    ids: pl.Series  # 10-digit article ids


@dataclass
class _Customers:
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
    favourites: np.ndarray  # (n, N_FAVOURITES) sub-categories
    online: np.ndarray


class _Generator:
    """One run of the generator; stages use independent random streams spawned from the seed."""

    def __init__(self, plan: _Plan) -> None:
        self.plan = plan
        streams = np.random.SeedSequence(plan.seed).spawn(5)
        self.rng_articles = np.random.Generator(np.random.PCG64(streams[0]))
        self.rng_customers = np.random.Generator(np.random.PCG64(streams[1]))
        self.rng_segments = np.random.Generator(np.random.PCG64(streams[2]))
        self.week_streams = streams[3].spawn(plan.n_weeks)
        self.rng_ids = np.random.Generator(np.random.PCG64(streams[4]))
        self.n_days = plan.n_days
        self.start_ordinal = plan.start.toordinal()
        # week w covers days [week_lo[w], week_hi[w]]; the last week is the truth window
        hi = self.n_days - 1 - TRUTH_DAYS * np.arange(plan.n_weeks)[::-1]
        self.week_hi = hi
        self.week_lo = np.maximum(hi - (TRUTH_DAYS - 1), 0)

    # ------------------------------------------------------------------------------ calendar
    def _day_of_year(self, days: np.ndarray) -> np.ndarray:
        """Day of year (0-based, fractional allowed) of day indices."""
        jan1 = dt.date(self.plan.start.year, 1, 1).toordinal()
        return (days + self.start_ordinal - jan1) % 365.25

    def _season(self) -> np.ndarray:
        """Volume multiplier per week: a summer high, a winter low and a late-November sale."""
        mid = (self.week_lo + self.week_hi) / 2.0
        doy = self._day_of_year(mid)
        season = 1.0 + 0.15 * np.sin(2 * np.pi * (doy - 100) / 365.25)
        season += 0.35 * np.exp(-0.5 * ((doy - 330) / 5.0) ** 2)
        return season

    def _type_season(self) -> np.ndarray:
        """(weeks, product types) multiplier: summer types peak mid-year, winter types around the new year."""
        mid = (self.week_lo + self.week_hi) / 2.0
        wave = np.sin(2 * np.pi * (self._day_of_year(mid) - 110) / 365.25)[:, None]
        kind = np.array([t.season for t in V.PRODUCT_TYPES])
        out = np.ones((mid.size, kind.size))
        out = np.where(kind == "s", np.maximum(1.0 + 0.8 * wave, 0.15), out)
        out = np.where(kind == "w", np.maximum(1.0 - 0.7 * wave, 0.15), out)
        return out

    # ------------------------------------------------------------------------------ run
    def run(self, tick: Callable[[str], None]) -> dict[str, Any]:
        plan = self.plan
        plan.out.mkdir(parents=True, exist_ok=True)
        tmp_paths: dict[str, Path] = {
            name: plan.out / f".hmrec-tmp-{name}"
            for name in (ARTICLES_FILE, CUSTOMERS_FILE, TRANSACTIONS_FILE, SAMPLE_SUBMISSION_FILE)
        }
        truth_tmp = plan.out / ".hmrec-tmp-truth"
        try:
            arts = self._articles()
            custs = self._customers(arts)
            with tmp_paths[TRANSACTIONS_FILE].open("wb") as handle:
                stats, truth = self._simulate(arts, custs, handle, tick)
            _write_csv(arts.frame, tmp_paths[ARTICLES_FILE])
            _write_csv(custs.frame, tmp_paths[CUSTOMERS_FILE])
            top = " ".join(arts.ids.gather(stats.pop("top_final")).to_list())
            pl.DataFrame(
                {"customer_id": custs.ids, "prediction": pl.repeat(top, custs.ids.len(), eager=True)}
            ).write_csv(tmp_paths[SAMPLE_SUBMISSION_FILE])
            self._write_truth(truth_tmp, truth, arts, custs)
            tick("files written")
            # everything is written: move it into place (each rename is atomic)
            final_truth = plan.out / TRUTH_DIRNAME
            if final_truth.exists():
                for child in final_truth.iterdir():
                    child.unlink()
                final_truth.rmdir()
            os.replace(truth_tmp, final_truth)
            for name, tmp in tmp_paths.items():
                os.replace(tmp, plan.out / name)
            marker = {
                "generator": "hmrec.data.synthetic",
                "version": GENERATOR_VERSION,
                "scale": plan.scale,
                "seed": plan.seed,
                "customers": plan.n_customers,
                "articles": plan.n_articles,
                "start": plan.start.isoformat(),
                "end": plan.end.isoformat(),
            }
            _atomic_text(plan.out / MARKER_FILE, json.dumps(marker, indent=2) + "\n")
        finally:
            for tmp in tmp_paths.values():
                tmp.unlink(missing_ok=True)
            if truth_tmp.exists():
                for child in truth_tmp.iterdir():
                    child.unlink()
                truth_tmp.rmdir()
        window = truth["window"]
        return {
            "out": str(plan.out),
            "scale": plan.scale,
            "seed": plan.seed,
            "rows": stats["rows"],
            "customers": plan.n_customers,
            "articles": plan.n_articles,
            "buying_customers": stats["buyers"],
            "start": plan.start.isoformat(),
            "end": plan.end.isoformat(),
            "truth_window": [window[0].isoformat(), window[1].isoformat()],
        }

    # ------------------------------------------------------------------------------ articles
    def _articles(self) -> _Articles:
        rng = self.rng_articles
        n_art = self.plan.n_articles
        n_prod = min(n_art, max(1, round(n_art / ARTICLES_PER_PRODUCT)))
        types = V.PRODUCT_TYPES
        indices = V.INDICES
        # --- index and product type of every product
        allowed = np.zeros((len(indices), len(types)))
        for i, index in enumerate(indices):  # 10 x 69 table
            for t, ptype in enumerate(types):
                ok = ptype.group in index.groups
                ok &= not (ptype.only == "f" and index.kind == "m")
                ok &= not (ptype.only == "k" and index.kind != "k")
                allowed[i, t] = ptype.weight if ok else 0.0
        index_w = np.array([x.weight for x in indices])
        p_index = _sample(rng, index_w / index_w.sum(), n_prod)
        p_type = np.empty(n_prod, dtype=np.int64)
        for i in range(len(indices)):
            mask = p_index == i
            p_type[mask] = _sample(rng, allowed[i] / allowed[i].sum(), int(mask.sum()))
        # --- garment group, section, department
        gg_names = [g[1] for g in V.GARMENT_GROUPS]
        p_gg = np.empty(n_prod, dtype=np.int64)
        for t, ptype in enumerate(types):
            mask = p_type == t
            options = np.array([gg_names.index(g) for g in ptype.garment_groups])
            p_gg[mask] = options[rng.integers(0, options.size, int(mask.sum()))]
        kids = np.array([indices[i].kind == "k" for i in range(len(indices))])[p_index]
        girls = gg_names.index("Dresses/Skirts girls")
        p_gg = np.where(kids & np.isin(p_gg, [gg_names.index("Dresses Ladies"), gg_names.index("Skirts")]), girls, p_gg)
        baby = (p_index == [x.code for x in indices].index("G")) & np.isin(
            np.array([t.group for t in types])[p_type], V.GARMENTS
        )
        p_gg = np.where(baby & (rng.random(n_prod) < 0.5), gg_names.index("Woven/Jersey/Knitted mix Baby"), p_gg)
        p_gg = np.where(rng.random(n_prod) < 0.01, gg_names.index(V.SPECIAL_OFFERS), p_gg)
        group_of_type = np.array([t.group for t in types])
        p_group = group_of_type[p_type]
        p_section = np.empty(n_prod, dtype=np.int64)
        for i, index in enumerate(indices):
            secs = [j for j, s in enumerate(V.SECTIONS) if s[2] == index.code]
            for group in index.groups:
                mask = (p_index == i) & (p_group == group)
                if not mask.any():
                    continue
                fits = [j for j in secs if V.SECTIONS[j][3] is None or group in V.SECTIONS[j][3]]  # type: ignore[operator]
                options = np.array(fits or secs[:1])
                p_section[mask] = options[rng.integers(0, options.size, int(mask.sum()))]
        dept_key = p_section * len(gg_names) + p_gg
        dept_keys, p_dept = np.unique(dept_key, return_inverse=True)
        dept_no = np.sort(rng.choice(np.arange(1000, 10000), size=dept_keys.size, replace=False))
        dept_no = dept_no[rng.permutation(dept_keys.size)]
        dept_gg = dept_keys % len(gg_names)
        # a department is named after its garment group, mostly prefixed by its section's first word ("Kids
        # Jersey Basic"); names repeat across sections, as in the real file (299 numbers, 250 names)
        name_pick = rng.integers(0, 1 << 30, dept_keys.size)
        prefixed = rng.random(dept_keys.size) < DEPT_PREFIXED
        dept_name = np.array(
            [
                (f"{V.SECTIONS[sec][1].split()[0]} " if pre else "")
                + V.GARMENT_GROUPS[g][2][int(x) % len(V.GARMENT_GROUPS[g][2])]
                for sec, g, x, pre in zip(dept_keys // len(gg_names), dept_gg, name_pick, prefixed, strict=True)
            ],
            dtype=object,
        )
        # --- life cycle, popularity, price per product
        early = rng.random(n_prod) < 0.2
        launch = np.where(early, -rng.integers(1, 200, n_prod), rng.integers(0, self.n_days, n_prod))
        cat_key = p_index * len(types) + p_type
        _, first = np.unique(cat_key, return_index=True)
        launch[first] = -rng.integers(1, 60, first.size)  # every category sells from the start
        basic = rng.random(n_prod) < BASIC_SHARE
        tau = np.where(basic, rng.uniform(*BASIC_TAU, n_prod), rng.lognormal(np.log(FADE_TAU), 0.45, n_prod))
        p_base = rng.lognormal(0.0, BASE_SIGMA, n_prod)
        index_price = np.array([{"k": 0.7, "m": 1.1, "u": 1.0}.get(x.kind, 1.0) for x in indices])
        index_price[[x.code for x in indices].index("D")] = 0.8
        # types' typical prices, pulled towards their median: the real price spread is moderate
        type_price = np.array([t.price for t in types])
        type_price = PRICE_SCALE * np.median(type_price) * (type_price / np.median(type_price)) ** 0.6
        p_price = type_price[p_type] * index_price[p_index] * rng.lognormal(0.0, 0.25, n_prod)
        # --- product codes: increasing with launch day, as real codes grow over time
        codes = np.sort(rng.choice(np.arange(108775, 959462), size=n_prod, replace=False))
        order = np.argsort(launch + rng.normal(0, 60, n_prod), kind="stable")
        p_code = np.empty(n_prod, dtype=np.int64)
        p_code[order] = codes
        by_code = np.argsort(p_code)  # products in article-id order
        # --- colours: every product gets one, the rest are spread heavy-tailed
        extra = rng.multinomial(n_art - n_prod, _normalize(rng.lognormal(0, 0.8, n_prod)))
        count = (1 + extra)[by_code]
        prod_of_article_sorted = np.repeat(np.arange(n_prod), count)  # position in by_code order
        a_prod = by_code[prod_of_article_sorted]
        start_sorted = np.concatenate([[0], np.cumsum(count)[:-1]])
        a_variant = np.arange(n_art) - start_sorted[prod_of_article_sorted] + 1
        colour_w = np.array([c[4] for c in V.COLOURS])
        a_colour = _sample(rng, colour_w / colour_w.sum(), n_art)
        gra_w = np.array([g[1] for g in V.GRAPHICAL_APPEARANCES])
        a_graphic = _sample(rng, gra_w / gra_w.sum(), n_art)
        a_base = p_base[a_prod] * rng.lognormal(0.0, 0.6, n_art)
        # hits: the top 1 - BASE_CAP of the articles sell HIT_BOOST times the cap, a crowd of similar hits
        # rather than a few giants, so the share of the week's top 12 hardly depends on the seed
        # as many hits as on the full catalogue down to the small one (10,000 articles): the 12 recommended
        # articles face the same crowd of hits; below it the crowd thins with the square of the catalogue, so
        # that hits stay a small part of a tiny one (16 of 1,000 articles, not a fifth)
        full_hits = round((1.0 - BASE_CAP) * SCALES["full"].articles)
        n_hits = min(full_hits, round(full_hits * (n_art / SCALES["small"].articles) ** 2))
        cap = np.sort(a_base)[n_art - max(n_hits, 1)]
        a_base = np.where(a_base >= cap, cap * HIT_BOOST, a_base)
        a_price = np.clip(p_price[a_prod] * rng.lognormal(0.0, 0.05, n_art), 2e-4, 0.59)
        price_units = np.maximum(1, np.round(a_price * PRICE_UNITS)).astype(np.int64)
        a_launch = launch[a_prod] + np.where(a_variant > 1, rng.integers(0, 30, n_art), 0)  # later colours
        # --- categories (index x type), each sorted by key so the numbering is deterministic
        cat_keys, a_cat = np.unique(cat_key[a_prod], return_inverse=True)
        ig_pos = {no: j for j, (no, _) in enumerate(V.INDEX_GROUPS)}
        cat_group = np.array([ig_pos[indices[i].group] for i in cat_keys // len(types)], dtype=np.int64)
        cat_type = cat_keys % len(types)
        # --- segment tastes (a separate stream, so that tastes do not depend on the article count)
        n_seg = len(V.SEGMENTS)
        srng = self.rng_segments
        group_pos = {g: j for j, g in enumerate(sorted(set(group_of_type)))}
        master_names = list(V.PERCEIVED_MASTERS.values())
        masters = {no: name for no, name in V.PERCEIVED_MASTERS.items()}
        colour_master = np.array([master_names.index(masters[c[3]]) for c in V.COLOURS])
        taste_group = np.ones((n_seg, len(group_pos)))
        for group, pull in V.GROUP_PULL.items():
            taste_group[:, group_pos[group]] = pull
        taste_master = np.ones((n_seg, len(master_names)))
        for s, seg in enumerate(V.SEGMENTS):
            for group, mult in seg.groups.items():
                taste_group[s, group_pos[group]] *= mult
            for name, mult in seg.colours.items():
                taste_master[s, master_names.index(name)] = mult
        type_group = np.array([group_pos[g] for g in group_of_type])
        # noise over all 10 x 69 possible categories, gathered: tastes do not depend on which ones exist
        noise = srng.lognormal(0.0, 0.5, (n_seg, len(indices) * len(types)))
        category_taste = taste_group[:, type_group[cat_type]] * noise[:, cat_keys]
        colour_taste = taste_master[:, colour_master] * srng.lognormal(0.0, 0.3, (n_seg, len(V.COLOURS)))
        gamma = np.array([seg.price_gamma for seg in V.SEGMENTS])
        rel_price = price_units / np.median(price_units)
        static = colour_taste[:, a_colour] * rel_price[None, :] ** gamma[:, None]
        # --- sub-categories (category x colour master): what a customer's favourites are
        n_master = len(master_names)
        a_master = colour_master[a_colour]
        cat_order = np.lexsort((np.arange(n_art), a_master, a_cat))  # by category, colour master, row
        sub_keys, a_sub = np.unique(a_cat * n_master + a_master, return_inverse=True)
        sub_count = np.bincount(a_sub, minlength=sub_keys.size)
        cat_count = np.bincount(a_cat, minlength=cat_keys.size)
        _, sub_first = np.unique(a_sub, return_index=True)
        a_launch[sub_first] = np.minimum(a_launch[sub_first], -rng.integers(1, 60, sub_first.size))  # sells from day 0
        # --- co-purchase partners: products launched close together in one index group go together
        prod_group = np.array([ig_pos[x.group] for x in indices])[p_index]
        by_launch = np.lexsort((launch + rng.normal(0.0, PARTNER_SPREAD, n_prod), prod_group))
        rank_launch = np.empty(n_prod, dtype=np.int64)
        rank_launch[by_launch] = np.arange(n_prod)
        offsets = np.array([o for o in range(-N_PARTNERS, N_PARTNERS + 1) if o != 0])
        pick_off = offsets[np.argsort(rng.random((n_prod, offsets.size)), axis=1)[:, :N_PARTNERS]]
        partner_pos = rank_launch[:, None] + pick_off
        partner_pos = np.where(
            (partner_pos < 0) | (partner_pos >= n_prod), rank_launch[:, None] - pick_off, partner_pos
        )
        partner_prod = by_launch[np.clip(partner_pos, 0, n_prod - 1)]
        product_start = np.empty(n_prod, dtype=np.int64)
        product_start[by_code] = start_sorted
        product_count = np.empty(n_prod, dtype=np.int64)
        product_count[by_code] = count
        partner_art = product_start[partner_prod] + np.floor(
            rng.random(partner_prod.shape) * product_count[partner_prod]
        ).astype(np.int64)
        # --- the frame
        frame = self._article_frame(
            rng,
            n_prod,
            p_code,
            p_type,
            p_index,
            p_section,
            p_gg,
            p_dept,
            dept_no,
            dept_name,
            a_prod,
            a_variant,
            a_colour,
            a_graphic,
        )
        return _Articles(
            frame=frame,
            product=a_prod,
            product_start=product_start,
            product_count=product_count,
            category=a_cat.astype(np.int64),
            subcategory=a_sub.astype(np.int64),
            sub_category=(sub_keys // n_master).astype(np.int64),
            cat_order=cat_order,
            cat_start=np.cumsum(cat_count) - cat_count,
            cat_count=cat_count,
            sub_start=np.cumsum(sub_count) - sub_count,
            sub_count=sub_count,
            partners=partner_art[a_prod],
            category_group=cat_group,
            category_type=cat_type,
            category_taste=category_taste,
            static=static,
            base=a_base,
            launch=a_launch,
            tau=tau[a_prod],
            price_units=price_units,
            ids=frame["article_id"],
        )

    def _article_frame(
        self,
        rng: np.random.Generator,
        n_prod: int,
        p_code: np.ndarray,
        p_type: np.ndarray,
        p_index: np.ndarray,
        p_section: np.ndarray,
        p_gg: np.ndarray,
        p_dept: np.ndarray,
        dept_no: np.ndarray,
        dept_name: np.ndarray,
        a_prod: np.ndarray,
        a_variant: np.ndarray,
        a_colour: np.ndarray,
        a_graphic: np.ndarray,
    ) -> pl.DataFrame:
        """articles.csv in the published column order; names and descriptions composed from word lists."""
        types = V.PRODUCT_TYPES
        words = pl.DataFrame(
            {
                "model": _words(V.MODEL_NAMES, rng.integers(0, len(V.MODEL_NAMES), n_prod)),
                "mod": _words(V.NAME_MODIFIERS, rng.integers(0, len(V.NAME_MODIFIERS), n_prod)),
                "type": _words([t.name for t in types], p_type),
                "adj": _words(V.ADJECTIVES, rng.integers(0, len(V.ADJECTIVES), n_prod)),
                "mat": _words(V.MATERIALS, rng.integers(0, len(V.MATERIALS), n_prod)),
                "f1": _words(V.FEATURES, rng.integers(0, len(V.FEATURES), n_prod)),
                "f2": _words(V.FEATURES, rng.integers(0, len(V.FEATURES), n_prod)),
                "two": rng.random(n_prod) < 0.6,
                "missing": rng.random(n_prod) < 0.009,
            }
        )
        text = words.select(
            pl.when(pl.col("mod") == "")
            .then(pl.concat_str("model", "type", separator=" "))
            .otherwise(pl.concat_str("model", "mod", "type", separator=" "))
            .alias("prod_name"),
            pl.when(pl.col("missing"))
            .then(None)
            .when(pl.col("two") & (pl.col("f1") != pl.col("f2")))
            .then(
                pl.concat_str(
                    pl.col("adj"),
                    pl.lit(" "),
                    pl.col("type").str.to_lowercase(),
                    pl.lit(" in "),
                    pl.col("mat"),
                    pl.lit(" with "),
                    pl.col("f1"),
                    pl.lit(" and "),
                    pl.col("f2"),
                    pl.lit("."),
                )
            )
            .otherwise(
                pl.concat_str(
                    pl.col("adj"),
                    pl.lit(" "),
                    pl.col("type").str.to_lowercase(),
                    pl.lit(" in "),
                    pl.col("mat"),
                    pl.lit(" with "),
                    pl.col("f1"),
                    pl.lit("."),
                )
            )
            .alias("detail_desc"),
        )
        sec = V.SECTIONS
        idx = V.INDICES
        ig = dict(V.INDEX_GROUPS)
        colours = V.COLOURS
        a_index = p_index[a_prod]
        a_section = p_section[a_prod]
        a_gg = p_gg[a_prod]
        a_type = p_type[a_prod]
        code = p_code[a_prod]

        def pick(table: list[Any], positions: np.ndarray, dtype: Any) -> pl.Series:
            return pl.Series(table).cast(dtype).gather(positions)

        ga_no = [1010001 + j if g[0] != "Unknown" else -1 for j, g in enumerate(V.GRAPHICAL_APPEARANCES)]
        columns = {
            "article_id": pl.Series(code * 1000 + a_variant).cast(pl.String).str.zfill(10),
            "product_code": pl.Series(code, dtype=pl.Int64),
            "prod_name": text["prod_name"].gather(a_prod),
            "product_type_no": pick([t.no for t in types], a_type, pl.Int64),
            "product_type_name": pick([t.name for t in types], a_type, pl.String),
            "product_group_name": pick([t.group for t in types], a_type, pl.String),
            "graphical_appearance_no": pick(ga_no, a_graphic, pl.Int64),
            "graphical_appearance_name": pick([g[0] for g in V.GRAPHICAL_APPEARANCES], a_graphic, pl.String),
            "colour_group_code": pick([c[0] for c in colours], a_colour, pl.Int64),
            "colour_group_name": pick([c[1] for c in colours], a_colour, pl.String),
            "perceived_colour_value_id": pick([c[2] for c in colours], a_colour, pl.Int64),
            "perceived_colour_value_name": pick([V.PERCEIVED_VALUES[c[2]] for c in colours], a_colour, pl.String),
            "perceived_colour_master_id": pick([c[3] for c in colours], a_colour, pl.Int64),
            "perceived_colour_master_name": pick([V.PERCEIVED_MASTERS[c[3]] for c in colours], a_colour, pl.String),
            "department_no": pl.Series(dept_no[p_dept[a_prod]], dtype=pl.Int64),
            "department_name": pl.Series(list(dept_name), dtype=pl.String).gather(p_dept[a_prod]),
            "index_code": pick([x.code for x in idx], a_index, pl.String),
            "index_name": pick([x.name for x in idx], a_index, pl.String),
            "index_group_no": pick([x.group for x in idx], a_index, pl.Int64),
            "index_group_name": pick([ig[x.group] for x in idx], a_index, pl.String),
            "section_no": pick([s[0] for s in sec], a_section, pl.Int64),
            "section_name": pick([s[1] for s in sec], a_section, pl.String),
            "garment_group_no": pick([g[0] for g in V.GARMENT_GROUPS], a_gg, pl.Int64),
            "garment_group_name": pick([g[1] for g in V.GARMENT_GROUPS], a_gg, pl.String),
            "detail_desc": text["detail_desc"].gather(a_prod),
        }
        frame = pl.DataFrame([s.alias(name) for name, s in columns.items()])
        assert tuple(frame.columns) == ARTICLE_COLUMNS
        return frame

    # ------------------------------------------------------------------------------ customers
    def _customers(self, arts: _Articles) -> _Customers:
        rng = self.rng_customers
        n = self.plan.n_customers
        days = self.n_days
        segs = V.SEGMENTS
        share = np.array([s.share for s in segs])
        segment = _sample(rng, share / share.sum(), n)
        age_mean = np.array([s.age_mean for s in segs])[segment]
        age_sd = np.array([s.age_sd for s in segs])[segment]
        age = np.clip(np.round(rng.normal(age_mean, age_sd)), 16, 99).astype(np.int64)
        age_missing = rng.random(n) < 0.01156
        # --- membership fields: exact shares (a permutation of fixed counts), rare values kept when n allows
        club_values = ["ACTIVE", "PRE-CREATE", "LEFT CLUB", None]
        club_codes = _allocate(rng, n, [0.92747, 0.06776, 0.00034, 0.00442], rare_min=1000)
        news_values = ["NONE", "Regularly", "Monthly", "None", None]
        news_codes = _allocate(rng, n, [0.63973, 0.34797, 0.000614, 0.0000015, 0.011668], rare_min=1000)
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
        week_factor = self._week_factor(rate, join, last_active, first_day)
        rho = rng.beta(*RHO_BETA, n)
        fav_weight = rng.beta(*FAVOURITE_BETA, n)
        online_mean = np.array([s.online for s in segs])[segment]
        online = rng.beta(online_mean * 2.5, (1 - online_mean) * 2.5)
        # favourites: sub-categories (category x colour master), from the segment's static mix (taste x
        # all-time popularity mass of the category), then a colour by the segment's taste-weighted mass
        mass = np.zeros(arts.category_group.size)
        np.add.at(mass, arts.category, arts.base)
        static_mix = self._mix(arts.category_taste * mass[None, :] ** CATEGORY_ETA, arts.category_group)
        n_sub = arts.sub_count.size
        sub_mass = np.stack(
            [np.bincount(arts.subcategory, weights=row * arts.base, minlength=n_sub) for row in arts.static]
        )
        cat_mass = np.stack([np.bincount(arts.sub_category, weights=row) for row in sub_mass])
        sub_mix = static_mix[:, arts.sub_category] * sub_mass / cat_mass[:, arts.sub_category]
        favourites = _sample_rows(rng, sub_mix, segment, (n, N_FAVOURITES))
        # --- public fields
        ids = _hex_ids(self.rng_ids, n)
        n_postal = max(1, round(n * 0.2572))
        postal_ids = _hex_ids(self.rng_ids, n_postal)
        postal_w = rng.lognormal(0.0, 1.0, n_postal)
        postal = _sample(rng, postal_w / postal_w.sum(), n)
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
        return _Customers(
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
        self, rate: np.ndarray, join: np.ndarray, last_active: np.ndarray, first_day: np.ndarray
    ) -> np.ndarray:
        """Per week, the visits per unit of rate and 7 active days that make the week's expected rows follow
        the season exactly and add up to the plan: the volume does not depend on how many customers are
        alive (no warm-up while the first members churn and new ones join)."""
        days, n_weeks = self.n_days, self.plan.n_weeks
        week_len = self.week_hi - self.week_lo + 1
        day_week = np.repeat(np.arange(n_weeks), week_len)
        delta = np.bincount(join, weights=rate, minlength=days + 1) - np.bincount(
            last_active + 1, weights=rate, minlength=days + 1
        )
        alive_rate = np.bincount(day_week, weights=np.cumsum(delta)[:days], minlength=n_weeks) / 7.0
        firsts = np.bincount(day_week[first_day[first_day >= 0]], minlength=n_weeks)
        season = self._season()
        share = season * week_len / float((season * week_len).sum())
        total = share * self.plan.rows / (ITEMS_PER_VISIT * ROWS_PER_ITEM)
        wanted = np.maximum(total - firsts, 0.2 * total)
        return wanted / np.maximum(alive_rate * season, 1e-12)

    @staticmethod
    def _mix(weight: np.ndarray, category_group: np.ndarray) -> np.ndarray:
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

    # ------------------------------------------------------------------------------ weeks
    def _simulate(
        self, arts: _Articles, custs: _Customers, handle: Any, tick: Callable[[str], None]
    ) -> tuple[dict[str, Any], dict[str, Any]]:
        plan = self.plan
        n_cust = plan.n_customers
        n_art = plan.n_articles
        season = self._season()
        type_season = self._type_season()
        cat_order, cat_start = arts.cat_order, arts.cat_start
        static_sorted = arts.static[:, cat_order]
        weekday = (np.arange(self.n_days) + self.start_ordinal - 1) % 7  # date.toordinal()=1 is a Monday
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
            rng = np.random.Generator(np.random.PCG64(self.week_streams[w]))
            lo, hi = int(self.week_lo[w]), int(self.week_hi[w])
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
            u_fav = u_sorted**FAV_ALPHA  # flatter within a favourite: a favourite is not one article
            mass = np.add.reduceat(u_sorted, cat_start, axis=1)  # (S, G), > 0: every category sells from day 0
            taste = arts.category_taste * type_season[w][arts.category_type][None, :]
            mix = self._mix(taste * mass**CATEGORY_ETA, arts.category_group)
            week_price = self._week_prices(rng, arts, mid)
            # --- who visits, when, how
            alive = (custs.join <= hi) & (custs.leave >= lo) & (custs.rate > 0)
            act = np.flatnonzero(alive)
            overlap = np.minimum(hi, custs.leave[act]) - np.maximum(lo, custs.join[act]) + 1
            mean_visits = custs.rate[act] * season[w] * custs.week_factor[w] * overlap / 7.0
            first = (custs.first_day >= lo) & (custs.first_day <= hi)
            if w == plan.n_weeks - 1:
                truth = self._truth(
                    arts,
                    custs,
                    act,
                    mean_visits,
                    first,
                    mix,
                    u_sorted,
                    mass,
                    cat_order,
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
            v_day = span[
                np.minimum(np.searchsorted(days_cum, rng.random(n_random) * days_cum[-1], "right"), span.size - 1)
            ]
            v_day = np.clip(v_day, custs.join[v_cust[:n_random]], custs.leave[v_cust[:n_random]])
            v_day = np.concatenate([v_day, custs.first_day[v_cust[n_random:]]])
            v_channel = np.where(rng.random(v_cust.size) < custs.online[v_cust], 2, 1).astype(np.int8)
            n_items = 1 + rng.poisson(BASKET_EXTRA, v_cust.size)
            i_cust = np.repeat(v_cust, n_items)
            i_day = np.repeat(v_day, n_items)
            i_channel = np.repeat(v_channel, n_items)
            i_art = self._items(rng, arts, custs, i_cust, mix, u_sorted, u_fav, buf, ptr, filled)
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
            self._remember(i_cust, i_day, i_art, buf, ptr, filled)
            tick(f"{rows_total:,} rows")
        stats = {"rows": rows_total, "buyers": int(bought.sum()), "top_final": top_final}
        return stats, truth

    @staticmethod
    def _week_prices(rng: np.random.Generator, arts: _Articles, mid: float) -> np.ndarray:
        """Price units of every article this week: articles older than six weeks are sometimes on sale."""
        n = arts.price_units.size
        sale = ((mid - arts.launch) > 42) & (rng.random(n) < 0.3)
        factor = np.where(sale, rng.choice(np.array([0.5, 0.6, 0.7, 0.8]), n), 1.0)
        return np.maximum(1, np.round(arts.price_units * factor)).astype(np.int64)

    def _items(
        self,
        rng: np.random.Generator,
        arts: _Articles,
        custs: _Customers,
        i_cust: np.ndarray,
        mix: np.ndarray,
        u_sorted: np.ndarray,
        u_fav: np.ndarray,
        buf: np.ndarray,
        ptr: np.ndarray,
        filled: np.ndarray,
    ) -> np.ndarray:
        """The article of every item: driven by a remembered purchase (the same article, another colour of
        its product, a co-purchase partner), or new: a favourite sub-category or a category of the segment's
        mix, then an article of it."""
        n_items = i_cust.size
        out = np.empty(n_items, dtype=np.int64)
        has_history = filled[i_cust] > 0
        repeat = has_history & (rng.random(n_items) < custs.rho[i_cust])
        # --- repeats: one of the last purchases; the same article or another colour of its product
        r = np.flatnonzero(repeat)
        rc = i_cust[r]
        back = _recency_draw(rng.random(r.size), filled[rc])
        past = buf[rc, (ptr[rc] - 1 - back) % HISTORY].astype(np.int64)
        prod = arts.product[past]
        n_colours = arts.product_count[prod]
        kind = rng.random(r.size)
        other = (kind >= SAME_ARTICLE) & (kind < SAME_ARTICLE + OTHER_COLOUR) & (n_colours > 1)
        partner = kind >= SAME_ARTICLE + OTHER_COLOUR
        pick = arts.product_start[prod] + np.floor(rng.random(r.size) * np.maximum(n_colours - 1, 1)).astype(np.int64)
        pick += pick >= past  # skip the article itself
        mate = arts.partners[past, rng.integers(0, N_PARTNERS, r.size)]
        out[r] = np.where(partner, mate, np.where(other, pick, past))
        # --- new items: a favourite category or one from the segment's mix, then an article of it; a draw
        # that lands on one of the customer's remembered purchases is drawn once more (novelty: a new item is
        # rarely one already owned, so a customer's own past articles come back mostly through the history)
        nw = np.flatnonzero(~repeat)
        nc = i_cust[nw]
        # one cumulative sum over both weightings: u for the mix's categories, u ** FAV_ALPHA for favourites
        cum = np.cumsum(u_sorted.ravel())
        flat = np.concatenate([[0.0], cum, cum[-1] + np.cumsum(u_fav.ravel())])
        drawn = self._draw_new(rng, arts, custs, nc, mix, flat, u_sorted.size)
        slots = np.arange(HISTORY)[None, :] < filled[nc][:, None]
        owned = ((buf[nc] == drawn[:, None]) & slots).any(axis=1)
        again = np.flatnonzero(owned)
        drawn[again] = self._draw_new(rng, arts, custs, nc[again], mix, flat, u_sorted.size)
        out[nw] = drawn
        return out

    @staticmethod
    def _draw_new(
        rng: np.random.Generator,
        arts: _Articles,
        custs: _Customers,
        nc: np.ndarray,
        mix: np.ndarray,
        flat: np.ndarray,
        n_cells: int,
    ) -> np.ndarray:
        """One new-item article for each customer row in ``nc``: a favourite sub-category (weight ``f_c``) or a
        category of the segment's mix, then an article of it from the cumulative weights ``flat``."""
        n_art = arts.base.size
        seg = custs.segment[nc]
        fav = rng.random(nc.size) < custs.fav_weight[nc]
        cat = np.empty(nc.size, dtype=np.int64)
        sub = custs.favourites[nc[fav], rng.integers(0, N_FAVOURITES, int(fav.sum()))]
        cat[~fav] = _sample_rows(rng, mix, seg[~fav], (int((~fav).sum()),))
        block_start = np.empty(nc.size, dtype=np.int64)
        block_count = np.empty(nc.size, dtype=np.int64)
        block_start[fav], block_count[fav] = arts.sub_start[sub], arts.sub_count[sub]
        block_start[~fav], block_count[~fav] = arts.cat_start[cat[~fav]], arts.cat_count[cat[~fav]]
        base = seg * n_art + fav * n_cells
        first = base + block_start
        last = first + block_count
        low, high = flat[first], flat[last]
        pos = np.searchsorted(flat, low + rng.random(nc.size) * (high - low), "right") - 1
        pos = np.clip(pos, first, last - 1)
        return np.asarray(arts.cat_order[pos - base], dtype=np.int64)

    @staticmethod
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

    # ------------------------------------------------------------------------------ truth
    def _truth(
        self,
        arts: _Articles,
        custs: _Customers,
        act: np.ndarray,
        mean_visits: np.ndarray,
        first: np.ndarray,
        mix: np.ndarray,
        u_sorted: np.ndarray,
        mass: np.ndarray,
        cat_order: np.ndarray,
        buf: np.ndarray,
        ptr: np.ndarray,
        filled: np.ndarray,
        window: tuple[int, int],
    ) -> dict[str, Any]:
        """The exact ingredients of the final week's distribution, taken right before it is sampled."""
        n_cust = self.plan.n_customers
        visits = first.astype(np.float64)
        visits[act] += mean_visits
        q = np.empty_like(u_sorted)
        q[:, cat_order] = u_sorted / mass[:, arts.category[cat_order]]
        p_seg = mix[:, arts.category] * q
        u_fav = u_sorted**FAV_ALPHA
        sub_mass = np.add.reduceat(u_fav, arts.sub_start, axis=1)
        q_fav = np.empty_like(u_sorted)
        q_fav[:, cat_order] = u_fav / sub_mass[:, arts.subcategory[cat_order]]
        lo, hi = window
        return {
            "window": (self.plan.start + dt.timedelta(days=lo), self.plan.start + dt.timedelta(days=hi)),
            "expected_rows": visits * ITEMS_PER_VISIT * ROWS_PER_ITEM,
            # newest first: slot k holds the k-th most recent remembered purchase
            "history": np.take_along_axis(buf, (ptr[:, None] - 1 - np.arange(HISTORY)[None, :]) % HISTORY, axis=1),
            "filled": filled.astype(np.int8),
            "q_fav": q_fav,
            "p_seg": p_seg,
            "n_customers": n_cust,
        }

    def _write_truth(self, directory: Path, truth: dict[str, Any], arts: _Articles, custs: _Customers) -> None:
        """truth/truth.npz (the arrays of :class:`_Truth`) and truth/truth.json (window and constants)."""
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
            subcategory=arts.subcategory.astype(np.int32),
            partners=arts.partners.astype(np.int32),
            product=arts.product.astype(np.int32),
            product_start=arts.product_start.astype(np.int32),
            product_count=arts.product_count.astype(np.int32),
        )
        lo, hi = truth["window"]
        meta = {
            "window_start": lo.isoformat(),
            "window_end": hi.isoformat(),
            "same_article": SAME_ARTICLE,
            "other_colour": OTHER_COLOUR,
            "partner": PARTNER,
            "n_favourites": N_FAVOURITES,
            "novelty": True,
            "repeat_decay": REPEAT_DECAY,
            "history": HISTORY,
            "segments": [s.name for s in V.SEGMENTS],
            "customers": self.plan.n_customers,
            "articles": self.plan.n_articles,
            "seed": self.plan.seed,
        }
        (directory / TRUTH_META).write_text(json.dumps(meta, indent=2) + "\n")


# =================================================================================== the truth, read back
@dataclass(frozen=True, eq=False)
class _Truth:
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
    subcategory: np.ndarray
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
        """Articles grouped by sub-category: (article rows, start of each, size of each)."""
        order = np.argsort(self.subcategory, kind="stable")
        count = np.bincount(self.subcategory, minlength=int(self.subcategory.max()) + 1)
        return order, np.cumsum(count) - count, count

    def new_part_dense(self, rows: np.ndarray) -> np.ndarray:
        """(n, articles) float32: ``N_c(a)``, the first draw ``p_c(a) = (1 - f) m_s(g_a) q_s(a) + f n_fav(c, h_a)
        / 3 q'_s(a)`` with the novelty redraw (:meth:`owned`) when the truth has one.

        The favourite term is added sparsely (only the articles of the three favourite sub-categories), so that
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
        n_fav = (self.favourites[cust] == self.subcategory[arts][:, None]).sum(axis=1)
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
        weight = _recency_weights(slot, m[pos], self.repeat_decay)
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
        """Per segment: the ``k`` best articles by ``m_s q_s`` (S, k); per segment and sub-category: the ``k``
        best by ``q'_s`` (S, H, k), -1 padded. Ties go to the lower article row."""
        n_seg, n_art = self.p_seg.shape
        n_cat = int(self.subcategory.max()) + 1
        idx = np.arange(n_art)
        k_seg = min(k, n_art)
        seg_top = np.empty((n_seg, k_seg), dtype=np.int64)
        cat_top = np.full((n_seg, n_cat, k), -1, dtype=np.int64)
        for s in range(n_seg):  # a loop over segments
            seg_top[s] = np.lexsort((idx, -self.p_seg[s]))[:k_seg]
            order = np.lexsort((idx, -self.q_fav[s], self.subcategory))
            cats = self.subcategory[order]
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


def generated_version(data_dir: Path) -> int | None:
    """The generator version that wrote ``data_dir`` (0 for data written before versions were recorded), or
    None if the generator did not write it (no readable marker)."""
    try:
        marker = json.loads((Path(data_dir) / MARKER_FILE).read_text())
    except (OSError, ValueError):
        return None
    if not isinstance(marker, dict):
        return None
    version = marker.get("version", 0)
    return version if isinstance(version, int) else None


def _load_truth(data_dir: Path) -> _Truth:
    path = _truth_dir(data_dir)
    stamp = (path / TRUTH_ARRAYS).stat().st_mtime_ns
    return _load_truth_cached(str(path.resolve()), stamp)


@functools.lru_cache(maxsize=2)
def _load_truth_cached(path: str, stamp: int) -> _Truth:
    """Read once per file version: true_scores is called block by block."""
    meta = json.loads((Path(path) / TRUTH_META).read_text())
    with np.load(Path(path) / TRUTH_ARRAYS) as z:
        arrays = {name: z[name] for name in z.files}
    return _Truth(
        same_article=float(meta["same_article"]),
        other_colour=float(meta["other_colour"]),
        partner=float(meta["partner"]),
        n_favourites=int(meta["n_favourites"]),
        novelty=bool(meta.get("novelty", False)),  # truths written before the redraw existed have none
        repeat_decay=float(meta.get("repeat_decay", 1.0)),  # ... nor the recency weights (uniform)
        **arrays,
    )


# ======================================================================================== helpers
def _recency_weights(back: np.ndarray, m: np.ndarray, decay: float) -> np.ndarray:
    """Probability of the ``back``-th most recent (0: the newest) of ``m`` remembered purchases:
    ``decay ** back`` normalized over the ``m`` (uniform ``1 / m`` when ``decay`` is 1)."""
    if decay == 1.0:
        return 1.0 / m
    return np.power(decay, back) * (1.0 - decay) / (1.0 - np.power(decay, m))


def _recency_draw(u: np.ndarray, m: np.ndarray) -> np.ndarray:
    """Inverse CDF of :func:`_recency_weights` with REPEAT_DECAY: how far back (0: the newest) each draw goes,
    for uniforms ``u`` and ``m`` remembered purchases."""
    m = m.astype(np.int64)
    if REPEAT_DECAY == 1.0:
        return np.minimum(np.floor(u * m).astype(np.int64), m - 1)
    back = np.floor(np.log1p(-u * (1.0 - REPEAT_DECAY ** m.astype(np.float64))) / math.log(REPEAT_DECAY))
    return np.clip(back.astype(np.int64), 0, m - 1)


def _normalize(w: np.ndarray) -> np.ndarray:
    return w / w.sum()


def _sample(rng: np.random.Generator, p: np.ndarray, size: int) -> np.ndarray:
    """``size`` draws from the categorical distribution ``p`` (inverse CDF)."""
    cum = np.cumsum(p)
    return np.minimum(np.searchsorted(cum, rng.random(size) * cum[-1], "right"), p.size - 1)


def _sample_rows(rng: np.random.Generator, weights: np.ndarray, rows: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """One draw per element of ``shape`` from the categorical row ``weights[rows]`` (rows broadcast over the
    trailing axes): one searchsorted in the flat cumulative sum of all rows."""
    n_rows, n_cols = weights.shape
    flat = np.concatenate([[0.0], np.cumsum(weights.ravel())])
    row = np.broadcast_to(rows.reshape(rows.shape + (1,) * (len(shape) - rows.ndim)), shape)
    low = flat[row * n_cols]
    high = flat[(row + 1) * n_cols]
    pos = np.searchsorted(flat, low + rng.random(shape) * (high - low), "right") - 1
    return np.clip(pos, row * n_cols, (row + 1) * n_cols - 1) - row * n_cols


def _allocate(rng: np.random.Generator, n: int, shares: list[float], rare_min: int) -> np.ndarray:
    """``n`` category codes with fixed counts ``floor(share * n)`` (at least one of each when
    ``n >= rare_min``, so that rare values exist), the rest given to code 0, in random order."""
    counts = [int(share * n) for share in shares]
    if n >= rare_min:
        counts = [max(c, 1) for c in counts]
    counts[0] = n - sum(counts[1:])
    return np.repeat(np.arange(len(shares)), counts)[rng.permutation(n)]


_HEX = np.array([f"{i:02x}".encode() for i in range(256)], dtype="S2")


def _hex_ids(rng: np.random.Generator, n: int) -> pl.Series:
    """``n`` random 64-character lowercase hex ids (32 random bytes each)."""
    raw = rng.integers(0, 256, (n, 32), dtype=np.uint8)
    packed = np.ascontiguousarray(_HEX[raw]).view("S64").ravel()
    return pl.Series(packed).cast(pl.String)


def _words(words: Any, positions: np.ndarray) -> pl.Series:
    """A String Series of ``words[positions]``."""
    return pl.Series(list(words), dtype=pl.String).gather(positions)


def _write_csv(frame: pl.DataFrame, path: Path) -> None:
    frame.write_csv(path)


def _atomic_text(path: Path, text: str) -> None:
    write_atomic(path, text)
