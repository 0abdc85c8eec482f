"""``hmrec evaluate``: fit models on the past, score them on the following week(s), save a leaderboard."""

from __future__ import annotations

from pathlib import Path

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
    engine_from_options,
    parse_params,
    resolve_data,
)


@app.command("evaluate")
def evaluate_command(
    data: Path | None = DataOption,
    models: str = typer.Option(
        "", "--models", "-m", help="Comma-separated model names, e.g. popularity,repurchase "
        "(default: every registered model but the extras; `hmrec models` lists them).",
    ),
    k: int = typer.Option(12, "--k", help="Cut-off of the metrics (MAP@k, recall@k, ...)."),
    test_days: int = typer.Option(7, "--test-days", help="Length of the test window in days."),
    test_end: str | None = typer.Option(
        None, "--test-end", help="Last day of the test window, YYYY-MM-DD (default: the data's last day)."
    ),
    backtest: int = typer.Option(
        1, "--backtest", help="Number of consecutive test windows, ending at --test-end."
    ),
    curve_k: int = typer.Option(100, "--curve-k", help="Depth of the recall@j curve (0: no curve)."),
    baseline: str | None = typer.Option(
        None, "--baseline", help="Reference model of the paired MAP differences and their 95% intervals "
        "(default: the best model other than the oracle).",
    ),
    resamples: int = typer.Option(
        1000, "--resamples", help="Bootstrap resamples of the scored customers for the 95% intervals "
        "(>= 100; drawn with --seed).",
    ),
    out: Path = typer.Option(
        Path("hmrec-results"),
        "--out",
        help="Directory for leaderboard.csv/.json and report.html. The report shows the k-means elbow plot "
        "when `hmrec cluster --out` wrote elbow.png into this directory before evaluate runs.",
    ),
    param: list[str] | None = ParamOption,
    params_file: Path | None = ParamsFileOption,
    cache: Path | None = CacheOption,
    quiet: bool = QuietOption,
    seed: int = SeedOption,
    engine: str = EngineOption,
    spark_master: str | None = SparkMasterOption,
    spark_conf: list[str] | None = SparkConfOption,
) -> None:
    """Evaluate models on the last week(s) of the data and write the leaderboard and report.html.

    Every MAP@k comes with a 95% bootstrap interval over the scored customers, and with its paired difference
    to a baseline model: "differs: no" means the data cannot tell the two models apart.

    For the k-means elbow plot in report.html, run `hmrec cluster --out DIR` before evaluate --out DIR.
    """
    from hmrec.atomic import check_output_dir
    from hmrec.data.split import check_window_params, parse_date
    from hmrec.errors import ParameterError
    from hmrec.evaluation.evaluate import check_baseline, check_models, evaluate
    from hmrec.evaluation.intervals import check_resamples
    from hmrec.models.base import MAX_K, check_k
    from hmrec.progress import console, set_quiet
    from hmrec.registry import default_models
    from hmrec.tuning.params_file import with_params_file

    set_quiet(quiet)
    # Check what can be checked before the (possibly long) load.
    check_output_dir(out)
    check_k(k, MAX_K)
    check_window_params(backtest, test_days)
    if not 0 <= curve_k <= MAX_K:  # each scored customer gets a list this deep
        raise ParameterError(
            f"--curve-k must be an integer between 0 and {MAX_K}, got {curve_k} (fix: e.g. --curve-k 100, 0 for none)"
        )
    end = parse_date(test_end)
    chosen = [m.strip() for m in models.split(",") if m.strip()] or default_models()
    params = with_params_file(params_file, parse_params(param), chosen)
    names = check_models(chosen, params, seed)
    baseline = baseline.strip() if baseline and baseline.strip() else None
    check_baseline(baseline, names)
    check_resamples(resamples)
    runner = engine_from_options(engine, spark_master, spark_conf)
    runner.check_models(names)

    data_dir = resolve_data(data)
    try:
        dataset = runner.load(data_dir, cache, progress=not quiet)
        board = evaluate(
            dataset,
            names,
            k=k,
            test_days=test_days,
            test_end=end,
            backtest=backtest,
            params=params,
            curve_k=curve_k,
            progress=not quiet,
            seed=seed,
            engine=runner,
            baseline=baseline,
            resamples=resamples,
        )
    finally:
        runner.close()
    board.print()
    paths = board.write(out)
    console().print(f"Wrote {', '.join(str(p) for p in paths.values())}")
