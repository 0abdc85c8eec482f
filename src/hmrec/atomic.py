"""Writing outputs so that a reader never sees half a file and nothing a user wrote is lost.

Every file and folder hmrec writes goes through here: it is written under a temporary name beside its target
and renamed into place. ``tempfile`` creates its files 0600 and folders 0700; they are given the permissions
an ordinary ``open()`` / ``mkdir()`` would have under the user's umask before the rename, so outputs are
0644 / 0755 under the usual umask 022, and private under umask 077.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

from hmrec.errors import ParameterError

_UMASK_LOCK = threading.Lock()


def umask() -> int:
    """The process's umask (read by setting it and putting it back, under a lock)."""
    with _UMASK_LOCK:
        mask = os.umask(0o022)
        os.umask(mask)
    return mask


def file_mode() -> int:
    """The mode ``open()`` gives a new file under the current umask."""
    return 0o666 & ~umask()


def dir_mode() -> int:
    """The mode ``mkdir()`` gives a new folder under the current umask."""
    return 0o777 & ~umask()


@contextlib.contextmanager
def atomic_file(path: Path | str) -> Iterator[BinaryIO]:
    """A binary handle on a temporary file beside ``path``, renamed onto ``path`` when the block ends.

    On any error (or Ctrl-C) the temporary file is removed and ``path`` is left as it was.
    """
    path = Path(path)
    parent = path.parent if str(path.parent) else Path(".")
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            yield handle
        os.chmod(tmp, file_mode())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_atomic(path: Path | str, data: bytes | str) -> Path:
    """Write ``data`` (text is written as UTF-8) to ``path`` through a temporary file and a rename."""
    path = Path(path)
    with atomic_file(path) as handle:
        handle.write(data.encode("utf-8") if isinstance(data, str) else data)
    return path


def temp_dir(parent: Path | str, prefix: str) -> Path:
    """A new empty folder in ``parent`` (hidden name starting with ``prefix``), with the umask's mode."""
    path = Path(tempfile.mkdtemp(prefix=prefix, dir=parent))
    os.chmod(path, dir_mode())
    return path


def check_not_cwd(path: Path, option: str = "--out") -> None:
    """Refuse to replace the current directory or one above it (``--out ''`` and ``--out .`` mean it).

    A folder that is replaced as a whole is renamed aside and deleted, which would leave the shell in a
    deleted directory.
    """
    here = Path.cwd().resolve()
    target = path.resolve()
    if target == here or target in here.parents:
        raise ParameterError(
            f"{option} '{path}' is the current directory or one above it, which would be replaced as a whole "
            f"(fix: name a folder for the output, e.g. {option} results)"
        )


def swap_dir(new: Path, target: Path) -> None:
    """Put folder ``new`` at ``target`` (a sibling), replacing the folder there, which is then removed.

    ``rename()`` cannot replace a non-empty folder, so the old one is first renamed aside; if putting the
    new one in place fails, the old one is put back.
    """
    old: Path | None = None
    if target.exists() or target.is_symlink():
        old = temp_dir(target.parent, f".{target.name}.old-")
        os.replace(target, old / "previous")
    try:
        os.replace(new, target)
    except BaseException:
        if old is not None:
            os.replace(old / "previous", target)
            old.rmdir()
        raise
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


__all__ = ["atomic_file", "check_not_cwd", "dir_mode", "file_mode", "swap_dir", "temp_dir", "umask", "write_atomic"]
