"""The scalability study: quick mode runs, and its conclusions follow from its own numbers."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

import sim.experiment.study
from sim.cli import main
from sim.experiment.study import QUICK_SCALES, StudyResult, conclude, run_study, study_scenarios
from sim.runner.budget import Limits, check, estimate
from sim.runner.executors import PoolExecutor

pytestmark = pytest.mark.slow  # every test here runs the study or its command (> 10 s)


@pytest.fixture(scope="module")
def study() -> StudyResult:
    executor = PoolExecutor(2)
    return run_study(quick=True, executor=executor)


def test_quick_study_covers_every_scale_and_design(study: StudyResult) -> None:
    """Every scale × design has optimised staffing that meets the phone target on average."""
    summary = study.summary()
    assert sorted(set(summary.scale)) == list(QUICK_SCALES)
    assert set(summary.design) == {"pooled", "pooled_preemptive", "split"}
    assert (summary.agents > 0).all()
    assert (summary.phone_service_level >= 0.8 - 1e-9).all()


def test_conclusions_are_computed_from_the_results(study: StudyResult) -> None:
    """Changing the numbers changes the verdicts: conclusions are not written in by hand."""
    assert [c.holds for c in conclude(study, QUICK_SCALES)] == [c.holds for c in study.conclusions]
    flipped = StudyResult(study.scaling.copy(), study.diversion.copy())
    # Make the largest scale need three times the agents: no economies of scale remain.
    last = flipped.scaling.scale == QUICK_SCALES[-1]
    flipped.scaling.loc[last, "agents_per_erlang"] *= 3
    assert conclude(flipped, QUICK_SCALES)[0].holds is False
    # Make diverting harmless: its phone service-level difference positive.
    rows = (flipped.diversion.variant.str.startswith("divert")) & (
        flipped.diversion.metric == "service_level"
    )
    flipped.diversion.loc[rows, ["diff_mean", "diff_ci_low", "diff_ci_high"]] = [0.05, 0.01, 0.09]
    assert conclude(flipped, QUICK_SCALES)[-1].holds is False


def test_conclusion_evidence_quotes_the_numbers(study: StudyResult) -> None:
    """Each conclusion's evidence carries the figures it rests on."""
    summary = study.summary()
    pooled = summary[summary.design == "pooled"].set_index("scale")
    assert (
        f"×{QUICK_SCALES[0]}: {pooled.agents_per_erlang[QUICK_SCALES[0]]:.2f}"
        in study.conclusions[0].evidence
    )
    assert "CI" in study.conclusions[-1].evidence


def test_waiting_economies_of_scale_hold_in_quick_mode(study: StudyResult) -> None:
    """Square-root staffing: agents per Erlang fall from the smallest to the largest scale."""
    summary = study.summary()
    pooled = summary[summary.design == "pooled"].set_index("scale")
    assert pooled.agents_per_erlang[QUICK_SCALES[-1]] < pooled.agents_per_erlang[QUICK_SCALES[0]]


def test_study_cli_quick_json(tmp_path: Path) -> None:
    """`staffsim study scalability --quick --json --out` prints the conclusions and writes the tables."""
    out = tmp_path / "study"
    proc = subprocess.run(
        [sys.executable, "-m", "sim", "study", "scalability", "--quick", "--json", "--out", str(out), "-j", "2"],
        capture_output=True, text=True, check=True, timeout=600,
    )  # fmt: skip
    payload = json.loads(proc.stdout)
    assert len(payload["conclusions"]) == 5
    assert {p.name for p in out.iterdir()} >= {
        "scaling.csv",
        "summary.csv",
        "diversion.csv",
        "conclusions.json",
    }
    assert len(list(out.glob("*.png"))) == 3


def test_study_over_budget_is_refused_with_the_estimate(tmp_path: Path) -> None:
    """A study larger than STAFFSIM_MAX_CONTACTS: exit 2, the estimate quoted, nothing written."""
    out = tmp_path / "study"
    size = estimate(study_scenarios(quick=True))
    proc = subprocess.run(
        [sys.executable, "-m", "sim", "study", "scalability", "--quick", "--out", str(out), "-j", "1"],
        capture_output=True, text=True, timeout=120, env={**os.environ, "STAFFSIM_MAX_CONTACTS": "1000"},
    )  # fmt: skip
    assert proc.returncode == 2, proc.stderr
    assert proc.stderr.startswith("staffsim: study scalability --quick: this run is too large:")
    assert f"the run would simulate {size.describe()}, above the limit of 1,000" in proc.stderr
    assert "STAFFSIM_MAX_CONTACTS" in proc.stderr and "pass --force to run it anyway" in proc.stderr
    assert "Traceback" not in proc.stderr and proc.stdout == ""
    assert not out.exists() and list(tmp_path.iterdir()) == []


def test_study_force_skips_the_budget(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """With --force the same over-budget study starts (the study itself is stubbed out)."""

    class Started(Exception):
        pass

    def started(**_: object) -> StudyResult:
        raise Started

    monkeypatch.setenv("STAFFSIM_MAX_CONTACTS", "1000")
    monkeypatch.setattr(sim.experiment.study, "run_study", started)
    args = ["study", "scalability", "--quick", "-j", "1", "--out", str(tmp_path / "study")]
    refused = CliRunner().invoke(main, args)
    assert refused.exit_code == 2 and "this run is too large" in refused.stderr
    forced = CliRunner().invoke(main, [*args, "--force"])
    assert isinstance(forced.exception, Started), forced.output


def test_default_budget_allows_the_full_study() -> None:
    """The full study (about 10⁷ contacts) fits the default limits: no --force needed."""
    size = estimate(study_scenarios(quick=False))
    check(size, Limits())
    assert size.contacts > estimate(study_scenarios(quick=True)).contacts
