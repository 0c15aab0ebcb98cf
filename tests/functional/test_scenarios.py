"""Every shipped scenario under scenarios/ loads, runs briefly and conserves its contacts."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import pytest
import yaml

import sim
from sim.config.schema import Scenario
from sim.config.variants import load_experiment
from tests.builders import ROOT

SCENARIOS = ROOT / "scenarios"
FILES = sorted(SCENARIOS.rglob("*.yaml")) + sorted(SCENARIOS.rglob("*.yml"))
SHORT_HOURS = 12.0
"""Long enough to reach the morning peak of the daily profiles, short enough to be quick."""


def _id(path: Path) -> str:
    return str(path.relative_to(SCENARIOS))


def _raw(path: Path) -> dict[str, Any]:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert isinstance(data, dict), f"{path} is not a mapping"
    return data


def _scenarios(path: Path) -> dict[str, Scenario]:
    """The file's scenario, plus its variants if it is an experiment file."""
    raw = _raw(path)
    if "extends" in raw or "variants" in raw:
        exp = load_experiment(path)
        return {"baseline": exp.baseline, **exp.variants}
    return {"scenario": sim.load_scenario(path)}


def _short(scenario: Scenario) -> Scenario:
    hours = min(scenario.horizon_hours, SHORT_HOURS)
    return scenario.model_copy(update={"horizon_hours": hours, "warmup_hours": 0.0})


def _strings(node: Any) -> list[str]:
    if isinstance(node, str):
        return [node]
    if isinstance(node, dict):
        return [s for k, v in node.items() for s in (*_strings(k), *_strings(v))]
    if isinstance(node, list):
        return [s for item in node for s in _strings(item)]
    return []


def test_the_shipped_scenarios_are_found() -> None:
    names = {_id(p) for p in FILES}
    for expected in ("baseline.yaml", "examples/mmc.yaml", "real/anonymous_bank.yaml"):
        assert expected in names


@pytest.mark.parametrize("path", FILES, ids=_id)
def test_scenario_runs_and_conserves_contacts(path: Path) -> None:
    for label, full in _scenarios(path).items():
        scenario = _short(full)
        result = sim.run(scenario, replications=1)
        for channel in scenario.channels:
            value = {m: result.values("channel", channel, m)[0] for m in ("offered", "answered", "abandoned")}
            waiting = result.values("channel", channel, "waiting_end")[0]
            in_service = result.values("channel", channel, "in_service_end")[0]
            no_action = result.values("channel", channel, "no_action")[0]
            where = f"{_id(path)} [{label}] channel {channel}"
            assert value["offered"] > 0, f"{where}: no contacts in {scenario.horizon_hours:g} h"
            assert (
                value["offered"] == value["answered"] + value["abandoned"] + waiting + in_service + no_action
            ), where
            assert value["abandoned"] == 0 or full.channels[channel].patience is not None, where
            sl = result.values("channel", channel, "service_level")[0]
            assert math.isnan(sl) or 0.0 <= sl <= 1.0, where


@pytest.mark.parametrize("path", FILES, ids=_id)
def test_scenario_does_not_depend_on_shared_folder(path: Path) -> None:
    for text in _strings(_raw(path)):
        assert "shared/" not in text and "shared\\" not in text, f"{_id(path)} refers to {text!r}"
    for scenario in _scenarios(path).values():
        for name, channel in scenario.channels.items():
            files = [channel.arrivals.trace.file if channel.arrivals.trace else None]
            files += [getattr(channel.handle_time, "file", None), getattr(channel.patience, "file", None)]
            for file in filter(None, files):
                resolved = Path(file).resolve()
                assert resolved.is_relative_to(SCENARIOS.resolve()), f"{_id(path)} {name}: {file}"


def test_anonymous_bank_figures_match_the_project_data(bank_data: Path) -> None:
    """The shipped bank scenario is the fit of the weekdays of the shipped log (README: the command).

    Its figures are checked against the log itself, counted here with pandas: calls a day per
    class, mean handle time per class, a priority order over every class; and the agents on
    duty it infers never exceed the distinct agents the bank's half-hour file saw in that hour.
    """
    import numpy as np
    import pandas as pd

    scenario = sim.load_scenario(SCENARIOS / "real" / "anonymous_bank.yaml")
    log = pd.read_csv(bank_data / "anonymous_bank_feb1999_log_0201_0214.csv", parse_dates=["arrived_at"])
    log = log[log["arrived_at"].dt.day_of_week.isin([6, 0, 1, 2, 3])]  # Sunday to Thursday
    days = log["arrived_at"].dt.normalize().nunique()
    assert days == 10
    for cls, calls in log.groupby("class"):
        channel = scenario.channels[f"phone_{cls.lower()}"]
        assert channel.arrivals.profile is not None
        assert sum(channel.arrivals.profile.rates_per_hour) == pytest.approx(len(calls) / days, rel=0.01)
        handle = calls.loc[calls["outcome"] == "answered", "handle_s"]
        assert channel.handle_time.dist == "empirical" and channel.handle_time.values is not None
        assert np.mean(channel.handle_time.values) == pytest.approx(handle.mean(), rel=0.01), cls
    assert scenario.routing.policy == "priority"
    assert sorted(scenario.routing.order or []) == sorted(scenario.channels)
    (group,) = scenario.agents.values()
    assert group.staffing is not None and group.staffing.interval_min == 60
    halfhour = pd.read_csv(bank_data / "anonymous_bank_feb1999_halfhour.csv", parse_dates=["date"])
    halfhour = halfhour[halfhour["date"].isin(log["arrived_at"].dt.normalize().unique())]
    halfhour["hour"] = halfhour["interval_start"].str.slice(0, 2).astype(int)
    seen = halfhour.groupby(["date", "hour"])["distinct_agents"].max().groupby("hour").mean()
    for hour, agents in seen.items():
        assert group.staffing.counts[hour] <= round(agents) + 1, hour
