"""The contact-log reader: the format, column mapping, time zones, days, and every bad-log case."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from sim.calibrate.log import COLUMNS, LogError, LogLimits, parse_column_options, parse_days, read_log
from tests.builders import ROOT

BANK_LOG = ROOT / "data" / "anonymous_bank" / "anonymous_bank_feb1999_log_0201_0214.csv"

HEADER = "arrived_at,channel,class,priority,outcome,wait_s,handle_s,agent\n"
GOOD = [
    "2024-03-04T09:00:10,phone,billing,0,answered,12,180,A1",
    "2024-03-04T09:01:00,phone,billing,1,abandoned,40,,",
    "2024-03-04T09:31:00,phone,sales,0,answered,0,95.5,A2",
    "2024-03-05T10:00:00,email,,,answered,3600,300,",
]


def write(tmp_path: Path, rows: list[str], header: str = HEADER, name: str = "log.csv") -> Path:
    path = tmp_path / name
    path.write_text(header + "".join(r + "\n" for r in rows), encoding="utf-8")
    return path


def test_a_good_log_is_typed_and_sorted(tmp_path: Path) -> None:
    log = read_log(write(tmp_path, list(reversed(GOOD))))
    f = log.frame
    assert list(f.columns) == list(COLUMNS)
    assert f["arrived_at"].is_monotonic_increasing
    assert f["outcome"].tolist() == ["answered", "abandoned", "answered", "answered"]
    assert pd.isna(f.loc[1, "handle_s"]) and f.loc[2, "handle_s"] == 95.5
    assert f.loc[3, "class"] == "email"  # no class: the channel's name
    assert f["priority"].tolist() == [0, 1, 0, 0]
    assert log.channels == ["email", "phone"]
    assert log.classes == [("email", "email"), ("phone", "billing"), ("phone", "sales")]


def test_optional_columns_may_be_left_out(tmp_path: Path) -> None:
    header = "arrived_at,channel,outcome,wait_s\n"
    log = read_log(write(tmp_path, ["2024-03-04T09:00:00,social,answered,720"], header))
    assert log.frame.loc[0, "class"] == "social" and log.frame.loc[0, "priority"] == 0
    assert pd.isna(log.frame.loc[0, "handle_s"]) and pd.isna(log.frame.loc[0, "agent"])


def test_column_mapping_and_time_zones(tmp_path: Path) -> None:
    header = "When,Queue,Result,Wait,Talk\n"
    rows = ["2017-10-31T21:45:10Z,social,answered,60,30", "2017-10-31T23:10:00+02:00,social,answered,5,1"]
    mapping = parse_column_options(
        ["arrived_at=When", "channel=Queue", "outcome=Result", "wait_s=Wait", "handle_s=Talk"]
    )
    log = read_log(write(tmp_path, rows, header), columns=mapping)
    # converted to UTC, then read as clock time: 23:10+02:00 is 21:10 UTC, before 21:45 UTC
    assert log.frame["arrived_at"].tolist() == [
        pd.Timestamp("2017-10-31T21:10:00"),
        pd.Timestamp("2017-10-31T21:45:10"),
    ]
    local = read_log(write(tmp_path, rows, header), columns=mapping, tz="Europe/Berlin")
    assert local.frame["arrived_at"].iloc[0] == pd.Timestamp("2017-10-31T22:10:00")  # CET = UTC+1


@pytest.mark.parametrize(
    ("row", "column", "words"),
    [
        ("yesterday at nine,phone,x,0,answered,1,2,", "arrived_at", "ISO 8601"),
        ("2024-03-04T09:00:00,phone,x,0,answered,-5,2,", "wait_s", "negative"),
        ("2024-03-04T09:00:00,phone,x,0,answered,soon,2,", "wait_s", "number"),
        ("2024-03-04T09:00:00,phone,x,0,answered,5,,", "handle_s", "handle time"),
        ("2024-03-04T09:00:00,phone,x,0,answered,5,-1,", "handle_s", "negative"),
        ("2024-03-04T09:00:00,phone,x,0,hung up,5,,", "outcome", "answered, abandoned"),
        ("2024-03-04T09:00:00,,x,0,answered,5,3,", "channel", "channel"),
        ("2024-03-04T09:00:00,phone,x,high,answered,5,3,", "priority", "whole number"),
    ],
)
def test_a_bad_row_is_named_by_row_and_column(tmp_path: Path, row: str, column: str, words: str) -> None:
    path = write(tmp_path, [*GOOD[:2], row])
    with pytest.raises(LogError) as info:
        read_log(path)
    text = str(info.value)
    assert text.startswith(f"invalid contact log {path}:")
    assert f"row 3, column {column}:" in text and words in text
    assert len(info.value.problems) == 1


def test_problems_across_chunks_keep_their_row_numbers(tmp_path: Path) -> None:
    rows = GOOD * 5 + ["2024-03-04T09:00:00,phone,x,0,answered,-1,2,"]  # row 21
    with pytest.raises(LogError, match="row 21, column wait_s"):
        read_log(write(tmp_path, rows), limits=LogLimits(chunk_rows=4))


def test_many_bad_rows_fit_on_one_screen(tmp_path: Path) -> None:
    rows = ["2024-03-04T09:00:00,phone,x,0,answered,-1,2,"] * 100
    with pytest.raises(LogError) as info:
        read_log(write(tmp_path, rows), limits=LogLimits(chunk_rows=10))
    assert len(str(info.value).splitlines()) <= 15 and "more" in str(info.value)


def test_missing_columns_are_named_with_the_mapping_hint(tmp_path: Path) -> None:
    path = write(tmp_path, ["2024-03-04T09:00:00,phone,answered"], "start,channel,outcome\n")
    with pytest.raises(LogError) as info:
        read_log(path)
    text = str(info.value)
    assert "column arrived_at: missing required column" in text and "--column arrived_at=YOURS" in text
    assert "column wait_s: missing required column" in text


def test_a_mapping_to_an_absent_column_is_named(tmp_path: Path) -> None:
    with pytest.raises(LogError, match="--column wait_s=Wait: the file has no such column"):
        read_log(write(tmp_path, GOOD), columns={"wait_s": "Wait"})
    with pytest.raises(LogError, match="'colour' is not a log column"):
        parse_column_options(["colour=x"])
    with pytest.raises(LogError, match="expected NAME=THEIRS"):
        parse_column_options(["class"])


@pytest.mark.parametrize(
    ("content", "words"),
    [("", "empty file"), (HEADER, "no contacts"), (None, "file not found")],
)
def test_unusable_files(tmp_path: Path, content: str | None, words: str) -> None:
    path = tmp_path / "log.csv"
    if content is not None:
        path.write_text(content, encoding="utf-8")
    with pytest.raises(LogError, match=words):
        read_log(path)


def test_limits_stop_large_files(tmp_path: Path) -> None:
    path = write(tmp_path, GOOD * 3)
    with pytest.raises(LogError, match="limit of 5 rows"):
        read_log(path, limits=LogLimits(max_rows=5, chunk_rows=2))
    with pytest.raises(LogError, match="limit of 100 bytes"):
        read_log(path, limits=LogLimits(max_bytes=100))
    with pytest.raises(LogError, match="8 columns is more than the limit of 4"):
        read_log(path, limits=LogLimits(max_columns=4))


def test_not_utf8(tmp_path: Path) -> None:
    path = tmp_path / "log.csv"
    path.write_bytes(HEADER.encode() + b"2024-03-04T09:00:00,t\xe9l\xe9phone,x,0,answered,1,2,\n")
    with pytest.raises(LogError, match="UTF-8"):
        read_log(path)


def test_days() -> None:
    assert parse_days("all") == frozenset(range(7))
    assert parse_days("weekdays") == frozenset(range(5))
    assert parse_days("Sun,Mon,Tue,Wed,Thu") == frozenset({6, 0, 1, 2, 3})
    assert parse_days("sunday, monday") == frozenset({6, 0})
    with pytest.raises(LogError, match="unknown day 'Funday'") as bad:
        parse_days("Mon,Funday")  # named as typed, not cut to three letters
    assert str(bad.value).startswith("invalid --days:\n") and "(file)" not in str(bad.value)


def test_an_unknown_time_zone_is_refused_even_when_no_stamp_has_a_zone(tmp_path: Path) -> None:
    path = write(tmp_path, GOOD)  # stamps without a zone: --tz would otherwise be ignored silently
    with pytest.raises(LogError, match="'Mars/Olympus': unknown time zone") as bad:
        read_log(path, tz="Mars/Olympus")
    assert str(bad.value).startswith("invalid --tz:")
    assert len(read_log(path, tz="Asia/Jerusalem").frame) == len(GOOD)


def test_the_bank_log_reads_and_tallies() -> None:
    log = read_log(BANK_LOG)
    assert len(log) == 16290  # every row of the shipped copy (its README)
    week = log.on_days("Sun,Mon,Tue,Wed,Thu")
    assert {d.weekday() for d in week.dates()} == {6, 0, 1, 2, 3}
    tally = week.tally(interval_min=30)
    assert int(tally["offered"].sum()) == len(week)
    assert (tally["answered"] + tally["abandoned"] == tally["offered"]).all()
    # interval index follows the clock: 09:52:05 on 1 Feb falls in 09:30-10:00 (interval 19)
    first = log.frame.index[log.frame["arrived_at"] == pd.Timestamp("1999-02-01T09:52:05")][0]
    assert log.interval_of_day(30).iloc[first] == 19


@pytest.mark.parametrize(("sep", "said"), [(";", "';'"), ("\t", "tabs")], ids=["semicolon", "tab"])
def test_a_log_with_another_separator_is_named_once(tmp_path: Path, sep: str, said: str) -> None:
    """A log saved with ';' once got four lines, each repeating the whole header."""
    header = HEADER.replace(",", sep)
    path = write(tmp_path, [row.replace(",", sep) for row in GOOD], header)
    with pytest.raises(LogError) as info:
        read_log(path)
    text = str(info.value)
    lines = text.splitlines()
    assert len(lines) == 2 and str(path) in lines[0], text
    assert f"separated by {said}" in text and "comma-separated" in text
    assert "arrived_at, channel, outcome, wait_s" in text  # the required columns, once each
    assert header.strip() not in text and text.count("arrived_at") == 1


def test_missing_columns_list_the_files_columns_once(tmp_path: Path) -> None:
    path = write(tmp_path, ["2024-03-04T09:00:00,phone,answered"], "start,channel,outcome\n")
    with pytest.raises(LogError) as info:
        read_log(path)
    text = str(info.value)
    assert text.count("start, channel, outcome") == 1 and "missing required column" in text
