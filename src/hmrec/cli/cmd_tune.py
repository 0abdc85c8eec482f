"""``hmrec tune``: search a model's parameters on backtest weeks before the test week, write the best as a file."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer

from hmrec.cli.main import (
    CacheOption,
    DataOption,
    ParamOption,
    QuietOption,
    SeedOption,
    app,
    parse_params,
    resolve_data,
)


@app.command("tune")
def tune_command(
    model: str = typer.Option(..., "--model", "-m", help="The model to tune, e.g. ranker (`hmrec models`)."),
    data: Path | None = DataOption,
    trials: int | None = typer.Option(
        None, "--trials", help="Trials to run now (added to those of a continued study; default 20 without --timeout)."
    ),
    timeout: float | None = typer.Option(
        None, "--timeout", help="Start no trial after this many seconds (a trial under way runs to its end)."
    ),
    storage: str | None = typer.Option(
        None, "--storage", help="Keep the trials in a database, e.g. sqlite:///study.db: a second run continues the "
        "study (default: in memory, lost at exit).",
    ),
    study: str | None = typer.Option(
        None, "--study", help="The study's name in --storage (default: from the model, the data and the weeks)."
    ),
    backtest: int = typer.Option(2, "--backtest", help="Backtest windows the objective averages MAP@k over."),
    test_days: int = typer.Option(7, "--test-days", help="Length of each window and of the held-out test window."),
    test_end: str | None = typer.Option(
        None, "--test-end", help="Last day of the held-out test window, YYYY-MM-DD (default: the data's last day); "
        "the backtest windows end before it starts.",
    ),
    k: int = typer.Option(12, "--k", help="Cut-off of MAP@k."),
    space: Path | None = typer.Option(
        None, "--space", help='A JSON search space replacing the built-in one: {"NAME": {"type": "int", "low": 1, '
        '"high": 9, "log": false}, "NAME2": {"type": "categorical", "choices": [...]}, ...}.',
    ),
    out: Path | None = typer.Option(
        None, "--out", help="Folder for best_params.json, trials.csv, history.png, importances.png and tune.html "
        "(default: tune-MODEL).",
    ),
    param: list[str] | None = ParamOption,
    cache: Path | None = CacheOption,
    quiet: bool = QuietOption,
    seed: int = SeedOption,
) -> None:
    """Search MODEL's parameters for the best mean MAP@k on backtest weeks that end before the test week.

    The test week (the last --test-days days, or the window ending at --test-end) is never read, so
    `hmrec evaluate --params-file OUT/best_params.json` judges the result on unseen days. --param fixes a
    parameter instead of searching it. With --storage, running the same command again continues the study.
    """
    from hmrec.atomic import check_output_dir
    from hmrec.data.load import load_dataset
    from hmrec.data.split import check_window_params, parse_date
    from hmrec.errors import ParameterError
    from hmrec.models.base import MAX_K, check_k
    from hmrec.progress import console, progress_bar, set_quiet
    from hmrec.registry import create
    from hmrec.tuning.report import check_tune_target, write_outputs
    from hmrec.tuning.spaces import read_space, space_for
    from hmrec.tuning.study import TuneResult, check_storage, plan_weeks, tune

    set_quiet(quiet)
    # everything that can be checked is checked before the (possibly long) load
    check_k(k, MAX_K)
    check_window_params(backtest, test_days)
    end = parse_date(test_end)
    if trials is not None and trials < 1:
        raise ParameterError(f"--trials must be an integer >= 1, got {trials} (fix: e.g. --trials 20)")
    if timeout is not None and not timeout > 0:  # NaN is refused too
        raise ParameterError(f"--timeout must be a number of seconds > 0, got {timeout} (fix: e.g. --timeout 3600)")
    if trials is None and timeout is None:
        trials = 20
    given = parse_params(param)
    others = sorted(set(given) - {model})
    if others:
        raise ParameterError(f"--param given for model '{others[0]}' but the tuned model is '{model}' "
                             f"(fix: write --param {model}.NAME=VALUE)")
    fixed = given.get(model, {})
    create(model, **fixed)  # an unknown model or a refused --param: now, not after the load
    searched = read_space(space) if space is not None else space_for(model)
    for name in searched:
        if name not in create(model).param_names():
            raise ParameterError(f"the search space names '{name}', which model '{model}' does not have "
                                 f"(allowed: {', '.join(create(model).param_names())})")
    storage = check_storage(storage)
    out = out if out is not None else Path(f"tune-{model}")
    check_output_dir(out)
    check_tune_target(out)

    dataset = load_dataset(resolve_data(data), cache, progress=not quiet)
    plan = plan_weeks(dataset, backtest, test_days, end)
    say = console()
    say.print(f"Tuning {model}: mean MAP@{k} on {plan.describe()}", markup=False, soft_wrap=True)
    with progress_bar(transient=False) as bar:
        task = bar.add_task(f"tune {model}", total=trials, info="")

        def on_trial(result: TuneResult, trial: Any) -> None:
            error = trial.user_attrs.get("error")
            if error:
                say.print(f"  trial {trial.number} failed: {error}", markup=False, soft_wrap=True)
            best = f"best {result.study.best_value:.4f}" if result.complete else "no trial finished"
            bar.update(task, advance=1, info=best)

        result = tune(
            dataset, model, space=searched, plan=plan, fixed=fixed, trials=trials, timeout=timeout, k=k,
            seed=seed, storage=storage, name=study, on_trial=on_trial,
        )
    if result.interrupted and not result.complete:
        raise KeyboardInterrupt  # nothing finished to write: "interrupted", exit 130
    paths = write_outputs(result, out)
    best = result.best
    default = result.default_value()
    versus = f" (defaults {default:.4f})" if default is not None else ""
    say.print(f"Wrote {', '.join(str(p) for p in paths.values())}", markup=False, soft_wrap=True)
    typer.echo(
        f"Best mean MAP@{k} {best.value:.4f}{versus} in trial {best.number} of {len(result.study.trials)} "
        f"(study {result.study.study_name}); parameters in {paths['best_params.json']}"
    )
    if result.interrupted:
        raise KeyboardInterrupt  # the finished trials are written and kept in --storage: "interrupted", exit 130
