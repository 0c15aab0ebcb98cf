"""The planner's app in a real browser: Playwright drives Debian's Chromium against `staffsim app`.

The app runs as a subprocess on a free port; the tests wait for its ready line, never a
fixed time. Every number read from the page is checked against the CLI on the scenario
file downloaded from the same page (same seed): `run --json`, `compare --json`, `check`.
Screenshots of each step go to ``test-artifacts/app/`` (ignored by git).

Without Chromium (or Playwright) the tests are skipped on a developer's machine, but fail
under CI (``CI=true``): `make test` installs the browser first.
"""

from __future__ import annotations

import contextlib
import json
import os
import queue
import re
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

import sim
from tests.builders import ROOT, bank_log_extract, small_day

pytestmark = pytest.mark.slow

CHROMIUM = Path(os.environ.get("STAFFSIM_CHROMIUM", "/usr/bin/chromium"))
SHOTS = ROOT / "test-artifacts" / "app"
START_TIMEOUT_S = 120.0
"""Upper bound on the app's start-up (importing Panel and staffsim on a loaded machine)."""
WORK_TIMEOUT_MS = 40_000
"""Upper bound on one simulation job seen from the browser."""
REPS, SEED = 2, 11
CENTRE = ROOT / "scenarios" / "myths" / "centre.yaml"
"""The scenario every tab opens (`staffsim app CENTRE`): three channels, three groups with a count."""


def _unavailable(reason: str) -> None:
    if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
        pytest.fail(f"browser tests cannot run under CI: {reason}")
    pytest.skip(reason)


def _cli(*args: str, check: bool = True, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run(
        [sys.executable, "-m", "sim", *args], capture_output=True, text=True, env=env, timeout=300, cwd=cwd
    )
    if check:
        assert done.returncode == 0, done.stderr
    return done


@contextlib.contextmanager
def _serving(
    command: list[str], env: dict[str, str], cwd: Path, url_in: Callable[[str], str | None]
) -> Iterator[str]:
    """Start a server as a subprocess and yield its URL, taken from the line it prints once it
    listens (`url_in` finds it in a line, or returns None); stop it afterwards."""
    proc = subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env, cwd=cwd
    )
    lines: queue.Queue[str | None] = queue.Queue()

    def pump() -> None:
        assert proc.stdout is not None
        for line in proc.stdout:
            lines.put(line)
        lines.put(None)

    reader = threading.Thread(target=pump, daemon=True)
    reader.start()
    deadline = time.monotonic() + START_TIMEOUT_S
    seen: list[str] = []
    url = None
    try:
        while url is None:
            line = lines.get(timeout=max(0.1, deadline - time.monotonic()))
            if line is None:
                pytest.fail(f"{command[2]} exited before serving:\n" + "".join(seen))
            seen.append(line)
            url = url_in(line)
        yield url
    except queue.Empty:
        pytest.fail(f"{command[2]} did not say where it serves:\n" + "".join(seen))
    finally:
        proc.terminate()  # the app ends its worker processes on SIGTERM, then its output ends
        proc.wait(timeout=60)
        reader.join(timeout=30)
        if proc.stdout is not None and not reader.is_alive():
            proc.stdout.close()


def _app_url(line: str) -> str | None:
    return line.rsplit(" at ", 1)[1].strip() if line.startswith("staffsim app: serving") else None


@pytest.fixture(scope="module")
def app_url() -> Iterator[str]:
    """`staffsim app --port 0 --no-browser` in a subprocess; its URL once it says it is serving."""
    env = {**os.environ, "PYTHONPATH": str(ROOT), "PYTHONUNBUFFERED": "1"}
    command = [sys.executable, "-m", "sim", "app", str(CENTRE), "--port", "0", "--no-browser"]
    with _serving(command, env, ROOT, _app_url) as url:
        assert url.startswith("http://127.0.0.1:"), url
        yield url


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _unavailable("playwright is not installed (pip install 'staffsim[app]')")
    if not CHROMIUM.exists():
        _unavailable(f"{CHROMIUM} is missing (apt-get install chromium)")
    SHOTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM))
        yield b
        b.close()


def _page(browser: Any, url: str) -> Any:
    page = browser.new_page(viewport={"width": 1400, "height": 1000}, accept_downloads=True)
    page.set_default_timeout(WORK_TIMEOUT_MS)
    page.goto(url)
    page.locator(".f-agents-phone_team-count input").wait_for()
    return page


def _shot(page: Any, name: str, full_page: bool = True) -> None:
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=full_page)


def _set(page: Any, css: str, value: Any) -> None:
    """Type a value into a field and leave it (a Panel number input commits on change)."""
    box = page.locator(f"{css} input").first
    box.fill(str(value))
    box.press("Tab")


def _tab(page: Any, title: str) -> None:
    page.locator(".bk-tab").filter(has_text=re.compile(f"^{re.escape(title)}$")).click()


def _download_yaml(page: Any, folder: Path) -> Path:
    with page.expect_download() as info:
        page.locator(".download-yaml button").click()
    path = folder / "downloaded.yaml"
    info.value.save_as(path)
    return path


def _value(page: Any, selector: str) -> float:
    return float(page.locator(selector).get_attribute("data-value"))


def test_edit_run_matches_cli_and_download(browser: Any, app_url: str, tmp_path: Path) -> None:
    page = _page(browser, app_url)
    _shot(page, "01-baseline-opened")
    _set(page, ".f-agents-phone_team-count", 25)
    _tab(page, "Run")
    _set(page, ".run-reps", REPS)
    _set(page, ".run-seed", SEED)
    page.locator(".do-run button").click()
    mean = page.locator('[data-kpi="phone.service_level"] .kpi-mean')
    mean.wait_for()
    _shot(page, "02-run-kpis")

    path = _download_yaml(page, tmp_path)
    data = yaml.safe_load(path.read_text())
    assert data["agents"]["phone_team"]["count"] == 25  # the edit is in the file
    cli = json.loads(_cli("run", str(path), "-n", str(REPS), "--seed", str(SEED), "--json").stdout)
    for channel, metrics in cli["channels"].items():
        for metric in ("service_level", "asa_s", "abandon_rate"):
            expected = metrics[metric]["mean"]
            shown = page.locator(f'[data-kpi="{channel}.{metric}"] .kpi-mean')
            assert float(shown.get_attribute("data-value")) == expected, (channel, metric)
    sl = cli["channels"]["phone"]["service_level"]
    assert mean.inner_text() == f"{sl['mean'] * 100:.1f} %"
    ci = page.locator('[data-kpi="phone.service_level"] .kpi-ci').inner_text()
    assert ci == f"95 % CI [{sl['ci_low'] * 100:.1f} %, {sl['ci_high'] * 100:.1f} %]"
    occupancy = cli["groups"]["overall"]["occupancy"]["mean"]
    assert _value(page, '[data-kpi="overall.occupancy"] .kpi-mean') == occupancy
    # the report's figures are on the page, and the HTML report downloads
    assert page.locator(".bk-panel-models-markup-HTML img, img").count() >= 2
    with page.expect_download() as info:
        page.locator(".download-report button").click()
    report = tmp_path / "report.html"
    info.value.save_as(report)
    assert "<html" in report.read_text(encoding="utf-8").lower()
    page.close()


def test_move_vs_hire_matches_compare(browser: Any, app_url: str, tmp_path: Path) -> None:
    page = _page(browser, app_url)
    _set(page, ".f-agents-phone_team-cost_per_hour", 25)
    _set(page, ".f-agents-social_team-cost_per_hour", 30)
    _tab(page, "Move vs hire")
    page.locator(".wi-from select").select_option("phone_team")
    page.locator(".wi-to select").select_option("social_team")
    _set(page, ".wi-k", 2)
    _set(page, ".wi-reps", 3)
    _set(page, ".wi-seed", SEED)
    page.locator(".do-compare button").click()
    cell = page.locator('[data-diff="hire.phone.service_level"] .diff-mean')
    cell.wait_for()
    _shot(page, "03-move-vs-hire")
    _shot(page, "readme-move-vs-hire", full_page=False)  # the README's picture (docs/app.png)

    data = yaml.safe_load(_download_yaml(page, tmp_path).read_text())
    count = data["agents"]["phone_team"]["count"]
    social = data["agents"]["social_team"]["count"]
    data["variants"] = {
        "move": {"agents.phone_team.count": count - 2, "agents.social_team.count": social + 2},
        "hire": {"agents.social_team.count": social + 2},
    }
    experiment = tmp_path / "move_vs_hire.yaml"
    experiment.write_text(yaml.safe_dump(data, sort_keys=False))  # file order matters (routing order)
    cli = json.loads(
        _cli("compare", str(experiment), "-n", "3", "--seed", str(SEED), "--json", "-j", "1").stdout
    )
    for variant in ("move", "hire"):
        for channel, metrics in cli["variants"][variant]["diff"].items():
            for metric in ("service_level", "asa_s", "abandon_rate"):
                expected = metrics[metric]["mean"]
                selector = f'[data-diff="{variant}.{channel}.{metric}"] .diff-mean'
                if expected is None:
                    continue
                assert _value(page, selector) == expected, selector
    # cost: agents are paid on duty the whole measured window, whatever the load: hiring 2
    # social agents adds 2 × hours × 30, moving 2 from the phone team adds 2 × hours × (30 − 25)
    hours = data["horizon_hours"] - data.get("warmup_hours", 0)
    assert _value(page, '[data-diff="hire.overall.cost"] .diff-mean') == pytest.approx(2 * hours * 30)
    assert _value(page, '[data-diff="move.overall.cost"] .diff-mean') == pytest.approx(2 * hours * 5)
    page.close()


def test_page_answers_during_a_run_cancel_and_the_cli_message(
    browser: Any, app_url: str, tmp_path: Path
) -> None:
    page = _page(browser, app_url)
    _tab(page, "Run")
    _set(page, ".run-reps", 2000)  # minutes of work: it is still running when cancelled below
    page.locator(".do-run button").click()
    page.get_by_text("working").wait_for()
    # the page still answers while the worker simulates: an edit is validated at once
    _tab(page, "Scenario")
    _set(page, ".f-agents-phone_team-count", -3)
    error = page.locator(".f-agents-phone_team-count-error .field-message")
    error.wait_for()
    _shot(page, "04-validation-error-during-a-run")
    shown = error.inner_text().strip()
    assert shown.startswith("agents.phone_team.count: ")
    _tab(page, "Run")
    assert page.locator(".cancel-run button").is_enabled()  # the run goes on
    page.locator(".cancel-run button").click()
    page.get_by_text("cancelled").wait_for()
    assert page.locator(".do-run button").is_disabled()  # the scenario is invalid now

    path = _download_yaml(page, tmp_path)
    done = _cli("check", str(path), check=False)
    assert done.returncode == 2
    message = shown.removeprefix("agents.phone_team.count: ")
    assert "agents.phone_team.count" in done.stderr and message in done.stderr

    _tab(page, "Scenario")
    _set(page, ".f-agents-phone_team-count", 24)
    page.locator(".f-agents-phone_team-count-error .field-message").wait_for(state="detached")
    _tab(page, "Run")
    assert page.locator(".do-run button").is_enabled()
    page.close()


def _alias_bomb() -> str:
    lines = ['a0: &a0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    for i in range(1, 10):
        lines.append(f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 9) + "]")
    return "name: bomb\n" + "\n".join(lines) + "\nchannels: *a9\nagents: {}\n"


def test_hostile_uploads_leave_other_tabs_working(browser: Any, app_url: str, tmp_path: Path) -> None:
    hostile, other = _page(browser, app_url), _page(browser, app_url)
    bomb = tmp_path / "bomb.yaml"
    bomb.write_text(_alias_bomb())
    hostile.locator(".upload input[type=file]").set_input_files(str(bomb))
    status = hostile.locator(".upload-status .error")
    status.wait_for()
    assert "invalid scenario bomb.yaml" in status.inner_text()
    _shot(hostile, "05-alias-bomb-refused")

    huge = yaml.safe_load((ROOT / "scenarios" / "examples" / "mmc.yaml").read_text())
    huge["channels"]["phone"]["arrivals"] = {"rate_per_hour": 1e15}
    big = tmp_path / "huge_rate.yaml"
    big.write_text(yaml.safe_dump(huge, sort_keys=False))
    hostile.locator(".upload input[type=file]").set_input_files(str(big))
    hostile.get_by_text("opened huge_rate.yaml").wait_for()
    _tab(hostile, "Run")
    hostile.locator(".do-run button").click()
    refused = hostile.locator(".status .error")
    refused.wait_for()
    assert "too large" in refused.inner_text()
    _shot(hostile, "06-huge-rate-refused")

    # the other tab kept its own scenario and still runs
    today = yaml.safe_load(CENTRE.read_text())["agents"]["phone_team"]["count"]
    assert other.locator(".f-agents-phone_team-count input").input_value() == str(today)
    _tab(other, "Run")
    _set(other, ".run-reps", REPS)
    other.locator(".do-run button").click()
    other.locator('[data-kpi="phone.service_level"] .kpi-mean').wait_for()
    _shot(other, "07-other-tab-still-works")
    hostile.close()
    other.close()


def test_optimise_matches_cli(browser: Any, app_url: str, tmp_path: Path) -> None:
    page = _page(browser, app_url)
    page.locator(".pick select").select_option("examples/empirical_handle.yaml")
    page.locator(".open button").click()
    page.locator(".f-agents-team-count input").wait_for()
    _tab(page, "Optimise")
    assert page.locator(".opt-targets textarea").input_value() == "phone.service_level>=0.8"
    box = page.locator(".opt-targets textarea")
    box.fill("phone.service_level>=0.9")
    box.press("Tab")
    _set(page, ".opt-reps", 3)
    _set(page, ".opt-seed", SEED)
    page.locator(".do-optimise button").click()
    plan = page.locator('[data-plan="team"]')
    plan.wait_for()
    _shot(page, "08-optimise")

    path = _download_yaml(page, tmp_path)
    cli = json.loads(
        _cli(
            "optimize", str(path), "-t", "phone.service_level>=0.9", "-g", "team", "-n", "3",
            "--seed", str(SEED), "--json",
        ).stdout
    )  # fmt: skip
    assert int(plan.get_attribute("data-value")) == cli["agents"]["team"]
    assert cli["agents"]["team"] != 7  # the file has 7 agents: the plan is the search's, not today's
    assert page.locator(".opt-table ~ div img, img").count() >= 1  # the chart
    page.locator(".opt-mode button", has_text="per shift").click()  # the file has no shifts
    page.locator(".do-optimise button").click()
    page.locator(".error", has_text="no agent group works shifts").wait_for()
    page.close()


FIT_FLAGS = ["--interval-min", "60", "--days", "Mon,Tue", "--classes", "priority"]
"""The fit's options set on the page below, as `staffsim fit` takes them."""


def _fit_log(page: Any, path: Path) -> None:
    """Set the fit's options as `FIT_FLAGS` says, then choose the log (which starts the fit)."""
    page.locator(".log-interval select").select_option("60")
    _set(page, ".log-days", "Mon,Tue")
    page.locator(".log-classes select").select_option("priority")
    page.locator(".log-upload input[type=file]").set_input_files(str(path))


def test_contact_log_fits_as_the_cli_and_runs(browser: Any, app_url: str, tmp_path: Path) -> None:
    log = tmp_path / "bank.csv"
    rows = bank_log_extract(log)  # two real days of the bank (Monday and Tuesday)
    page = _page(browser, app_url)
    _fit_log(page, log)
    summary = page.locator(".fit-summary .fit-lines")
    summary.wait_for()
    page.locator(".scenario-title", has_text="fitted-bank").wait_for()  # the fitted draft is open
    _shot(page, "09-contact-log-fitted")

    written = tmp_path / "cli.yaml"
    cli = _cli("fit", log.name, "--out", str(written), *FIT_FLAGS, cwd=tmp_path).stdout.splitlines()
    shown = summary.inner_text().strip().splitlines()
    assert shown[0].startswith(f"fitted {rows:,} contacts on 2 days in ")
    assert shown[1:] == cli[1:]  # per class, routing, agents on duty: as `staffsim fit` prints them
    downloaded = _download_yaml(page, tmp_path)
    assert downloaded.name == "downloaded.yaml"
    assert sim.load_scenario(downloaded) == sim.load_scenario(written)

    _tab(page, "Run")
    _set(page, ".run-reps", REPS)
    _set(page, ".run-seed", SEED)
    page.locator(".do-run button").click()
    mean = page.locator('[data-kpi="phone_p0.service_level"] .kpi-mean')
    mean.wait_for()
    _shot(page, "10-fitted-centre-run")
    numbers = json.loads(_cli("run", str(written), "-n", str(REPS), "--seed", str(SEED), "--json").stdout)
    for channel, metrics in numbers["channels"].items():
        for metric in ("service_level", "asa_s", "abandon_rate"):
            shown_value = _value(page, f'[data-kpi="{channel}.{metric}"] .kpi-mean')
            assert shown_value == metrics[metric]["mean"], (channel, metric)
    page.close()


def test_bad_contact_log_gets_the_cli_message_and_the_page_works_on(
    browser: Any, app_url: str, tmp_path: Path
) -> None:
    good = tmp_path / "good.csv"
    bank_log_extract(good)
    head, first, rest = good.read_text(encoding="utf-8").split("\n", 2)
    bad = tmp_path / "stamps.csv"
    bad.write_text(head + "\n" + first.replace("1999-02-01T", "01/02/1999 ") + "\n" + rest, encoding="utf-8")
    page = _page(browser, app_url)
    page.locator(".log-upload input[type=file]").set_input_files(str(bad))
    error = page.locator(".log-fit .status .error")
    error.wait_for()
    _shot(page, "11-bad-contact-log")
    done = _cli("fit", bad.name, "--out", "never.yaml", check=False, cwd=tmp_path)
    assert done.returncode == 2 and not (tmp_path / "never.yaml").exists()
    assert done.stderr == f"staffsim: {error.inner_text().strip()}\n"
    assert "row 1, column arrived_at" in done.stderr

    # the page works on: the centre it had still runs
    assert page.locator(".f-agents-phone_team-count input").input_value() != ""
    _tab(page, "Run")
    _set(page, ".run-reps", REPS)
    page.locator(".do-run button").click()
    page.locator('[data-kpi="phone.service_level"] .kpi-mean').wait_for()
    page.close()


def test_optimise_per_interval_matches_cli(browser: Any, app_url: str, tmp_path: Path) -> None:
    small = tmp_path / "small.yaml"
    small.write_text(yaml.safe_dump(small_day(), sort_keys=False), encoding="utf-8")
    page = _page(browser, app_url)
    page.locator(".upload input[type=file]").set_input_files(str(small))
    page.get_by_text("opened small.yaml").wait_for()
    _tab(page, "Optimise")
    page.locator(".opt-mode button", has_text="per interval").click()
    box = page.locator(".opt-targets textarea")
    box.fill("phone.service_level>=0.8")
    box.press("Tab")
    _set(page, ".opt-reps", 2)
    _set(page, ".opt-seed", SEED)
    page.locator(".do-optimise button").click()
    cells = page.locator(".opt-table [data-plan]")
    cells.first.wait_for()
    _shot(page, "12-optimise-per-interval")

    cli = json.loads(
        _cli(
            "optimize", str(small), "-t", "phone.service_level>=0.8", "-g", "phone_team", "--per-interval",
            "-n", "2", "--seed", str(SEED), "--json",
        ).stdout
    )  # fmt: skip
    expected = {
        f"phone_team@{label}": n for label, n in zip(cli["labels"], cli["tables"]["phone_team"], strict=True)
    }
    shown = {
        cells.nth(i).get_attribute("data-plan"): int(cells.nth(i).get_attribute("data-value"))
        for i in range(cells.count())
    }
    assert len(expected) == 4 and shown == expected
    page.close()


@pytest.fixture(scope="module")
def jupyter_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """JupyterLab on a free loopback port, serving a copy of notebooks/ (quick mode on).

    The copy keeps the project's notebooks free of the outputs JupyterLab saves; the URL is
    taken from the line the server prints once it listens.
    """
    root = tmp_path_factory.mktemp("jupyter")
    (root / "notebooks").mkdir()
    shutil.copy(ROOT / "notebooks" / "01_tour.ipynb", root / "notebooks")
    settings = root / "settings"
    for name, values in {
        "notebook-extension/tracker": {"windowingMode": "none"},  # draw every cell, not only those in view
        "apputils-extension/notification": {"fetchNews": "false"},
    }.items():
        path = settings / "@jupyterlab" / f"{name}.jupyterlab-settings"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(values))
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "PYTHONUNBUFFERED": "1",
        "STAFFSIM_QUICK": "1",
        "JUPYTER_CONFIG_DIR": str(root / "config"),
        "JUPYTER_RUNTIME_DIR": str(root / "runtime"),
        "JUPYTERLAB_WORKSPACES_DIR": str(root / "workspaces"),
        "JUPYTERLAB_SETTINGS_DIR": str(settings),
        "JUPYTER_PLATFORM_DIRS": "1",
    }
    command = [
        sys.executable,
        "-m",
        "jupyterlab",
        "--no-browser",
        "--allow-root",
        "--ServerApp.ip=127.0.0.1",
        "--ServerApp.port=0",
        "--IdentityProvider.token=",
        "--ServerApp.password=",
        f"--ServerApp.root_dir={root}",
        "--LabApp.news_url=",
        "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
    ]
    with _serving(command, env, root, _lab_url) as url:
        yield url


def _lab_url(line: str) -> str | None:
    found = re.search(r"(http://127\.0\.0\.1:\d+)/lab", line)
    return found.group(1) if found else None


RAN = "() => /\\[(\\d+|\\*)\\]/.test(document.querySelector('.jp-CodeCell .jp-InputPrompt').textContent)"
"""True once the notebook's first code cell has run or runs (its prompt reads [1] or [*])."""


def _run_all_cells(page: Any, attempts: int = 3) -> None:
    """Run every cell of the open notebook once its kernel is idle, and wait for the run to start.

    JupyterLab may take a run request while its kernel session is still settling and drop
    it; the first code cell's prompt is the signal that the run started, and the request is
    made again until it appears.
    """
    from playwright.sync_api import TimeoutError as PageTimeout

    idle = page.locator(".jp-StatusBar-TextItem", has_text=re.compile(r"\| Idle$"))
    for _ in range(attempts):
        idle.wait_for(timeout=120_000)
        page.get_by_role("menuitem", name="Run", exact=True).click()
        page.get_by_text("Run All Cells", exact=True).click()
        try:
            page.wait_for_function(RAN, timeout=60_000)
            return
        except PageTimeout:
            continue
    texts = page.locator(".jp-StatusBar-TextItem").all_inner_texts()
    pytest.fail(f"JupyterLab did not run the notebook after {attempts} requests; status bar: {texts}")


def test_notebook_tour_move_vs_hire_panel_works_in_jupyterlab(browser: Any, jupyter_url: str) -> None:
    """Notebook 01's "Move vs hire" cell, run in a live JupyterLab, is the app's panel: it
    renders without the internet, runs the paired comparison in a worker and shows every
    paired difference."""
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    page.set_default_timeout(WORK_TIMEOUT_MS)
    page.goto(f"{jupyter_url}/lab/tree/notebooks/01_tour.ipynb?reset", timeout=120_000)
    page.locator(".jp-Notebook").wait_for(timeout=120_000)
    try:
        _run_all_cells(page)
        button = page.locator(".do-compare button")
        button.wait_for(timeout=300_000)  # every cell before it runs first (quick mode)
    finally:
        _shot(page, "notebook-01-run-all")
    button.scroll_into_view_if_needed()
    _set(page, ".wi-reps", 2)
    button.click()
    cell = page.locator('[data-diff="hire.overall.occupancy"] .diff-mean')
    cell.wait_for(timeout=120_000)
    _shot(page, "notebook-01-move-vs-hire", full_page=False)
    values = page.locator("[data-diff] .diff-mean")
    assert values.count() >= 2 * 3 * 2  # move and hire; three channels; at least two metrics each
    for k in range(values.count()):
        assert values.nth(k).get_attribute("data-value") is not None
    # hiring adds agents and moves none away: the agents' occupancy cannot rise
    assert _value(page, '[data-diff="hire.overall.occupancy"] .diff-mean') < 0
    page.close()
