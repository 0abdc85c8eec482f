"""``hmrec ingest``: read the competition files once into the typed cache and print what they hold."""

from __future__ import annotations

import time
from pathlib import Path

import typer

from hmrec.cli.main import (
    CacheOption,
    EngineOption,
    QuietOption,
    SparkConfOption,
    SparkMasterOption,
    app,
    engine_from_options,
)


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
    engine: str = EngineOption,
    spark_master: str | None = SparkMasterOption,
    spark_conf: list[str] | None = SparkConfOption,
) -> None:
    """Validate the CSV files and build (or refresh) the typed cache that every other command reads."""
    from hmrec.progress import set_quiet

    set_quiet(quiet)
    runner = engine_from_options(engine, spark_master, spark_conf)
    started = time.perf_counter()
    try:
        report = runner.ingest(data, cache, force=force, progress=not quiet)
    finally:
        runner.close()
    seconds = time.perf_counter() - started
    summary, location, fresh = report.summary, report.cache, report.fresh
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
                f"  fingerprint       {report.fingerprint}",
            ]
        )
    )
