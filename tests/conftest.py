"""Shared fixtures: one tiny generated data set per test session, read through the real loader."""

from __future__ import annotations

from pathlib import Path

import pytest

from hmrec.data.dataset import Dataset


@pytest.fixture(scope="session")
def tiny_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The ``tiny`` synthetic data set (seed 0), generated once per session."""
    from hmrec.synthetic import generate

    out = tmp_path_factory.mktemp("tiny")
    generate(out, scale="tiny", seed=0, progress=False)
    return out


@pytest.fixture(scope="session")
def tiny(tiny_dir: Path) -> Dataset:
    """The tiny data set as a Dataset, loaded through the cache."""
    from hmrec.data.load import load_dataset

    return load_dataset(tiny_dir, progress=False)


@pytest.fixture(scope="session")
def small_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The ``small`` synthetic data set (seed 0); only for tests marked slow or quality tests that need it."""
    from hmrec.synthetic import generate

    out = tmp_path_factory.mktemp("small")
    generate(out, scale="small", seed=0, progress=False)
    return out


@pytest.fixture(scope="session")
def small(small_dir: Path) -> Dataset:
    from hmrec.data.load import load_dataset

    return load_dataset(small_dir, progress=False)
