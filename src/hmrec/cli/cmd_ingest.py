"""``hmrec ingest``: read the competition files once into the typed cache and print what they hold."""

from __future__ import annotations

import time
from pathlib import Path

import typer

from hmrec.cli.main import CacheOption, QuietOption, app


@app.command()
def ingest(
    data: Path = typer.Option(
        ...,
        "--data",
        help="Directory with articles.csv, customers.csv, transactions_train.csv.",
    ),
    cache: Path | None = CacheOption,
    quiet: bool = QuietOption,
    force: bool = typer.Option(False, "--force", help="Rebuild the cache even when it is up to date."),
) -> None:
    """Validate the CSV files and build (or refresh) the typed cache that every other command reads."""
    from hmrec.data.load import cache_is_fresh, default_cache_dir, load_dataset
    from hmrec.progress import set_quiet

    set_quiet(quiet)
    started = time.perf_counter()
    fresh = not force and cache_is_fresh(data, cache)
    dataset = load_dataset(data, cache, progress=not quiet, refresh=force)
    seconds = time.perf_counter() - started
    summary = dataset.summary()
    location = cache if cache is not None else default_cache_dir(data)
    action = "cache up to date, loaded" if fresh else "cache built"
    typer.echo(
        "\n".join(
            [
                f"Ingested {data} ({action} in {seconds:.1f} s)",
                f"  transactions      {summary['transactions']:>12,}",
                f"  customers         {summary['customers']:>12,}",
                f"  articles          {summary['articles']:>12,}",
                f"  buying customers  {summary['buying_customers']:>12,}",
                f"  dates             {summary['start_date']} to {summary['end_date']}",
                f"  cache             {location}",
                f"  fingerprint       {dataset.fingerprint}",
            ]
        )
    )
