"""Writing outputs so that a reader never sees half a file and nothing a user wrote is lost.

Every file and folder hmrec writes goes through here: it is written under a temporary name beside its target
and renamed into place. ``tempfile`` creates its files 0600 and folders 0700; they are given the permissions
an ordinary ``open()`` / ``mkdir()`` would have under the user's umask before the rename, so outputs are
0644 / 0755 under the usual umask 022, and private under umask 077.
"""

from __future__ import annotations

import contextlib
import ctypes
import errno
import glob
import os
import re
import shutil
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

from hmrec.errors import ParameterError

_UMASK_LOCK = threading.Lock()
_RENAME_EXCHANGE = 2  # renameat2's flag (Linux 3.15+): swap two paths in one step
_AT_FDCWD = -100
# left-overs named without a process id (earlier versions) are taken for dead after this long
_ORPHAN_SECONDS = 3600


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
        remove_leftovers(parent / path.name)
        fd, tmp = tempfile.mkstemp(prefix=temp_prefix(path, "tmp"), suffix=".tmp", dir=parent)
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


def resolved(path: Path, option: str = "--out") -> Path:
    """``path`` made absolute with every link followed; a loop of links is the user's error, in one line."""
    try:
        return path.resolve()
    except (RuntimeError, OSError) as exc:  # Python before 3.13 raises RuntimeError for a loop
        raise ParameterError(
            f"{option} {path} cannot be followed ({exc}) (fix: remove the link loop or choose another {option})"
        ) from None


def check_not_cwd(path: Path, option: str = "--out") -> None:
    """Refuse to replace the current directory or one above it (``--out ''`` and ``--out .`` mean it).

    A folder that is replaced as a whole is renamed aside and deleted, which would leave the shell in a
    deleted directory.
    """
    here = Path.cwd().resolve()
    target = resolved(path, option)
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
        remove_leftovers(target)
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

    Where the system can (Linux), the two folders are exchanged in one step. Elsewhere ``rename()`` cannot
    replace a non-empty folder, so the old one is first renamed aside; if putting the new one in place
    fails, the old one is put back (and after a kill in between, :func:`remove_leftovers` puts it back).
    """
    if target.is_dir() and not target.is_symlink() and _exchange(new, target):
        # one step: a reader, a concurrent writer or a kill -9 finds the old folder or the new one, whole
        shutil.rmtree(new, ignore_errors=True)  # it now holds the old folder
        return
    old: Path | None = None
    if target.exists() or target.is_symlink():
        old = temp_dir(target.parent, temp_prefix(target, "old"))
        os.replace(target, old / "previous")
    try:
        os.replace(new, target)
    except BaseException as exc:
        raced = isinstance(exc, OSError) and exc.errno in (errno.ENOTEMPTY, errno.EEXIST)
        if old is None and raced and _exchange(new, target):
            # another run put its folder there since: replace that one as well, in one step
            shutil.rmtree(new, ignore_errors=True)
            return
        if old is not None:
            os.replace(old / "previous", target)
            old.rmdir()
        raise
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


def _exchange(first: Path, second: Path) -> bool:
    """Swap two existing paths atomically (Linux ``renameat2``); False where the system cannot."""
    try:
        renameat2 = ctypes.CDLL(None, use_errno=True).renameat2
    except (AttributeError, OSError):
        return False
    done = renameat2(
        _AT_FDCWD, os.fsencode(first), _AT_FDCWD, os.fsencode(second), ctypes.c_uint(_RENAME_EXCHANGE)
    )
    if done == 0:
        return True
    code = ctypes.get_errno()
    if code in (errno.EINVAL, errno.ENOSYS, errno.ENOENT, errno.EXDEV, errno.ENOTSUP):
        return False  # a file system without it, or ``second`` just went: the two renames then
    raise OSError(code, os.strerror(code), str(second))


def remove_leftovers(target: Path) -> None:
    """Remove what killed runs left beside ``target`` (temporary files and folders), never a live run's.

    Each is named with its process id (:func:`temp_prefix`), so it is a left-over once that process is gone;
    those named without one (earlier versions) are left-overs after an hour. A run killed
    between the two renames of :func:`swap_dir` left ``target`` missing and the whole old folder aside:
    it is put back.
    """
    parent = target.parent
    if not parent.is_dir():
        return
    base = hidden_name(target.name)
    unnamed = re.compile(rf"{re.escape(base)}\.[a-z0-9_]{{8}}\.tmp")  # tempfile's names, before process ids
    for kind in ("old", "tmp"):  # old first: a folder put back is not then taken for a left-over
        for path in parent.glob(f"{glob.escape(base)}.{kind}-*"):
            pid = path.name[len(base) + len(kind) + 2 :].split("-", 1)[0]
            if not _alive(int(pid)) if pid.isdigit() else _orphaned(path):
                _remove(path, restore_to=target if kind == "old" else None)
    for path in parent.glob(f"{glob.escape(base)}.*.tmp"):
        if unnamed.fullmatch(path.name) and path.is_file() and _orphaned(path):
            _remove(path, restore_to=None)


def _orphaned(path: Path) -> bool:
    try:
        return time.time() - path.lstat().st_mtime > _ORPHAN_SECONDS
    except OSError:
        return False


def _remove(path: Path, restore_to: Path | None) -> None:
    with contextlib.suppress(OSError):
        if path.is_symlink() or not path.is_dir():
            path.unlink()
            return
        previous = path / "previous"
        if restore_to is not None and previous.is_dir() and not (restore_to.exists() or restore_to.is_symlink()):
            os.rename(previous, restore_to)
        shutil.rmtree(path)


def _alive(pid: int) -> bool:
    """True while process ``pid`` runs (another user's process counts as running)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


__all__ = [
    "atomic_file",
    "check_not_cwd",
    "check_output_dir",
    "dir_mode",
    "file_mode",
    "hidden_name",
    "naming",
    "remove_leftovers",
    "resolved",
    "staged_dir",
    "swap_dir",
    "temp_dir",
    "temp_prefix",
    "umask",
    "write_atomic",
]
