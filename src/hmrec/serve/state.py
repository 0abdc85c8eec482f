"""The bundles a service holds, by name, and their reload without a restart.

A ``--model-dir`` is a bundle, or a folder whose sub-folders are bundles. Every bundle served together must
come from the same data (one fingerprint): profiles, purchases and article pages are then the same whichever
bundle answers, and two models can be compared side by side. A reload opens every bundle again from disk and
swaps the whole set in one assignment, or keeps the set it has when any bundle fails to load or a bundle it
serves is gone (being retrained); a request holds the set it started with, so requests in flight finish
on the old bundles, whose memory is freed when the last of them is done.
"""

from __future__ import annotations

import threading
import time
from pathlib import Path

from hmrec.errors import HmrecError, ParameterError
from hmrec.serve.bundle import BUNDLE_JSON, Bundle, BundleError, load_bundle
from hmrec.serve.metrics import Metrics


def bundle_dirs(paths: list[Path]) -> list[Path]:
    """Each path itself if it holds a bundle, else its sub-folders that do (sorted); a BundleError if none."""
    found: list[Path] = []
    for path in paths:
        if (path / BUNDLE_JSON).is_file() or not path.is_dir():
            found.append(path)  # load_bundle reports a missing directory with its fix
            continue
        # hidden folders are a `train --out` at work (its temporary or previous copy), never a bundle to serve
        subs = sorted(p for p in path.iterdir() if not p.name.startswith(".") and (p / BUNDLE_JSON).is_file())
        if not subs:
            # the bundle's own message: "not a serving bundle (bundle.json is missing)"
            found.append(path)
        found.extend(subs)
    return found


def open_bundles(paths: list[Path], *, checksums: bool = True) -> dict[str, Bundle]:
    """Load every bundle under ``paths``, named by model (by folder when two hold the same model)."""
    if not paths:
        raise ParameterError("no bundle given (fix: pass --model-dir DIR, the --out of `hmrec train`)")
    bundles = [load_bundle(path, checksums=checksums) for path in bundle_dirs(paths)]
    names = [b.model for b in bundles]
    out: dict[str, Bundle] = {}
    for bundle in bundles:
        name = bundle.model if names.count(bundle.model) == 1 else bundle.directory.name
        if name in out:
            raise ParameterError(
                f"two bundles are both called '{name}' ({out[name].directory}, {bundle.directory}) "
                "(fix: keep one, or put them in folders with different names)"
            )
        out[name] = bundle
    first = bundles[0]
    for bundle in bundles[1:]:
        if bundle.fingerprint != first.fingerprint:
            raise BundleError(
                f"trained on other data than {first.directory} (fingerprint {bundle.fingerprint} vs "
                f"{first.fingerprint})",
                file=bundle.directory,
                fix="serve bundles trained on the same data together",
            )
    return out


class ServeState:
    """The bundles being served (swapped whole on reload), the metrics and the admin token."""

    def __init__(self, paths: list[Path], *, checksums: bool = True, admin_token: str | None = None) -> None:
        self.paths = list(paths)
        self.checksums = checksums
        self.admin_token = admin_token or None
        self.metrics = Metrics()
        self.started = time.time()
        self._reload_lock = threading.Lock()
        self.bundles: dict[str, Bundle] = open_bundles(self.paths, checksums=checksums)
        self.loaded_at = time.time()

    @property
    def default(self) -> str:
        return next(iter(self.bundles))

    def _check_none_dropped(self, fresh: dict[str, Bundle]) -> None:
        """A bundle served now must be in the new set: a folder whose bundle.json is gone is being written by
        `hmrec train` (or was removed), and a reload that skipped it answered "unknown model" until the next."""
        found = {bundle.directory for bundle in fresh.values()}
        gone = [(name, bundle.directory) for name, bundle in self.bundles.items() if bundle.directory not in found]
        if gone:
            name, directory = gone[0]
            raise BundleError(
                f"bundle '{name}' is no longer there (bundle.json is missing: being written by `hmrec train`, "
                "or removed)",
                file=directory,
                fix="reload again when training has finished, or restart the service to stop serving it",
            )

    def reload(self) -> dict[str, Bundle]:
        """Open every bundle again and swap them in; on any error (a bundle that fails to load, or one served
        now that is gone) keep the current ones and raise it, naming the bundle."""
        with self._reload_lock:
            try:
                fresh = open_bundles(self.paths, checksums=self.checksums)
                self._check_none_dropped(fresh)
            except HmrecError:
                self.metrics.reload_failures += 1
                raise
            self.bundles = fresh  # one assignment: a request sees the old set or the new one, never a mix
            self.loaded_at = time.time()
            self.metrics.reloads += 1
            return fresh
