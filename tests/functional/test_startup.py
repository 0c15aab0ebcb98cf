"""Start-up stays short: each command imports only what it uses (no timing is measured).

`staffsim run` of a short scenario must not import pandas or scipy (together more than
half a second of imports, for nothing the command prints), and `staffsim erlang` must not
load the scenario schema or the simulator. The Student-t quantiles kept to avoid importing
scipy are the exact floats scipy gives.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from scipy import stats

from sim.metrics.student_t import T_975, t_quantile
from tests.builders import mmc

ROOT = Path(__file__).resolve().parents[2]


def _modules_after(args: list[str], cwd: Path) -> set[str]:
    """The top-level packages imported by running `staffsim ARGS` in a fresh interpreter."""
    code = (
        "import json, sys\n"
        "from sim.cli import main\n"
        "try:\n"
        f"    main({args!r})\n"
        "except SystemExit as exc:\n"
        "    assert exc.code == 0, exc.code\n"
        "print(json.dumps(sorted({m.split('.')[0] for m in sys.modules})))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=cwd, check=True,
        env={"PYTHONPATH": str(ROOT), "PATH": ""},
    )  # fmt: skip
    return set(json.loads(done.stdout.strip().splitlines()[-1]))


def test_run_imports_neither_pandas_nor_scipy(tmp_path: Path) -> None:
    """`staffsim run` simulates and prints a table without pandas or scipy."""
    path = tmp_path / "short.yaml"
    path.write_text(yaml.safe_dump(mmc(horizon_hours=0.1, warmup_hours=0, replications=2)))
    modules = _modules_after(["run", str(path), "-q"], tmp_path)
    assert "sim" in modules and "simpy" in modules  # it did run
    assert not modules & {"pandas", "scipy", "matplotlib"}


def test_erlang_imports_no_schema_and_no_simulator(tmp_path: Path) -> None:
    """`staffsim erlang` needs neither pydantic, SimPy nor pandas."""
    modules = _modules_after(["erlang", "--rate-per-hour", "100", "--aht-s", "180", "--json"], tmp_path)
    assert not modules & {"pydantic", "simpy", "pandas"}


def test_kept_t_quantiles_are_scipys() -> None:
    """Every kept 0.975 quantile is the float scipy computes, to the last bit."""
    wrong = [df for df in range(1, len(T_975) + 1) if t_quantile(0.975, df) != float(stats.t.ppf(0.975, df))]
    assert len(T_975) == 200 and wrong == []


@pytest.mark.parametrize(("q", "df"), [(0.975, 250), (0.95, 4), (0.995, 1), (0.9, 1000)])
def test_other_t_quantiles_come_from_scipy(q: float, df: int) -> None:
    """Levels and degrees of freedom outside the table ask scipy."""
    assert t_quantile(q, df) == float(stats.t.ppf(q, df))
