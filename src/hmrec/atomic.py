"""Writing outputs so that a reader never sees half a file and nothing a user wrote is lost.

Every file and folder hmrec writes goes through here: it is written under a temporary name beside its target
and renamed into place. ``tempfile`` creates its files 0600 and folders 0700; they are given the permissions
an ordinary ``open()`` / ``mkdir()`` would have under the user's umask before the rename, so outputs are
0644 / 0755 under the usual umask 022, and private under umask 077.
"""

from __future__ import annotations

import contextlib
import os
import re
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
def naming(path: Path | str) -> Iterator[None]:
    """Re-raise an OSError of the block as one about ``path`` (the output the user named).

    A write error otherwise names a temporary file, or nothing at all (polars and numpy report a full disk
    as ``OSError('No space left on device (os error 28)')`` without errno or file name).
    """
    try:
        yield
    except OSError as exc:
        code = exc.errno
        if code is None and (found := re.search(r"os error (\d+)", str(exc))):
            code = int(found.group(1))
        reason = os.strerror(code) if code else (exc.strerror or str(exc))
        raise OSError(code or 0, reason, str(path)) from None


@contextlib.contextmanager
def atomic_file(path: Path | str) -> Iterator[BinaryIO]:
    """A binary handle on a temporary file beside ``path``, renamed onto ``path`` when the block ends.

    On any error (or Ctrl-C) the temporary file is removed and ``path`` is left as it was; an OSError names
    ``path``.
    """
    path = Path(path)
    parent = path.parent if str(path.parent) else Path(".")
    with naming(path):
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


def hidden_name(name: str) -> str:
    """``name`` with a leading dot (unchanged when it has one)."""
    return name if name.startswith(".") else f".{name}"


def temp_prefix(target: Path, kind: str) -> str:
    """The name prefix of a temporary folder beside ``target``: hidden, with its kind and our process id.

    The process id tells a later run whether the folder is a left-over of a killed run or in use.
    """
    return f"{hidden_name(target.name)}.{kind}-{os.getpid()}-"


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


def check_output_dir(path: Path, option: str = "--out") -> None:
    """Refuse an output folder that is a file or the current directory (before any long work)."""
    check_not_cwd(path, option)
    if path.exists() and not path.is_dir():
        raise ParameterError(f"{option} {path} is a file (fix: give a directory)")


@contextlib.contextmanager
def staged_dir(target: Path, option: str = "--out") -> Iterator[Path]:
    """A temporary copy of folder ``target`` to write a set of outputs into, swapped in when the block ends.

    The copy starts with everything ``target`` holds (hard links, so it costs no space): the user's other
    files, and inputs the writer reads such as ``hmrec cluster``'s ``elbow.png``, are kept. Readers see
    the old set or the new one, never a mix; on any error (or Ctrl-C) ``target`` is left as it was.
    """
    check_output_dir(target, option)
    if target.is_symlink():  # replace the folder the link points to, keeping the link
        target = target.resolve()
    with naming(target):
        target.parent.mkdir(parents=True, exist_ok=True)
        stage = temp_dir(target.parent, temp_prefix(target, "tmp"))
    try:
        with naming(target):
            if target.is_dir():
                shutil.copytree(target, stage, symlinks=True, dirs_exist_ok=True, copy_function=_link_or_copy)
        yield stage
        with naming(target):
            swap_dir(stage, target)
    except BaseException:
        shutil.rmtree(stage, ignore_errors=True)
        raise


def _link_or_copy(source: str, destination: str) -> None:
    try:
        os.link(source, destination)
    except OSError:  # a file system without hard links
        shutil.copy2(source, destination)


def swap_dir(new: Path, target: Path) -> None:
    """Put folder ``new`` at ``target`` (a sibling), replacing the folder there, which is then removed.

    ``rename()`` cannot replace a non-empty folder, so the old one is first renamed aside; if putting the
    new one in place fails, the old one is put back.
    """
    old: Path | None = None
    if target.exists() or target.is_symlink():
        old = temp_dir(target.parent, temp_prefix(target, "old"))
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


__all__ = [
    "atomic_file",
    "check_not_cwd",
    "check_output_dir",
    "dir_mode",
    "file_mode",
    "hidden_name",
    "naming",
    "staged_dir",
    "swap_dir",
    "temp_dir",
    "temp_prefix",
    "umask",
    "write_atomic",
]
