"""``hmrec models``, ``hmrec submit`` and ``hmrec recommend``: the registry, a submission, one customer."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import typer

from hmrec.cli.main import (
    CacheOption,
    DataOption,
    EngineOption,
    ParamOption,
    ParamsFileOption,
    QuietOption,
    SeedOption,
    SparkConfOption,
    SparkMasterOption,
    app,
    demo_data_dir,
    engine_from_options,
    model_from_options,
    resolve_data,
)

KOption = typer.Option(12, "--k", help="Number of recommendations per customer.")


ModelDirOption = typer.Option(
    None, "--model-dir", help="Use a model saved by `hmrec train` instead of fitting one (same data only)."
)


def _check_model_choice(
    model: str | None, model_dir: Path | None, param: list[str] | None, params_file: Path | None = None
) -> str:
    """Exactly one of --model / --model-dir; --param and --params-file only with --model. Returns the model name."""
    from hmrec.errors import ParameterError

    if model_dir is None:
        if model is None:
            raise ParameterError(
                "no model given (fix: pass --model NAME, or --model-dir DIR from `hmrec train`)"
            )
        return model
    if param:
        raise ParameterError(
            "--param cannot change a saved model (fix: retrain with `hmrec train ... --param`, or drop --param)"
        )
    if params_file is not None:
        raise ParameterError(
            "--params-file cannot change a saved model (fix: retrain with `hmrec train ... --params-file`, "
            "or drop --params-file)"
        )
    from hmrec.models.persist import read_metadata

    saved = str(read_metadata(model_dir).get("model", ""))  # DataError if the directory is not a saved model
    if model is not None and model != saved:
        raise ParameterError(
            f"--model {model} but {model_dir} holds a '{saved}' model (fix: drop --model or use another --model-dir)"
        )
    return saved


def _inputs(data: Path | None, cache: Path | None, model_dir: Path | None) -> list[Path]:
    """What a command reads: the data's files, the cache folder and the saved model's folder."""
    from hmrec.data.load import default_cache_dir
    from hmrec.data.schema import ARTICLES_FILE, CUSTOMERS_FILE, TRANSACTIONS_FILE

    data_dir = data if data is not None else demo_data_dir()
    files = [data_dir / name for name in (ARTICLES_FILE, CUSTOMERS_FILE, TRANSACTIONS_FILE)]
    return [*files, cache if cache is not None else default_cache_dir(data_dir), *([model_dir] if model_dir else [])]


def _fitted(recommender: Any, model_dir: Path | None, dataset: Any, model: str) -> Any:
    """The model fitted on ``dataset``, or loaded from ``model_dir`` (refused if trained on other data)."""
    from hmrec.progress import console

    if model_dir is not None:
        from hmrec.registry import load_model

        return load_model(model_dir, dataset)
    with console().status(f"Fitting {model} ..."):
        recommender.fit(dataset)
    return recommender


@app.command("models")
def models_command(
    params: bool = typer.Option(
        False, "--params", help="List each parameter on its own line as MODEL.NAME=DEFAULT (for --param)."
    ),
) -> None:
    """List the registered models: name, score kind (raw or rank) and description, then each hyperparameter
    with its default (written as JSON, the values --param MODEL.NAME=VALUE takes)."""
    import shutil
    import textwrap

    from hmrec.registry import available, create

    registry = available()
    width = max(60, min(shutil.get_terminal_size((100, 24)).columns, 120))
    for name, info in registry.items():
        note = " [generated data only]" if info.needs_truth else ""
        note += " [extra: run only when named]" if info.extra else ""
        model = create(name)
        lines = textwrap.wrap(
            f"{name}  {model.score_kind}  {info.description}{note}", width, subsequent_indent="    "
        )
        defaults = model.get_params()
        if params:
            lines += [f"    {name}.{key}={json.dumps(value, default=str)}" for key, value in defaults.items()]
        else:
            listed = ", ".join(f"{key}={json.dumps(value, default=str)}" for key, value in defaults.items())
            lines += textwrap.wrap(
                f"params: {listed or 'none'}", width, initial_indent="    ", subsequent_indent="        ",
                break_on_hyphens=False,
            )
        typer.echo("\n".join(lines))


@app.command("submit")
def submit_command(
    out: Path = typer.Option(..., "--out", help="The submission CSV to write (customer_id,prediction)."),
    model: str | None = typer.Option(None, "--model", "-m", help="Registered model name (`hmrec models`)."),
    model_dir: Path | None = ModelDirOption,
    data: Path | None = DataOption,
    k: int = KOption,
    param: list[str] | None = ParamOption,
    params_file: Path | None = ParamsFileOption,
    cache: Path | None = CacheOption,
    quiet: bool = QuietOption,
    seed: int = SeedOption,
    engine: str = EngineOption,
    spark_master: str | None = SparkMasterOption,
    spark_conf: list[str] | None = SparkConfOption,
) -> None:
    """Fit MODEL on all the data (or load it from --model-dir) and write a submission for every customer."""
    import numpy as np

    from hmrec.errors import ParameterError
    from hmrec.models.base import MAX_K, check_k, check_memory
    from hmrec.output import check_submission_target, write_submission
    from hmrec.progress import console, set_quiet

    set_quiet(quiet)
    check_k(k, MAX_K)
    model = _check_model_choice(model, model_dir, param, params_file)
    recommender = model_from_options(model, param, seed, params_file) if model_dir is None else None
    # a directory, a missing folder or one of the inputs is refused now, not after a long fit
    check_submission_target(out, _inputs(data, cache, model_dir))
    runner = engine_from_options(engine, spark_master, spark_conf)
    if model_dir is not None and runner.name != "local":
        raise ParameterError("--model-dir is for --engine local (fix: drop --model-dir or --engine)")
    runner.check_models([model])
    try:
        # an engine that fits elsewhere keeps the transactions there: the driver gets the ids only
        dataset = runner.load(resolve_data(data), cache, progress=not quiet, transactions=False)
        started = time.perf_counter()
        if model_dir is not None:
            recommender = _fitted(recommender, model_dir, dataset, model)
        else:
            with console().status(f"Fitting {model} ..."):
                recommender = runner.fit(recommender, dataset)
        model = recommender.name
        fitted = time.perf_counter()
        # ids and scores (4 bytes each) per customer and rank, plus as much again for the models' working copies
        check_memory(16 * dataset.n_customers * k, f"--k {k} for {dataset.n_customers:,} customers")
        with console().status(f"Recommending for {dataset.n_customers:,} customers ..."):
            ids, _ = recommender.recommend(np.arange(dataset.n_customers, dtype=np.int32), k)
        recommended = time.perf_counter()
    finally:
        runner.close()
    path = write_submission(out, dataset, ids)
    empty = int((ids[:, 0] < 0).sum()) if ids.size else dataset.n_customers
    console().print(
        f"fit {fitted - started:.1f} s, recommend {recommended - fitted:.1f} s, "
        f"write {time.perf_counter() - recommended:.1f} s"
        + (f"; {empty:,} customers got no recommendation" if empty else "")
    )
    typer.echo(f"Wrote {path} ({dataset.n_customers:,} customers, model {model}, k={k})")


@app.command("recommend")
def recommend_command(
    customer: str = typer.Option(..., "--customer", "-c", help="The customer's 64-hex customer_id."),
    model: str | None = typer.Option(
        None, "--model", "-m", help="Registered model name (`hmrec models`; default repurchase)."
    ),
    model_dir: Path | None = ModelDirOption,
    data: Path | None = DataOption,
    k: int = KOption,
    history: int = typer.Option(10, "--history", help="How many recent purchases to show."),
    explain: bool = typer.Option(
        False, "--explain", help="Say why: the sources and top features behind each article (models that can)."
    ),
    param: list[str] | None = ParamOption,
    cache: Path | None = CacheOption,
    quiet: bool = QuietOption,
    seed: int = SeedOption,
) -> None:
    """Show a customer's recent purchases and MODEL's recommendations (fitted on all the data, or --model-dir)."""
    import numpy as np
    import polars as pl
    from rich.console import Console

    from hmrec.data.load import load_dataset
    from hmrec.errors import ParameterError
    from hmrec.models.base import MAX_K, check_k
    from hmrec.output import purchases_frame, recommendations_frame
    from hmrec.progress import set_quiet

    set_quiet(quiet)
    check_k(k, MAX_K)
    if model is None and model_dir is None:
        model = "repurchase"
    model = _check_model_choice(model, model_dir, param)
    recommender = model_from_options(model, param, seed) if model_dir is None else None
    if explain and recommender is not None and not hasattr(recommender, "explain"):  # fail before loading data
        raise ParameterError(
            f"model '{model}' cannot explain its recommendations (fix: drop --explain, or use --model ranker)"
        )
    dataset = load_dataset(resolve_data(data), cache, progress=not quiet)
    idx = int(dataset.customer_index([customer.strip().lower()])[0])  # UnknownCustomerError: one line, exit 2
    recommender = _fitted(recommender, model_dir, dataset, model)
    model = recommender.name
    if explain and not hasattr(recommender, "explain"):
        raise ParameterError(
            f"model '{model}' cannot explain its recommendations (fix: drop --explain, or use --model ranker)"
        )
    ids, scores = recommender.recommend(np.array([idx], dtype=np.int32), k)

    out = Console()
    bought = purchases_frame(dataset, idx, limit=max(history, 0))
    n_total = int((dataset.transactions["customer_idx"] == idx).sum())
    if bought.height:
        title = f"Customer {customer}: {n_total} purchases, the {bought.height} most recent"
        out.print(_table(title, bought))
    else:
        out.print(f"Customer {customer} has no purchases: the recommendations are the model's fallback.")
    recs = recommendations_frame(dataset, ids[0], scores[0])
    score_note = (
        f"score: rank based ({model} has no score of its own), higher ranks first"
        if getattr(recommender, "score_kind", "raw") == "rank"
        else f"score: as returned by {model}, higher ranks first"
    )
    out.print(_table(f"Top {recs.height} recommendations of {model}", recs, caption=score_note))
    if explain:
        why = recommender.explain(idx, k)
        why = recs.select("rank", "article_id").join(
            why.select(pl.col("rank").cast(recs.schema["rank"]), "sources", "reasons"), on="rank", how="left",
            maintain_order="left",
        )
        wide = Console(width=max(out.width, 160))  # the reasons are long: do not squeeze them into 80 columns
        wide.print(_table("Why: the sources that proposed each article and its top features (SHAP)", why))
        if hasattr(recommender, "taste"):
            keys = recommender.taste()
            out.print(_table("Taste keys the model learned from the data (p_taste<slot>_share; the first is the "
                             "taste source's)", keys))


LABELS = {
    "rank": "rank",
    "date": "date",
    "article_id": "article",
    "prod_name": "name",
    "product_type_name": "product type",
    "colour_group_name": "colour",
    "score": "score",
    "sources": "sources",
    "reasons": "top features: value (contribution to the score)",
}


def _table(title: str, frame: Any, caption: str | None = None) -> Any:
    """A rich table of a small polars frame, with readable column names; scores to 4 significant digits."""
    from rich.table import Table

    table = Table(title=title, caption=caption)
    for column in frame.columns:
        numeric = column in ("rank", "score", "gain", "recall")
        table.add_column(LABELS.get(column, column), justify="right" if numeric else "left")
    for row in frame.iter_rows(named=True):
        table.add_row(
            *[
                "" if value is None else f"{value:.4g}" if column in ("score", "gain", "recall") else str(value)
                for column, value in row.items()
            ]
        )
    return table
