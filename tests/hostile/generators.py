"""The hostile cases too big (or too special) to keep as files: written when the test runs.

Each generator writes its case into an empty folder and returns the case's header, as the
files in `cases/` carry it at their top (`args`, `expect`, `says`, `never`, `absent`).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

BASE = """name: generated
seed: 1
replications: 2
horizon_hours: 2
channels:
  phone:
    arrivals: {rate_per_hour: 60}
    handle_time: {dist: exponential, mean_s: 180}
agents:
  team: {count: 4, skills: [phone]}
"""

Header = dict[str, str]


def alias_bomb(levels: int, keys: int, prefix: str) -> str:
    """A "billion laughs" block: `levels` levels of `keys` aliases of the level below."""
    lines = [f"x-{prefix}0: &{prefix}0 [lol]"]
    for i in range(1, levels):
        refs = ", ".join(f"k{j}: *{prefix}{i - 1}" for j in range(keys))
        lines.append(f"x-{prefix}{i}: &{prefix}{i} {{{refs}}}")
    lines.append(f"x-{prefix}bomb: *{prefix}{levels - 1}")
    return "\n".join(lines) + "\n"


def bomb_through_extends(folder: Path) -> Header:
    """A 9-level, 9-key mapping bomb in both parent and child (it once took minutes and 1.8 GB)."""
    (folder / "parent.yaml").write_text(BASE + alias_bomb(9, 9, "p"), encoding="utf-8")
    (folder / "scenario.yaml").write_text("extends: parent.yaml\n" + alias_bomb(9, 9, "c"), encoding="utf-8")
    return {"args": "check {scenario}", "expect": "2", "says": "YAML alias"}


def bombs_that_add_up(folder: Path) -> Header:
    """Parent and child each under the value limit (about 400,000 values), together over it."""
    (folder / "parent.yaml").write_text(BASE + alias_bomb(6, 9, "p"), encoding="utf-8")
    (folder / "scenario.yaml").write_text("extends: parent.yaml\n" + alias_bomb(6, 9, "c"), encoding="utf-8")
    return {"args": "check {scenario}", "expect": "2", "says": "with the files it extends"}


def fifty_megabytes(folder: Path) -> Header:
    """A 50 MB scenario of six million numbers: refused before parsing (it once took minutes)."""
    numbers = ", ".join(["1234.5"] * 6_200_000)
    (folder / "scenario.yaml").write_text(BASE + f"x-data: [{numbers}]\n", encoding="utf-8")
    return {"args": "check {scenario}", "expect": "2", "says": "values, more than"}


def fifty_megabytes_of_text(folder: Path) -> Header:
    """A 49 MB description: few values, parsed in seconds, and the scenario is valid."""
    (folder / "scenario.yaml").write_text(
        BASE + "description: '" + "x" * 49_000_000 + "'\n", encoding="utf-8"
    )
    return {"args": "check {scenario}", "expect": "0", "says": "valid"}


def fifo_scenario(folder: Path) -> Header:
    """A named pipe as the scenario (no writer): refused at once instead of blocking for ever."""
    os.mkfifo(folder / "scenario.yaml")
    return {"args": "check {scenario}", "expect": "2", "says": "named pipe"}


def fifo_trace(folder: Path) -> Header:
    """A named pipe as an arrival trace: refused without reading."""
    os.mkfifo(folder / "calls.csv")
    text = BASE.replace("{rate_per_hour: 60}", "{trace: {file: calls.csv, column: t_s}}")
    (folder / "scenario.yaml").write_text(text, encoding="utf-8")
    return {"args": "check {scenario}", "expect": "2", "says": "named pipe"}


def _trace_scenario(folder: Path) -> None:
    text = BASE.replace("{rate_per_hour: 60}", "{trace: {file: calls.csv, column: t_s}}")
    (folder / "scenario.yaml").write_text(text, encoding="utf-8")


def two_gigabyte_csv(folder: Path) -> Header:
    """A 2 GB trace (sparse: it takes no disk): refused by its size before a byte is read."""
    with open(folder / "calls.csv", "wb") as fh:
        fh.truncate(2_000_000_000)
    _trace_scenario(folder)
    return {"args": "check {scenario}", "expect": "2", "says": "larger than the 200 MB"}


def csv_without_newlines(folder: Path) -> Header:
    """A 20 MB trace on one line: refused after one bounded read, not loaded whole."""
    (folder / "calls.csv").write_text("t_s\n" + "1," * 10_000_000, encoding="utf-8")
    _trace_scenario(folder)
    return {"args": "check {scenario}", "expect": "2", "says": "longer than"}


def csv_half_a_million_columns(folder: Path) -> Header:
    """A header of 500,000 columns (it once gave a 4.4 MB message): a short refusal."""
    (folder / "calls.csv").write_text(",".join(f"c{i}" for i in range(500_000)) + "\n1\n", encoding="utf-8")
    _trace_scenario(folder)
    return {"args": "check {scenario}", "expect": "2", "says": "longer than", "max_stderr": "2000"}


def csv_two_thousand_columns(folder: Path) -> Header:
    """2,000 short columns fit on a line but not in a data file: refused, listing none of them."""
    (folder / "calls.csv").write_text(",".join(f"c{i}" for i in range(2_000)) + "\n1\n", encoding="utf-8")
    _trace_scenario(folder)
    return {"args": "check {scenario}", "expect": "2", "says": "2,000 columns", "max_stderr": "2000"}


def thousand_channels(folder: Path) -> Header:
    """A thousand channels: the terminal table shows twelve and says so, in bounded time."""
    channels = "\n".join(
        f"  c{i}:\n    kind: email\n    arrivals: {{rate_per_hour: 1}}\n"
        "    handle_time: {dist: exponential, mean_s: 60}"
        for i in range(1000)
    )
    skills = ", ".join(f"c{i}" for i in range(1000))
    text = (
        "name: wide\nseed: 1\nreplications: 2\nhorizon_hours: 1\nchannels:\n"
        + channels
        + f"\nagents:\n  team: {{count: 5, skills: [{skills}]}}\n"
    )
    (folder / "scenario.yaml").write_text(text, encoding="utf-8")
    return {"args": "run {scenario} -q", "expect": "0", "says": "988 more channels not shown"}


GENERATORS: dict[str, Callable[[Path], Header]] = {
    f.__name__: f
    for f in (
        bomb_through_extends,
        bombs_that_add_up,
        fifty_megabytes,
        fifty_megabytes_of_text,
        fifo_scenario,
        fifo_trace,
        two_gigabyte_csv,
        csv_without_newlines,
        csv_half_a_million_columns,
        csv_two_thousand_columns,
        thousand_channels,
    )
}
"""Case name → the function that writes it."""
