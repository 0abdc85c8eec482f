"""``hmrec generate``: write a synthetic data set shaped like the competition files, with a known truth."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import typer

from hmrec.cli.main import QuietOption, SeedOption, app


def _date(value: str | None, option: str) -> dt.date | None:
    """YYYY-MM-DD -> date; anything else is a one-line ParameterError naming the option."""
    from hmrec.errors import ParameterError

    if value is None:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise ParameterError(f"{option} '{value}' is not a date (fix: write it as YYYY-MM-DD)") from None


@app.command()
def generate(
    out: Path = typer.Option(..., "--out", help="Directory to write the four CSV files and truth/ into."),
    scale: str = typer.Option(
        "small", "--scale", help="Preset size: tiny (2K customers), small (50K), medium (300K), full (1.37M)."
    ),
    seed: int = SeedOption,
    customers: int | None = typer.Option(None, "--customers", help="Number of customers (overrides the scale)."),
    articles: int | None = typer.Option(None, "--articles", help="Number of articles (overrides the scale)."),
    start: str | None = typer.Option(None, "--start", help="First day, YYYY-MM-DD (default: the scale's)."),
    end: str | None = typer.Option(None, "--end", help="Last day, YYYY-MM-DD (default: 2020-09-22)."),
    world: int = typer.Option(
        0,
        "--world",
        help="The generator's structure (which article columns carry taste, how strong history, taste, "
        "co-purchase and trends are), drawn from this number; 0, the default, is the calibrated world.",
    ),
    quiet: bool = QuietOption,
) -> None:
    """Generate H&M-like articles.csv, customers.csv, transactions_train.csv and sample_submission.csv."""
    from hmrec import synthetic
    from hmrec.progress import set_quiet

    set_quiet(quiet)
    summary = synthetic.generate(
        out,
        scale=scale,
        seed=seed,
        customers=customers,
        articles=articles,
        start=_date(start, "--start"),
        end=_date(end, "--end"),
        world=world,
        progress=not quiet,
    )
    if not quiet:
        window = summary["truth_window"]
        typer.echo(
            "\n".join(
                [
                    f"Generated {summary['out']} (scale {summary['scale']}, seed {summary['seed']}, "
                    f"world {summary['world']['number']}) "
                    f"in {summary['seconds']:.1f} s",
                    f"  transactions      {summary['rows']:>12,}",
                    f"  customers         {summary['customers']:>12,} ({summary['buying_customers']:,} buy)",
                    f"  articles          {summary['articles']:>12,}",
                    f"  dates             {summary['start']} to {summary['end']}",
                    f"  truth window      {window[0]} to {window[1]} (truth/)",
                    f"  favourite key     {' x '.join(summary['world']['favourite_key'])}",
                ]
            )
        )
