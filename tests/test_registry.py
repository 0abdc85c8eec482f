"""The registry's default set of models: what `evaluate` and `demo` run when no model is named."""

from __future__ import annotations

import subprocess
import sys

from hmrec.models.base import register, unregister
from hmrec.models.popularity import Popularity
from hmrec.registry import available, default_models


def test_extras_are_registered_but_not_in_the_default_set() -> None:
    assert available()["sgd-warp"].extra
    assert "sgd-warp" not in default_models()
    # every model of the brief and the ranker stay in the default set
    for name in ("popularity", "repurchase", "kmeans-customers", "als", "sgd-bpr", "sgd-mse", "ranker"):
        assert name in default_models()
    assert default_models() == [name for name in available() if name != "sgd-warp"]


def test_a_model_registered_as_an_extra_leaves_the_default_set() -> None:
    register("test-extra", "a test model", extra=True)(lambda **params: Popularity(**params))
    try:
        assert "test-extra" in available() and "test-extra" not in default_models()
    finally:
        unregister("test-extra")


def test_models_command_marks_the_extras() -> None:
    done = subprocess.run([sys.executable, "-m", "hmrec", "models"], capture_output=True, text=True, check=True)
    text = " ".join(done.stdout.split())  # descriptions wrap at the terminal's width
    marked = [name for name, info in available().items() if info.extra]
    assert text.count("[extra: run only when named]") == len(marked) == 1
    assert text.index("sgd-warp raw") < text.index("[extra: run only when named]")
