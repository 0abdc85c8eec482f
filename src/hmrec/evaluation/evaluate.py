"""The evaluation loop: fit every model on the past, score it on the following week, build a leaderboard.

For each test window (one, or ``backtest`` consecutive ones) and each model, :func:`evaluate`

1. cuts the data with :func:`hmrec.data.split.split_at` (nothing from the test window reaches ``fit``);
2. creates the model with ``create(name, **params[name])`` and times ``fit(train)``;
3. times ``recommend(customers, max(k, curve_k))`` for the customers who bought in the test window (only
   they are scored, the competition's rule, so nobody else needs a list);
4. computes MAP/precision/recall/hit rate/NDCG at ``k``, catalogue coverage at ``k``, the per-segment
   breakdown and recall@j for ``j = 1..curve_k`` (how deep a candidate list must go to find the purchases),
   then drops the recommendations before the next model runs.

A model whose ``fit`` raises :class:`ParameterError` (it cannot run on this window, e.g. the ``oracle`` only
knows the final week) is recorded as skipped for that window instead of stopping the run.

With ``backtest > 1`` a model's leaderboard row is the mean over the windows it ran on (each window weighs
the same), with the sample standard deviation across windows in ``<metric>_std``; the per-window rows are
kept in :attr:`Leaderboard.weeks`.

Each row also says how much of its MAP@k is noise (:mod:`hmrec.evaluation.intervals`): a bootstrap
confidence interval over the scored customers (``map_at_k_low``, ``map_at_k_high``; with backtest the
customers of each window are resampled and the windows averaged, as the point estimate is) and the paired
difference to a baseline model (``map_diff = MAP(model) - MAP(baseline)``, its interval ``map_diff_low``,
``map_diff_high``, and ``map_diff_excludes_zero``: whether the data can tell the two apart). The baseline is
the best model that does not read the generator's truth (not the oracle) unless one is given.
"""

from __future__ import annotations

import datetime as dt
import importlib.util
import json
import math
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import polars as pl
from rich.console import Console
from rich.table import Table

from hmrec.atomic import staged_dir, write_atomic
from hmrec.data.dataset import Dataset
from hmrec.data.split import Window, split_at, windows
from hmrec.errors import ParameterError, UnknownModelError
from hmrec.evaluation.intervals import (
    DEFAULT_CONFIDENCE,
    DEFAULT_RESAMPLES,
    INTERVAL_FIELDS,
    INTERVAL_SCHEMA,
    check_confidence,
    check_resamples,
    interval_cells,
    map_intervals,
    missing,
)
from hmrec.evaluation.segments import SEGMENT_SCHEMA, combine_segments, customer_segments, segment_breakdown
from hmrec.metrics import (
    METRICS,
    coverage,
    curve_from_hits,
    hit_matrix,
    rows_from_hits,
    truth_counts,
)
from hmrec.models._kernels import compile_kernels
from hmrec.models.base import MAX_K, Recommender, check_k, check_memory, seed_params
from hmrec.models.scoring import FactorRecommender
from hmrec.progress import console
from hmrec.registry import available, create

if TYPE_CHECKING:  # the engines import the models, which import this package
    from hmrec.engines.base import Engine

#: the quality columns of a leaderboard row (those that get a ``_std`` with backtest)
QUALITY = (*METRICS, "coverage")
TIMING = ("fit_seconds", "recommend_seconds")
#: columns of a leaderboard row, in the order of the JSON and the CSV: MAP@k and its intervals come first
ROW_FIELDS = ("model", "map_at_k", *INTERVAL_FIELDS, *QUALITY[1:], *TIMING)
WEEK_FIELDS = ("model", "train_end", "test_start", "test_end", "customers_scored", *QUALITY, *TIMING)
DEFAULT_CURVE_K = 100

WEEK_SCHEMA: dict[str, pl.DataType] = {
    "model": pl.String(),
    "train_end": pl.Date(),
    "test_start": pl.Date(),
    "test_end": pl.Date(),
    "customers_scored": pl.Int64(),
    **{name: pl.Float64() for name in (*QUALITY, *TIMING)},
}
CURVE_SCHEMA: dict[str, pl.DataType] = {"model": pl.String(), "k": pl.Int64(), "recall": pl.Float64()}
SKIPPED_SCHEMA: dict[str, pl.DataType] = {
    "model": pl.String(),
    "test_start": pl.Date(),
    "reason": pl.String(),
}


@dataclass
class Leaderboard:
    """Results of :func:`evaluate`.

    Attributes:
        k: the cut-off of the metrics.
        train_end, test_start, test_end: the split's dates; with backtest the span of all windows
            (``test_start`` of the oldest, ``test_end`` of the newest, ``train_end`` of the oldest).
        customers_scored: customers who bought in the test window (summed over windows with backtest).
        weeks: one row per (model, window) that ran: ``WEEK_FIELDS``.
        segments: the segment breakdown (:mod:`hmrec.evaluation.segments`), pooled over windows.
        recall_curve: ``model, k, recall`` for ``k = 1..curve_k`` (mean over windows).
        skipped: ``model, test_start, reason`` for each model that could not run on a window.
        backtest: the number of windows.
        customer_ap: per window (by ``test_start``), each model's AP@k per scored customer (aligned within a
            window): what the intervals resample.
        intervals: ``model`` and ``INTERVAL_FIELDS`` (:func:`hmrec.evaluation.intervals.map_intervals`),
            empty until :meth:`with_intervals` computed them.
        baseline: the reference model of ``map_diff`` (None before :meth:`with_intervals`, or when the baseline
            asked for did not run: then the differences are null).
        interval_settings: ``confidence``, ``resamples``, ``seed`` and the ``baseline`` asked for (written to the
            JSON as ``intervals``); empty before :meth:`with_intervals`.
    """

    k: int
    train_end: dt.date
    test_start: dt.date
    test_end: dt.date
    customers_scored: int
    weeks: pl.DataFrame
    segments: pl.DataFrame = field(default_factory=lambda: pl.DataFrame(schema=SEGMENT_SCHEMA))
    recall_curve: pl.DataFrame = field(default_factory=lambda: pl.DataFrame(schema=CURVE_SCHEMA))
    skipped: pl.DataFrame = field(default_factory=lambda: pl.DataFrame(schema=SKIPPED_SCHEMA))
    backtest: int = 1
    #: tables a model reports about itself (``model.diagnostics(customers, truth)``, e.g. the ranker's candidate
    #: recall and feature importance), by table name, with ``model`` and ``test_start`` columns; written as CSV
    diagnostics: dict[str, pl.DataFrame] = field(default_factory=dict)
    customer_ap: dict[dt.date, dict[str, np.ndarray]] = field(default_factory=dict)
    intervals: pl.DataFrame = field(default_factory=lambda: pl.DataFrame(schema=INTERVAL_SCHEMA))
    baseline: str | None = None
    interval_settings: dict[str, Any] = field(default_factory=dict)

    # ------------------------------------------------------------------ intervals
    def default_baseline(self) -> str:
        """The best model that does not read the generator's truth (the oracle is an upper bound, not a
        competitor); the best model of all when only such models ran."""
        registry = available()
        upper = [name for name in self.weeks["model"].unique().to_list()
                 if name in registry and registry[name].needs_truth]
        try:
            return self.best_model(exclude=upper)
        except ParameterError:
            return self.best_model()

    def with_intervals(
        self,
        baseline: str | None = None,
        *,
        resamples: int = DEFAULT_RESAMPLES,
        confidence: float = DEFAULT_CONFIDENCE,
        seed: int = 0,
    ) -> Leaderboard:
        """A copy with the bootstrap intervals and the paired differences to ``baseline`` (default:
        :meth:`default_baseline`), computed from :attr:`customer_ap`; ``seed`` makes them reproducible.

        A ``baseline`` that ran on no window leaves the differences null (the caption of the table says so).
        """
        resamples = check_resamples(resamples)
        confidence = check_confidence(confidence)
        weeks = [week for week in self.customer_ap.values() if week]
        if not weeks:
            return self
        ran = {name for week in weeks for name in week}
        reference = baseline if baseline is not None else self.default_baseline()
        frame = map_intervals(
            weeks, reference if reference in ran else next(iter(weeks[0])),
            n_resamples=resamples, confidence=confidence, seed=seed,
        )
        if reference not in ran:
            frame = frame.with_columns(
                [pl.lit(None, dtype=INTERVAL_SCHEMA[name]).alias(name) for name in INTERVAL_FIELDS[2:]]
            )
        settings = {"confidence": confidence, "resamples": resamples, "seed": seed}
        return replace(self, intervals=frame, baseline=reference if reference in ran else None,
                       interval_settings={**settings, "baseline": reference})

    # ------------------------------------------------------------------ tables
    def to_frame(self) -> pl.DataFrame:
        """One row per model (``ROW_FIELDS``, plus ``<metric>_std`` with backtest), best MAP@k first."""
        if self.weeks.height == 0:
            schema = {name: INTERVAL_SCHEMA.get(name, pl.Float64()) for name in ROW_FIELDS}
            return pl.DataFrame(schema=schema)
        aggs: list[pl.Expr] = [pl.col(name).mean() for name in (*QUALITY, *TIMING)]
        if self.backtest > 1:
            aggs += [pl.col(name).std(ddof=1).alias(f"{name}_std") for name in QUALITY]
        order = {m: i for i, m in enumerate(dict.fromkeys(self.weeks["model"].to_list()))}
        frame = self.weeks.group_by("model").agg(aggs)
        frame = frame.join(self.intervals.cast(INTERVAL_SCHEMA), on="model", how="left")  # type: ignore[arg-type]
        frame = frame.with_columns(
            pl.col("model").replace_strict(order, return_dtype=pl.Int64).alias("_order")
        )
        # best first; ties keep the order the models were given in
        frame = frame.sort(["map_at_k", "_order"], descending=[True, False], nulls_last=True).drop("_order")
        columns = list(ROW_FIELDS) + ([f"{name}_std" for name in QUALITY] if self.backtest > 1 else [])
        return frame.select(columns)

    def to_dict(self) -> dict[str, Any]:
        """The JSON document: dates as YYYY-MM-DD, NaN as null (shape documented in the module)."""
        out: dict[str, Any] = {
            "k": self.k,
            "train_end": self.train_end.isoformat(),
            "test_start": self.test_start.isoformat(),
            "test_end": self.test_end.isoformat(),
            "customers_scored": int(self.customers_scored),
            **({"intervals": dict(self.interval_settings)} if self.interval_settings else {}),
            "models": [_clean(row) for row in self.to_frame().iter_rows(named=True)],
        }
        if self.backtest > 1:
            out["weeks"] = [_clean(row) for row in self.weeks.select(WEEK_FIELDS).iter_rows(named=True)]
        if self.skipped.height:
            out["skipped"] = [_clean(row) for row in self.skipped.iter_rows(named=True)]
        return out

    def best_model(self, exclude: Sequence[str] = ()) -> str:
        """The model with the highest MAP@k, leaving out ``exclude`` (e.g. the oracle)."""
        frame = self.to_frame().filter(
            ~pl.col("model").is_in(list(exclude)) & pl.col("map_at_k").is_not_nan()
        )
        if frame.height == 0:
            raise ParameterError(
                "no model was evaluated successfully (fix: check the models and the test window)"
            )
        return str(frame["model"][0])

    def slowest(self, n: int = 3) -> list[tuple[str, float]]:
        """The ``n`` models that took longest, fitting and recommending summed over the windows, longest first
        (ties by name)."""
        totals = (
            self.weeks.group_by("model")
            .agg((pl.col("fit_seconds") + pl.col("recommend_seconds")).sum().alias("seconds"))
            .sort(["seconds", "model"], descending=[True, False])
            .head(n)
        )
        return [(str(m), float(t)) for m, t in totals.iter_rows()]

    # ------------------------------------------------------------------ output
    def write(self, out_dir: Path | str, *, report: bool = True) -> dict[str, Path]:
        """Write ``leaderboard.csv``, ``leaderboard.json``, ``segments.csv`` and ``recall_curve.csv``.

        The set is written into a temporary copy of ``out_dir`` that replaces it at the end
        (:func:`hmrec.atomic.staged_dir`): an interrupted run leaves the previous set whole, and the folder's
        other files (``hmrec cluster``'s ``elbow.png``, which the report embeds, or the user's) are kept.
        With ``report``, the results report is written too when :mod:`hmrec.reports.results` exists.
        Returns the paths written by name.
        """
        out = Path(out_dir)
        paths: dict[str, Path] = {}
        with staged_dir(out) as stage:
            for name, text in (
                ("leaderboard.csv", _csv(self.to_frame())),
                ("leaderboard.json", json.dumps(self.to_dict(), indent=2, allow_nan=False) + "\n"),
                ("segments.csv", _csv(self.segments)),
                ("recall_curve.csv", _csv(self.recall_curve)),
                *((f"{name}.csv", _csv(table)) for name, table in self.diagnostics.items()),
            ):
                write_atomic(stage / name, text)
                paths[name] = out / name
            if report:
                writer = results_report_writer()
                if writer is not None:
                    result = writer(self, stage)
                    if isinstance(result, (str, Path)):
                        paths["report"] = out / Path(result).relative_to(stage)
        return paths

    def render(self) -> Table:
        """The leaderboard as a rich table (``± std`` across windows with backtest), with the intervals.

        ``95% CI`` is MAP@k's interval; ``Δ vs BASELINE`` the paired difference to the baseline and ``Δ 95%
        CI`` its interval; ``differs`` says whether that interval excludes zero (``no``: not distinguishable).
        """
        k = self.k
        windows_note = f", {self.backtest} windows" if self.backtest > 1 else ""
        table = Table(
            title=f"Leaderboard: train until {self.train_end}, test {self.test_start} to {self.test_end}"
            f"{windows_note}, {self.customers_scored:,} customers scored",
            title_justify="left",
        )
        confidence = self.interval_settings.get("confidence", DEFAULT_CONFIDENCE)
        level = f"{100 * confidence:g}%"
        asked = self.interval_settings.get("baseline")
        headers = [f"MAP@{k}", f"{level} CI", f"Δ vs {asked or 'baseline'}", f"Δ {level} CI", "differs"]
        headers += [f"P@{k}", f"R@{k}", f"HR@{k}", f"NDCG@{k}", "coverage", "fit s", "rec s"]
        table.add_column("model", no_wrap=True)
        for header in headers:
            table.add_column(header, justify="right", no_wrap=True)
        for row in self.to_frame().iter_rows(named=True):
            cell = _fmt(row["map_at_k"], 4)
            std = row.get("map_at_k_std")
            if self.backtest > 1 and std is not None and not math.isnan(std):
                cell += f" ± {std:.4f}"
            cells = [str(row["model"]), cell, *interval_cells(row, self.baseline)]
            cells += [_fmt(row[name], 4 if name != "coverage" else 3) for name in QUALITY[1:]]
            cells += [_fmt(row["fit_seconds"], 2), _fmt(row["recommend_seconds"], 2)]
            table.add_row(*cells)
        notes = []
        if self.interval_settings:
            notes.append(
                f"CI: bootstrap over the scored customers ({self.interval_settings['resamples']} resamples, "
                f"seed {self.interval_settings['seed']}); Δ: paired difference of MAP@{k} to "
                + (f"{self.baseline}; differs = its CI excludes 0 (no: not distinguishable)" if self.baseline
                   else f"{asked}, which did not run, so there is none")
            )
        if self.skipped.height:
            per_model = self.skipped.group_by("model", "reason", maintain_order=True).agg(pl.len())
            notes.append("; ".join(
                f"{row['model']} skipped ({row['len']} of {self.backtest} window"
                f"{'s' if self.backtest > 1 else ''}): {row['reason']}"
                for row in per_model.iter_rows(named=True)
            ))
        if notes:
            table.caption = "\n".join(notes)
            table.caption_justify = "left"
        return table

    def __rich__(self) -> Table:
        return self.render()

    def print(self, console: Console | None = None) -> None:
        """Print the table (to stdout by default: it is the command's output, not a status line)."""
        if console is None:
            console = Console()
            if not console.is_terminal:  # piped or redirected: do not squeeze the table into 80 columns
                console = Console(width=200)
        console.print(self.render())


# ---------------------------------------------------------------------- the loop
def evaluate(
    dataset: Dataset,
    models: Sequence[str],
    *,
    k: int = 12,
    test_days: int = 7,
    test_end: dt.date | str | None = None,
    backtest: int = 1,
    params: Mapping[str, Mapping[str, Any]] | None = None,
    curve_k: int = DEFAULT_CURVE_K,
    progress: bool = True,
    seed: int | None = None,
    engine: Engine | None = None,
    baseline: str | None = None,
    resamples: int = DEFAULT_RESAMPLES,
    confidence: float = DEFAULT_CONFIDENCE,
) -> Leaderboard:
    """Evaluate ``models`` on the last ``test_days`` days (``backtest`` consecutive windows) of ``dataset``.

    Args:
        dataset: the full data; each window's split is cut from it (one at a time, to bound memory).
        models: registry names.
        k: cut-off of the metrics (>= 1).
        test_days: length of a test window in days.
        test_end: last day of the newest window (default: the data's last day).
        backtest: number of consecutive windows, oldest first.
        params: hyperparameters by model name, e.g. ``{"popularity": {"days": 14}}``.
        curve_k: depth of the recall curve (0 = no curve); models recommend ``max(k, curve_k)`` articles.
        progress: show a progress bar.
        seed: passed to every model that has a ``seed`` parameter, unless ``params`` sets it.
        engine: where the models are fitted (:mod:`hmrec.engines`; default: in this process). The split,
            the truth and the metrics are the same whatever the engine.
        baseline: the reference model of the paired differences (one of ``models``; default: the best model
            that does not read the generator's truth).
        resamples: bootstrap resamples of the intervals (>= 100); they are drawn with ``seed`` (0 if None).
        confidence: the coverage of the intervals.

    Raises:
        UnknownModelError, ParameterError: unknown model or parameter, k < 1, a window outside the data,
            a window in which nobody bought anything.
    """
    k = check_k(k)
    if not isinstance(curve_k, (int, np.integer)) or isinstance(curve_k, bool) or not 0 <= curve_k <= MAX_K:
        raise ParameterError(
            f"curve_k must be an integer between 0 and {MAX_K}, got {curve_k!r} (fix: e.g. 100, or 0 for none)"
        )
    names = check_models(models, params, seed)
    check_baseline(baseline, names)
    resamples = check_resamples(resamples)
    confidence = check_confidence(confidence)
    params = {name: dict(values) for name, values in (params or {}).items()}
    depth = max(k, curve_k)
    plan = windows(dataset, backtest, test_days, test_end)

    week_rows: list[dict[str, Any]] = []
    segment_frames: list[pl.DataFrame] = []
    curves: list[pl.DataFrame] = []
    skipped: list[dict[str, Any]] = []
    diagnostics: dict[str, list[pl.DataFrame]] = {}
    customer_ap: dict[dt.date, dict[str, np.ndarray]] = {}
    scored_total = 0
    # Status lines rather than a live bar: models show their own progress bars while fitting, and two
    # live displays on one terminal garble each other.
    status = console() if progress else None
    # the numba kernels compile on first use (tens of seconds on a first run): not part of any model's timings
    local = engine is None or engine.name == "local"  # another engine fits elsewhere: nothing to compile here
    if local and any(_uses_kernels(create(name)) for name in names):
        compile_kernels(say=status.print if status else lambda _: None)
    for window in plan:
        split = split_at(dataset, window)
        customers, truth, n_truth = _scored(split.test, window)
        # ids and scores (4 bytes each) per scored customer and rank, and as much again for the models' copies
        check_memory(16 * customers.size * depth, f"--k / --curve-k {depth} for {customers.size:,} customers",
                     fix="ask for a smaller --curve-k")
        scored_total += int(customers.size)
        segments = customer_segments(split.train, customers)
        if status:
            status.print(
                f"Test {window.test_start} to {window.test_end} (train until {window.train_end}): "
                f"{customers.size:,} customers scored",
                markup=False,
                soft_wrap=True,
            )
        for name in names:
            model = _make(name, params, seed)
            started = time.perf_counter()
            try:
                fitted = model.fit(split.train) if engine is None else engine.fit(model, split.train, window.train_end)
            except UnknownModelError:
                raise
            except ParameterError as exc:  # the model cannot run on this window: note it, go on
                skipped.append({"model": name, "test_start": window.test_start, "reason": str(exc)})
                if status:
                    status.print(f"  {name:<22} skipped: {exc}", markup=False, soft_wrap=True)
                continue
            fit_seconds = time.perf_counter() - started
            started = time.perf_counter()
            ids, _ = fitted.recommend(customers, depth)
            recommend_seconds = time.perf_counter() - started
            if hasattr(fitted, "diagnostics"):  # what a model reports about itself on this window
                for table_name, table in fitted.diagnostics(customers, truth).items():
                    diagnostics.setdefault(table_name, []).append(
                        table.with_columns(pl.lit(name).alias("model"), pl.lit(window.test_start).alias("test_start"))
                    )
            del model, fitted  # the fitted state can be large; the lists are all we need now
            ids = np.asarray(ids)
            if ids.ndim != 2 or ids.shape[0] != customers.size:
                raise RuntimeError(
                    f"model '{name}' returned recommendations of shape {ids.shape} for "
                    f"{customers.size} customers"
                )
            hits = hit_matrix(ids, truth, depth)
            cov = coverage(ids[:, :k], dataset.n_articles)
            del ids
            rows = rows_from_hits(hits, n_truth, k)
            week_rows.append(
                {
                    "model": name,
                    "train_end": window.train_end,
                    "test_start": window.test_start,
                    "test_end": window.test_end,
                    "customers_scored": int(customers.size),
                    **{metric: float(np.nanmean(values)) for metric, values in rows.items()},
                    "coverage": cov,
                    "fit_seconds": fit_seconds,
                    "recommend_seconds": recommend_seconds,
                }
            )
            segment_frames.append(segment_breakdown(name, segments, rows))
            customer_ap.setdefault(window.test_start, {})[name] = rows["map_at_k"]
            if curve_k:
                curve = curve_from_hits(hits, n_truth, curve_k)
                curves.append(
                    pl.DataFrame(
                        {"model": name, "k": np.arange(1, curve_k + 1, dtype=np.int64), "recall": curve},
                        schema=CURVE_SCHEMA,
                    )
                )
            if status:
                status.print(
                    f"  {name:<22} MAP@{k} {week_rows[-1]['map_at_k']:.4f}  fit {fit_seconds:.1f} s  "
                    f"recommend {recommend_seconds:.1f} s",
                    markup=False,
                    soft_wrap=True,
                )
            del hits, rows
        del split, truth

    order = {name: i for i, name in enumerate(names)}
    if curves:
        recall = (
            pl.concat(curves)
            .group_by("model", "k")
            .agg(pl.col("recall").mean())
            .with_columns(pl.col("model").replace_strict(order, return_dtype=pl.Int64).alias("_o"))
            .sort("_o", "k")
            .drop("_o")
        )
    else:
        recall = pl.DataFrame(schema=CURVE_SCHEMA)
    return Leaderboard(
        k=k,
        train_end=plan[0].train_end,
        test_start=plan[0].test_start,
        test_end=plan[-1].test_end,
        customers_scored=scored_total,
        weeks=pl.DataFrame(week_rows, schema=WEEK_SCHEMA),
        segments=combine_segments(segment_frames),
        recall_curve=recall,
        skipped=pl.DataFrame(skipped, schema=SKIPPED_SCHEMA),
        backtest=len(plan),
        diagnostics={name: pl.concat(tables, how="diagonal_relaxed") for name, tables in diagnostics.items()},
        customer_ap=customer_ap,
    ).with_intervals(baseline, resamples=resamples, confidence=confidence, seed=0 if seed is None else seed)


def check_models(
    models: Sequence[str], params: Mapping[str, Mapping[str, Any]] | None = None, seed: int | None = None
) -> list[str]:
    """Validate model names and their ``params`` (by creating each model once); return the distinct names.

    Cheap (constructors only store hyperparameters), so callers can fail fast before loading data.

    Raises:
        UnknownModelError: a name not in the registry.
        ParameterError: no model, a parameter for a model not in ``models``, or one the model refuses.
    """
    names = list(dict.fromkeys(m.strip() for m in models if m.strip()))
    if not names:
        raise ParameterError("no model to evaluate (fix: pass --models, e.g. --models popularity,repurchase)")
    params = params or {}
    registry = available()
    for name in names:
        if name not in registry:
            raise UnknownModelError(
                f"unknown model '{name}' (fix: choose one of {', '.join(registry)}; "
                f"`hmrec models` lists them)"
            )
    stray = sorted(set(params) - set(names))
    if stray:
        raise ParameterError(
            f"--param given for model '{stray[0]}', which is not evaluated "
            f"(fix: add it to --models or drop the parameter)"
        )
    for name in names:  # fail on a bad hyperparameter now, not after fitting the other models
        _make(name, params, seed)
    return names


def check_baseline(baseline: str | None, names: Sequence[str]) -> None:
    """ParameterError unless ``baseline`` is None or one of the evaluated ``names`` (cheap: check it first)."""
    if baseline is not None and baseline not in names:
        raise ParameterError(
            f"--baseline '{baseline}' is not among the evaluated models "
            f"(fix: add it to --models or choose one of {', '.join(names)})"
        )


def _make(name: str, params: Mapping[str, Mapping[str, Any]], seed: int | None) -> Recommender:
    """A fresh model; ``seed`` goes to every seed parameter (a part's too) the user did not set."""
    own = dict(params.get(name, {}))
    model = create(name, **own)
    return model if seed is None else seed_params(model, seed, own)


def _uses_kernels(model: Recommender) -> bool:
    """Whether ``model`` or one of the models it is composed of runs the numba factor kernels."""
    if isinstance(model, FactorRecommender):
        return True
    return any(_uses_kernels(part) for part in vars(model).values() if isinstance(part, Recommender))


def _scored(test: Dataset, window: Window) -> tuple[np.ndarray, Any, np.ndarray]:
    """The customers who bought in the window, their truth rows (CSR) and |truth| per customer."""
    everyone = test.interactions(binary=True)
    customers = np.flatnonzero(np.diff(everyone.indptr)).astype(np.int32)
    if customers.size == 0:
        raise ParameterError(
            f"nobody bought anything from {window.test_start} to {window.test_end}, so there is nothing to "
            f"score (fix: choose another --test-end or more --test-days)"
        )
    truth = everyone[customers]
    return customers, truth, truth_counts(truth)


# ---------------------------------------------------------------------- writing helpers
def results_report_writer() -> Any:
    """``hmrec.reports.results.write_results_report`` when that module is installed, else None."""
    try:
        spec = importlib.util.find_spec("hmrec.reports.results")
    except ModuleNotFoundError:  # the hmrec.reports package itself is absent
        spec = None
    if spec is None:
        return None
    from importlib import import_module

    return getattr(import_module("hmrec.reports.results"), "write_results_report", None)


def _clean(row: Mapping[str, Any]) -> dict[str, Any]:
    """JSON-ready values: dates as strings, NaN as None, numpy scalars as Python ones."""
    out: dict[str, Any] = {}
    for key, value in row.items():
        if isinstance(value, dt.date):
            value = value.isoformat()
        elif isinstance(value, (float, np.floating)):
            value = None if math.isnan(value) else float(value)
        elif isinstance(value, np.integer):
            value = int(value)
        out[key] = value
    return out


def _csv(frame: pl.DataFrame) -> str:
    return frame.write_csv()


def _fmt(value: float | None, digits: int) -> str:
    if missing(value):
        return "-"
    return f"{value:.{digits}f}"


__all__ = [
    "DEFAULT_CURVE_K",
    "QUALITY",
    "ROW_FIELDS",
    "WEEK_FIELDS",
    "Leaderboard",
    "check_baseline",
    "check_models",
    "evaluate",
]
