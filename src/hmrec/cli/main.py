"""The typer app, shared options and the mapping of user errors to one line and exit code 2.

Commands live in sibling modules (one per area) and register themselves on ``app`` when imported.
"""

from __future__ import annotations

import errno
import os
import sys
from pathlib import Path
from typing import Any

import typer

from hmrec.errors import HmrecError

#: an error line is cut here: a quoted file line or library message must not flood the terminal
ERROR_CHARS = 400

_OS_FIXES = {
    errno.ENOSPC: "free some disk space, or write somewhere else",
    errno.EDQUOT: "free some disk space, or write somewhere else",
    errno.EACCES: "check the permissions, or choose another path",
    errno.EPERM: "check the permissions, or choose another path",
    errno.EROFS: "the file system is read-only: choose another path",
    errno.EISDIR: "give a file, not a directory",
    errno.ENOTDIR: "check the path: a part of it is a file, not a directory",
    errno.ENOENT: "check the path",
}


def one_line(text: str) -> str:
    """``text`` as one short line: line breaks and runs of spaces collapsed, cut at ERROR_CHARS."""
    line = " ".join(str(text).split())
    return line if len(line) <= ERROR_CHARS else line[: ERROR_CHARS - 3] + "..."


def os_error_line(exc: OSError) -> str:
    """An OSError (disk full, permission denied, read-only file system ...) as one line naming the path."""
    path = exc.filename if exc.filename is not None else None
    what = exc.strerror or str(exc) or type(exc).__name__
    fix = _OS_FIXES.get(exc.errno or -1, "check the path and the disk")
    where = f"{path}: " if path is not None else ""
    return f"{where}{what} (fix: {fix})"


class _App(typer.Typer):
    """Typer app that turns user errors into one line on stderr (exit 2) and Ctrl-C into "interrupted" (130).

    User errors are :class:`HmrecError` and an ``OSError`` from the system (a full disk, a read-only or
    unreadable path): neither is a bug in hmrec, so neither gets a traceback.
    """

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        try:
            return super().__call__(*args, **kwargs)
        except HmrecError as exc:
            sys.stderr.write(f"error: {one_line(str(exc))}\n")
            sys.exit(2)
        except OSError as exc:
            sys.stderr.write(f"error: {one_line(os_error_line(exc))}\n")
            sys.exit(2)
        except KeyboardInterrupt:
            sys.stderr.write("interrupted\n")
            sys.exit(130)
        except SystemError as exc:
            # Ctrl-C inside a long numba kernel (the top-k, an ALS sweep) surfaces when the kernel returns, and
            # CPython wraps it: "CPUDispatcher(...) returned a result with an exception set", caused by it,
            # through as many such SystemErrors as numba had calls under way (its _numba_unpickle)
            if not _caused_by_ctrl_c(exc):
                raise
            sys.stderr.write("interrupted\n")
            sys.exit(130)
        except SystemExit as exc:
            if exc.code == 130:  # typer turns Ctrl-C into a silent exit 130
                sys.stderr.write("interrupted\n")
            raise


def _caused_by_ctrl_c(exc: BaseException) -> bool:
    """Whether a chain of SystemErrors ends in a KeyboardInterrupt (each caused by the next)."""
    seen: set[int] = set()
    cause = exc.__cause__
    while isinstance(cause, SystemError) and id(cause) not in seen:
        seen.add(id(cause))
        cause = cause.__cause__
    return isinstance(cause, KeyboardInterrupt)


app = _App(
    name="hmrec",
    help="Recommendations for fashion retail (H&M Personalized Fashion Recommendations), end to end.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

# Shared option definitions, so that every command spells them the same way.
DataOption = typer.Option(
    None,
    "--data",
    help="Directory with articles.csv, customers.csv, transactions_train.csv "
    "(default: the built-in synthetic demo data set, generated on first use).",
)
CacheOption = typer.Option(
    None, "--cache", help="Directory for the typed cache (default: DATA/.hmrec-cache)."
)
QuietOption = typer.Option(False, "--quiet", "-q", help="No progress bars or status lines.")
EngineOption = typer.Option(
    "local",
    "--engine",
    help="Where the data-sized work runs: local (this process) or spark (pip install 'hmrec[spark]').",
)
SparkMasterOption = typer.Option(
    None,
    "--spark-master",
    help="Spark master with --engine spark: local[*] (default; spark-submit's under spark-submit), "
    "spark://HOST:PORT, k8s://https://HOST:PORT.",
)
SparkConfOption = typer.Option(
    None,
    "--spark-conf",
    help="Spark setting KEY=VALUE with --engine spark, e.g. spark.executor.memory=8g (repeatable).",
)
SeedOption = typer.Option(0, "--seed", help="Random seed: the same seed gives the same output.")


def demo_data_dir() -> Path:
    """Where the built-in demo data set lives: $HMREC_DEMO_DATA, else the user's cache directory."""
    env = os.environ.get("HMREC_DEMO_DATA")
    if env:
        return Path(env)
    base = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache"))
    return base / "hmrec" / "demo-small-seed0"


def resolve_data(data: Path | None) -> Path:
    """The data directory to use: the user's, or the demo data set (generated here on first use)."""
    if data is not None:
        return data
    path = demo_data_dir()
    from hmrec.synthetic import GENERATOR_VERSION, generate, generated_version

    version = generated_version(path)
    # data of an older generator would judge today's models on yesterday's world: made again (files the
    # generator did not write, e.g. $HMREC_DEMO_DATA set to other data, are used as they are)
    stale = version is not None and version != GENERATOR_VERSION
    if stale or not (path / "transactions_train.csv").exists():
        from hmrec.progress import console

        console().print(f"Generating the demo data set (scale small, seed 0) in {path} ...")
        generate(path, scale="small", seed=0)
    return path


ParamOption = typer.Option(
    None,
    "--param",
    "-p",
    help="Model hyperparameter as MODEL.NAME=VALUE, e.g. als.factors=128 (repeatable).",
)


ParamsFileOption = typer.Option(
    None,
    "--params-file",
    help="Model hyperparameters from a JSON file: `hmrec tune`'s best_params.json, or {\"MODEL\": {\"NAME\": VALUE}}; "
    "--param overrides it.",
)


def parse_params(items: list[str] | None) -> dict[str, dict[str, Any]]:
    """``["als.factors=128", "popularity.days=14"]`` -> ``{"als": {"factors": 128}, ...}``.

    Values are parsed as JSON when possible (numbers, true/false, null), else kept as strings.
    """
    import json
    import math

    from hmrec.errors import ParameterError

    out: dict[str, dict[str, Any]] = {}
    for item in items or []:
        key, sep, raw = item.partition("=")
        model, dot, name = key.rpartition(".")
        if not sep or not dot or not model or not name:
            raise ParameterError(
                f"--param '{item}' is not MODEL.NAME=VALUE (fix: e.g. --param als.factors=128)"
            )
        try:
            value: Any = json.loads(raw, parse_constant=lambda _: math.nan)
        except json.JSONDecodeError:
            value = raw
        # NaN, Infinity and numbers too large for a float (1e400) would fit a model of NaNs without complaint
        if isinstance(value, float) and not math.isfinite(value):
            raise ParameterError(f"--param {key}: must be a finite number, got {raw!r} (fix: give a finite value)")
        out.setdefault(model, {})[name] = value
    return out


def model_from_options(model: str, param: list[str] | None, seed: int, params_file: Path | None = None) -> Any:
    """A new model from --model/--params-file/--param/--seed, validated (name, parameters) before any data is loaded.

    --param overrides --params-file, key by key. --seed goes to every seed parameter of the model (a composite's
    ``fallback__seed`` too), unless --param or the file sets it.
    """
    from hmrec.errors import ParameterError
    from hmrec.models.base import seed_params
    from hmrec.registry import create
    from hmrec.tuning.params_file import with_params_file

    params = with_params_file(params_file, parse_params(param), [model])
    others = sorted(set(params) - {model})
    if others:
        raise ParameterError(
            f"--param given for model '{others[0]}' but the model is '{model}' "
            f"(fix: write --param {model}.NAME=VALUE)"
        )
    recommender = create(model, **params.get(model, {}))
    return seed_params(recommender, seed, params.get(model, {}))


def _show_version(value: bool) -> None:
    if value:
        from hmrec import __version__

        typer.echo(__version__)
        raise typer.Exit()


def engine_from_options(engine: str, spark_master: str | None, spark_conf: list[str] | None) -> Any:
    """The engine of --engine/--spark-master/--spark-conf (checked before any data is read)."""
    from hmrec.engines import get_engine
    from hmrec.engines.spark.session import parse_conf

    chosen = get_engine(engine, master=spark_master, conf=parse_conf(spark_conf))
    if chosen.name == "spark":
        from hmrec.engines.spark.session import check_available

        check_available()
    return chosen


@app.callback()
def _root(
    show_version: bool = typer.Option(
        False, "--version", callback=_show_version, is_eager=True, help="Print hmrec's version and exit."
    ),
) -> None:
    """hmrec: recommendations for fashion retail, from the data to a submission file."""


@app.command()
def version() -> None:
    """Print hmrec's version."""
    from hmrec import __version__

    typer.echo(__version__)


def main() -> None:
    app()

