"""The quickstart notebook runs top to bottom against the installed hmrec, so that it never goes stale."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")

NOTEBOOK = Path(__file__).resolve().parents[2] / "docs" / "examples" / "quickstart.ipynb"


def test_quickstart_runs_and_writes_a_submission(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # tiny data: the cells are the same, only the generated scale changes
    monkeypatch.setenv("HMREC_NOTEBOOK_SCALE", "tiny")
    monkeypatch.setenv("HMREC_NOTEBOOK_DIR", str(tmp_path))
    monkeypatch.delenv("HMREC_DATA", raising=False)
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    client = nbclient.NotebookClient(
        notebook, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}
    )
    client.execute(env=dict(os.environ))
    outputs = [output for cell in notebook.cells if cell.cell_type == "code" for output in cell.get("outputs", [])]
    assert not [output for output in outputs if output.get("output_type") == "error"]
    # the leaderboard, the plot and the explained lists were shown
    assert any("image/png" in output.get("data", {}) for output in outputs)
    shown = "\n".join(str(output.get("data", {}).get("text/plain", "")) for output in outputs)
    assert "ranker" in shown and "repurchase" in shown and "reasons" in shown
    lines = (tmp_path / "submission.csv").read_text().splitlines()
    assert lines[0] == "customer_id,prediction"
    assert len(lines) - 1 == len((tmp_path / "data-tiny" / "customers.csv").read_text().splitlines()) - 1
    assert all(len(line.split(",")[1].split()) == 12 for line in lines[1:])


def test_the_notebook_is_saved_without_outputs() -> None:
    # outputs belong to a run, not to the repository: a stale figure in the file would contradict the code
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    nbformat.validate(notebook)
    assert all(not cell.get("outputs") and cell.get("execution_count") is None
               for cell in notebook.cells if cell.cell_type == "code")


def test_the_notebook_uses_the_library_not_the_command_line() -> None:
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    source = "\n".join(cell.source for cell in notebook.cells if cell.cell_type == "code")
    assert "subprocess" not in source and "!hmrec" not in source and "os.system" not in source
    assert "from hmrec." in source
