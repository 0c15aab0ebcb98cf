"""The planner's app without a browser: drafts, forms from the schema, the CLI command, jobs."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner

import sim
from sim.app.draft import Draft, scenario_data
from tests.builders import ROOT, mmc, small_day

pytest.importorskip("panel")


CENTRE = ROOT / "scenarios" / "myths" / "centre.yaml"


def _baseline() -> Draft:
    """A three-channel centre whose groups have a count."""
    return Draft(scenario_data(sim.load_scenario(CENTRE)), "centre.yaml")


def test_draft_problem_is_the_loader_message_at_its_key_path(tmp_path: Path) -> None:
    draft = _baseline()
    draft.set(("agents", "phone_team", "shrinkage"), 1.5)
    checked = draft.check()
    assert not checked.ok
    (message,) = checked.at(("agents", "phone_team", "shrinkage"))
    bad = tmp_path / "bad.yaml"
    bad.write_text(draft.to_yaml())
    with pytest.raises(sim.ScenarioError) as err:
        sim.load_scenario(bad)
    assert message in str(err.value)
    assert "centre.yaml" in checked.message


def test_downloaded_yaml_loads_as_the_same_scenario(tmp_path: Path) -> None:
    draft = _baseline()
    draft.set(("agents", "phone_team", "count"), 26)
    path = tmp_path / "edited.yaml"
    path.write_text(draft.to_yaml())
    assert sim.load_scenario(path) == draft.check().scenario


def test_move_vs_hire_variants_and_refusals() -> None:
    draft = _baseline()
    exp = draft.move_vs_hire("phone_team", "social_team", 2)
    assert exp["variants"] == {
        "move": {"agents.phone_team.count": 22, "agents.social_team.count": 4},
        "hire": {"agents.social_team.count": 4},
    }
    loaded = sim.load_experiment(exp)
    assert loaded.variants["move"].agents["phone_team"].count == 22
    with pytest.raises(ValueError, match="cannot give"):
        draft.move_vs_hire("social_team", "phone_team", 3)
    with pytest.raises(ValueError, match="two different"):
        draft.move_vs_hire("phone_team", "phone_team", 1)


def test_forms_cover_every_count_skill_shrinkage_cost_and_routing() -> None:
    from sim.app.forms import scenario_forms

    draft = _baseline()
    edits: list[tuple[Any, Any]] = []
    _, fields = scenario_forms(draft, lambda path, value: edits.append((path, value)))
    paths = {f.path for f in fields}
    for group in draft.groups():
        for key in ("count", "skills", "shrinkage", "cost_per_hour"):
            assert ("agents", group, key) in paths
    assert ("routing", "policy") in paths
    assert ("channels", "phone", "handle_time", "mean_s") in paths
    assert ("channels", "phone", "arrivals", "rate_per_hour") in paths
    order = next(f for f in fields if f.path == ("routing", "order"))
    order.widget.value = "social, phone, email"
    assert edits[-1] == (("routing", "order"), ["social", "phone", "email"])


def test_cli_app_refuses_a_bad_scenario_before_serving(tmp_path: Path) -> None:
    from sim.cli import main

    bad = tmp_path / "bad.yaml"
    bad.write_text("name: x\nchannels: {}\nagents: {}\nhorizon_hours: -1\n")
    result = CliRunner().invoke(main, ["app", str(bad), "--no-browser"])
    assert result.exit_code == 2
    assert "invalid scenario" in result.output and "Traceback" not in result.output


def test_cli_app_warns_when_not_on_localhost(monkeypatch: pytest.MonkeyPatch) -> None:
    import sim.app.server
    from sim.cli import main

    calls: list[dict[str, Any]] = []
    monkeypatch.setattr(sim.app.server, "serve", lambda scenario, **kw: calls.append(kw))
    result = CliRunner().invoke(main, ["app", "--host", "0.0.0.0", "--port", "9999", "--no-browser"])
    assert result.exit_code == 0, result.output
    assert "warning: serving on 0.0.0.0" in result.output
    assert calls == [{"port": 9999, "host": "0.0.0.0", "open_browser": False}]
    calls.clear()
    result = CliRunner().invoke(main, ["app", "--no-browser"])
    assert "warning" not in result.output and calls[0]["host"] == "127.0.0.1"


def test_cli_app_on_a_taken_port_is_one_message_and_exit_2() -> None:
    import socket

    from sim.cli import main

    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = CliRunner().invoke(main, ["app", "--port", str(port), "--no-browser"])
    assert result.exit_code == 2, result.output
    assert f"cannot serve at 127.0.0.1:{port}" in result.output and "--port" in result.output
    assert "Traceback" not in result.output


def _finish(job: Any) -> list[Any]:
    return job.wait(timeout_s=120)


def test_upload_job_refuses_an_alias_bomb_with_the_loaders_message() -> None:
    from sim.app.jobs import Job

    lines = ['a0: &a0 ["x", "x", "x", "x", "x", "x", "x", "x", "x"]']
    lines += [f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 9) + "]" for i in range(1, 10)]
    raw = ("name: bomb\n" + "\n".join(lines) + "\nagents: *a9\nchannels: {}\n").encode()
    events = _finish(Job("load", {"name": "bomb.yaml", "raw": raw}))
    assert events[-1].kind == "error"
    assert events[-1].message.startswith("invalid scenario bomb.yaml")
    assert "staffsim-upload" not in events[-1].message


def test_upload_job_returns_the_scenario() -> None:
    from sim.app.jobs import Job

    raw = (ROOT / "scenarios" / "examples" / "mmc.yaml").read_bytes()
    events = _finish(Job("load", {"name": "mmc.yaml", "raw": raw}))
    assert events[-1].kind == "done"
    assert events[-1].result["data"] == scenario_data(sim.load_scenario(yaml.safe_load(raw)))


def test_page_blocks_runs_while_a_field_is_not_a_value_or_the_scenario_is_invalid() -> None:
    from sim.app.page import Planner

    planner = Planner(str(ROOT / "scenarios" / "examples" / "empirical_handle.yaml"))
    run = planner.run_panel.task.button
    assert not run.disabled
    values = next(f for f in planner.fields if f.path[-1] == "values")
    values.widget.value = "54, 589, x"
    assert run.disabled and "write numbers" in values.error.object
    values.widget.value = "54, 589, 57"
    assert not run.disabled and not values.error.visible
    count = next(f for f in planner.fields if f.path == ("agents", "team", "count"))
    count.widget.value = -1
    assert run.disabled and "agents.team.count" in count.error.object
    assert "invalid scenario examples/empirical_handle.yaml" in planner.problems.object


SMALL = small_day()


def _panel_plan(tmp_path: Path, data: dict[str, Any], mode: str, targets: str, groups: list[str]) -> Any:
    """The optimiser panel's answer in `mode`: (the job's last event, the panel)."""
    from sim.app.page import Planner

    path = tmp_path / f"{data['name']}.yaml"
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    planner = Planner(str(path))
    panel = planner.opt_panel
    panel.mode.value = mode
    panel.targets.value = targets
    panel.groups.value = groups
    panel.replications.value = 2
    panel.seed.value = 7
    job = panel.start()
    assert job is not None, panel.task.status.object
    event = _finish(job)[-1]
    if event.kind == "done":
        panel.finish(event.result)
    return event, panel


def _cells(table: str) -> dict[str, int]:
    import re

    return {k: int(v) for k, v in re.findall(r'data-plan="([^"]*)" data-value="([^"]*)"', table)}


def test_optimise_panel_per_interval_and_per_shift_plans_are_the_apis(tmp_path: Path) -> None:
    settings = sim.OptimizeSettings(groups=("phone_team",), replications=2, seed=7)
    event, panel = _panel_plan(tmp_path, SMALL, "intervals", "phone.service_level>=0.8", ["phone_team"])
    assert event.kind == "done", event.message
    plan = sim.optimize(SMALL, ["phone.service_level>=0.8"], mode="intervals", settings=settings)
    assert isinstance(plan, sim.IntervalPlan)
    expected = {
        f"phone_team@{label}": n for label, n in zip(plan.labels, plan.tables["phone_team"], strict=True)
    }
    assert len(expected) == 4 and _cells(panel.table.object) == expected
    assert len(panel.chart.objects) == 1

    event, panel = _panel_plan(tmp_path, SMALL, "shifts", "email.service_level>=0.9", ["phone_team"])
    assert event.kind == "done", event.message
    shifts = sim.optimize(
        SMALL,
        ["email.service_level>=0.9"],
        mode="shifts",
        settings=sim.OptimizeSettings(replications=2, seed=7),
    )
    assert isinstance(shifts, sim.ShiftPlan)
    assert _cells(panel.table.object) == {
        f"email_team#{k}": n for k, n in enumerate(shifts.counts["email_team"])
    }
    assert len(panel.chart.objects) == 1


def test_optimise_panel_refuses_shifts_without_shifts_with_the_apis_message(tmp_path: Path) -> None:
    data = {**SMALL, "name": "no-shifts", "agents": {"phone_team": SMALL["agents"]["phone_team"]}}
    data["channels"] = {"phone": SMALL["channels"]["phone"]}
    event, panel = _panel_plan(tmp_path, data, "shifts", "phone.service_level>=0.8", [])
    with pytest.raises(ValueError) as err:
        sim.optimize(data, ["phone.service_level>=0.8"], mode="shifts")
    assert event.kind == "error" and event.message == str(err.value)
    assert "no agent group works shifts" in event.message and panel.table.object == ""


def test_a_cancelled_run_leaves_run_disabled_while_the_draft_is_invalid() -> None:
    from sim.app.page import Planner

    planner = Planner(str(CENTRE))
    run = planner.run_panel.task
    planner.run_panel.replications.value = 2000  # minutes of work: still running when cancelled
    run.begin()
    assert run.job is not None and run.button.disabled
    count = next(f for f in planner.fields if f.path == ("agents", "phone_team", "count"))
    count.widget.value = -3
    run.stop("cancelled")
    assert run.job is None and run.button.disabled and "cancelled" in run.status.object
    count.widget.value = 24
    assert not run.button.disabled


def test_run_cards_show_a_cost_only_when_some_group_has_a_cost_per_hour() -> None:
    from sim.app import charts
    from sim.app.jobs import Job

    unpriced = mmc(horizon_hours=2, warmup_hours=0)
    priced = mmc(horizon_hours=2, warmup_hours=0)
    priced["agents"]["team"]["cost_per_hour"] = 30
    shown = {}
    for name, data in (("unpriced", unpriced), ("priced", priced)):
        payload = {"data": data, "replications": 2, "seed": 1, "records": "summary", "source": "x.yaml"}
        events = _finish(Job("run", payload))
        assert events[-1].kind == "done", events[-1].message
        result = events[-1].result
        shown[name] = charts.kpi_cards(result["result"], priced=result["priced"])
    # `staffsim run` shows no cost without a cost per hour; the page shows no cost card either
    assert 'data-kpi="overall.cost"' not in shown["unpriced"]
    assert 'data-kpi="overall.cost"' in shown["priced"]
    assert 'data-kpi="overall.occupancy"' in shown["unpriced"]


def test_durations_on_the_page_are_in_the_unit_that_fits_the_mean() -> None:
    from sim.app.charts import number

    assert number("asa_s", 45.0) == "45.0 s"
    assert number("asa_s", 3921.8) == "65.4 min"  # 3921.8 / 60
    assert number("asa_s", 9000.0) == "2.5 h"
    assert number("asa_s", -90.0, signed=True) == "-90.0 s"
    assert number("asa_s", 900.0, signed=True) == "+15.0 min"
    # a CI is written in the unit of its mean, as `staffsim run` writes it
    card = _one_card("email.asa_s", {"mean": 3921.8, "ci_low": 2438.0, "ci_high": 9000.0})
    assert "65.4 min" in card and "95 % CI [40.6 min, 150.0 min]" in card
    assert number("service_level", 0.851) == "85.1 %"


def _one_card(key: str, est: dict[str, float]) -> str:
    from sim.app import charts

    result = {
        "scenario": "s",
        "replications": 2,
        "seed": 1,
        "channels": {"email": {"asa_s": est}},
        "groups": {},
    }
    return charts.kpi_cards(result, priced=False)


def test_move_vs_hire_shows_a_cost_row_only_when_some_group_has_a_cost_per_hour() -> None:
    from sim.app import charts
    from sim.app.jobs import Job

    shown = {}
    for cost in (0, 25):
        draft = _baseline()
        draft.data["horizon_hours"], draft.data["warmup_hours"] = 4, 0
        for group in draft.data["agents"].values():
            group["cost_per_hour"] = cost
        exp = draft.move_vs_hire("phone_team", "social_team", 1)
        events = _finish(Job("compare", {"experiment": exp, "replications": 2, "seed": 1}))
        assert events[-1].kind == "done", events[-1].message
        result = events[-1].result
        shown[cost] = charts.diff_table(result["table"], priced=result["priced"])
    # without a cost per hour a hire would show as costing nothing: no cost row then
    assert 'data-diff="hire.overall.cost"' not in shown[0]
    assert 'data-diff="hire.overall.occupancy"' in shown[0]
    assert 'data-diff="hire.overall.cost"' in shown[25]


def test_an_upload_that_names_another_file_says_to_open_it_from_the_command_line() -> None:
    from sim.app.jobs import Job

    raw = (ROOT / "scenarios" / "week_shifts.yaml").read_bytes()  # extends baseline.yaml
    events = _finish(Job("load", {"name": "week_shifts.yaml", "raw": raw}))
    assert events[-1].kind == "error"
    message = events[-1].message
    assert message.startswith("invalid scenario week_shifts.yaml") and "file not found" in message
    assert "staffsim app FILE" in message and "staffsim-upload" not in message
    # a file that names no other file gets the loader's message alone
    events = _finish(Job("load", {"name": "bad.yaml", "raw": b"name: x\nhorizon_hours: -1\n"}))
    assert events[-1].kind == "error" and "staffsim app FILE" not in events[-1].message
