"""What ``hmrec tune`` writes into its ``--out`` folder, and the check that it replaces only its own files.

* ``best_params.json``: ``{"model", "params", "value", "weeks", "trials", ...}``, what ``--params-file`` reads
  (``params`` are the parameters given with ``--param`` and the best trial's; ``value`` its mean MAP@k on
  ``weeks``; ``trials`` the finished trials of the study; ``default_value`` the model's defaults' value);
* ``trials.csv``: one row per trial of the study: number, state, value, seconds, each parameter, the error;
* ``history.png`` (each trial's value and the best so far), ``importances.png`` (Optuna's fANOVA importance
  of each parameter, from 2 finished trials on) and ``tune.html``, which shows both with the tables.

The set is written into a staged copy of the folder and swapped in whole (:func:`hmrec.atomic.staged_dir`):
the folder's other files are kept, and a file of tune's name that tune did not write is never replaced.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl
from matplotlib.ticker import MaxNLocator

from hmrec.atomic import check_output_dir, staged_dir, write_atomic
from hmrec.errors import ParameterError
from hmrec.tuning.study import TuneResult

BEST_FILE = "best_params.json"
OUTPUT_FILES = (BEST_FILE, "trials.csv", "history.png", "importances.png", "tune.html")
#: the mark in best_params.json by which tune knows a folder as its own
WRITER = "hmrec tune"


def check_tune_target(out: Path) -> None:
    """Refuse an ``--out`` that is a file, or holds files of tune's names next to no best_params.json of tune's."""
    check_output_dir(out)
    if not out.is_dir():
        return
    present = [name for name in OUTPUT_FILES if (out / name).exists() or (out / name).is_symlink()]
    if present and not _is_tune_output(out / BEST_FILE):
        raise ParameterError(
            f"--out {out} holds {', '.join(present)}, which hmrec tune did not write and would replace "
            "(fix: choose a new folder, e.g. --out tune-ranker)"
        )


def _is_tune_output(path: Path) -> bool:
    try:
        payload = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return isinstance(payload, dict) and payload.get("written_by") == WRITER and isinstance(payload.get("params"), dict)


def best_document(result: TuneResult) -> dict[str, Any]:
    """The content of best_params.json."""
    from hmrec import __version__

    best = result.best
    weekly = best.user_attrs.get("week_map", [])
    weeks = [
        {"test_start": str(w.test_start), "test_end": str(w.test_end),
         **({"map_at_k": weekly[i]} if i < len(weekly) else {})}
        for i, w in enumerate(result.plan.weeks)
    ]
    held = result.plan.held_out
    return {
        "model": result.model,
        "params": result.best_params(),
        "value": float(best.value),
        "metric": f"mean MAP@{result.k} over the weeks",
        "weeks": weeks,
        "held_out": {"test_start": str(held.test_start), "test_end": str(held.test_end)},
        "trials": len(result.complete),
        "best_trial": int(best.number),
        "default_value": result.default_value(),
        "study": result.study.study_name,
        "seed": result.seed,
        "written_by": WRITER,
        "hmrec_version": __version__,
    }


def trials_frame(result: TuneResult) -> pl.DataFrame:
    """One row per trial of the study, oldest first; parameters as text columns ``param_<name>``."""
    names = sorted({name for trial in result.study.trials for name in trial.params})
    rows = []
    for trial in result.study.trials:
        value = trial.value if trial.value is not None and math.isfinite(trial.value) else None
        rows.append({
            "number": int(trial.number),
            "state": trial.state.name.lower(),
            "value": value,
            "seconds": trial.user_attrs.get("seconds"),
            "defaults": bool(trial.user_attrs.get("defaults", False)),
            **{f"param_{name}": _text(trial.params[name]) if name in trial.params else None for name in names},
            "error": trial.user_attrs.get("error"),
        })
    schema = {"number": pl.Int64(), "state": pl.String(), "value": pl.Float64(), "seconds": pl.Float64(),
              "defaults": pl.Boolean(), **{f"param_{name}": pl.String() for name in names}, "error": pl.String()}
    return pl.DataFrame(rows, schema=schema)


def _text(value: object) -> str:
    """A parameter's value as text: a string as it is, anything else as JSON (true, null, 0.5)."""
    return value if isinstance(value, str) else json.dumps(value)


def importances(result: TuneResult) -> dict[str, float]:
    """Each searched parameter's share of the value's variance (fANOVA, seeded); empty under 2 finished trials."""
    import optuna

    if len(result.complete) < 2:
        return {}
    evaluator = optuna.importance.FanovaImportanceEvaluator(seed=result.seed)
    try:
        found = optuna.importance.get_param_importances(result.study, evaluator=evaluator)
    except (RuntimeError, ValueError):  # e.g. every finished trial has the same parameters: nothing to split on
        return {}
    return {name: float(value) for name, value in found.items()}


def write_outputs(result: TuneResult, out: Path) -> dict[str, Path]:
    """Write the set (see the module docstring) into ``out``; returns the paths by name."""
    from hmrec.reports.html import FigureWriter, Report

    document = best_document(result)
    frame = trials_frame(result)
    shares = importances(result)
    paths: dict[str, Path] = {}
    with staged_dir(out) as stage:
        write_atomic(stage / BEST_FILE, json.dumps(document, indent=2, allow_nan=False) + "\n")
        write_atomic(stage / "trials.csv", frame.write_csv())
        report = Report(
            title=f"hmrec tune: {result.model}",
            subtitle=f"study {document['study']}: {document['trials']} finished trials, best mean MAP@{result.k} "
            f"{document['value']:.4f}; {result.plan.describe()}",
        )
        section = report.section("Search", "search")
        section.note(
            f"The objective is the mean MAP@{result.k} over the backtest weeks; the test week is never read. "
            + (f"The model's defaults scored {document['default_value']:.4f} (trial 0). "
               if document["default_value"] is not None else "")
            + ("The run was interrupted: the trials that finished are shown." if result.interrupted else "")
        )
        figures = FigureWriter(stage)
        figures.add(section, "history", "Optimization history", "trial", f"mean MAP@{result.k}",
                    lambda ax: _draw_history(ax, frame),
                    "Each finished trial's value (dots) and the best so far (line).")
        if shares:
            figures.add(section, "importances", "Parameter importances (fANOVA)", "share of the variance", "",
                        lambda ax: _draw_importances(ax, shares),
                        "How much of the variation of the value each parameter explains, over the finished trials.")
        else:
            (stage / "importances.png").unlink(missing_ok=True)  # a previous run's, no longer true
            section.note("Parameter importances need at least 2 finished trials with different parameters.")
        section.table([[name, value] for name, value in document["params"].items()], ["parameter", "best value"])
        if shares:
            section.table([[name, value] for name, value in shares.items()], ["parameter", "importance"])
        section.frame(frame.drop("error") if frame["error"].null_count() == frame.height else frame,
                      highlight=document["best_trial"])
        report.write(stage / "tune.html")
        names = [BEST_FILE, "trials.csv", "history.png", *(["importances.png"] if shares else []), "tune.html"]
        paths = {name: out / name for name in names}
    return paths


def _draw_history(ax: Any, frame: pl.DataFrame) -> None:
    done = frame.filter(pl.col("value").is_not_null())
    numbers = done["number"].to_numpy()
    values = done["value"].to_numpy()
    ax.scatter(numbers, values, s=18, color="#0072B2", label="trial")
    ax.step(numbers, np.maximum.accumulate(values), where="post", color="#D55E00", label="best so far")
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))  # trials are numbered
    ax.legend(loc="lower right")


def _draw_importances(ax: Any, shares: dict[str, float]) -> None:
    names = list(shares)[::-1]  # the most important on top
    ax.barh(names, [shares[name] for name in names], color="#0072B2")
    ax.set_xlim(0, 1)


__all__ = ["BEST_FILE", "OUTPUT_FILES", "best_document", "check_tune_target", "importances", "trials_frame",
           "write_outputs"]
