"""The scalability study on any centre, its self-checks, and the split-versus-pooled comparison."""

from __future__ import annotations

import itertools
import json
from pathlib import Path

import pandas as pd
import pytest
import yaml
from click.testing import CliRunner

from sim.analytic.erlang import erlang_c_service_level
from sim.cli import main
from sim.experiment.centres import default_targets, scaled
from sim.experiment.selfcheck import divert_vs_hire, square_root_table
from sim.experiment.study import StudyResult, conclude, run_study

SMALL = {
    "name": "small-centre",
    "seed": 3,
    "replications": 3,
    "horizon_hours": 6,
    "warmup_hours": 0.5,
    "channels": {
        "phone": {
            "arrivals": {"rate_per_hour": 60},
            "handle_time": {"dist": "exponential", "mean_s": 180},
            "patience": {"dist": "exponential", "mean_s": 300},
            "target": {"answer_within_s": 20},
        },
        "social": {
            "arrivals": {"rate_per_hour": 12},
            "handle_time": {"dist": "exponential", "mean_min": 4},
            "target": {"answer_within_min": 60},
        },
    },
    "agents": {"team": {"count": 5, "skills": ["phone", "social"], "cost_per_hour": 25}},
    "routing": {"policy": "priority", "order": ["phone", "social"]},
}


def test_square_root_staffing_per_erlang_falls_towards_one() -> None:
    rows = square_root_table()
    exact = [r.exact_per_erlang for r in rows]
    assert all(b <= a for a, b in itertools.pairwise(exact))
    assert exact[-1] < 1.02 and exact[0] > 2
    # the square-root rule with the Halfin-Whitt β is never more than one agent from exact beyond 5 Erlangs
    assert all(abs(r.exact_agents - r.sqrt_agents) <= 1 for r in rows if r.load >= 5)


@pytest.mark.slow
def test_divert_vs_hire_matches_erlang_c_within_the_ci() -> None:
    rows = divert_vs_hire(hours=40, replications=5)
    for r in rows:
        assert r.simulated.ci_low <= r.erlang_c <= r.simulated.ci_high, r
        assert r.erlang_c == pytest.approx(erlang_c_service_level(r.agents, 7.0, 180.0, 20.0))
    diverted = [r.simulated.mean for r in rows if r.how == "diverted"]
    assert diverted == sorted(diverted, reverse=True)  # each diverted agent costs service


def test_a_scenario_file_is_scaled_in_the_designs_asked_for() -> None:
    base = dict(SMALL)
    x4 = scaled(base, 4, "split")
    assert x4["channels"]["phone"]["arrivals"]["rate_per_hour"] == 240
    assert set(x4["agents"]) == {"phone_team", "social_team"}
    assert x4["agents"]["phone_team"]["cost_per_hour"] == 25
    assert default_targets(base) == ["phone.service_level>=0.8", "social.service_level>=0.8"]
    trace = {
        **base,
        "channels": {"phone": {**base["channels"]["phone"], "arrivals": {"trace": {"file": "x.csv"}}}},
    }
    with pytest.raises(ValueError, match="a trace cannot be scaled"):
        scaled(trace, 2, "pooled")


@pytest.mark.slow
def test_study_on_a_scenario_file_judges_split_against_pooled_with_the_same_routing(tmp_path: Path) -> None:
    path = tmp_path / "small.yaml"
    path.write_text(yaml.safe_dump(SMALL))
    result = run_study(quick=True, scenario=path, designs=("pooled", "split"))
    summary = result.summary()
    assert set(summary.design) == {"pooled", "split"}
    assert (summary.phone_service_level >= 0.8 - 1e-9).all()
    claims = [c.claim for c in result.conclusions]
    split = next(c for c in result.conclusions if c.claim.startswith("Split"))
    assert "same routing" in split.claim and "not the preemptive pool" in split.claim
    extra = (
        summary[summary.design == "split"].set_index("scale").agents
        - summary[summary.design == "pooled"].set_index("scale").agents
    )
    assert split.holds == bool((extra >= 0).all() and extra.sum() > 0)
    assert not any("preemption" in c for c in claims)  # not asked for
    assert any(c.startswith("Diverting") for c in claims)
    # a non-monotone agents-per-Erlang step was re-optimised or is explained in the evidence
    ape = summary[summary.design == "pooled"].set_index("scale").agents_per_erlang
    rises = [b for a, b in zip(ape.index, ape.index[1:], strict=False) if ape[b] > ape[a]]
    if rises:
        assert "within the optimiser's resolution" in result.conclusions[0].evidence
        assert result.notes


def test_split_verdict_flips_with_the_numbers() -> None:
    rows = []
    for scale, (pooled, split) in {1: (10, 12), 2: (18, 20), 4: (34, 36)}.items():
        for design, agents in (("pooled", pooled), ("split", split)):
            for r in range(3):
                rows.append({"scale": scale, "design": design, "replication": r, "agents": agents,
                             "agents_per_erlang": agents / (8 * scale), "agents_per_1000_contacts": 1.0,
                             "cost_per_resolved_journey": 1.0, "busy_hours_per_resolved_journey": 0.1,
                             "phone_service_level": 0.8, "csat": 0.9})  # fmt: skip
    frame = pd.DataFrame(rows)
    result = StudyResult(frame, pd.DataFrame(), designs=("pooled", "split"))
    split = next(c for c in conclude(result, (1, 2, 4)) if c.claim.startswith("Split"))
    assert split.holds
    frame.loc[frame.design == "split", "agents"] -= 4
    split = next(c for c in conclude(StudyResult(frame, pd.DataFrame(), designs=("pooled", "split")), (1, 2, 4))
             if c.claim.startswith("Split"))  # fmt: skip
    assert not split.holds
    # a rising step is explained by the optimiser's resolution
    frame.loc[(frame.design == "pooled") & (frame.scale == 4), "agents_per_erlang"] = 2.0
    first = conclude(StudyResult(frame, pd.DataFrame(), designs=("pooled", "split")), (1, 2, 4))[0]
    assert "The rise from ×2 to ×4" in first.evidence


def test_study_cli_rejects_unknown_designs_and_missing_files(tmp_path: Path) -> None:
    bad = CliRunner().invoke(main, ["study", "scalability", "--designs", "pooled,teams", "-q"])
    assert bad.exit_code == 2 and "unknown design teams" in bad.stderr
    missing = CliRunner().invoke(main, ["study", "scalability", str(tmp_path / "nope.yaml"), "-q"])
    assert missing.exit_code == 2 and "no such scenario file" in missing.stderr


@pytest.mark.slow
def test_study_cli_on_a_file_prints_the_self_check(tmp_path: Path) -> None:
    path = tmp_path / "small.yaml"
    path.write_text(yaml.safe_dump(SMALL))
    args = [
        "study",
        "scalability",
        str(path),
        "--quick",
        "--designs",
        "pooled,split",
        "-j",
        "1",
        "-q",
        "--json",
    ]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    assert payload["designs"] == ["pooled", "split"] and payload["centre"] == str(path)
    assert "Self-check 1" in payload["self_check"] and "Self-check 2" in payload["self_check"]
