"""Plotting helpers: one consistent matplotlib (Agg) style for every figure in hmrec's reports.

Every figure gets a title, labelled axes with units, and is rendered to PNG bytes; :func:`save_png` writes
those bytes atomically (temporary file + rename) so that a report directory never holds a half-written image.
Helpers take plain numpy arrays or sequences, never data frames, so that they stay independent of how the
numbers were computed.
"""

from __future__ import annotations

import io
import math
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import matplotlib

from hmrec import atomic

matplotlib.use("Agg")  # headless: reports are written on servers and in CI

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from cycler import cycler  # noqa: E402
from matplotlib.axes import Axes  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from matplotlib.ticker import (  # noqa: E402
    FuncFormatter,
    LogLocator,
    MaxNLocator,
    NullFormatter,
    PercentFormatter,
)

if TYPE_CHECKING:
    from hmrec.clustering.choose_k import KChoice

# One palette for every report (colour-blind safe, Okabe-Ito order), so a model or category keeps its colour.
PALETTE = (
    "#0072B2",
    "#E69F00",
    "#009E73",
    "#D55E00",
    "#CC79A7",
    "#56B4E9",
    "#F0E442",
    "#000000",
    "#999999",
    "#8C564B",
    "#7F7F7F",
    "#BCBD22",
)
#: colours for models in the results report: 24 distinct hues, no greys (grey is the oracle's)
MODEL_PALETTE = (
    "#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#F0E442", "#000000",
    "#8C564B", "#BCBD22", "#17BECF", "#9467BD", "#393B79", "#AD494A", "#637939", "#E7BA52",
    "#843C39", "#6B6ECF", "#31A354", "#FD8D3C", "#9E9AC8", "#D6616B", "#8CA252", "#3182BD",
)  # fmt: skip
ACCENT = PALETTE[0]
OTHER = "#c8c8c8"
HIGHLIGHT = PALETTE[3]
DPI = 100
SIZE = (7.0, 4.0)  # inches: 700 x 400 px at DPI, two per row in the HTML grid
WIDE = (14.0, 4.0)

_STYLE: dict[str, Any] = {
    "font.size": 10,
    "axes.titlesize": 12,
    "axes.titleweight": "bold",
    "axes.labelsize": 10,
    "axes.grid": True,
    "grid.alpha": 0.3,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.prop_cycle": cycler(color=list(PALETTE)),
    "legend.fontsize": 8,
    "legend.frameon": False,
    "xtick.labelsize": 9,
    "ytick.labelsize": 9,
    "figure.dpi": DPI,
    "savefig.dpi": DPI,
}


@contextmanager
def figure(
    title: str, xlabel: str, ylabel: str, *, size: tuple[float, float] = SIZE
) -> Iterator[tuple[Figure, Axes]]:
    """A figure with one axes in the report style, titled and labelled (labels should carry units)."""
    with plt.rc_context(_STYLE):  # type: ignore[arg-type]
        fig, ax = plt.subplots(figsize=size)
        ax.set_title(title)
        ax.set_xlabel(xlabel)
        ax.set_ylabel(ylabel)
        try:
            yield fig, ax
        finally:
            plt.close(fig)


def to_png(fig: Figure) -> bytes:
    """Render a figure to PNG bytes (tight layout so that long labels are not cut)."""
    buffer = io.BytesIO()
    fig.tight_layout()
    fig.savefig(buffer, format="png", dpi=DPI, metadata={"Software": None})
    return buffer.getvalue()


def write_atomic(path: Path, data: bytes) -> Path:
    """Write ``data`` to ``path`` (its folder created) through a temporary file and a rename."""
    path.parent.mkdir(parents=True, exist_ok=True)
    return atomic.write_atomic(path, data)


def save_png(fig: Figure, path: Path) -> bytes:
    """Render ``fig`` and write it atomically to ``path``; returns the PNG bytes for embedding."""
    data = to_png(fig)
    write_atomic(path, data)
    return data


# ---------------------------------------------------------------------------------------------- formatting
def thousands(ax: Axes, axis: str = "y", *, integer: bool = False) -> None:
    """Tick labels as 1,234 / 12k / 1.2M, readable at any scale; ``integer`` keeps ticks on whole numbers
    (for counts, so that a small data set shows no 0.5 ticks)."""

    target = ax.yaxis if axis == "y" else ax.xaxis

    def fmt(value: float, _pos: int) -> str:
        # One unit per axis, chosen from its largest visible value, so that ticks never mix "9,000" and
        # "10.5k" on the same axis.
        scale = float(np.max(np.abs(target.get_view_interval())))
        if value == 0:
            return "0"
        if scale >= 1e6:
            return f"{value / 1e6:.3g}M"
        if scale >= 1e4:
            return f"{value / 1e3:.3g}k"
        return f"{value:,.0f}" if float(value).is_integer() else f"{value:.3g}"

    target.set_major_formatter(FuncFormatter(fmt))
    if integer:
        target.set_major_locator(MaxNLocator(integer=True))


def percent(ax: Axes, axis: str = "y", xmax: float = 1.0) -> None:
    """Tick labels as percentages of ``xmax`` (fractions by default)."""
    target = ax.yaxis if axis == "y" else ax.xaxis
    target.set_major_formatter(PercentFormatter(xmax=xmax, decimals=0))


def plain_log(ax: Axes, axis: str = "y", subs: tuple[float, ...] = (1.0, 2.0, 5.0)) -> None:
    """Plain decimal tick labels on a log axis (0.005, 0.01, 0.02, 0.05, ...) instead of ``2 x 10^-2``.

    Labels sit at ``subs`` times each power of ten: 1, 2 and 5 by default, which also gives a short axis (less
    than a decade) enough labelled ticks to be read; ``(1.0,)`` for axes spanning several decades.
    """
    target = ax.yaxis if axis == "y" else ax.xaxis

    def fmt(value: float, _pos: int) -> str:
        if value <= 0:
            return ""
        return f"{value:.10f}".rstrip("0").rstrip(".") if value < 1 else f"{value:,.0f}"

    target.set_major_locator(LogLocator(base=10, subs=subs))
    target.set_major_formatter(FuncFormatter(fmt))
    target.set_minor_locator(LogLocator(base=10, subs=tuple(np.arange(1.0, 10.0))))
    target.set_minor_formatter(NullFormatter())


def share_label(share: float, count: int | None = None) -> str:
    """A share as a bar label: ``12.3%``; shares too small for one decimal read ``<0.1%`` instead of a
    misleading ``0.0%``; with ``count`` the absolute number follows, e.g. ``<0.1% (17)``."""
    text = "<0.1%" if 0 < share < 0.0005 else f"{100 * share:.1f}%"
    return text if count is None else f"{text} ({count:,})"


def note_empty(ax: Axes, message: str = "no data") -> None:
    """Say so in the plot instead of drawing an empty frame."""
    ax.text(0.5, 0.5, message, transform=ax.transAxes, ha="center", va="center", color="#666666", fontsize=12)


# ---------------------------------------------------------------------------------------------- charts
def bar_chart(
    ax: Axes,
    labels: Sequence[str],
    values: Sequence[float] | np.ndarray,
    *,
    horizontal: bool = False,
    value_format: str = "{:,.0f}",
    texts: Sequence[str] | None = None,
    color: str = ACCENT,
) -> None:
    """Bars with their value written at the end; horizontal bars list the first label at the top.

    ``texts`` replaces the values formatted with ``value_format`` as the bar labels.
    """
    values = np.asarray(values, dtype=float)
    if values.size == 0:
        note_empty(ax)
        return
    positions = np.arange(values.size)
    texts = list(texts) if texts is not None else [value_format.format(v) for v in values]
    if horizontal:
        bars = ax.barh(positions, values, color=color)
        ax.set_yticks(positions, [str(label) for label in labels])
        ax.invert_yaxis()
        ax.grid(axis="y", visible=False)
        ax.bar_label(bars, texts, padding=3, fontsize=8)
        # room for the longest label after the longest bar (about 1.5% of the axis per character)
        room = 1.06 + 0.015 * max((len(t) for t in texts), default=0)
        ax.set_xlim(0, values.max() * room if values.max() > 0 else 1)
    else:
        bars = ax.bar(positions, values, color=color)
        rotate = max((len(str(label)) for label in labels), default=0) * values.size > 60
        ax.set_xticks(
            positions,
            [str(label) for label in labels],
            rotation=30 if rotate else 0,
            ha="right" if rotate else "center",
        )
        ax.grid(axis="x", visible=False)
        ax.bar_label(bars, texts, padding=2, fontsize=8)
        ax.set_ylim(0, values.max() * 1.15 if values.max() > 0 else 1)


def stacked_shares(
    ax: Axes, x: np.ndarray, shares: np.ndarray, labels: Sequence[str], *, legend_title: str | None = None
) -> None:
    """Stacked areas of shares (rows of ``shares`` are categories, columns follow ``x``; columns sum to 1)."""
    if shares.size == 0:
        note_empty(ax)
        return
    # "other" is a remainder, not a category: always grey, so that it never looks like a leader.
    colours = [
        OTHER if str(label) == "other" else PALETTE[i % len(PALETTE)] for i, label in enumerate(labels)
    ]
    ax.stackplot(x, shares, labels=[str(label) for label in labels], colors=colours, alpha=0.9)
    ax.set_ylim(0, 1)
    ax.set_xlim(x.min(), x.max())
    percent(ax)
    ax.legend(
        loc="center left",
        bbox_to_anchor=(1.01, 0.5),
        title=legend_title,
        fontsize=8,
        title_fontsize=8,
        reverse=True,
    )


def log_bins(values: np.ndarray, bins: int = 60) -> np.ndarray:
    """Logarithmically spaced bin edges covering the positive ``values``."""
    positive = values[values > 0]
    if positive.size == 0:
        return np.array([1.0, 10.0])
    low, high = np.log10(positive.min()), np.log10(positive.max())
    if high <= low:
        high = low + 1.0
    return np.logspace(low, high, bins + 1)


def lorenz(ax: Axes, counts: np.ndarray) -> float:
    """Draw the Lorenz curve of ``counts`` (share of items vs share of sales) and return the Gini coefficient.

    With counts sorted ascending ``c_1 <= ... <= c_n`` and cumulative shares ``L_i = sum_{j<=i} c_j / sum c``,
    ``G = 1 - sum_i (L_{i-1} + L_i) / n`` (trapezoids under the curve; 0 = equal sales, 1 = one item sells
    everything).
    """
    gini_value, x, y = lorenz_points(counts)
    ax.plot(x, y, color=ACCENT, linewidth=2, label=f"articles (Gini = {gini_value:.3f})")
    ax.plot([0, 1], [0, 1], color="#999999", linestyle="--", linewidth=1, label="equal sales")
    ax.fill_between(x, y, x, color=ACCENT, alpha=0.1)
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    percent(ax, "x")
    percent(ax, "y")
    ax.legend(loc="upper left")
    return gini_value


def lorenz_points(counts: np.ndarray, points: int = 1001) -> tuple[float, np.ndarray, np.ndarray]:
    """Gini coefficient and a down-sampled Lorenz curve (``points`` points) of non-negative ``counts``."""
    sorted_counts = np.sort(np.asarray(counts, dtype=np.float64))
    n = sorted_counts.size
    total = sorted_counts.sum()
    if n == 0 or total <= 0:
        grid = np.linspace(0.0, 1.0, points)
        return 0.0, grid, grid
    cumulative = np.concatenate([[0.0], np.cumsum(sorted_counts) / total])
    gini_value = float(1.0 - (cumulative[:-1] + cumulative[1:]).sum() / n)
    grid = np.linspace(0.0, 1.0, points)
    return gini_value, grid, np.interp(grid * n, np.arange(n + 1), cumulative)


def date_axis(ax: Axes) -> None:
    """Concise date ticks (month names, the year where it changes)."""
    import matplotlib.dates as mdates

    locator = mdates.AutoDateLocator(minticks=4, maxticks=10)
    ax.xaxis.set_major_locator(locator)
    ax.xaxis.set_major_formatter(mdates.ConciseDateFormatter(locator))


def legend_outside(ax: Axes, title: str | None = None) -> None:
    """Legend to the right of the axes, so that it never hides data."""
    ax.legend(loc="center left", bbox_to_anchor=(1.01, 0.5), title=title, fontsize=8, title_fontsize=8)


# ---------------------------------------------------------------------------------------------- choosing k
def plot_elbow(choice: KChoice, path: Path, *, title: str | None = None) -> bytes:
    """Inertia (left axis) and silhouette (right axis) against k, elbow and choice marked; PNG written
    atomically to ``path``. Returns the PNG bytes (for embedding in a report)."""
    heading = title or f"Choosing k: inertia and silhouette (chosen k = {choice.chosen})"
    with figure(heading, "number of clusters k", "k-means inertia (sum of squared distances)") as (fig, ax):
        ax.plot(choice.ks, choice.inertias, marker="o", color=ACCENT, label="inertia")
        thousands(ax)
        right = ax.twinx()
        right.plot(choice.ks, choice.silhouettes, marker="s", color=PALETTE[1], label="silhouette")
        right.set_ylabel(f"mean silhouette ({choice.n_silhouette:,} points)")
        right.grid(False)
        right.spines["right"].set_visible(True)
        ax.axvline(
            choice.chosen, color=HIGHLIGHT, linestyle="--", linewidth=1.5, label=f"chosen k = {choice.chosen}"
        )
        if choice.window is not None:
            ax.axvspan(
                choice.window[0] - 0.4,
                choice.window[1] + 0.4,
                color=HIGHLIGHT,
                alpha=0.08,
                label=f"silhouette window k = {choice.window[0]}..{choice.window[1]}",
            )
        if choice.elbow is not None:
            i = choice.ks.index(choice.elbow)
            ax.plot(
                [choice.elbow],
                [choice.inertias[i]],
                marker="*",
                markersize=16,
                color=HIGHLIGHT,
                linestyle="none",
                label=f"Kneedle elbow k = {choice.elbow}",
            )
        handles, labels = ax.get_legend_handles_labels()
        handles2, labels2 = right.get_legend_handles_labels()
        ax.legend(handles + handles2, labels + labels2, loc="upper right")
        ax.set_xticks(choice.ks if len(choice.ks) <= 30 else choice.ks[:: math.ceil(len(choice.ks) / 30)])
        return save_png(fig, path)


__all__ = [
    "plot_elbow",
    "ACCENT",
    "HIGHLIGHT",
    "OTHER",
    "MODEL_PALETTE",
    "PALETTE",
    "SIZE",
    "WIDE",
    "bar_chart",
    "date_axis",
    "figure",
    "legend_outside",
    "log_bins",
    "lorenz",
    "lorenz_points",
    "note_empty",
    "percent",
    "plain_log",
    "save_png",
    "share_label",
    "stacked_shares",
    "thousands",
    "to_png",
    "write_atomic",
]
