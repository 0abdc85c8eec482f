"""``hmrec demo``: the main job on the built-in synthetic data, what ``make demo`` runs."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import typer

from hmrec.cli.main import QuietOption, SeedOption, app, resolve_data

@app.command()
def demo(
    out: Path = typer.Option(Path("hmrec-demo"), "--out", help="Where the leaderboard, report and submission go."),
    models: str = typer.Option("", "--models", help="Comma-separated models (default: every registered model)."),
    quiet: bool = QuietOption,
    seed: int = SeedOption,
) -> None:
    """Generate the demo data (first use), evaluate every model on the last week, write a submission."""
    from hmrec.data.load import load_dataset
    from hmrec.evaluation.evaluate import evaluate
    from hmrec.models.base import available, create
    from hmrec.output import write_submission
    from hmrec.progress import console, set_quiet

    set_quiet(quiet)
    started = time.perf_counter()
    data_dir = resolve_data(None)
    dataset = load_dataset(data_dir, progress=not quiet)
    summary = dataset.summary()
    typer.echo(
        f"Data: {data_dir}\n  {summary['transactions']:,} transactions, {summary['customers']:,} customers, "
        f"{summary['articles']:,} articles, {summary['start_date']} to {summary['end_date']}"
    )
    names = [m for m in models.split(",") if m] or list(available())
    board = evaluate(dataset, names, seed=seed, progress=not quiet)
    out.mkdir(parents=True, exist_ok=True)
    board.write(out)
    board.print()
    best = board.best_model(exclude=("oracle",))
    model = create(best, **({"seed": seed} if "seed" in create(best).get_params() else {}))
    model.fit(dataset)
    ids, _ = model.recommend(np.arange(dataset.n_customers, dtype=np.int32), 12)
    path = write_submission(out / "submission.csv", dataset, ids)
    console().print(f"Best model: {best}; submission for {dataset.n_customers:,} customers written to {path}")
    typer.echo(f"Leaderboard and report in {out}/ ({time.perf_counter() - started:.0f} s)")
