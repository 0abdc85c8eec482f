"""Self-contained HTML reports: one file, inline CSS, images embedded as base64 ``data:`` URIs.

Nothing is loaded from the network (no scripts, fonts or style sheets), so a report opens offline and can be
mailed or archived as a single file. All text is HTML-escaped.
"""

from __future__ import annotations

import base64
import datetime as dt
import html
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import polars as pl

from hmrec.reports import plots
from hmrec.reports.plots import write_atomic

CSS = """
body { font-family: -apple-system, "Segoe UI", Helvetica, Arial, sans-serif; margin: 0; color: #222;
       background: #fafafa; }
header { background: #1f2933; color: #fff; padding: 18px 32px; }
header h1 { margin: 0 0 4px 0; font-size: 24px; }
header p { margin: 0; color: #cbd2d9; font-size: 13px; }
nav { padding: 8px 32px; background: #e4e7eb; font-size: 13px; }
nav a { margin-right: 14px; color: #1f2933; text-decoration: none; }
main { padding: 8px 32px 32px 32px; max-width: 1500px; }
section { margin-top: 20px; }
h2 { border-bottom: 2px solid #0072B2; padding-bottom: 4px; font-size: 20px; }
p.note { color: #52606d; font-size: 13px; max-width: 1100px; }
.grid { display: grid; grid-template-columns: repeat(auto-fill, minmax(560px, 1fr)); gap: 16px; }
figure { margin: 0; background: #fff; border: 1px solid #e4e7eb; padding: 6px; }
figure.wide { grid-column: 1 / -1; }
figure img { width: 100%; height: auto; display: block; }
figcaption { font-size: 12px; color: #52606d; padding: 4px 2px 0 2px; }
table { border-collapse: collapse; font-size: 13px; background: #fff; margin: 8px 0; }
th, td { border: 1px solid #d9dee3; padding: 4px 8px; text-align: left; }
th { background: #f0f2f4; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
tr.best td { background: #e8f4fb; font-weight: bold; }
details summary { cursor: pointer; font-size: 13px; color: #1f2933; margin: 8px 0; }
.tables { display: flex; flex-wrap: wrap; gap: 24px; align-items: flex-start; }
"""


def data_uri(png: bytes) -> str:
    """A PNG as a ``data:image/png;base64,...`` URI."""
    return "data:image/png;base64," + base64.b64encode(png).decode("ascii")


def _cell(value: Any) -> tuple[str, bool]:
    """Formatted text of a table cell and whether it is numeric (right-aligned)."""
    if value is None:
        return "", False
    if isinstance(value, bool):
        return ("yes" if value else "no"), False
    if isinstance(value, int):
        return f"{value:,}", True
    if isinstance(value, float):
        if value != value:  # NaN
            return "", True
        magnitude = abs(value)
        if magnitude == 0 or 1e-4 <= magnitude < 10:
            return f"{value:.4f}", True  # metrics: the same 4 decimals in every row, comparable by eye
        if magnitude < 1e-4:
            return f"{value:.1e}", True
        return (f"{value:,.1f}" if magnitude < 1e6 else f"{value:.3g}"), True
    if isinstance(value, dt.date):
        return value.isoformat(), False
    return str(value), False


@dataclass(frozen=True)
class Figure:
    """An embedded PNG with its alt text and caption; ``wide`` spans the whole row of the grid."""

    png: bytes
    alt: str
    caption: str
    wide: bool = False

    def render(self) -> str:
        cls = ' class="wide"' if self.wide else ""
        return (
            f'<figure{cls}><img src="{data_uri(self.png)}" alt="{html.escape(self.alt, quote=True)}">'
            f"<figcaption>{html.escape(self.caption)}</figcaption></figure>"
        )


@dataclass
class Section:
    """One titled part of a report: blocks of HTML and figures in order.

    Consecutive figures share one grid (two per row on a wide screen), whatever call added them.
    """

    title: str
    anchor: str
    blocks: list[str | Figure] = field(default_factory=list)

    def note(self, text: str) -> Section:
        """A paragraph of explanation."""
        self.blocks.append(f'<p class="note">{html.escape(text)}</p>')
        return self

    def table(
        self,
        rows: Sequence[Sequence[Any]],
        header: Sequence[str] | None = None,
        *,
        highlight: int | None = None,
        caption: str | None = None,
    ) -> Section:
        """A table from rows of values (numbers right-aligned); ``highlight`` marks one row."""
        self.blocks.append(render_table(rows, header, highlight=highlight, caption=caption))
        return self

    def frame(
        self, frame: pl.DataFrame, *, highlight: int | None = None, caption: str | None = None
    ) -> Section:
        """A polars frame as a table."""
        return self.table(frame.rows(), frame.columns, highlight=highlight, caption=caption)

    def details(self, summary: str, frame: pl.DataFrame) -> Section:
        """A polars frame as a table folded under a one-line ``summary`` (opens on click, no script)."""
        self.blocks.append(
            f"<details><summary>{html.escape(summary)}</summary>"
            + render_table(frame.rows(), frame.columns)
            + "</details>"
        )
        return self

    def tables(self, *tables: str) -> Section:
        """Several rendered tables side by side (see :func:`render_table`)."""
        self.blocks.append('<div class="tables">' + "".join(tables) + "</div>")
        return self

    def figures(self, figures: Iterable[tuple[bytes, str, str]], *, wide: bool = False) -> Section:
        """(png bytes, alt text, caption) figures, two per row (a whole row each when ``wide``)."""
        self.blocks.extend(Figure(png, alt, caption, wide) for png, alt, caption in figures)
        return self

    def render(self) -> str:
        """The section's HTML, consecutive figures grouped into one grid."""
        parts = [f'<section id="{html.escape(self.anchor, quote=True)}"><h2>{html.escape(self.title)}</h2>']
        grid: list[str] = []
        for block in [*self.blocks, ""]:
            if isinstance(block, Figure):
                grid.append(block.render())
                continue
            if grid:
                parts.append('<div class="grid">' + "".join(grid) + "</div>")
                grid = []
            parts.append(block)
        parts.append("</section>")
        return "".join(parts)


def render_table(
    rows: Sequence[Sequence[Any]],
    header: Sequence[str] | None = None,
    *,
    highlight: int | None = None,
    caption: str | None = None,
) -> str:
    """HTML of a table; numbers formatted with thousands separators and right-aligned."""
    parts = ["<table>"]
    if caption:
        parts.append(f"<caption>{html.escape(caption)}</caption>")
    if header:
        parts.append("<tr>" + "".join(f"<th>{html.escape(str(h))}</th>" for h in header) + "</tr>")
    for i, row in enumerate(rows):
        cls = ' class="best"' if highlight is not None and i == highlight else ""
        cells = []
        for value in row:
            text, numeric = _cell(value)
            cells.append(
                f'<td class="num">{html.escape(text)}</td>' if numeric else f"<td>{html.escape(text)}</td>"
            )
        parts.append(f"<tr{cls}>" + "".join(cells) + "</tr>")
    parts.append("</table>")
    return "".join(parts)


@dataclass
class Report:
    """A titled report made of sections, rendered to one self-contained HTML file."""

    title: str
    subtitle: str = ""
    sections: list[Section] = field(default_factory=list)

    def section(self, title: str, anchor: str) -> Section:
        """Start a new section (listed in the navigation bar under ``title``)."""
        new = Section(title=title, anchor=anchor)
        self.sections.append(new)
        return new

    def render(self) -> str:
        """The whole document as a string."""
        nav = "".join(f'<a href="#{s.anchor}">{html.escape(s.title)}</a>' for s in self.sections)
        body = "".join(s.render() for s in self.sections)
        return (
            '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
            '<meta name="viewport" content="width=device-width, initial-scale=1">'
            f"<title>{html.escape(self.title)}</title><style>{CSS}</style></head><body>"
            f"<header><h1>{html.escape(self.title)}</h1><p>{html.escape(self.subtitle)}</p></header>"
            f"<nav>{nav}</nav><main>{body}</main></body></html>\n"
        )

    def write(self, path: Path) -> Path:
        """Write the document atomically to ``path``."""
        return write_atomic(path, self.render().encode("utf-8"))


@dataclass
class FigureWriter:
    """Draws report figures: each is written as ``<name>.png`` in ``out_dir`` and embedded in a section."""

    out_dir: Path
    written: list[Path] = field(default_factory=list)

    def add(
        self,
        section: Section,
        name: str,
        title: str,
        xlabel: str,
        ylabel: str,
        draw: Callable[[Any], None],
        caption: str,
        *,
        wide: bool = False,
        height: float | None = None,
    ) -> None:
        """Draw one figure with ``draw(ax)`` (title and axis labels already set), save it, embed it."""
        width, default_height = plots.WIDE if wide else plots.SIZE
        with plots.figure(title, xlabel, ylabel, size=(width, height or default_height)) as (fig, ax):
            draw(ax)
            path = self.out_dir / f"{name}.png"
            png = plots.save_png(fig, path)
        self.written.append(path)
        section.figures([(png, title, caption)], wide=wide)


__all__ = ["CSS", "Figure", "FigureWriter", "Report", "Section", "data_uri", "render_table"]
