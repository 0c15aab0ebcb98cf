"""`staffsim erlang` on an overloaded queue: a note and `stable: false`, not a bare `inf`.

Erlang C has a steady state only when the offered load a is below the c agents; at a ≥ c the
queue grows without bound (ASA infinite, every caller waits). Erlang A stays finite because
callers hang up.
"""

from __future__ import annotations

import json
import math
from typing import Any

from click.testing import CliRunner

from sim.analytic import erlang as e
from sim.cli import main


def erlang(*args: str) -> tuple[int, str, str]:
    """Run `staffsim erlang ARGS` in-process; return (exit code, stdout, stderr)."""
    result = CliRunner().invoke(main, ["erlang", *args])
    return result.exit_code, result.stdout, result.stderr


def erlang_json(*args: str) -> dict[str, Any]:
    """`staffsim erlang ARGS --json`, parsed."""
    code, out, err = erlang(*args, "--json")
    assert code == 0, err
    data = json.loads(out)
    assert isinstance(data, dict)
    return data


# 360 calls an hour of 60 s: an offered load of 6 Erlangs
LOAD = ("--rate-per-hour", "360", "--aht-s", "60")


def test_overloaded_erlang_c_json_says_unstable_with_a_note() -> None:
    data = erlang_json("-c", "5", *LOAD)
    assert data["stable"] is False
    assert data["asa_s"] is None  # infinite: JSON has no infinity
    assert data["p_wait"] == 1.0 and data["service_level"] == 0.0
    note = data["note"]
    assert "6 Erlangs" in note and "5 agents" in note and "grows without bound" in note
    assert "--patience-s" in note and "Erlang A" in note
    # the fewest agents it names for a finite queue are theory's: c > a
    assert "7 agents or more" in note
    assert math.isinf(e.erlang_c_asa(6, 6.0, 60)) and math.isfinite(e.erlang_c_asa(7, 6.0, 60))


def test_load_equal_to_the_agents_is_already_overloaded() -> None:
    data = erlang_json("-c", "6", *LOAD)
    assert data["stable"] is False and data["asa_s"] is None and "6 agents" in data["note"]


def test_a_stable_queue_has_no_note() -> None:
    data = erlang_json("-c", "7", *LOAD)
    assert data["stable"] is True and data["note"] is None
    assert data["asa_s"] == e.erlang_c_asa(7, 6.0, 60)


def test_overloaded_erlang_c_table_explains_the_infinite_asa() -> None:
    code, out, err = erlang("-c", "5", *LOAD)
    assert code == 0, err
    assert "asa_s: inf (unbounded: the queue grows without bound)" in out
    note = " ".join(out.split("note: ", 1)[1].split())
    assert "6 Erlangs" in note and "5 agents" in note and "--patience-s" in note


def test_erlang_a_above_the_agents_is_finite_and_says_why() -> None:
    data = erlang_json("-c", "5", *LOAD, "--patience-s", "60")
    expected = e.erlang_a(5, 0.1, 60, 60, 20.0)
    assert data["stable"] is True
    assert data["asa_s"] == expected.asa_s and math.isfinite(expected.asa_s)
    assert "hang up" in data["note"] and f"{expected.p_abandon:.1%}" in data["note"]
