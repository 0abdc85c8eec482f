"""A run's plan (the arguments checked and the preset resolved) and its calendar."""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from hmrec.errors import ParameterError
from hmrec.synthetic import _vocab as V
from hmrec.synthetic.constants import FULL_END, FULL_START, MARKER_FILE, OWN_ENTRIES, TRUTH_DAYS


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


@dataclass(frozen=True)
class Plan:
    """One run's resolved arguments: where, which preset and seed, how many customers, articles and rows, which days."""

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


def make_plan(
    out: Path,
    scale: str,
    seed: int,
    customers: int | None,
    articles: int | None,
    start: dt.date | None,
    end: dt.date | None,
) -> Plan:
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
    check_out(out)
    return Plan(out, scale, int(seed), n_customers, n_articles, rows, start_date, end_date)


def check_out(out: Path) -> None:
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


class Calendar:
    """The days and weeks of a run: week ``w`` covers days ``[week_lo[w], week_hi[w]]`` (day indices from the
    plan's start); the last week is the truth window. The season of the volume and of the product types."""

    def __init__(self, plan: Plan) -> None:
        self.plan = plan
        self.n_days = plan.n_days
        self.start_ordinal = plan.start.toordinal()
        hi = self.n_days - 1 - TRUTH_DAYS * np.arange(plan.n_weeks)[::-1]
        self.week_hi = hi
        self.week_lo = np.maximum(hi - (TRUTH_DAYS - 1), 0)

    def day_of_year(self, days: np.ndarray) -> np.ndarray:
        """Day of year (0-based, fractional allowed) of day indices."""
        jan1 = dt.date(self.plan.start.year, 1, 1).toordinal()
        return (days + self.start_ordinal - jan1) % 365.25

    def season(self) -> np.ndarray:
        """Volume multiplier per week: a summer high, a winter low and a late-November sale."""
        mid = (self.week_lo + self.week_hi) / 2.0
        doy = self.day_of_year(mid)
        season = 1.0 + 0.15 * np.sin(2 * np.pi * (doy - 100) / 365.25)
        season += 0.35 * np.exp(-0.5 * ((doy - 330) / 5.0) ** 2)
        return season

    def type_season(self) -> np.ndarray:
        """(weeks, product types) multiplier: summer types peak mid-year, winter types around the new year."""
        mid = (self.week_lo + self.week_hi) / 2.0
        wave = np.sin(2 * np.pi * (self.day_of_year(mid) - 110) / 365.25)[:, None]
        kind = np.array([t.season for t in V.PRODUCT_TYPES])
        out = np.ones((mid.size, kind.size))
        out = np.where(kind == "s", np.maximum(1.0 + 0.8 * wave, 0.15), out)
        out = np.where(kind == "w", np.maximum(1.0 - 0.7 * wave, 0.15), out)
        return out


class Streams:
    """The independent random streams of one run, spawned from its seed: each stage draws from its own, so
    that one stage's draws do not shift another's."""

    def __init__(self, plan: Plan) -> None:
        streams = np.random.SeedSequence(plan.seed).spawn(5)
        self.articles = np.random.Generator(np.random.PCG64(streams[0]))
        self.customers = np.random.Generator(np.random.PCG64(streams[1]))
        self.segments = np.random.Generator(np.random.PCG64(streams[2]))
        self.weeks = streams[3].spawn(plan.n_weeks)
        self.ids = np.random.Generator(np.random.PCG64(streams[4]))


def make_reference_plan(out: Path) -> Plan:
    """``small``, seed 0, as it is: the catalogue that worlds measure their favourite keys on."""
    spec = SCALES["small"]
    return Plan(out, "small", 0, spec.customers, spec.articles, spec.rows, spec.start, spec.end)
