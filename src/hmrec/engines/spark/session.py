"""The SparkSession of the Spark engine: master, configuration, checkpoints, the Python of the executors.

``--spark-master`` (default ``local[*]``) and ``--spark-conf KEY=VALUE`` reach :func:`spark_session`. The
session is created once per process and reused (Spark allows one active session per JVM). What hmrec sets
unless the user does (``--spark-conf`` wins):

* ``spark.sql.ansi.enabled=false``: a value that does not parse becomes null instead of failing the job, so
  that hmrec's own validation finds the first bad row and reports it in one line, as the local engine does;
* ``spark.sql.session.timeZone=UTC``: dates are calendar days, wherever the driver runs;
* ``PYSPARK_PYTHON`` (the Python that executors start): this interpreter, so that executors on this
  machine import the same hmrec (on a cluster, point it at an environment with hmrec installed);
* ``spark.driver.memory=4g``: local mode runs the executors inside the driver's JVM, and the 1 GiB default
  does not hold a shuffle of the competition's 31.8M rows;
* a checkpoint directory (``spark.checkpoint.dir`` or a temporary one): ALS checkpoints its factors every
  few iterations, and without it the lineage of a long run overflows the JVM's stack.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import shutil
import sys
import tempfile
from collections.abc import Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from hmrec.errors import ParameterError

if TYPE_CHECKING:
    from pyspark import Broadcast
    from pyspark.sql import SparkSession

DEFAULT_MASTER = "local[*]"
DEFAULTS: dict[str, str] = {
    "spark.sql.ansi.enabled": "false",
    "spark.sql.session.timeZone": "UTC",
    "spark.ui.showConsoleProgress": "false",
    "spark.sql.execution.arrow.pyspark.enabled": "true",
    "spark.driver.memory": "4g",
}
CHECKPOINT_KEY = "spark.checkpoint.dir"


def parse_conf(items: Sequence[str] | None) -> dict[str, str]:
    """``["spark.executor.memory=8g"]`` -> ``{"spark.executor.memory": "8g"}`` (ParameterError when no ``=``)."""
    out: dict[str, str] = {}
    for item in items or []:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise ParameterError(
                f"--spark-conf '{item}' is not KEY=VALUE (fix: e.g. --spark-conf spark.executor.memory=8g)"
            )
        out[key.strip()] = value
    return out


def check_available() -> None:
    """ParameterError (one line, exit 2) when pyspark or Java is missing: the engine cannot start."""
    try:
        import pyspark  # noqa: F401
    except ImportError:
        raise ParameterError(
            "--engine spark needs pyspark (fix: pip install 'hmrec[spark]', or use --engine local)"
        ) from None
    if not (os.environ.get("JAVA_HOME") or shutil.which("java")):
        raise ParameterError(
            "--engine spark needs Java 17 or newer and none was found "
            "(fix: install a JRE, e.g. apt-get install openjdk-17-jre-headless, or use --engine local)"
        )


def spark_session(
    master: str | None = None, conf: Mapping[str, str] | None = None, app_name: str = "hmrec"
) -> SparkSession:
    """The process's SparkSession on ``master`` with hmrec's defaults overridden by ``conf``.

    Without ``master``: spark-submit's ``--master`` when hmrec runs under spark-submit, else ``local[*]``.
    """
    check_available()
    from pyspark.sql import SparkSession

    # the context reads the executors' Python from the environment, not from the configuration
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    settings: dict[str, Any] = {**DEFAULTS, **(conf or {})}
    builder = SparkSession.builder.appName(app_name)
    if master is not None:
        builder = builder.master(master)
    for key, value in settings.items():
        if key != CHECKPOINT_KEY:
            builder = builder.config(key, value)
    session = builder.getOrCreate()
    session.sparkContext.setLogLevel("ERROR")
    checkpoint = settings.get(CHECKPOINT_KEY)
    if not checkpoint:
        checkpoint = tempfile.mkdtemp(prefix="hmrec-spark-checkpoints-")
        atexit.register(shutil.rmtree, checkpoint, ignore_errors=True)
    session.sparkContext.setCheckpointDir(str(checkpoint))
    return session


@contextlib.contextmanager
def broadcast(spark: SparkSession, value: Any) -> Iterator[Broadcast[Any]]:
    """``value`` broadcast to the executors for the block, released after it.

    When the block fails the release is best effort: if the failure stopped the context, unpersisting raises
    too, and that second error must not be the one the user reads.
    """
    shared = spark.sparkContext.broadcast(value)
    try:
        yield shared
    except BaseException:
        with contextlib.suppress(Exception):
            shared.unpersist()
        raise
    shared.unpersist()


__all__ = ["DEFAULT_MASTER", "broadcast", "check_available", "parse_conf", "spark_session"]
