"""What a planner reads: `run`, `compare` and `sweep` print the figures they came for.

Golden checks of presence and format, not of seeded digits: `run` prints cost and agents
busy and on duty per group in a table of its own; `run` and `compare` print every journey
figure the scenario configures (first response, resolution time, FCR, CSAT) and only those;
durations are shown in the unit that fits while JSON keeps seconds; `sweep` prints a table
like `run`'s; one replication is "1 replication".
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.builders import invoke

JOURNEY_FIGURES = ("first_response_s", "resolution_time_s", "fcr", "csat")
JOURNEY_ROWS = (*JOURNEY_FIGURES, "journeys", "contacts_per_journey", "resolution_rate")


def centre(journeys: bool) -> dict[str, Any]:
    """Phone and email, priced agents; with `journeys`, resolution and returns on the phone."""
    data: dict[str, Any] = {
        "name": "journeys" if journeys else "plain",
        "seed": 3,
        "replications": 3,
        "horizon_hours": 6,
        "channels": {
            "phone": {
                "arrivals": {"rate_per_hour": 120},
                "handle_time": {"dist": "exponential", "mean_s": 120},
                "patience": {"dist": "exponential", "mean_s": 300},
            },
            "email": {
                "arrivals": {"rate_per_hour": 40},
                "handle_time": {"dist": "exponential", "mean_min": 6},
                "target": {"answer_within_h": 4},
            },
        },
        "agents": {
            "phone_team": {"count": 5, "skills": ["phone"], "cost_per_hour": 30},
            "email_team": {"count": 3, "skills": ["email"], "cost_per_hour": 25},
        },
        "variants": {"hire_one": {"agents.phone_team.count": 6}},
    }
    if journeys:
        data["channels"]["phone"]["resolution"] = {
            "probability": 0.7,
            "returns": {"to": {"phone": 0.8}, "delay": {"mean_min": 30}},
        }
    return data


def write(tmp_path: Path, data: dict[str, Any]) -> Path:
    path = tmp_path / f"{data['name']}.yaml"
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    return path


def rows(text: str) -> list[str]:
    """The first cell of every table row, stripped."""
    out = []
    for line in text.splitlines():
        cells = [c.strip() for c in re.split(r"[│┃|]", line) if c.strip()]
        if cells:
            out.append(cells[0])
    return out


def table_after(text: str, heading: str) -> str:
    """The text from the table whose header row contains `heading` onwards."""
    at = text.find(heading)
    assert at >= 0, f"no table with {heading!r} in:\n{text}"
    return text[at:]


@pytest.mark.parametrize("journeys", [True, False])
def test_run_prints_cost_agents_and_the_configured_journey_figures(tmp_path: Path, journeys: bool) -> None:
    code, out, _ = invoke("run", write(tmp_path, centre(journeys)), "-q")
    assert code == 0
    first = rows(out)
    for m in JOURNEY_ROWS:
        assert (m in first) is journeys, (m, journeys)
    groups = table_after(out, "group")
    for word in ("occupancy", "busy", "on duty", "cost"):
        assert word in groups, word
    for g in ("phone_team", "email_team", "overall"):
        assert g in rows(groups)
    assert not any(r.startswith("occupancy:") for r in first)  # no group rows under a channel column
    cost_row = next(line for line in groups.splitlines() if "phone_team" in line)
    assert re.search(r"\d[\d,]* \[", cost_row), cost_row  # mean [95% CI] cells


def test_durations_in_the_unit_that_fits_and_seconds_in_json(tmp_path: Path) -> None:
    data = centre(False)
    data["agents"]["email_team"]["count"] = 1  # 4 Erlangs of email on 1 agent: waits of hours
    path = write(tmp_path, data)
    code, out, _ = invoke("run", path, "-q")
    assert code == 0
    asa = next(line for line in out.splitlines() if line.strip("│ ").startswith("asa_s"))
    assert re.search(r"\d h\b", asa) and re.search(r"\d+(\.\d+)? (s|min)\b", asa), asa
    code, text, _ = invoke("run", path, "-q", "--json")
    assert json.loads(text)["channels"]["email"]["asa_s"]["mean"] > 3600  # raw seconds


@pytest.mark.parametrize("journeys", [True, False])
def test_compare_prints_cost_and_the_configured_journey_figures(tmp_path: Path, journeys: bool) -> None:
    out_dir = tmp_path / "cmp"
    code, out, _ = invoke(
        "compare", write(tmp_path, centre(journeys)), "-q", "-j", "1", "--out", out_dir, "--report"
    )
    assert code == 0
    lines = out.splitlines()
    shown = {m for m in (*JOURNEY_ROWS, "cost") if any(f" {m} " in line for line in lines)}
    assert "cost" in shown
    assert {m for m in JOURNEY_FIGURES if m in shown} == (set(JOURNEY_FIGURES) if journeys else set())
    assert not {"journeys", "contacts_per_journey"} & shown or journeys
    html = (out_dir / "report.html").read_text(encoding="utf-8")
    assert ">cost<" in html
    for m in JOURNEY_FIGURES:
        assert (f">{m}<" in html) is journeys, m


def test_one_replication_is_singular(tmp_path: Path) -> None:
    code, out, _ = invoke("run", write(tmp_path, centre(False)), "-q", "-n", "1")
    assert code == 0
    assert "1 replication," in out and "1 replications" not in out


def test_sweep_prints_a_table_like_run(tmp_path: Path) -> None:
    path = write(tmp_path, centre(False))
    code, out, _ = invoke(
        "sweep",
        path,
        "--grid",
        "agents.phone_team.count=5,6",
        "-n",
        "2",
        "-q",
        "-j",
        "1",
        "--out",
        tmp_path / "sw",
    )
    assert code == 0
    assert "service_level" in out and "agents.phone_team.count" in out
    phone = [line for line in out.splitlines() if "phone" in line and "%" in line]
    assert len(phone) == 2 and all("[" in line for line in phone), out  # mean [95% CI] per point


def test_group_intervals_add_up_to_the_group_figures(tmp_path: Path) -> None:
    """Per group and interval: busy, on duty and occupancy; their time-weighted totals give
    each group's run-long figures (occupancy = busy time ÷ on-duty time), and groups sum to
    the all-group figures; intervals() carries no agent columns to double count."""
    import numpy as np

    import sim

    data = centre(False)
    result = sim.run(sim.load_scenario(data), replications=2, records="summary")
    frame = result.group_intervals()
    assert set(frame.columns) >= {
        "replication",
        "group",
        "interval",
        "start_s",
        "busy_agents",
        "on_duty",
        "occupancy",
    }
    for (r, g), sub in frame.groupby(["replication", "group"]):
        busy, on = sub["busy_agents"].mean(), sub["on_duty"].mean()  # equal-width intervals, no warm-up
        figures = result.outputs[int(r)].groups[str(g)]
        assert busy == pytest.approx(figures["busy_agents"], rel=1e-9)
        assert on == pytest.approx(figures["on_duty"], rel=1e-9)
        assert busy / on == pytest.approx(figures["occupancy"], rel=1e-9)
        assert ((sub["occupancy"] >= 0) & (sub["occupancy"] <= 1 + 1e-12)).all()
    totals = frame.groupby(["replication", "interval"])[["busy_agents", "on_duty"]].sum()
    for r in (0, 1):
        overall = result.outputs[r].groups["overall"]
        np.testing.assert_allclose(
            totals.loc[r].mean().to_numpy(), [overall["busy_agents"], overall["on_duty"]], rtol=1e-9
        )
    assert not {"busy_agents", "on_duty"} & set(result.intervals().columns)
    out = tmp_path / "run"
    code, _, _ = invoke("run", write(tmp_path, data), "-q", "-n", "2", "--out", out, "--report")
    assert code == 0 and (out / "group_intervals.csv").is_file()
    assert "occupancy per group, by time of day" in (out / "report.html").read_text(encoding="utf-8")
