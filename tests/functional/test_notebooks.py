"""Every notebook runs top to bottom without an error, in quick mode (STAFFSIM_QUICK=1).

Each notebook is executed with nbclient in a fresh kernel of this interpreter (a kernel spec
written to a temporary folder, so a clean venv needs nothing installed beyond the test
extras), with notebooks/ as the working folder, as a reader runs it.
"""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest

from tests.builders import ROOT

NOTEBOOKS = ROOT / "notebooks"
FILES = sorted(p.name for p in (ROOT / "notebooks").glob("*.ipynb"))
KERNEL = "staffsim-tests"
CELL_TIMEOUT_S = 120


@pytest.fixture
def kernel(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """A kernel spec that starts `sys.executable`, found first on JUPYTER_PATH; quick mode on."""
    from ipykernel.kernelspec import write_kernel_spec

    write_kernel_spec(tmp_path / "kernels" / KERNEL, overrides={"display_name": KERNEL})
    monkeypatch.setenv("JUPYTER_PATH", str(tmp_path))
    monkeypatch.setenv("JUPYTER_PLATFORM_DIRS", "1")  # silences jupyter_core's path-migration warning
    monkeypatch.setenv("PYDEVD_DISABLE_FILE_VALIDATION", "1")
    monkeypatch.setenv("STAFFSIM_QUICK", "1")
    return KERNEL


def _execute(name: str, kernel: str) -> nbformat.NotebookNode:
    from nbclient import NotebookClient

    nb = nbformat.read(NOTEBOOKS / name, as_version=4)
    client = NotebookClient(
        nb,
        kernel_name=kernel,
        timeout=CELL_TIMEOUT_S,
        resources={"metadata": {"path": str(NOTEBOOKS)}},
    )
    client.execute()
    return nb


def _text(nb: nbformat.NotebookNode) -> str:
    parts = []
    for cell in nb.cells:
        for out in cell.get("outputs", []):
            parts.append(str(out.get("text", "")))
            parts.append(str(out.get("data", {}).get("text/plain", "")))
    return "\n".join(parts)


def test_notebooks_are_committed_without_outputs() -> None:
    """Outputs are produced by running, never stored: every code cell is clean and valid."""
    for name in FILES:
        nb = nbformat.read(NOTEBOOKS / name, as_version=4)
        nbformat.validate(nb)
        for cell in nb.cells:
            if cell.cell_type == "code":
                assert cell.outputs == [] and cell.execution_count is None, f"{name} holds outputs"


SAYS = {
    "05_real_call_centre.ipynb": (
        "in sample: target met for",
        "out of sample: target met for",
        "hours inside the band",
    ),
}
"""Sentences a notebook must print, its computed conclusions (the real-data notebook reads the
project's own copy of the bank's log: it needs nothing outside the project)."""


@pytest.mark.parametrize("name", FILES)
@pytest.mark.slow
def test_notebook_runs(name: str, kernel: str) -> None:
    """The notebook executes in quick mode with no cell raising, and draws its figures."""
    nb = _execute(name, kernel)
    images = sum("image/png" in out.get("data", {}) for cell in nb.cells for out in cell.get("outputs", []))
    assert images >= 1, f"{name} drew no figure"
    text = _text(nb)
    assert "quick mode: True" in text
    for sentence in SAYS.get(name, ()):
        assert sentence in text, f"{name} does not say {sentence!r}"
