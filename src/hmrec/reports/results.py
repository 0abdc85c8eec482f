"""The results report of ``hmrec evaluate``: one self-contained ``report.html`` in the output directory.

It shows the leaderboard table (with each MAP@k's bootstrap interval and its paired difference to the baseline
model, when the leaderboard has them), MAP@k per model as bars with the intervals as error bars (the
``oracle``, which ranks by the generator's true purchase probabilities on generated data, drawn as a line: the
level a model can expect at best, not a competitor), the metrics per customer segment (with and without
history, age, activity; with many models each chart draws the best few of each segment and the tables list
every model), recall@j for
j = 1..100 per model (how deep a candidate list must go to find the purchases: the case for candidate generation
+ re-ranking) and, when k-means ran, its elbow plot.

The elbow plot comes either from the leaderboard's ``k_choice`` or from the files ``hmrec cluster`` writes
(``elbow.png``, ``choose_k.csv``, ``summary.json``) when they are in the output directory at the moment the
report is written: run ``hmrec cluster --out DIR`` before ``hmrec evaluate --out DIR`` to get the section.

The leaderboard is duck-typed on :class:`hmrec.evaluation.evaluate.Leaderboard`: ``k``, ``train_end``,
``test_start``, ``test_end``, ``customers_scored``, ``backtest``, ``to_frame()``, ``segments``,
``recall_curve``, ``skipped``, ``weeks``, and optionally ``baseline``, ``interval_settings`` and ``k_choice`` (a
:class:`hmrec.clustering.choose_k.KChoice`).
"""

from __future__ import annotations

import json
import math
import zlib
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl

from hmrec.evaluation.intervals import interval_cells
from hmrec.registry import available
from hmrec.reports import plots
from hmrec.reports.html import FigureWriter, Report, render_table

REPORT_NAME = "report.html"
ORACLE = "oracle"
ELBOW_FILE = "elbow.png"
CHOOSE_K_FILE = "choose_k.csv"
CLUSTER_SUMMARY_FILE = "summary.json"
ORACLE_LABEL = "oracle (true purchase probabilities)"
SECTIONS = (
    ("Leaderboard", "leaderboard"),
    ("Segments", "segments"),
    ("Recall curve", "recall-curve"),
    ("Choosing k for k-means", "k-means"),
    ("Candidate sources", "candidate-sources"),
    ("Feature importance", "feature-importance"),
)
FAMILY_COLOURS = {"customer": "#1f77b4", "article": "#2ca02c", "pair": "#d62728", "source": "#9467bd"}
#: models drawn per segment in a segment chart when there are more (the table below it lists them all)
SEGMENT_TOP = 5
SEGMENT_TITLES = {
    "history": "with and without purchase history",
    "age": "by age group (years)",
    "activity": "by activity (purchases in the training data)",
}
HEADERS = {
    "model": "model",
    "map_at_k": "MAP@{k}",
    "precision_at_k": "P@{k}",
    "recall_at_k": "R@{k}",
    "hit_rate_at_k": "HR@{k}",
    "ndcg_at_k": "NDCG@{k}",
    "coverage": "coverage",
    "fit_seconds": "fit (s)",
    "recommend_seconds": "rec. (s)",
}


def _colours(models: list[str]) -> dict[str, str]:
    """A distinct colour per model, the same in every plot and every run (the oracle in grey).

    A registered model's colour is fixed by its place in the registry, another name's by a hash of it (stable
    across processes, unlike ``hash``); if that colour is taken in this report, the next free one is used.
    """
    palette = plots.MODEL_PALETTE
    registry = list(available())
    colours: dict[str, str] = {}
    for model in models:
        if model == ORACLE or model in colours:
            continue
        start = registry.index(model) if model in registry else zlib.crc32(model.encode())
        taken = set(colours.values())
        free = [palette[(start + step) % len(palette)] for step in range(len(palette))]
        colours[model] = next((c for c in free if c not in taken), free[0])
    colours[ORACLE] = "#777777"
    return colours


def _frame(value: Any) -> pl.DataFrame:
    return value if isinstance(value, pl.DataFrame) else pl.DataFrame()


def _finite(value: Any) -> bool:
    return isinstance(value, (int, float)) and not math.isnan(float(value))


def map_chart_data(frame: pl.DataFrame) -> tuple[pl.DataFrame, float | None]:
    """The models drawn as MAP bars (every evaluated model but the oracle) and the oracle's MAP, if any.

    The oracle ranks by the generator's true purchase probabilities, so it is the level a model can expect at
    best (an upper bound, not a competitor; MAP itself would only reach 1 by knowing the actual purchases): it
    is drawn as a line.
    """
    if frame.height == 0:
        return frame, None
    bars = frame.filter((pl.col("model") != ORACLE) & pl.col("map_at_k").is_not_nan())
    oracle = frame.filter(pl.col("model") == ORACLE)["map_at_k"].to_list()
    return bars, (float(oracle[0]) if oracle and _finite(oracle[0]) else None)


def map_error_bars(bars: pl.DataFrame) -> np.ndarray | None:
    """``(2, n)`` distances from each bar's MAP down to its interval's low end and up to its high end (the
    form of matplotlib's ``xerr``); the standard deviation across windows when there is no interval; None
    when there is neither. A missing bound draws no bar on that side."""
    if "map_at_k_low" in bars.columns and bars["map_at_k_low"].is_not_null().any():
        value = bars["map_at_k"].to_numpy()
        low = np.nan_to_num(value - bars["map_at_k_low"].cast(pl.Float64).to_numpy(), nan=0.0)
        high = np.nan_to_num(bars["map_at_k_high"].cast(pl.Float64).to_numpy() - value, nan=0.0)
        return np.vstack([np.maximum(low, 0.0), np.maximum(high, 0.0)])
    if "map_at_k_std" in bars.columns:
        std = bars["map_at_k_std"].fill_nan(0).fill_null(0).to_numpy()
        return np.vstack([std, std])
    return None


def _section_leaderboard(
    report: Report, writer: FigureWriter, board: Any, frame: pl.DataFrame, colours: dict[str, str]
) -> None:
    k = board.k
    sec = report.section(*SECTIONS[0])
    windows = int(getattr(board, "backtest", 1) or 1)
    sec.note(
        f"Trained on the data until {board.train_end}, tested on {board.test_start} to {board.test_end}"
        + (f" ({windows} weekly windows, metrics averaged over them)" if windows > 1 else "")
        + f"; {int(board.customers_scored):,} customers scored (those who bought in the test window, the "
        f"competition's rule). Metrics at k = {k}; coverage is the share of the catalogue recommended at "
        "least once. The best model other than the oracle is highlighted. The oracle (generated data only) "
        "ranks by the generator's true purchase probabilities: the best a model can expect, an upper bound "
        "rather than a competitor."
    )
    settings = dict(getattr(board, "interval_settings", None) or {})
    baseline = getattr(board, "baseline", None)
    level = f"{100 * float(settings.get('confidence', 0.95)):g}%"
    if settings:
        sec.note(
            f"{level} CI: bootstrap interval of MAP@{k} over the scored customers ({settings.get('resamples')} "
            f"resamples, seed {settings.get('seed')}"
            + ("; with several windows each window's customers are resampled and the windows averaged" if
               windows > 1 else "")
            + f"). Δ: the paired difference of MAP@{k} to "
            + (f"{baseline} (the same customers resampled for both models), with its {level} CI; 'differs: "
               "no' means the difference is inside the noise: the two models are not distinguishable on this "
               "data." if baseline else f"{settings.get('baseline')}, which did not run: no differences.")
        )
    columns = [c for c in HEADERS if c in frame.columns]
    header = [HEADERS[c].format(k=k) for c in columns]
    rows = [list(r) for r in frame.select(columns).rows()] if columns else []
    if columns and "map_at_k_low" in frame.columns:
        header[2:2] = [f"{level} CI", f"Δ vs {baseline or settings.get('baseline') or 'baseline'}",
                       f"Δ {level} CI", "differs"]
        for cells, named in zip(rows, frame.iter_rows(named=True), strict=True):
            # an interval is read as one unit: its cell breaks nowhere (U+2060 WORD JOINER, U+00A0 NO-BREAK SPACE)
            cells[2:2] = [c.replace("–", "\u2060–\u2060").replace(" ", "\u00a0")
                          for c in interval_cells(named, baseline)]
    if windows > 1 and "map_at_k_std" in frame.columns:
        header.append(f"MAP@{k} std")
        rows = [[*r, s] for r, s in zip(rows, frame["map_at_k_std"].to_list(), strict=True)]
    models = frame["model"].to_list() if "model" in frame.columns else []
    best = next((i for i, m in enumerate(models) if m != ORACLE and _finite(frame["map_at_k"][i])), None)
    sec.table(rows, header, highlight=best)

    skipped = _frame(getattr(board, "skipped", None))
    for row in skipped.iter_rows(named=True):
        sec.note(
            f"{row.get('model')} was skipped for the window starting {row.get('test_start')}: "
            f"{row.get('reason')}"
        )

    bars, oracle_level = map_chart_data(frame)

    def draw(ax: Any) -> None:
        if bars.height == 0:
            plots.note_empty(ax, "no model was evaluated")
            return
        names = bars["model"].to_list()
        values = bars["map_at_k"].to_numpy()
        positions = np.arange(len(names))
        errors = map_error_bars(bars)
        ax.barh(positions, values, xerr=errors, color=[colours[m] for m in names], capsize=3)
        ends = values + (errors[1] if errors is not None else 0.0)
        for y, end, value in zip(positions, ends, values, strict=True):  # labels after the error bars, not on them
            ax.annotate(f"{value:.4f}", xy=(end, y), xytext=(5, 0), textcoords="offset points", va="center",
                        fontsize=8)
        ax.set_yticks(positions, names)
        ax.invert_yaxis()
        ax.grid(axis="y", visible=False)
        high = float(values.max()) if values.size else 0.0
        if oracle_level is not None:
            # the oracle can be far above the models: keep the bars readable, note the level instead
            if oracle_level <= 3 * max(high, 1e-9):
                high = max(high, oracle_level)
                ax.axvline(oracle_level, color=colours[ORACLE], linestyle="--", linewidth=1.5)
                # labelled along the line (a legend box would sit on the line or on the bars)
                ax.annotate(
                    f"{ORACLE_LABEL} = {oracle_level:.4f}",
                    xy=(oracle_level, 0.5),
                    xycoords=ax.get_xaxis_transform(),
                    xytext=(4, 0),
                    textcoords="offset points",
                    rotation=90,
                    rotation_mode="anchor",
                    ha="center",
                    va="top",
                    fontsize=8,
                    color=colours[ORACLE],
                )
            else:
                ax.text(
                    0.98,
                    0.02,
                    f"{ORACLE_LABEL} = {oracle_level:.4f} (off scale)",
                    transform=ax.transAxes,
                    ha="right",
                    va="bottom",
                    fontsize=9,
                    color=colours[ORACLE],
                )
        if "map_at_k_high" in bars.columns:  # room for the error bars' caps and their labels
            high = max(high, float(bars["map_at_k_high"].fill_nan(0).fill_null(0).max() or 0.0))  # type: ignore[arg-type]
        ax.set_xlim(0, max(high, 1e-6) * 1.25)

    height = max(3.0, 0.35 * bars.height + 1.5)
    writer.add(
        sec,
        "results_map",
        f"MAP@{k} by model",
        f"MAP@{k} (mean average precision, 0 to 1)",
        "model",
        draw,
        f"Mean over the scored customers of AP@{k}, which divides by min(purchases, {k}). "
        + (f"Error bars: the {level} bootstrap interval." if settings and "map_at_k_low" in frame.columns
           else "Error bars: the standard deviation across the windows." if windows > 1 else ""),
        height=height,
    )


def segment_chart_models(part: pl.DataFrame, models: list[str], top: int = SEGMENT_TOP) -> dict[str, list[str]]:
    """The models drawn in each segment of one kind: every model when there are at most ``top + 1`` of them,
    else the ``top`` best of that segment by MAP@k (ties in leaderboard order), in leaderboard order."""
    drawn: dict[str, list[str]] = {}
    rank = {m: i for i, m in enumerate(models)}
    for segment in dict.fromkeys(part["segment"].to_list()):
        rows = part.filter((pl.col("segment") == segment) & pl.col("model").is_in(models))
        value = dict(zip(rows["model"].to_list(), rows["map_at_k"].to_list(), strict=True))
        present = [m for m in models if m in value]
        if len(present) > top + 1:
            best = sorted(present, key=lambda m: (-_number(value[m]), rank[m]))[:top]
            present = [m for m in present if m in best]
        drawn[segment] = present
    return drawn


def _number(value: Any) -> float:
    return float(value) if _finite(value) else float("-inf")


def _section_segments(report: Report, writer: FigureWriter, board: Any, colours: dict[str, str]) -> None:
    k = board.k
    sec = report.section(*SECTIONS[1])
    segments = _frame(getattr(board, "segments", None))
    if segments.height == 0:
        sec.note("No segment breakdown was computed.")
        return
    present = set(segments["model"].to_list())
    # leaderboard order (best first), like the MAP chart; colours as everywhere in the report
    models = [m for m in colours if m in present and m != ORACLE]
    models += [m for m in dict.fromkeys(segments["model"].to_list()) if m not in models and m != ORACLE]
    crowded = len(models) > SEGMENT_TOP + 1
    sec.note(
        f"MAP@{k} of each model within groups of scored customers (the oracle is left out of the charts: it "
        "would flatten them). Customers without history can only get a fallback such as popularity."
        + (f" With {len(models)} models each chart draws the {SEGMENT_TOP} best of each segment; the tables "
           "below list every model." if crowded else "")
    )
    tables: list[str] = []
    for kind in dict.fromkeys(segments["segment_kind"].to_list()):
        part = segments.filter(pl.col("segment_kind") == kind)
        labels = list(dict.fromkeys(part["segment"].to_list()))
        sizes = part.group_by("segment").agg(pl.col("customers").max())
        size_of = dict(zip(sizes["segment"].to_list(), sizes["customers"].to_list(), strict=True))
        drawn = segment_chart_models(part, models)
        shown = [m for m in models if any(m in names for names in drawn.values())]

        def draw(
            ax: Any,
            part: pl.DataFrame = part,
            labels: list[str] = labels,
            size_of: dict[str, int] = size_of,
            drawn: dict[str, list[str]] = drawn,
            shown: list[str] = shown,
        ) -> None:
            if not shown or not labels:
                plots.note_empty(ax)
                return
            slots = max(len(names) for names in drawn.values())
            width = 0.8 / slots
            value = {(r["model"], r["segment"]): r["map_at_k"] for r in part.iter_rows(named=True)}
            for x, segment in enumerate(labels):
                names = drawn.get(segment, [])
                for i, model in enumerate(names):  # each segment's bars side by side, centred on its tick
                    ax.bar(
                        x + (i - (len(names) - 1) / 2) * width,
                        value.get((model, segment), np.nan),
                        width=width,
                        color=colours.get(model, plots.ACCENT),
                    )
            for model in shown:  # one legend entry per model, whichever segments show it
                ax.bar([0], [0], width=0, color=colours.get(model, plots.ACCENT), label=model)
            ax.set_xticks(np.arange(len(labels)), [f"{s}\nn={size_of.get(s, 0):,}" for s in labels], fontsize=8)
            ax.grid(axis="x", visible=False)
            plots.legend_outside(ax, "model")

        title = SEGMENT_TITLES.get(kind, kind)
        writer.add(
            sec,
            f"results_segments_{kind}",
            f"MAP@{k} {title}",
            f"segment ({kind})",
            f"MAP@{k} within the segment",
            draw,
            f"Segment kind '{kind}'; n = customers in the segment"
            + (f"; the {SEGMENT_TOP} best models of each segment." if crowded else "."),
        )
        pivot = part.filter(pl.col("model") != ORACLE).pivot(
            on="segment", index="model", values="map_at_k", aggregate_function="first"
        )
        order = {m: i for i, m in enumerate(models)}
        pivot = pivot.sort(pl.col("model").replace_strict(order, default=len(order), return_dtype=pl.Int64))
        columns = [c for c in labels if c in pivot.columns]
        tables.append(render_table(
            pivot.select("model", *columns).rows(),
            ["model", *[f"{c} (n={size_of.get(c, 0):,})" for c in columns]],
            caption=f"MAP@{k} {title}",
        ))
    sec.tables(*tables)


def _section_recall(report: Report, writer: FigureWriter, board: Any, colours: dict[str, str]) -> None:
    k = board.k
    sec = report.section(*SECTIONS[2])
    curve = _frame(getattr(board, "recall_curve", None))
    if curve.height == 0:
        sec.note("No recall curve was computed (--curve-k 0).")
        return
    present = set(curve["model"].to_list())
    order = [m for m in colours if m in present]  # leaderboard order, the oracle last
    order += [m for m in dict.fromkeys(curve["model"].to_list()) if m not in order]
    depth = int(curve["k"].cast(pl.Int64).max() or 1)  # type: ignore[arg-type]

    def draw(ax: Any) -> None:
        for model in order:
            rows = curve.filter(pl.col("model") == model).sort("k")
            style = "--" if model == ORACLE else "-"
            ax.plot(
                rows["k"].to_numpy(),
                rows["recall"].to_numpy(),
                style,
                label="oracle (upper bound)" if model == ORACLE else model,
                color=colours.get(model, plots.ACCENT),
                linewidth=1.8,
            )
        ax.axvline(k, color="#999999", linestyle=":", linewidth=1.2)
        ax.text(
            k, 0.02, f" k = {k}", transform=ax.get_xaxis_transform(), va="bottom", fontsize=8, color="#666666"
        )
        ax.set_xlim(1, depth)
        ax.set_ylim(0, None)
        plots.percent(ax)
        plots.legend_outside(ax, "model")

    writer.add(
        sec,
        "results_recall_curve",
        f"Recall@j for j = 1..{depth} (candidate-source curve)",
        "length j of the recommendation list (articles)",
        "recall@j (share of purchases found, %)",
        draw,
        f"Share of each customer's test-week purchases found in the first j recommendations, mean over "
        f"customers. A source whose curve keeps rising past k = {k} is a good candidate generator for a "
        "re-ranker.",
        wide=True,
    )
    at = [j for j in (12, 24, 50, 100) if j <= depth]
    wide_table = curve.filter(pl.col("k").is_in(at)).pivot(
        on="k", index="model", values="recall", aggregate_function="first"
    )
    rank = {m: i for i, m in enumerate(order)}
    wide_table = wide_table.sort(pl.col("model").replace_strict(rank, return_dtype=pl.Int64))
    sec.table(wide_table.rows(), ["model", *[f"recall@{j}" for j in wide_table.columns[1:]]])


def _cluster_summary(out_dir: Path) -> dict[str, Any]:
    """The ``summary.json`` that ``hmrec cluster`` wrote next to its elbow plot ({} if absent or unreadable)."""
    path = out_dir / CLUSTER_SUMMARY_FILE
    try:
        summary = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    # summary.json is a common name: only a clustering summary (it has the chosen k) is used
    return summary if isinstance(summary, dict) and "chosen_k" in summary else {}


def _section_kmeans(report: Report, writer: FigureWriter, board: Any, out_dir: Path) -> None:
    """The elbow plot: drawn from the leaderboard's k-choice if it has one, else the files of ``hmrec cluster``.

    Those files (``elbow.png``, ``choose_k.csv``, ``summary.json``) are read when the report is written, so
    they must be in the output directory before ``hmrec evaluate`` runs.
    """
    choice = getattr(board, "k_choice", None)
    elbow = out_dir / ELBOW_FILE
    png: bytes | None = None
    summary: dict[str, Any] = {}
    if choice is not None and hasattr(choice, "ks"):
        from hmrec.reports.plots import plot_elbow

        png = plot_elbow(choice, elbow)
    elif elbow.is_file():
        png = elbow.read_bytes()
        summary = _cluster_summary(out_dir)
    if png is None:
        return
    sec = report.section(*SECTIONS[3])
    reason = getattr(choice, "reason", None) or summary.get("reason")
    if choice is None:
        what = summary.get("what", "customers or articles")
        data = Path(str(summary["data"])).name if summary.get("data") else None
        sec.note(
            f"Written by `hmrec cluster --what {what}`"
            + (f" (on {data}/)" if data else "")
            + " into this output directory before `hmrec evaluate` ran: the report embeds the elbow.png it "
            "finds when it is written, so run cluster first, then evaluate with the same --out."
        )
    caption = f"Chosen k = {summary['chosen_k']}: {reason}." if reason and "chosen_k" in summary else reason
    if "adjusted_rand_index" in summary:
        caption = (
            f"{caption} Adjusted Rand index against the generator's {summary.get('true_segments', '?')} "
            f"true segments: {float(summary['adjusted_rand_index']):.3f}."
        )
    sec.figures(
        [(png, "k-means elbow plot", caption or "Inertia and silhouette against k; the choice marked.")]
    )
    choose_k = out_dir / CHOOSE_K_FILE
    table: pl.DataFrame | None = None
    if choice is not None and hasattr(choice, "to_frame"):
        table = choice.to_frame()
    elif choose_k.is_file():
        table = pl.read_csv(choose_k)
    if table is not None:
        sec.details(f"Inertia and silhouette for each k ({table.height} values of k)", table)


def _diagnostic(board: Any, name: str) -> pl.DataFrame:
    tables = getattr(board, "diagnostics", None) or {}
    return _frame(tables.get(name))


def _section_candidates(report: Report, writer: FigureWriter, board: Any) -> None:
    """Recall of the test week's purchases by each candidate source of the ranker and by their union."""
    recall = _diagnostic(board, "candidate_recall")
    if recall.height == 0:
        return
    sec = report.section(*SECTIONS[4])
    mean = (
        recall.group_by("model", "source", "n", maintain_order=True)
        .agg(pl.col("recall").mean(), pl.col("candidates_per_customer").mean())
        .sort("model", "n", maintain_order=True)
    )
    sec.note(
        "Stage 1 of the ranker: each source proposes its n best articles per scored customer; recall is the share "
        "of the test week's (customer, article) purchases found among them (each pair once), and the union is "
        "every source's n together, deduplicated. The ranker can only rank what the union proposes, so the "
        "union's recall is its ceiling; the mean candidates per customer is what stage 2 must score."
    )
    for model in dict.fromkeys(mean["model"].to_list()):
        part = mean.filter(pl.col("model") == model)
        sources = list(dict.fromkeys(part["source"].to_list()))

        def draw(ax: Any, part: pl.DataFrame = part, sources: list[str] = sources) -> None:
            for i, source in enumerate(sources):
                rows = part.filter(pl.col("source") == source).sort("n")
                union = source == "union"
                ax.plot(
                    rows["n"].to_numpy(), rows["recall"].to_numpy(), "-o", markersize=3, label=source,
                    color="#000000" if union else plots.PALETTE[i % len(plots.PALETTE)],
                    linewidth=2.4 if union else 1.5,
                )
            ax.set_xscale("log")
            plots.plain_log(ax, axis="x")
            ax.set_ylim(0, None)
            plots.percent(ax)
            plots.legend_outside(ax, "source")

        writer.add(
            sec, f"results_candidate_recall_{model}", f"Candidate recall by source ({model})",
            "candidates per source, n (log scale)", "recall of the test week's purchases (%)", draw,
            "Each source alone and the deduplicated union, against the number of candidates each proposes.",
            wide=True,
        )
        wide = part.pivot(on="n", index="source", values="recall", aggregate_function="first")
        per = part.filter(pl.col("source") == "union").sort("n")["candidates_per_customer"].to_list()
        rows = [*wide.rows(), ("union: candidates per customer", *per)]
        sec.table(
            [tuple(f"{v:.4f}" if isinstance(v, float) and v < 1 else f"{v:.1f}" if isinstance(v, float) else v
                   for v in row) for row in rows],
            ["source", *[f"recall@{n}" for n in wide.columns[1:]]],
            caption=f"Recall of each source at n candidates ({model})",
        )
    _taste_keys(sec, board)


def _taste_keys(sec: Any, board: Any) -> None:
    """The taste keys the ranker learned from the data (its ``taste_keys`` diagnostic), per test window."""
    taste = _diagnostic(board, "taste_keys")
    if taste.height == 0:
        return
    sec.note(
        "The taste source and the taste features use the combinations of article columns that the ranker found, "
        "on its own validation week, to say most about which new articles customers buy: gain is in nats per new "
        "purchase over the shop's sales mix, recall is the share of the week's new purchases (outside the best "
        "sellers) that a taste source on the key finds at 24 candidates (NaN: not measured). The first key is "
        "the taste source's."
    )
    columns = [c for c in ("model", "test_start", "slot", "key", "gain", "recall") if c in taste.columns]
    sec.table(
        [tuple(f"{v:.4f}" if isinstance(v, float) else str(v) for v in row) for row in taste.select(columns).rows()],
        columns, caption="Taste keys learned from the data",
    )


def _section_importance(report: Report, writer: FigureWriter, board: Any) -> None:
    """The ranker's feature importance (total gain), per feature and per feature family."""
    importance = _diagnostic(board, "feature_importance")
    if importance.height == 0:
        return
    sec = report.section(*SECTIONS[5])
    sec.note(
        "Stage 2 of the ranker: the share of LightGBM's total gain (the loss reduction of every split on a "
        "feature, over the trees used) per feature, averaged over the test windows. Families: customer, article, "
        "pair (the customer x article history) and source (which source proposed the pair, its rank and score)."
    )
    for model in dict.fromkeys(importance["model"].to_list()):
        mean = (
            importance.filter(pl.col("model") == model)
            .group_by("feature", "family", maintain_order=True)
            .agg(pl.col("share").mean())
            .sort(["share", "feature"], descending=[True, False])
        )
        top = mean.head(25)

        def draw(ax: Any, top: pl.DataFrame = top) -> None:
            positions = np.arange(top.height)
            ax.barh(positions, top["share"].to_numpy(),
                    color=[FAMILY_COLOURS.get(f, plots.ACCENT) for f in top["family"].to_list()])
            ax.set_yticks(positions, top["feature"].to_list(), fontsize=8)
            ax.invert_yaxis()
            ax.grid(axis="y", visible=False)
            plots.percent(ax, axis="x")

        writer.add(
            sec, f"results_importance_{model}", f"Top {top.height} features of {model} by gain",
            "share of the total gain", "feature", draw,
            "Colours: customer blue, article green, pair red, source purple.", height=max(3.0, 0.28 * top.height + 1),
        )
        families = mean.group_by("family").agg(pl.col("share").sum()).sort("share", descending=True)
        sec.table([(f, f"{v:.1%}") for f, v in families.rows()], ["family", "share of gain"],
                  caption=f"Gain by feature family ({model})")


def write_results_report(leaderboard: Any, out_dir: Path | str) -> Path:
    """Write ``report.html`` (self-contained) and its plots as PNG into ``out_dir``; returns its path."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    frame = leaderboard.to_frame()
    models = frame["model"].to_list() if "model" in frame.columns else []
    curve = _frame(getattr(leaderboard, "recall_curve", None))
    if curve.height:
        models += [m for m in dict.fromkeys(curve["model"].to_list()) if m not in models]
    colours = _colours(models)
    report = Report(
        title="hmrec: evaluation results",
        subtitle=f"test {leaderboard.test_start} to {leaderboard.test_end}, "
        f"trained until {leaderboard.train_end}, "
        f"{int(leaderboard.customers_scored):,} customers scored, k = {leaderboard.k}",
    )
    writer = FigureWriter(out)
    _section_leaderboard(report, writer, leaderboard, frame, colours)
    _section_segments(report, writer, leaderboard, colours)
    _section_recall(report, writer, leaderboard, colours)
    _section_kmeans(report, writer, leaderboard, out)
    _section_candidates(report, writer, leaderboard)
    _section_importance(report, writer, leaderboard)
    return report.write(out / REPORT_NAME)


__all__ = ["REPORT_NAME", "SECTIONS", "map_chart_data", "write_results_report"]
