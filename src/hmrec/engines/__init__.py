"""Where the data-sized steps run: the local engine (polars, numpy, numba) or Spark, behind one seam.

The seam's types (the :class:`~hmrec.engines.base.Engine` protocol, ``Fitted``, ``IngestReport``) live in
:mod:`hmrec.engines.base`, below both engines; :func:`get_engine` here picks one by name.
"""

from __future__ import annotations

from collections.abc import Mapping

from hmrec.engines.base import ENGINES, Engine
from hmrec.errors import ParameterError


def get_engine(name: str, *, master: str | None = None, conf: Mapping[str, str] | None = None) -> Engine:
    """The engine called ``name`` (``local`` or ``spark``); Spark on ``master`` with ``conf``."""
    if name == "local":
        if master is not None or conf:
            raise ParameterError(
                "--spark-master and --spark-conf apply to --engine spark only (fix: add --engine spark or drop them)"
            )
        from hmrec.engines.local import LocalEngine

        return LocalEngine()
    if name == "spark":
        from hmrec.engines.spark.engine import SparkEngine

        return SparkEngine(master, dict(conf or {}))
    raise ParameterError(f"--engine must be one of {', '.join(ENGINES)}, got {name!r} (fix: e.g. --engine spark)")


__all__ = ["ENGINES", "Engine", "get_engine"]
