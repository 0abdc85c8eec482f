"""The search: an Optuna study whose objective is a model's mean MAP@k on backtest weeks before the test week.

The test week (the last ``test_days`` days of the data, or the window ending at ``test_end``) is held out:
every backtest week ends before it starts, so neither a fit nor a score of the search reads it, and a later
``hmrec evaluate`` on that week judges the tuned parameters on days the search never saw. Each trial runs
:func:`hmrec.evaluation.evaluate.evaluate` on those weeks (the same split, seeds and metric as the command),
and its value is the mean of the weeks' MAP@k.

The study is Optuna's: TPE sampling seeded with ``seed`` (the same seed and trials give the same parameters
and values), trials kept in ``storage`` when given (an SQLite file: a second run with the same study name
continues it, adding trials). The model's own defaults are the first trial of a new study, so the report
says how far the search moved from them. A trial whose parameters the model refuses on a week fails with its
reason, and the search goes on.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import math
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hmrec.data.dataset import Dataset
from hmrec.data.split import Window, windows
from hmrec.errors import ParameterError
from hmrec.tuning.spaces import Dimension, Space

#: resamples of the leaderboard's bootstrap interval in each trial: the fewest it takes (the value is the mean)
TRIAL_RESAMPLES = 100
#: random trials before TPE models the results: fewer than Optuna's 10, since a trial of the ranker costs minutes
STARTUP_TRIALS = 5
SQLITE_HEADER = b"SQLite format 3\x00"


@dataclass(frozen=True)
class TunePlan:
    """The weeks a search scores on (oldest first) and the test week it never reads."""

    weeks: tuple[Window, ...]
    held_out: Window

    def describe(self) -> str:
        listed = ", ".join(f"{w.test_start} to {w.test_end}" for w in self.weeks)
        return f"backtest weeks {listed}; test week {self.held_out.test_start} to {self.held_out.test_end} held out"


def plan_weeks(dataset: Dataset, backtest: int, test_days: int, test_end: dt.date | None) -> TunePlan:
    """``backtest`` windows of ``test_days`` days ending the day before the held-out test window starts."""
    held_out = windows(dataset, 1, test_days, test_end)[0]
    last = held_out.test_start - dt.timedelta(days=1)
    try:
        weeks = windows(dataset, backtest, test_days, last)
    except ParameterError as exc:
        raise ParameterError(
            f"the data is too short to tune on {backtest} backtest window(s) before the test week "
            f"{held_out.test_start} to {held_out.test_end}: {exc}"
        ) from None
    return TunePlan(tuple(weeks), held_out)


@dataclass
class TuneResult:
    """A finished (or interrupted) search: the study and what it was run with."""

    model: str
    study: Any  # optuna.Study (imported lazily: the CLI starts without it)
    plan: TunePlan
    space: Space
    fixed: dict[str, Any]
    k: int
    seed: int
    storage: str | None
    trials_run: int = 0
    errors: list[str] = field(default_factory=list)
    #: the run was stopped by Ctrl-C (the trials that finished before are kept)
    interrupted: bool = False

    @property
    def complete(self) -> list[Any]:
        import optuna

        return [t for t in self.study.trials if t.state == optuna.trial.TrialState.COMPLETE]

    @property
    def best(self) -> Any:
        """The best complete trial; ParameterError when none finished."""
        if not self.complete:
            reason = f" (last failure: {self.errors[-1]})" if self.errors else ""
            raise ParameterError(f"no trial of the search finished{reason} (fix: check the parameters and the data)")
        return self.study.best_trial

    def best_params(self) -> dict[str, Any]:
        """The parameters to give the model: the fixed ones and the best trial's."""
        return {**self.fixed, **self.best.params}

    def default_value(self) -> float | None:
        """The defaults' value: the first trial when it was the enqueued defaults and finished."""
        for trial in self.study.trials:
            if trial.user_attrs.get("defaults") and trial.value is not None:
                return float(trial.value)
        return None


def study_name(model: str, dataset: Dataset, plan: TunePlan, k: int) -> str:
    """A name that changes with what makes values comparable: model, data, weeks and k."""
    first = plan.weeks[0]
    return (
        f"hmrec-{model}-{dataset.fingerprint or 'data'}-k{k}-{len(plan.weeks)}x"
        f"{(first.test_end - first.test_start).days + 1}d-until-{plan.weeks[-1].test_end}"
    )


def check_storage(url: str | None) -> str | None:
    """``url`` checked before any data is read: an SQLite file must be a database or new, in a folder that exists.

    A user's file that is not a database is refused rather than overwritten.
    """
    if url is None or not url.strip():
        return None
    url = url.strip()
    prefix = "sqlite:///"
    if url.startswith(prefix):
        path = Path(url[len(prefix):])
        if not str(path) or path.is_dir():
            raise ParameterError(f"--storage {url}: names a folder, not a file (fix: e.g. --storage sqlite:///study.db)")
        folder = path.parent if str(path.parent) else Path(".")
        if not folder.is_dir():
            raise ParameterError(
                f"--storage {url}: the folder {folder} does not exist (fix: create it or choose another)"
            )
        if path.exists() and path.stat().st_size:
            with path.open("rb") as handle:
                header = handle.read(len(SQLITE_HEADER))
            if header != SQLITE_HEADER:
                raise ParameterError(
                    f"--storage {url}: {path} is not an SQLite database and would be overwritten "
                    "(fix: choose a new file, e.g. --storage sqlite:///study.db)"
                )
    elif "://" not in url:
        raise ParameterError(f"--storage {url!r} is not a database URL (fix: e.g. --storage sqlite:///study.db)")
    return url


def open_study(name: str, storage: str | None, attrs: Mapping[str, Any]) -> Any:
    """The study ``name`` in ``storage`` (created, or loaded to be continued); ``attrs`` must match a loaded one's."""
    import optuna

    try:
        study = optuna.create_study(storage=storage, study_name=name, direction="maximize", load_if_exists=True)
    except Exception as exc:  # a database the URL cannot open: SQLAlchemy's and Optuna's own errors alike
        if isinstance(exc, ParameterError):
            raise
        raise ParameterError(f"--storage {storage}: cannot open the study ({exc}) (fix: check the URL)") from None
    if study.trials:
        for key, value in attrs.items():
            old = study.user_attrs.get(key)
            if old is not None and old != value:
                raise ParameterError(
                    f"study '{name}' was run with {key} {old}, not {value} (fix: give the same options, or "
                    "--study NEW_NAME for a new study)"
                )
    for key, value in attrs.items():
        study.set_user_attr(key, value)
    return study


def suggest(trial: Any, name: str, dim: Dimension) -> Any:
    """The trial's value of one parameter."""
    if dim.kind == "int":
        return trial.suggest_int(name, int(dim.low), int(dim.high), log=dim.log)
    if dim.kind == "float":
        return trial.suggest_float(name, dim.low, dim.high, log=dim.log)
    return trial.suggest_categorical(name, list(dim.choices))


def defaults_in_space(model: str, fixed: Mapping[str, Any], space: Space) -> dict[str, Any]:
    """The model's defaults (with ``fixed`` set) of the parameters in ``space`` whose default lies inside it."""
    from hmrec.registry import create

    defaults = create(model, **fixed).get_params()
    out: dict[str, Any] = {}
    for name, dim in space.items():
        value: Any = defaults.get(name)
        if dim.contains(value):
            out[name] = float(value) if dim.kind == "float" else value
    return out


@contextlib.contextmanager
def _models_quiet() -> Iterator[None]:
    """The models' own progress bars off while a trial runs: two live displays garble each other."""
    from hmrec.progress import is_quiet, set_quiet

    before = is_quiet()
    set_quiet(True)
    try:
        yield
    finally:
        set_quiet(before)


def tune(
    dataset: Dataset,
    model: str,
    *,
    space: Space,
    plan: TunePlan,
    fixed: Mapping[str, Any] | None = None,
    trials: int | None = 20,
    timeout: float | None = None,
    k: int = 12,
    seed: int = 0,
    storage: str | None = None,
    name: str | None = None,
    on_trial: Callable[[TuneResult, Any], None] | None = None,
) -> TuneResult:
    """Search ``space`` for ``model``'s best mean MAP@k on ``plan``'s weeks; returns the study.

    Args:
        fixed: parameters given, not searched (they leave the space).
        trials, timeout: the run stops after ``trials`` more trials or once ``timeout`` seconds have passed
            (a trial under way runs to its end), whichever comes first; at least one must be given.
        seed: seeds the sampler and every model's seed parameter (as ``evaluate --seed`` does).
        storage: an Optuna storage URL (``sqlite:///study.db``) keeping the trials; None: in memory.
        name: the study's name (default :func:`study_name`): a second run with the same name continues it.
        on_trial: called after each trial with the result so far and the trial (a progress bar).

    A Ctrl-C stops the trial under way and returns with ``interrupted`` set; the finished trials stay in the
    study (and its storage).
    """
    import optuna

    from hmrec.evaluation.evaluate import evaluate

    if trials is None and timeout is None:
        raise ParameterError("give --trials or --timeout, or both (fix: e.g. --trials 20)")
    fixed = dict(fixed or {})
    space = {key: dim for key, dim in space.items() if key not in fixed}
    if not space:
        raise ParameterError(f"nothing to search: every parameter of the space of '{model}' is fixed by --param")
    optuna.logging.set_verbosity(optuna.logging.ERROR)  # failures are reported by the caller, one line each
    attrs = {"model": model, "k": k, "weeks": [str(w.test_start) for w in plan.weeks], "fixed": fixed}
    study = open_study(name or study_name(model, dataset, plan, k), storage, attrs)
    # a continued study draws new points: the sampler's stream starts after the trials already run
    study.sampler = optuna.samplers.TPESampler(seed=seed + len(study.trials), n_startup_trials=STARTUP_TRIALS)
    if not study.trials:
        study.enqueue_trial(defaults_in_space(model, fixed, space), user_attrs={"defaults": True})
    result = TuneResult(model, study, plan, space, fixed, k, seed, storage)
    test_end = plan.weeks[-1].test_end
    test_days = (plan.weeks[0].test_end - plan.weeks[0].test_start).days + 1

    def objective(trial: optuna.Trial) -> float:
        values = {key: suggest(trial, key, dim) for key, dim in space.items()}
        started = time.perf_counter()
        try:
            with _models_quiet():
                board = evaluate(
                    dataset, [model], k=k, test_days=test_days, test_end=test_end, backtest=len(plan.weeks),
                    params={model: {**fixed, **values}}, curve_k=0, progress=False, seed=seed,
                    resamples=TRIAL_RESAMPLES,
                )
            if board.skipped.height:
                raise ParameterError(str(board.skipped["reason"][0]))
        except ParameterError as exc:  # these parameters cannot run here: a failed trial, the search goes on
            trial.set_user_attr("error", str(exc))
            result.errors.append(str(exc))
            return math.nan  # Optuna marks the trial failed
        trial.set_user_attr("seconds", round(time.perf_counter() - started, 1))
        trial.set_user_attr("week_map", [float(v) for v in board.weeks["map_at_k"].to_list()])
        return float(board.to_frame()["map_at_k"][0])

    def after(_: optuna.Study, trial: optuna.trial.FrozenTrial) -> None:
        result.trials_run += 1
        if on_trial is not None:
            on_trial(result, trial)

    try:
        study.optimize(objective, n_trials=trials, timeout=timeout, callbacks=[after])
    except (KeyboardInterrupt, SystemError) as exc:
        if not _ctrl_c(exc):
            raise
        result.interrupted = True  # Optuna marked the trial under way failed; the caller writes what finished
    return result


def _ctrl_c(exc: BaseException) -> bool:
    """Whether ``exc`` is Ctrl-C, or the SystemError numba wraps it in when it arrives inside a kernel."""
    while isinstance(exc, SystemError) and exc.__cause__ is not None:
        exc = exc.__cause__
    return isinstance(exc, KeyboardInterrupt)


__all__ = [
    "TunePlan",
    "TuneResult",
    "check_storage",
    "defaults_in_space",
    "open_study",
    "plan_weeks",
    "study_name",
    "suggest",
    "tune",
]
