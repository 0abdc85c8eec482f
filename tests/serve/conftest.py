"""Bundles of the tiny data set, written once per session in-process (the CLI path has its own test)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from hmrec.data.dataset import Dataset
from hmrec.models.base import Recommender
from hmrec.models.persist import save_model
from hmrec.registry import create
from hmrec.serve.bundle_write import write_bundle


def make_bundle(model: Recommender, dataset: Dataset, directory: Path, depth: int = 12) -> Path:
    model.fit(dataset)
    save_model(model, directory, dataset)
    return write_bundle(model, dataset, directory, depth=depth)


@pytest.fixture(scope="session")
def als_model(tiny: Dataset) -> Recommender:
    return create("als", factors=8, iterations=3, track_loss=False).fit(tiny)


@pytest.fixture(scope="session")
def bundles(tmp_path_factory: pytest.TempPathFactory, tiny: Dataset, als_model: Recommender) -> Path:
    """A folder of two bundles of the tiny data: ``als`` and ``popularity-decay``."""
    root = tmp_path_factory.mktemp("bundles")
    save_model(als_model, root / "als", tiny)
    write_bundle(als_model, tiny, root / "als")
    make_bundle(create("popularity-decay"), tiny, root / "popularity-decay")
    return root


@contextmanager
def running_server(*model_dirs: Path, env: dict[str, str] | None = None) -> Iterator[str]:
    """``hmrec serve`` in a subprocess on a free 127.0.0.1 port; yields its base URL, stops it after."""
    import httpx

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    args = [sys.executable, "-m", "hmrec", "serve", "--port", str(port)]
    for d in model_dirs:
        args += ["--model-dir", str(d)]
    process = subprocess.Popen(
        args, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env={**os.environ, **(env or {})}
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"hmrec serve exited: {process.stdout.read() if process.stdout else ''}")
            try:
                if httpx.get(f"{url}/ready", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError("hmrec serve did not become ready within 60 s")
            time.sleep(0.2)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@pytest.fixture(scope="session")
def serve_process() -> object:
    """:func:`running_server`, for tests that start the real service."""
    return running_server
