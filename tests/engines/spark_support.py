"""Helpers of the engine tests: is Spark runnable here, and the bad-input cases of the loader's tests."""

from __future__ import annotations

import importlib.util
import os
import shutil
import sys
from pathlib import Path
from types import ModuleType


def spark_missing() -> str | None:
    """Why the Spark engine cannot run here, or None."""
    if importlib.util.find_spec("pyspark") is None:
        return "pyspark is not installed (pip install 'hmrec[spark]')"
    if not (os.environ.get("JAVA_HOME") or shutil.which("java")):
        return "no Java runtime (the Spark engine needs Java 17)"
    return None


def bad_input_cases() -> ModuleType:
    """tests/cli/test_bad_input.py, whose corruptions of a valid data set both engines must report alike."""
    path = Path(__file__).parents[1] / "cli" / "test_bad_input.py"
    spec = importlib.util.spec_from_file_location("hmrec_bad_input_cases", path)
    assert spec is not None and spec.loader is not None
    if spec.name in sys.modules:
        return sys.modules[spec.name]
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up there
    spec.loader.exec_module(module)
    return module
