"""``hmrec demo``: the main job on the built-in synthetic data, what ``make demo`` runs."""

from __future__ import annotations

import time
from pathlib import Path

import typer

from hmrec.cli.main import QuietOption, SeedOption, app, resolve_data


@app.command()
def demo(
    out: Path = typer.Option(
        Path("hmrec-demo"), "--out", help="Where the leaderboard, report and submission go."
    ),
    models: str = typer.Option(
        "", "--models", help="Comma-separated models (default: every registered model but the extras)."
    ),
    quiet: bool = QuietOption,
    seed: int = SeedOption,
) -> None:
    """Generate the demo data (first use), evaluate every model on the last week, write a submission.

    The submission comes from the best model of the leaderboard other than the oracle, refitted on all the data.
    """
    import numpy as np

    from hmrec.data.load import load_dataset
    from hmrec.evaluation.evaluate import check_models, evaluate
    from hmrec.output import write_submission
    from hmrec.progress import console, set_quiet
    from hmrec.registry import create, default_models

    set_quiet(quiet)
    started = time.perf_counter()
    names = [m.strip() for m in models.split(",") if m.strip()] or default_models()
    check_models(names, {}, seed)
    data_dir = resolve_data(None)
    dataset = load_dataset(data_dir, progress=not quiet)
    summary = dataset.summary()
    typer.echo(
        f"Data: {data_dir}\n  {summary['transactions']:,} transactions, {summary['customers']:,} customers, "
        f"{summary['articles']:,} articles, {summary['start_date']} to {summary['end_date']}"
    )
    board = evaluate(dataset, names, seed=seed, progress=not quiet)
    out.mkdir(parents=True, exist_ok=True)
    board.write(out)
    board.print()
    slowest = ", ".join(f"{name} {seconds:.0f} s" for name, seconds in board.slowest())
    typer.echo(f"Took longest (fit + recommend): {slowest}")
    best = board.best_model(exclude=("oracle",))
    model = create(best)
    if "seed" in model.param_names():
        model.set_params(seed=seed)
    with console().status(f"Fitting {best} on all the data for the submission ..."):
        model.fit(dataset)
        ids, _ = model.recommend(np.arange(dataset.n_customers, dtype=np.int32), 12)
    path = write_submission(out / "submission.csv", dataset, ids)
    typer.echo(
        f"Best model: {best}. Submission for {dataset.n_customers:,} customers: {path}\n"
        f"Leaderboard (CSV, JSON) and report.html in {out}/ ({time.perf_counter() - started:.0f} s)"
    )
    with path.open(encoding="utf-8") as handle:
        handle.readline()  # the header
        customer = handle.readline().split(",")[0]
    typer.echo(next_steps(customer))


def next_steps(customer: str) -> str:
    """What to try after the demo (on the demo data, the commands' default): why each article is recommended,
    and the lists served over HTTP."""
    return (
        "Next:\n"
        f"  hmrec recommend --model ranker --customer {customer} --explain\n"
        "      the ranker's list for one customer, and which sources and features put each article there\n"
        "  hmrec train --model ranker --out bundles/ranker && hmrec serve --model-dir bundles\n"
        "      save a fitted model and serve its recommendations over HTTP (127.0.0.1:8000)"
    )
