"""``hmrec explore``: the data report (one self-contained HTML file, every plot also as PNG)."""

from __future__ import annotations

import time
from pathlib import Path

import typer

from hmrec.cli.main import CacheOption, DataOption, QuietOption, app, resolve_data


@app.command()
def explore(
    data: Path | None = DataOption,
    out: Path = typer.Option(
        Path("hmrec-explore"), "--out", help="Directory for report.html and the PNG plots."
    ),
    cache: Path | None = CacheOption,
    quiet: bool = QuietOption,
) -> None:
    """Explore the data: sizes, time, prices, customers, activity, articles, repurchase, the test week."""
    from hmrec.data.load import load_dataset
    from hmrec.progress import console, set_quiet
    from hmrec.reports.explore import explore as build_report

    set_quiet(quiet)
    started = time.perf_counter()
    data_dir = resolve_data(data)
    dataset = load_dataset(data_dir, cache, progress=not quiet)
    report = build_report(dataset, out, progress=not quiet)
    pngs = sorted(out.glob("*.png"))
    console().print(
        f"Wrote {report} and {len(pngs)} plots ({time.perf_counter() - started:.1f} s)", markup=False
    )
    if not quiet:
        typer.echo(str(report))
