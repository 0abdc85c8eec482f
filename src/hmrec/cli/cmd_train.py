"""``hmrec train``: fit one model on all the data and save it to a directory."""

from __future__ import annotations

import time
from pathlib import Path

import typer

from hmrec.cli.main import (
    CacheOption,
    DataOption,
    ParamOption,
    ParamsFileOption,
    QuietOption,
    SeedOption,
    app,
    model_from_options,
    resolve_data,
)


@app.command("train")
def train_command(
    model: str = typer.Option(..., "--model", "-m", help="Registered model name, e.g. als (`hmrec models`)."),
    out: Path = typer.Option(
        ..., "--out", help="Directory to save the fitted model in: new, empty, or a saved model (replaced)."
    ),
    data: Path | None = DataOption,
    param: list[str] | None = ParamOption,
    params_file: Path | None = ParamsFileOption,
    cache: Path | None = CacheOption,
    quiet: bool = QuietOption,
    seed: int = SeedOption,
    serve_k: int = typer.Option(
        12, "--serve-k", help="Recommendations per customer precomputed for `hmrec serve` (its largest k)."
    ),
) -> None:
    """Fit MODEL on every transaction of the data and save it to OUT with what `hmrec serve` needs (a bundle)."""
    from hmrec.data.load import load_dataset
    from hmrec.models.persist import check_model_target, save_model
    from hmrec.progress import console, set_quiet
    from hmrec.serve.bundle_write import check_depth, write_bundle

    set_quiet(quiet)
    check_depth(serve_k)
    # create the model (validates the name and the parameter names) before the possibly long load
    recommender = model_from_options(model, param, seed, params_file)
    check_model_target(out)  # refuse a folder of the user's files now, not after a long fit
    data_dir = resolve_data(data)
    dataset = load_dataset(data_dir, cache, progress=not quiet)
    started = time.perf_counter()
    recommender.fit(dataset)
    elapsed = time.perf_counter() - started
    with console().status("Writing the model and its serving bundle ..."):
        # one folder, swapped in whole: a kill or a concurrent run never leaves a model without its bundle
        path = save_model(
            recommender, out, dataset,
            add=lambda folder: write_bundle(recommender, dataset, folder, depth=serve_k, seed=seed),
        )
    console().print(f"Trained {recommender!r} in {elapsed:.1f} s")
    typer.echo(f"Saved model '{model}' and its serving bundle to {path}")
