"""The atomic writes' clean-up: what killed runs left beside an output, and what live runs are using."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from hmrec.atomic import remove_leftovers, swap_dir, temp_dir, temp_prefix


def _dead_pid() -> int:
    done = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    return int(done.stdout)


def test_a_folder_renamed_aside_by_a_killed_run_is_put_back(tmp_path: Path) -> None:
    """A run killed between swap_dir's two renames left the target missing and the old folder aside."""
    target = tmp_path / "bundle"
    aside = tmp_path / f".bundle.old-{_dead_pid()}-abc" / "previous"
    aside.mkdir(parents=True)
    (aside / "model.json").write_text("old")
    remove_leftovers(target)
    assert (target / "model.json").read_text() == "old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bundle"]


def test_a_live_runs_folders_and_a_present_target_are_kept(tmp_path: Path) -> None:
    target = tmp_path / "bundle"
    target.mkdir()
    (target / "model.json").write_text("new")
    dead = tmp_path / f".bundle.old-{_dead_pid()}-abc" / "previous"
    dead.mkdir(parents=True)
    live = tmp_path / f".bundle.tmp-{os.getpid()}-xyz"
    live.mkdir()
    remove_leftovers(target)
    assert (target / "model.json").read_text() == "new"
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(["bundle", live.name])


def test_swap_dir_replaces_a_folder_whole_and_leaves_nothing_beside(tmp_path: Path) -> None:
    target = tmp_path / "out"
    target.mkdir()
    (target / "a.txt").write_text("old")
    new = temp_dir(tmp_path, temp_prefix(target, "tmp"))
    (new / "b.txt").write_text("new")
    swap_dir(new, target)
    assert sorted(p.name for p in target.iterdir()) == ["b.txt"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]
