"""Reading scenarios: the minimum file, units, defaults, frozen models, file paths, errors."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import numpy as np
import pydantic
import pytest

from sim.config import Scenario, ScenarioError, load_scenario
from sim.config.errors import Problem
from sim.config.files import read_trace
from sim.types import ChannelKind

MINIMUM = """\
name: mmc-check
channels:
  phone:
    kind: phone
    arrivals: {rate_per_hour: 2700}
    handle_time: {dist: exponential, mean_s: 60}
    patience: {dist: exponential, mean_s: 120}
    target: {answer_within_s: 20}
agents:
  team: {count: 50, skills: [phone]}
horizon_hours: 200
warmup_hours: 10
replications: 10
seed: 7
"""


def small(**channels: dict[str, Any]) -> dict[str, Any]:
    """A valid scenario dict with the given channels, all served by one group."""
    return {
        "name": "small",
        "horizon_hours": 2,
        "channels": channels,
        "agents": {"team": {"count": 3, "skills": list(channels)}},
    }


def channel(**changes: Any) -> dict[str, Any]:
    """A valid channel mapping with some keys replaced."""
    data: dict[str, Any] = {
        "arrivals": {"rate_per_hour": 60},
        "handle_time": {"dist": "exponential", "mean_s": 60},
    }
    data.update(changes)
    return data


def write(folder: Path, name: str, text: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def test_minimum_scenario_from_the_issue_loads_as_written(tmp_path: Path) -> None:
    """The `mmc-check` file loads, and every value reads back in seconds as the model needs it."""
    sc = load_scenario(write(tmp_path, "mmc.yaml", MINIMUM))
    phone = sc.channels["phone"]
    assert sc.name == "mmc-check"
    assert sc.kind_of("phone") is ChannelKind.PHONE
    assert phone.arrivals.base_rate_per_s == pytest.approx(2700 / 3600)
    assert phone.handle_time.mean_seconds == 60
    assert phone.patience is not None and phone.patience.mean_seconds == 120
    assert sc.target_s("phone") == 20
    assert sc.agents["team"].count == 50
    assert sc.agents["team"].skills == ["phone"]
    assert sc.horizon_s == 200 * 3600
    assert sc.warmup_s == 10 * 3600
    assert (sc.replications, sc.seed) == (10, 7)
    assert sc.routing.policy == "fifo"


def test_minimum_scenario_loads_the_same_from_a_dict(tmp_path: Path) -> None:
    """A dict with the file's structure gives the same scenario as the file."""
    import yaml

    from_file = load_scenario(write(tmp_path, "mmc.yaml", MINIMUM))
    from_dict = load_scenario(yaml.safe_load(MINIMUM))
    assert from_dict == from_file


def test_load_scenario_returns_a_scenario_unchanged() -> None:
    """Passing an already validated Scenario returns that very object."""
    sc = load_scenario(small(phone=channel()))
    assert isinstance(sc, Scenario)
    assert load_scenario(sc) is sc


def test_mean_in_minutes_and_hours_is_converted_to_seconds() -> None:
    """mean_min and mean_h become mean_seconds in seconds."""
    sc = load_scenario(
        small(
            phone=channel(handle_time={"dist": "exponential", "mean_min": 2.5}),
            email=channel(handle_time={"dist": "gamma", "mean_h": 0.5, "cv": 1.5}),
        )
    )
    assert sc.channels["phone"].handle_time.mean_seconds == pytest.approx(150)
    assert sc.channels["email"].handle_time.mean_seconds == pytest.approx(1800)


@pytest.mark.parametrize(
    ("arrivals", "per_second"),
    [({"rate_per_hour": 720}, 0.2), ({"rate_per_min": 3}, 0.05), ({"rate_per_day": 8640}, 0.1)],
)
def test_arrival_rates_are_converted_to_per_second(arrivals: dict[str, float], per_second: float) -> None:
    """rate_per_hour, rate_per_min and rate_per_day all become a rate per second."""
    sc = load_scenario(small(phone=channel(arrivals=arrivals)))
    assert sc.channels["phone"].arrivals.base_rate_per_s == pytest.approx(per_second)


@pytest.mark.parametrize(
    ("target", "seconds"),
    [({"answer_within_s": 30}, 30), ({"answer_within_min": 5}, 300), ({"answer_within_h": 24}, 86_400)],
)
def test_targets_are_converted_to_seconds(target: dict[str, float], seconds: float) -> None:
    """answer_within_s, _min and _h all become target_s in seconds."""
    sc = load_scenario(small(phone=channel(target=target)))
    assert sc.target_s("phone") == pytest.approx(seconds)


def test_uniform_bounds_are_converted_to_seconds() -> None:
    """Uniform bounds in minutes become seconds, and the mean is their midpoint."""
    sc = load_scenario(small(phone=channel(handle_time={"dist": "uniform", "low_min": 1, "high_min": 3})))
    dist = sc.channels["phone"].handle_time
    assert dist.bounds_seconds == (60, 180)
    assert dist.mean_seconds == 120


def test_kind_defaults_from_the_channel_key() -> None:
    """Channels keyed phone, email and social need no `kind`; another key takes the one given."""
    sc = load_scenario(small(phone=channel(), email=channel(), social=channel(), chat=channel(kind="social")))
    assert sc.kind_of("phone") is ChannelKind.PHONE
    assert sc.kind_of("email") is ChannelKind.EMAIL
    assert sc.kind_of("social") is ChannelKind.SOCIAL
    assert sc.kind_of("chat") is ChannelKind.SOCIAL


def test_explicit_kind_wins_over_the_key() -> None:
    """A channel keyed `phone` but declared `kind: social` is social."""
    sc = load_scenario(small(phone=channel(kind="social")))
    assert sc.kind_of("phone") is ChannelKind.SOCIAL


def test_default_targets_depend_on_the_kind() -> None:
    """Without a target: phone 20 s, email 24 h, social 1 h."""
    sc = load_scenario(small(phone=channel(), email=channel(), chat=channel(kind="social")))
    assert sc.target_s("phone") == 20
    assert sc.target_s("email") == 24 * 3600
    assert sc.target_s("chat") == 3600


def test_scenario_is_frozen() -> None:
    """Assigning to a loaded scenario, or to a model inside it, raises."""
    sc = load_scenario(small(phone=channel()))
    with pytest.raises(pydantic.ValidationError):
        sc.seed = 3  # type: ignore[misc]
    with pytest.raises(pydantic.ValidationError):
        sc.agents["team"].count = 99  # type: ignore[misc]
    with pytest.raises(pydantic.ValidationError):
        sc.channels["phone"].arrivals.rate_per_hour = 1.0  # type: ignore[misc]
    assert sc.seed == 0
    assert sc.agents["team"].count == 3


def test_loading_does_not_change_the_callers_dict() -> None:
    """The dict passed in is left as it was (kinds are filled in on a copy)."""
    data = small(phone=channel())
    before = copy.deepcopy(data)
    load_scenario(data)
    assert data == before


def test_numpy_numbers_are_accepted() -> None:
    """Counts and rates computed with numpy (np.int64, np.float64) are valid values."""
    data = small(phone=channel(arrivals={"rate_per_hour": np.float64(90.0)}))
    data["agents"]["team"]["count"] = np.int64(4)
    sc = load_scenario(data)
    assert sc.agents["team"].count == 4
    assert sc.channels["phone"].arrivals.base_rate_per_s == pytest.approx(90 / 3600)


def test_relative_data_files_resolve_against_the_scenario_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Trace and empirical paths are relative to the scenario file, whatever the working folder."""
    folder = tmp_path / "scenarios"
    write(folder / "data", "calls.csv", "t\n5\n60\n61\n")
    write(folder / "data", "aht.csv", "handle_s\n40\n80\n")
    write(
        folder,
        "traced.yaml",
        """\
name: traced
horizon_hours: 1
channels:
  phone:
    arrivals: {trace: {file: data/calls.csv, column: t}}
    handle_time: {dist: empirical, file: data/aht.csv, column: handle_s}
agents:
  team: {count: 1, skills: [phone]}
""",
    )
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    sc = load_scenario(Path("..") / "scenarios" / "traced.yaml")
    trace = sc.channels["phone"].arrivals.trace
    assert trace is not None
    assert Path(trace.file) == (folder / "data" / "calls.csv").resolve()
    assert Path(sc.channels["phone"].handle_time.file) == (folder / "data" / "aht.csv").resolve()


def test_data_files_of_an_extended_file_resolve_against_its_own_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A parent in another folder names its trace relative to itself; a child extending it
    from elsewhere reads that trace, while the child's own files stay relative to the child."""
    shared, project = tmp_path / "shared", tmp_path / "project"
    write(shared, "calls.csv", "t\n5\n60\n61\n")
    write(project, "aht.csv", "s\n40\n80\n")
    write(
        shared,
        "parent.yaml",
        """\
name: parent
horizon_hours: 1
channels:
  phone:
    arrivals: {trace: {file: calls.csv, column: t}}
    handle_time: {dist: exponential, mean_s: 60}
agents:
  team: {count: 1, skills: [phone]}
""",
    )
    child = write(
        project,
        "child.yaml",
        "extends: ../shared/parent.yaml\nchannels:\n  phone:\n"
        "    patience: {dist: empirical, file: aht.csv, column: s}\n",
    )
    monkeypatch.chdir(tmp_path)
    sc = load_scenario(child)
    trace = sc.channels["phone"].arrivals.trace
    assert trace is not None and Path(trace.file) == (shared / "calls.csv").resolve()
    patience = sc.channels["phone"].patience
    assert patience is not None and Path(patience.file) == (project / "aht.csv").resolve()  # type: ignore[union-attr]


def test_intent_handle_time_files_resolve_against_the_scenario_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An intent's own empirical handle time is read relative to the scenario too, and a
    missing one is a scenario error at its key path (not a failure mid-run)."""
    folder = tmp_path / "scenarios"
    write(folder, "complaints.csv", "s\n100\n300\n")
    text = """\
name: intents
horizon_hours: 1
channels:
  social:
    kind: social
    arrivals: {rate_per_hour: 30}
    handle_time: {dist: exponential, mean_s: 60}
    intents:
      complaint: {share: 0.5, handle_time: {dist: empirical, file: complaints.csv, column: s}}
      question: {share: 0.5}
agents:
  team: {count: 1, skills: [social]}
"""
    path = write(folder, "intents.yaml", text)
    monkeypatch.chdir(tmp_path)
    sc = load_scenario(path)
    intents = sc.channels["social"].intents
    assert intents is not None
    complaint = intents["complaint"].handle_time
    assert complaint is not None and Path(complaint.file) == (folder / "complaints.csv").resolve()  # type: ignore[union-attr]
    bad = write(folder, "bad.yaml", text.replace("complaints.csv", "nowhere.csv"))
    with pytest.raises(ScenarioError) as info:
        load_scenario(bad)
    assert info.value.problems[0].path == "channels.social.intents.complaint.handle_time.file"
    assert "file not found" in info.value.problems[0].message


def test_relative_data_files_in_a_dict_resolve_against_the_working_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A dict has no file of its own, so its relative paths are read from the working folder."""
    write(tmp_path, "aht.csv", "s\n30\n")
    monkeypatch.chdir(tmp_path)
    sc = load_scenario(
        small(phone=channel(handle_time={"dist": "empirical", "file": "aht.csv", "column": "s"}))
    )
    assert Path(sc.channels["phone"].handle_time.file) == (tmp_path / "aht.csv").resolve()


def test_scenario_error_carries_path_and_line_of_each_problem(tmp_path: Path) -> None:
    """ScenarioError.problems lists every problem with its dotted key path and YAML line."""
    text = MINIMUM.replace("rate_per_hour: 2700", "rate_per_hour: -1").replace("count: 50", "count: many")
    path = write(tmp_path, "bad.yaml", text)
    with pytest.raises(ScenarioError) as info:
        load_scenario(path)
    err = info.value
    assert err.source == str(path)
    assert all(isinstance(p, Problem) for p in err.problems)
    found = {p.path: p.line for p in err.problems}
    assert found == {"channels.phone.arrivals.rate_per_hour": 5, "agents.team.count": 10}
    assert str(path) in str(err)


def test_scenario_error_from_a_dict_has_paths_but_no_lines() -> None:
    """A dict has no lines: problems carry the key path and line None."""
    data = small(phone=channel(handle_time={"dist": "lognormal", "mean_s": 60}))
    with pytest.raises(ScenarioError) as info:
        load_scenario(data)
    assert info.value.problems == [Problem("channels.phone.handle_time.cv", "required key is missing", None)]


def test_cross_checks_point_at_their_own_keys(tmp_path: Path) -> None:
    """Problems found across fields (warm-up, skills) get the line of the key they are about."""
    text = MINIMUM.replace("warmup_hours: 10", "warmup_hours: 300").replace("[phone]", "[phone, fax]")
    with pytest.raises(ScenarioError) as info:
        load_scenario(write(tmp_path, "bad.yaml", text))
    found = {p.path: p.line for p in info.value.problems}
    assert found == {"warmup_hours": 12, "agents.team.skills[1]": 10}


def test_duplicate_keys_are_an_error(tmp_path: Path) -> None:
    """A key given twice in one mapping is reported with both lines, not silently overridden."""
    text = MINIMUM.replace("    kind: phone\n", "    kind: phone\n    kind: email\n")
    with pytest.raises(ScenarioError) as info:
        load_scenario(write(tmp_path, "dup.yaml", text))
    (problem,) = info.value.problems
    assert (problem.path, problem.line) == ("channels.phone.kind", 5)
    assert "first given at line 4" in problem.message


def test_yaml_merge_keys_are_not_duplicates(tmp_path: Path) -> None:
    """`<<: *anchor` reuses a block; a key given beside it overrides it without a duplicate error."""
    text = """\
name: merged
horizon_hours: 2
channels:
  phone: &common {arrivals: {rate_per_hour: 60}, handle_time: {dist: exponential, mean_s: 60}}
  social: {<<: *common, arrivals: {rate_per_hour: 6}}
agents:
  team: {count: 2, skills: [phone, social]}
"""
    sc = load_scenario(write(tmp_path, "merged.yaml", text))
    assert sc.channels["social"].handle_time == sc.channels["phone"].handle_time
    assert sc.channels["social"].arrivals.base_rate_per_s == pytest.approx(6 / 3600)


def test_trace_with_a_byte_order_mark_is_read(tmp_path: Path) -> None:
    """A CSV saved by Excel (UTF-8 with BOM) is read: the header's first column is found."""
    path = tmp_path / "calls.csv"
    path.write_bytes("\ufefft\n1\n2.5\n".encode())
    assert read_trace(path, "t").tolist() == [1.0, 2.5]


def test_trace_reads_are_independent_copies(tmp_path: Path) -> None:
    """Changing an array a read returned does not change the next read (reads are cached)."""
    path = tmp_path / "calls.csv"
    path.write_text("t\n1\n2\n", encoding="utf-8")
    first = read_trace(path, "t")
    first[:] = -1
    assert read_trace(path, "t").tolist() == [1.0, 2.0]


def test_trace_reads_follow_changes_to_the_file(tmp_path: Path) -> None:
    """A file rewritten since the last read is read again."""
    path = tmp_path / "calls.csv"
    path.write_text("t\n1\n2\n", encoding="utf-8")
    assert read_trace(path, "t").tolist() == [1.0, 2.0]
    path.write_text("t\n1\n2\n3\n", encoding="utf-8")
    assert read_trace(path, "t", unit="min").tolist() == [60.0, 120.0, 180.0]
    assert read_trace(path, "t").tolist() == [1.0, 2.0, 3.0]
