"""What a report page shows, read from a result folder: the scenario summary, tables and figures.

`detect_kind` tells which command wrote the folder and `build_report` reads it into a
`Report` (tables of strings and matplotlib figures, not yet rendered). `sim.report.html`
renders a `Report` as one self-contained page and writes it; its notes say which files each
kind of folder has.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from sim.config.schema import DEFAULT_TARGET_S
from sim.metrics.shown import COMPARE_ROWS
from sim.metrics.stats import Estimate, metric_ci
from sim.report import plots
from sim.report.tables import fmt_difference, fmt_estimate, fmt_value

COMPARE_FIGURES = ("service_level", "asa_s", "abandon_rate", "p_wait")
"""Channel metrics drawn as paired-difference bars in a comparison report (plus occupancy)."""
SWEEP_METRICS = ("service_level", "asa_s", "abandon_rate")
"""Channel metrics tabulated per sweep point."""
_SWEEP_BASE = {"point", "replication", "scope", "name", "metric", "value"}
_MAX_TABLE_ROWS = 300


class ReportError(Exception):
    """The folder is missing or is not a result folder of run, compare or sweep."""


@dataclass
class Report:
    """The content of a report page, before it is rendered.

    Attributes:
        kind: ``"run"``, ``"compare"``, ``"sweep"`` or ``"backtest"`` (a page of `staffsim backtest`).
        title: the scenario's name.
        facts: (label, value) pairs of the scenario summary.
        tables: (caption, table of strings) in page order.
        figures: (caption, figure) in page order.
        notes: short remarks shown under the tables (a table cut short, a file missing).
    """

    kind: str
    title: str
    facts: list[tuple[str, str]] = field(default_factory=list)
    tables: list[tuple[str, pd.DataFrame]] = field(default_factory=list)
    figures: list[tuple[str, Figure]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def detect_kind(outdir: str | Path) -> str:
    """Which command wrote the folder: ``"run"``, ``"compare"`` or ``"sweep"``.

    Raises:
        ReportError: the folder does not exist or holds none of the expected files.
    """
    folder = Path(outdir)
    if not folder.is_dir():
        raise ReportError(f"{folder}: no such folder (give a folder written by run, compare or sweep --out)")
    if (folder / "sweep.csv").is_file() or (folder / "sweep.parquet").is_file():
        return "sweep"
    if (folder / "comparison.csv").is_file():
        return "compare"
    if (folder / "conclusions.json").is_file():  # its summary.csv is the study's, not a run's
        raise ReportError(
            f"{folder} is a study folder (staffsim study --out), which has its figures already; "
            "staffsim report reads folders written by run, compare or sweep --out"
        )
    if (folder / "summary.csv").is_file():
        return "run"
    raise ReportError(
        f"{folder} is not a result folder: expected summary.csv (staffsim run --out), "
        "comparison.csv (staffsim compare --out) or sweep.csv (staffsim sweep --out)"
    )


def _read_json(path: Path) -> dict[str, Any]:
    if not path.is_file():
        return {}
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ReportError(f"{path}: not readable JSON ({exc})") from None
    return data if isinstance(data, dict) else {}


def _read_table(path: Path) -> pd.DataFrame:
    try:
        return pd.read_parquet(path) if path.suffix == ".parquet" else pd.read_csv(path)
    except (OSError, ValueError) as exc:
        raise ReportError(f"{path}: not a readable table ({exc})") from None


def _need(frame: pd.DataFrame, path: Path, columns: set[str]) -> None:
    missing = columns - set(frame.columns)
    if missing:
        raise ReportError(f"{path}: missing columns {', '.join(sorted(missing))}")


def _title(folder: Path, manifest: dict[str, Any], result: dict[str, Any]) -> str:
    scenario = manifest.get("scenario")
    if isinstance(scenario, dict) and scenario.get("name"):
        return str(scenario["name"])
    for value in (manifest.get("name"), result.get("scenario"), result.get("baseline")):
        if value:
            return str(value)
    files = manifest.get("scenario_files")
    if isinstance(files, dict) and files:
        return Path(next(iter(files))).stem
    return folder.name


def _facts(kind: str, title: str, manifest: dict[str, Any], replications: Any) -> list[tuple[str, str]]:
    made_by = {"run": "staffsim run", "compare": "staffsim compare", "sweep": "staffsim sweep"}[kind]
    facts = [("scenario", title), ("result of", made_by)]
    if not manifest:
        return [*facts, ("replications", str(replications)), ("manifest", "manifest.json not found")]
    scenario = manifest.get("scenario")
    if isinstance(scenario, dict):
        if scenario.get("description"):
            facts.append(("description", str(scenario["description"]).strip()))
        if isinstance(scenario.get("horizon_hours"), int | float):
            warmup = scenario.get("warmup_hours") or 0
            facts.append(("horizon", f"{scenario['horizon_hours']:g} h, warm-up {warmup:g} h"))
    facts.append(("replications", str(manifest.get("replications", replications))))
    for key in ("seed", "records", "rows"):
        if key in manifest:
            facts.append((key, str(manifest[key])))
    command = manifest.get("command")
    if isinstance(command, list):
        facts.append(("command", " ".join(str(c) for c in command)))
    files = manifest.get("scenario_files")
    if isinstance(files, dict):
        facts += [("scenario file", f"{name} (SHA-256 {str(sha)[:12]}…)") for name, sha in files.items()]
    for key in ("scenario_sha256", "created_at"):
        if key in manifest:
            facts.append((key.replace("_", " "), str(manifest[key])))
    versions = manifest.get("versions")
    if isinstance(versions, dict):
        facts.append(("versions", ", ".join(f"{k} {v}" for k, v in versions.items())))
    return facts


def _targets(manifest: dict[str, Any]) -> dict[str, float]:
    """Channel → answer-within target in seconds, from the scenario in the manifest."""
    scenario = manifest.get("scenario")
    channels = scenario.get("channels") if isinstance(scenario, dict) else None
    out: dict[str, float] = {}
    if not isinstance(channels, dict):
        return out
    for name, spec in channels.items():
        spec = spec if isinstance(spec, dict) else {}
        target = spec.get("target") or {}
        for key, factor in (
            ("answer_within_s", 1.0),
            ("answer_within_min", 60.0),
            ("answer_within_h", 3600.0),
        ):
            if isinstance(target, dict) and target.get(key) is not None:
                out[name] = float(target[key]) * factor
                break
        else:
            kind = str(spec.get("kind") or name)
            if kind in DEFAULT_TARGET_S:
                out[name] = DEFAULT_TARGET_S[kind]  # type: ignore[index]
    return out


def _estimates(frame: pd.DataFrame, rows: str, first: str) -> pd.DataFrame:
    """`mean [CI]` strings from columns name, metric, mean, ci_low, ci_high, n.

    `rows` is ``"metric"`` (metrics down, names across) or ``"name"`` (the other way);
    `first` labels the first column.
    """
    across = "name" if rows == "metric" else "metric"
    cells = {
        (str(r["name"]), str(r["metric"])): fmt_estimate(
            str(r["metric"]), Estimate(_num(r["mean"]), _num(r["ci_low"]), _num(r["ci_high"]), int(r["n"]))
        )
        for r in frame.to_dict("records")
    }
    down = [str(v) for v in pd.unique(frame[rows])]
    heads = [str(v) for v in pd.unique(frame[across])]
    body = [[d, *(cells.get((h, d) if rows == "metric" else (d, h), "") for h in heads)] for d in down]
    return pd.DataFrame(body, columns=[first, *heads])


def _shown(manifest: dict[str, Any], key: str) -> list[str] | None:
    """The metrics the command chose to show (`sim.report.tables.shown_metrics`), if recorded."""
    shown = manifest.get("shown")
    value = shown.get(key) if isinstance(shown, dict) else None
    return [str(m) for m in value] if isinstance(value, list) else None


def _add(report: Report, caption: str, fig: Figure) -> None:
    report.figures.append((caption, fig))


def _run(folder: Path, manifest: dict[str, Any], report: Report) -> None:
    path = folder / "summary.csv"
    summary = _read_table(path)
    _need(summary, path, {"scope", "name", "metric", "mean", "ci_low", "ci_high", "n"})
    n = int(summary["n"].max()) if len(summary) else 0
    report.facts = _facts("run", report.title, manifest, n)
    channels = summary[summary["scope"] == "channel"]
    rows = _shown(manifest, "rows")
    if rows is not None:
        channels = channels[channels["metric"].isin(rows)]
    report.tables.append(
        (f"Channels: mean [95% CI] over {n} replications", _estimates(channels, "metric", "metric"))
    )
    groups = summary[summary["scope"] == "group"]
    if len(groups):
        report.tables.append(("Agent groups: mean [95% CI]", _estimates(groups, "name", "group")))
    groups_path = folder / "group_intervals.csv"
    by_group = _read_table(groups_path) if groups_path.is_file() else None
    intervals_path = folder / "intervals.csv"
    if intervals_path.is_file():
        intervals = _read_table(intervals_path)
        if len(intervals):
            agents = by_group if by_group is not None and len(by_group) else None
            caption = "Queue length per channel and agents busy and on duty (all groups), by time of day"
            _add(report, caption, plots.queue_and_busy_over_day(intervals, agents))
            caption = "Service level of the contacts arriving in each interval"
            _add(report, caption, plots.service_level_by_interval(intervals))
    else:
        report.notes.append("intervals.csv not found (records 'none'): no figures by interval.")
    if by_group is not None and len(by_group):
        caption = "Agents on duty, busy and occupancy per group, by time of day"
        _add(report, caption, plots.groups_over_day(by_group))
    contacts_path = folder / "contacts.parquet"
    if contacts_path.is_file():
        contacts = _read_table(contacts_path)
        if len(contacts):
            caption = "Distribution of waits per channel (target marked)"
            _add(report, caption, plots.wait_cdf(contacts, _targets(manifest)))
    else:
        report.notes.append("contacts.parquet not found (records other than 'full'): no wait distribution.")


_COMPARISON_COLUMNS = {"variant", "scope", "name", "metric", "baseline_mean", "variant_mean", "diff_mean"}


def _compare(folder: Path, manifest: dict[str, Any], result: dict[str, Any], report: Report) -> None:
    path = folder / "comparison.csv"
    table = _read_table(path)
    _need(table, path, _COMPARISON_COLUMNS | {"diff_ci_low", "diff_ci_high", "significant"})
    n = int(manifest.get("replications", result.get("replications", 0)) or 0)
    report.facts = _facts("compare", report.title, manifest, n)
    base = result.get("channels")
    shown_rows = _shown(manifest, "rows")
    if isinstance(base, dict) and base:
        flat = pd.DataFrame(
            [
                {
                    "name": ch,
                    "metric": m,
                    **{k: (e or {}).get(k) for k in ("mean", "ci_low", "ci_high")},
                    "n": n,
                }
                for ch, metrics in base.items()
                for m, e in metrics.items()
                if shown_rows is None or m in shown_rows
            ]
        )
        report.tables.append(
            (f"Baseline: mean [95% CI] over {n} replications", _estimates(flat, "metric", "metric"))
        )
    overrides = manifest.get("variants")
    if isinstance(overrides, dict) and overrides:
        described = [
            (v, "; ".join(f"{k} = {json.dumps(val)}" for k, val in (o or {}).items()))
            for v, o in overrides.items()
        ]
        frame = pd.DataFrame(described, columns=["variant", "overrides"])
        report.tables.append(("Variants (key path = value)", frame))
    shown = table[
        ((table["scope"] == "channel") & table["metric"].isin(_shown(manifest, "channel") or COMPARE_ROWS))
        | ((table["scope"] == "group") & table["metric"].isin(_shown(manifest, "group") or ["occupancy"]))
    ]
    rows: list[Any] = []
    for r in shown.to_dict("records"):
        metric = str(r["metric"])
        diff = Estimate(_num(r["diff_mean"]), _num(r["diff_ci_low"]), _num(r["diff_ci_high"]), max(n, 2))
        rows.append(
            (
                r["variant"], r["name"], metric, fmt_value(metric, _num(r["baseline_mean"])),
                fmt_value(metric, _num(r["variant_mean"])), fmt_difference(metric, diff),
                "*" if str(r["significant"]).lower() == "true" else "",
            )
        )  # fmt: skip
    columns = [
        "variant",
        "channel or group",
        "metric",
        "baseline",
        "variant mean",
        "difference [95% CI]",
        "*",
    ]
    caption = f"Variants against the baseline, {n} paired replications (* the CI excludes 0)"
    report.tables.append((caption, _cap(rows, columns, report)))
    claims = result.get("claims")
    if isinstance(claims, list) and claims:
        verdicts = pd.DataFrame(
            [
                (
                    c.get("name"),
                    c.get("claim"),
                    c.get("verdict"),
                    c.get("evidence"),
                    (c.get("turning") or {}).get("sentence", "—")
                    if isinstance(c.get("turning"), dict)
                    else "—",
                )
                for c in claims
                if isinstance(c, dict)
            ],
            columns=["claim", "statement", "verdict", "evidence", "turning point"],
        )
        report.tables.append(("Claims: verdicts from the paired 95% CIs (unchanged: 90% CI, TOST)", verdicts))
    for metric in COMPARE_FIGURES:
        if _has_diffs(table, "channel", metric):
            _add(report, f"{metric}: variant − baseline per channel", plots.comparison_bars(table, metric))
    if _has_diffs(table, "group", "occupancy"):
        caption = "occupancy: variant − baseline per agent group"
        _add(report, caption, plots.comparison_bars(table, "occupancy", "group"))


def _num(value: Any) -> float:
    """A number from JSON or a table cell; None, NaN and anything else non-numeric become NaN."""
    try:
        return float(value)
    except (TypeError, ValueError):
        return math.nan


def _has_diffs(table: pd.DataFrame, scope: str, metric: str) -> bool:
    rows = table[(table["scope"] == scope) & (table["metric"] == metric)]
    return bool(np.isfinite(rows["diff_mean"].to_numpy(dtype=np.float64)).any())


def _cap(rows: list[Any], columns: list[str], report: Report) -> pd.DataFrame:
    if len(rows) > _MAX_TABLE_ROWS:
        report.notes.append(f"Table cut to its first {_MAX_TABLE_ROWS} of {len(rows)} rows; see the CSV.")
        rows = rows[:_MAX_TABLE_ROWS]
    return pd.DataFrame(rows, columns=columns)


def _sweep(folder: Path, manifest: dict[str, Any], report: Report) -> None:
    path = folder / "sweep.csv"
    if not path.is_file():
        path = folder / "sweep.parquet"
    table = _read_table(path)
    _need(table, path, _SWEEP_BASE)
    dims = [c for c in table.columns if c not in _SWEEP_BASE]
    n = int(table["replication"].nunique())
    report.facts = _facts("sweep", report.title, manifest, n)
    grid = manifest.get("grid")
    if isinstance(grid, dict) and grid:
        paths = [(k, ", ".join(str(v) for v in values)) for k, values in grid.items()]
        report.tables.append(("Grid (key path: values)", pd.DataFrame(paths, columns=["key path", "values"])))
    channels = table[(table["scope"] == "channel") & table["metric"].isin(SWEEP_METRICS)]
    rows: list[Any] = []
    for key, sub in channels.groupby(["point", *dims, "name"], sort=False):
        cells = {
            m: fmt_estimate(str(m), metric_ci(g["value"].to_numpy(dtype=np.float64), str(m)))
            for m, g in sub.groupby("metric", sort=False)
        }
        rows.append([*tuple(key), *(cells.get(m, "") for m in SWEEP_METRICS)])
    columns = ["point", *dims, "channel", *SWEEP_METRICS]
    report.tables.append((f"Mean [95% CI] over {n} replications per point", _cap(rows, columns, report)))
    channel_names = [str(c) for c in pd.unique(table.loc[table["scope"] == "channel", "name"])]
    if len(dims) >= 2:
        x, y = dims[0], dims[1]
        if len(dims) > 2:
            report.notes.append(f"Heatmaps average over {', '.join(dims[2:])}.")
        for metric in ("service_level", "asa_s"):
            for ch in channel_names:
                sel = table[(table["name"] == ch) & (table["metric"] == metric)]
                if np.isfinite(sel["value"].to_numpy(dtype=np.float64)).any():
                    _add(
                        report, f"{ch} {metric} across the grid", plots.sweep_heatmap(table, x, y, ch, metric)
                    )
        if ((table["name"] == "overall") & (table["metric"] == "occupancy")).any():
            fig = plots.sweep_heatmap(table, x, y, "overall", "occupancy")
            _add(report, "overall occupancy across the grid", fig)
    elif len(dims) == 1:
        x = dims[0]
        for scope, metric in (*(("channel", m) for m in SWEEP_METRICS), ("group", "occupancy")):
            frame, names = _curves(table, x, scope, metric)
            if names:
                fig = plots.scaling_curves(frame, x, names, ylabel=metric, title=f"{metric} (mean, 95% CI)")
                _add(report, f"{metric} against {x}", fig)


def _curves(table: pd.DataFrame, x: str, scope: str, metric: str) -> tuple[pd.DataFrame, list[str]]:
    """Means and CIs per x value, one column set per channel or group, for `scaling_curves`."""
    rows = table[(table["scope"] == scope) & (table["metric"] == metric)]
    out: dict[str, Any] = {}
    names: list[str] = []
    xs = plots.axis_values(rows[x])
    for name, sub in rows.groupby("name", sort=False):
        estimates = [metric_ci(sub.loc[sub[x] == v, "value"].to_numpy(dtype=np.float64), metric) for v in xs]
        if not any(math.isfinite(e.mean) for e in estimates):
            continue
        names.append(str(name))
        out[f"{name}_mean"] = [e.mean for e in estimates]
        out[f"{name}_ci_low"] = [e.ci_low if math.isfinite(e.ci_low) else math.nan for e in estimates]
        out[f"{name}_ci_high"] = [e.ci_high if math.isfinite(e.ci_high) else math.nan for e in estimates]
    return pd.DataFrame({x: xs, **out}), names


def build_report(outdir: str | Path) -> Report:
    """Read a result folder and assemble its report (tables and figures, not yet rendered).

    Raises:
        ReportError: the folder is missing, is not a result folder, or a file in it is unreadable.
    """
    folder = Path(outdir)
    kind = detect_kind(folder)
    manifest = _read_json(folder / "manifest.json")
    result = _read_json(folder / "result.json")
    report = Report(kind=kind, title=_title(folder, manifest, result))
    if kind == "run":
        _run(folder, manifest, report)
    elif kind == "compare":
        _compare(folder, manifest, result, report)
    else:
        _sweep(folder, manifest, report)
    return report
