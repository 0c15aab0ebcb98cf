"""A contact log opened in the planner's app, without a browser: the fit job and the side bar.

The reference is always `staffsim fit` on the same file with the same options: the fitted
scenario it writes, the lines it prints, and for a bad log the message on its stderr.
"""

from __future__ import annotations

import contextlib
import re
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

import sim
from sim.calibrate.checks import LogLimits
from sim.calibrate.fitfile import FitOptions, fit_file, headline, summary_lines
from sim.calibrate.log import LogError, read_log
from sim.cli import main
from tests.builders import bank_log_extract

pytest.importorskip("panel")

JOB_TIMEOUT_S = 120.0


def _cli_fit(folder: Path, name: str, *options: str) -> Any:
    """`staffsim fit NAME --out fitted.yaml OPTIONS` run in `folder` (messages name NAME alone)."""
    with contextlib.chdir(folder):
        result = CliRunner().invoke(main, ["fit", name, "--out", "fitted.yaml", *options])
    out = folder / "fitted.yaml"
    scenario = sim.load_scenario(out) if out.exists() else None
    out.unlink(missing_ok=True)
    return result, scenario


def _job_fit(folder: Path, name: str, options: FitOptions, max_bytes: int = 50_000_000) -> Any:
    """The app's fit job on the file `folder/name`: its last event."""
    from sim.app.jobs import Job

    payload = {
        "name": name,
        "raw": (folder / name).read_bytes(),
        "options": vars(options),
        "max_bytes": max_bytes,
    }
    return Job("fit", payload).wait(timeout_s=JOB_TIMEOUT_S)[-1]


def test_cli_prints_the_shared_summary_byte_for_byte(tmp_path: Path) -> None:
    rows = bank_log_extract(tmp_path / "bank.csv")
    result, _ = _cli_fit(tmp_path, "bank.csv", "--classes", "priority")
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    _, fit = fit_file(tmp_path / "bank.csv", FitOptions(class_by="priority"))
    assert re.fullmatch(rf"fitted {rows:,} contacts on 2 days in \d+\.\d s; wrote fitted\.yaml", lines[0])
    assert lines[0].startswith(headline(rows, fit).rsplit(" in ", 1)[0])
    assert lines[1:] == summary_lines(fit)
    assert [line.split(":")[0] for line in lines[1:4]] == ["  phone_p0", "  phone_p1", "  phone_p2"]


def test_fit_job_opens_the_scenario_the_cli_writes(tmp_path: Path) -> None:
    rows = bank_log_extract(tmp_path / "bank.csv")
    options = FitOptions(interval_min=60, days="Mon,Tue", class_by="priority", staffing_by="busy")
    event = _job_fit(tmp_path, "bank.csv", options)
    assert event.kind == "done", event.message
    result, written = _cli_fit(
        tmp_path, "bank.csv", "--interval-min", "60", "--days", "Mon,Tue", "--classes", "priority",
        "--staffing", "busy",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert sim.load_scenario(event.result["data"]) == written
    assert written is not None and written.interval_min == 60
    cli = result.stdout.splitlines()
    shown = event.result["summary"]
    assert shown[0].startswith(f"fitted {rows:,} contacts on 2 days in ")
    assert shown[1:] == cli[1:]


def _bad_logs(folder: Path) -> dict[str, bytes]:
    """Logs that break the format in the ways a planner's export does."""
    bank_log_extract(folder / "good.csv")
    good = (folder / "good.csv").read_text(encoding="utf-8")
    head, first, rest = good.split("\n", 2)
    return {
        "column.csv": (head.replace("outcome", "result") + "\n" + first + "\n" + rest).encode(),
        "stamp.csv": (head + "\n" + first.replace("1999-02-01T", "1999-02-31T") + "\n" + rest).encode(),
        "semicolons.csv": good.replace(",", ";").encode(),
        "empty.csv": b"",
        "junk.csv": bytes(range(256)) * 40,
    }


def test_fit_job_gives_the_clis_message_for_each_bad_log(tmp_path: Path) -> None:
    for name, raw in _bad_logs(tmp_path).items():
        (tmp_path / name).write_bytes(raw)
        result, written = _cli_fit(tmp_path, name)
        assert result.exit_code == 2 and written is None, name
        event = _job_fit(tmp_path, name, FitOptions())
        assert event.kind == "error", name
        assert result.stderr == f"staffsim: {event.message}\n", name
        assert event.message.startswith(f"invalid contact log {name}:"), event.message
        assert "staffsim-log" not in event.message


def test_fit_job_gives_the_clis_message_for_bad_options(tmp_path: Path) -> None:
    bank_log_extract(tmp_path / "bank.csv")
    cases = [
        (FitOptions(days="Sat"), ["--days", "Sat"], "no contacts on the days 'Sat'"),
        (FitOptions(days="Someday"), ["--days", "Someday"], "invalid --days"),
        (FitOptions(columns=("class",)), ["--column", "class"], "invalid --column"),
        (FitOptions(columns=("class=Type",)), ["--column", "class=Type"], "the file has no such column"),
        (FitOptions(tz="Mars/Olympus"), ["--tz", "Mars/Olympus"], "unknown time zone"),
    ]
    for options, flags, words in cases:
        result, _ = _cli_fit(tmp_path, "bank.csv", *flags)
        event = _job_fit(tmp_path, "bank.csv", options)
        assert event.kind == "error" and words in event.message, (flags, event.message)
        assert result.exit_code == 2 and result.stderr == f"staffsim: {event.message}\n", flags


def test_size_limit_is_the_readers_message_before_any_worker(tmp_path: Path) -> None:
    from sim.app.logfit import LOG_MAX_BYTES, refuse_size

    big = tmp_path / "big.csv"
    with big.open("wb") as handle:  # a sparse file: one byte over the limit, no disk used
        handle.truncate(LOG_MAX_BYTES + 1)
    with pytest.raises(LogError) as err:
        read_log(big, limits=LogLimits(max_bytes=LOG_MAX_BYTES))
    assert refuse_size(str(big), LOG_MAX_BYTES + 1) == str(err.value)
    assert refuse_size("big.csv", LOG_MAX_BYTES) is None
    # the worker applies the same bound to what it reads
    bank_log_extract(tmp_path / "bank.csv")
    event = _job_fit(tmp_path, "bank.csv", FitOptions(), max_bytes=1000)
    assert event.kind == "error" and "bytes is more than the limit of 1,000 bytes" in event.message


def test_fit_options_from_the_page_fields() -> None:
    from sim.app.logfit import fit_options

    options = fit_options(
        "15", " Sun,Mon ", "class=CallType, priority=Prio\nagent = Who", "priority", "busy", ""
    )
    assert options == FitOptions(
        interval_min=15,
        days="Sun,Mon",
        columns=("class=CallType", "priority=Prio", "agent = Who"),
        class_by="priority",
        staffing_by="busy",
        tz="UTC",
    )
    assert fit_options("30", "", "", "class", "auto", "UTC") == FitOptions()


def test_side_bar_fits_a_log_into_the_draft_and_refuses_a_big_one(tmp_path: Path) -> None:
    from sim.app.logfit import LOG_MAX_BYTES
    from sim.app.page import Planner

    bank_log_extract(tmp_path / "bank.csv")
    planner = Planner()
    upload = planner.log_upload
    upload.task.begin()  # nothing chosen yet
    assert upload.task.job is None and "choose a contact log" in upload.task.status.object
    upload.file.filename = "huge.csv"
    upload.file.value = b"x" * (LOG_MAX_BYTES + 1)
    assert upload.task.job is None
    assert "invalid contact log huge.csv" in upload.task.status.object

    upload.interval.value = "60"
    upload.classes.value = "none"
    upload.file.filename = "bank.csv"
    upload.file.value = (tmp_path / "bank.csv").read_bytes()  # choosing a file starts the fit
    job = upload.task.job
    assert job is not None
    event = job.wait(timeout_s=JOB_TIMEOUT_S)[-1]
    assert event.kind == "done", event.message
    upload.task.job = None
    upload.finish(event.result)
    _, fit = fit_file(tmp_path / "bank.csv", FitOptions(interval_min=60, class_by="none"))
    assert planner.draft.check().scenario == sim.load_scenario(planner.draft.data)
    assert planner.draft.data["interval_min"] == 60 and list(planner.draft.data["channels"]) == ["phone"]
    assert planner.draft.source == "fitted from bank.csv"
    assert "phone: " in upload.summary.object and summary_lines(fit)[-1].strip() in upload.summary.object
    assert not planner.run_panel.task.button.disabled  # the fitted draft runs
    planner.open_shipped(planner.picker.value)
    assert upload.summary.object == ""  # the summary belongs to the fitted draft only


def test_cancel_stops_the_fit_and_keeps_the_draft(tmp_path: Path) -> None:
    from sim.app.page import Planner

    bank_log_extract(tmp_path / "bank.csv")
    planner = Planner()
    before = planner.draft.data
    upload = planner.log_upload
    upload.file.filename = "bank.csv"
    upload.file.value = (tmp_path / "bank.csv").read_bytes()
    job = upload.task.job
    assert job is not None and upload.task.cancel_button.disabled is False
    upload.task.stop("cancelled")
    assert job.finished and upload.task.job is None and "cancelled" in upload.task.status.object
    assert planner.draft.data == before and upload.summary.object == ""
    assert not upload.task.button.disabled  # the same file can be fitted again
