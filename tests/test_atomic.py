"""The atomic writes' clean-up: what killed runs left beside an output, and what live runs are using."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

from hmrec.atomic import remove_leftovers, staged_dir, swap_dir, temp_dir, temp_prefix


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


def test_temporary_files_of_earlier_versions_go_after_an_hour(tmp_path: Path) -> None:
    """Before temporary files carried a process id they were named .NAME.XXXXXXXX.tmp: gone once old."""
    target = tmp_path / "sub.csv"
    old, fresh, mine = (tmp_path / f".sub.csv.{tag}.tmp" for tag in ("ab12cd34", "ef56gh78", "notes"))
    for path in (old, fresh, mine):
        path.write_text("customer_id,prediction\n")
    two_hours_ago = time.time() - 7200
    os.utime(old, (two_hours_ago, two_hours_ago))
    os.utime(mine, (two_hours_ago, two_hours_ago))  # not a temporary file's name: the user's
    remove_leftovers(target)
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([fresh.name, mine.name])


def test_evaluate_style_staging_removes_a_dead_runs_stage(tmp_path: Path) -> None:
    target = tmp_path / "results"
    dead = tmp_path / f".results.tmp-{_dead_pid()}-abc"
    dead.mkdir()
    with staged_dir(target) as stage:
        (stage / "report.md").write_text("new")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["results"]
