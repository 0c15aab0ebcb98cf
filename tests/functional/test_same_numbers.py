"""The restructure changed no behaviour: every shipped scenario gives the golden numbers.

The golden file was written by the code before the package was restructured (see
tests/golden/README.md). Equality is exact: the same seeds must give the same floats.
"""

from __future__ import annotations

import gzip
import importlib.util
import json
from pathlib import Path
from types import ModuleType

import pytest

pytestmark = pytest.mark.slow  # every shipped scenario, run in full (> 10 s)

HERE = Path(__file__).parent / "golden"


def _generator() -> ModuleType:
    spec = importlib.util.spec_from_file_location("golden_generate", HERE / "generate.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


GEN = _generator()
GOLDEN = json.loads(gzip.decompress((HERE / "shipped_scenarios.json.gz").read_bytes()))


def test_every_shipped_scenario_has_golden_numbers() -> None:
    """A new scenario file gets golden numbers too (regenerate the file when adding one)."""
    assert sorted(GOLDEN) == [str(p) for p in GEN.scenario_files()]


@pytest.mark.parametrize("relative", GEN.scenario_files(), ids=str)
def test_same_numbers_as_before_the_restructure(relative: Path) -> None:
    """Replications, intervals and compared means equal the golden ones to the last bit."""
    now = GEN.numbers(relative)
    before = GOLDEN[str(relative)]
    assert sorted(now) == sorted(before)
    for part, table in before.items():
        assert now[part]["columns"][: len(table["columns"])] == table["columns"], part
        width = len(table["columns"])
        assert [row[:width] for row in now[part]["data"]] == table["data"], f"{relative}: {part} differs"
