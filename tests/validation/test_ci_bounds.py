"""Confidence intervals that stay inside a metric's range, everywhere they are shown.

A service level, P(wait), abandonment rate, occupancy or FCR is a proportion: its interval
must lie in [0, 1]. Counts, times, queue lengths and agents are never negative: their
interval must not go below 0. The interval is a logit- (proportions) or log-transformed
(non-negative figures) Student-t interval over replications (`sim.metrics.stats`); its
coverage is checked on an M/M/c queue whose service level Erlang C gives exactly.
"""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import yaml
from matplotlib.collections import PolyCollection

import sim
from sim.analytic.erlang import erlang_c_service_level
from sim.config.variants import load_experiment
from sim.experiment.compare import Precision, compare
from sim.metrics.contacts import CHANNEL_METRICS, GROUP_METRICS, NON_NEGATIVE, PROPORTIONS
from sim.metrics.stats import mean_ci, paired_ci, scale_of
from sim.report import plots

# --- the interval itself -------------------------------------------------------------------


def test_proportion_interval_stays_inside_zero_and_one() -> None:
    """Near 0 and near 1 the plain t interval would leave [0, 1]; this one does not, and it
    still contains the mean."""
    for values in ([0.0, 0.0, 0.1], [0.034, 0.0, 0.07, 0.0], [1.0, 0.9, 1.0], [0.84, 0.5, 0.99, 1.0]):
        plain = mean_ci(values)
        assert plain.ci_low < 0 or plain.ci_high > 1  # the case the bounded interval exists for
        e = mean_ci(values, scale="proportion")
        assert 0 < e.ci_low <= e.mean <= e.ci_high < 1, (values, e)


def test_non_negative_interval_stays_above_zero() -> None:
    e = mean_ci([0, 0, 1, 0, 1], scale="non_negative")
    assert mean_ci([0, 0, 1, 0, 1]).ci_low < 0
    assert 0 < e.ci_low <= e.mean <= e.ci_high


def test_paired_difference_of_proportions_stays_inside_minus_one_and_one() -> None:
    """A change of a proportion lies in [−1, 1]. With two replications (service level down
    60 and 50 pp) the t interval reaches −119 pp; the paired interval of a proportion is cut
    at −1, and nothing else changes."""
    baseline, variant = [0.90, 0.80], [0.30, 0.30]
    plain = mean_ci(np.subtract(variant, baseline))
    assert plain.ci_low < -1  # the case the cut exists for
    cut = paired_ci(variant, baseline, metric="service_level")
    assert (cut.mean, cut.ci_low, cut.ci_high) == (plain.mean, -1.0, plain.ci_high)
    assert paired_ci(variant, baseline, metric="asa_s") == plain  # not a proportion: no cut
    narrow = paired_ci([0.80, 0.82, 0.79], [0.75, 0.78, 0.76], metric="service_level")
    assert narrow == mean_ci(np.subtract([0.80, 0.82, 0.79], [0.75, 0.78, 0.76]))  # inside: unchanged


def test_compared_proportions_keep_their_difference_inside_minus_one_and_one() -> None:
    """`compare` on two replications of an hour in which the variant takes two of six agents
    away: the plain t interval of the service level's change reaches −144 pp; every paired
    interval of a proportion lies in [−1, 1], in the result and in its JSON."""
    data = {
        "name": "starve", "seed": 1, "replications": 2, "horizon_hours": 1, "warmup_hours": 0,
        "channels": {"phone": {"arrivals": {"rate_per_hour": 150}, "handle_time": {"dist": "exponential",
                     "mean_s": 120}, "target": {"answer_within_s": 20}}},
        "agents": {"team": {"count": 6, "skills": ["phone"]}},
        "variants": {"fewer": {"agents.team.count": 4}},
    }  # fmt: skip
    result = compare(load_experiment(data))
    raw = np.subtract(
        result.variants["fewer"].values("channel", "phone", "service_level"),
        result.baseline.values("channel", "phone", "service_level"),
    )
    assert mean_ci(raw).ci_low < -1  # the case the cut exists for
    shown = result.to_dict()["variants"]["fewer"]["diff"]["phone"]
    for metric in PROPORTIONS & set(CHANNEL_METRICS):
        d = result.diff("fewer", "phone", metric)
        if not math.isnan(d.ci_low):
            assert -1.0 <= d.ci_low <= d.mean <= d.ci_high <= 1.0, (metric, d)
            assert (shown[metric]["ci_low"], shown[metric]["ci_high"]) == (d.ci_low, d.ci_high)


def test_replications_that_agree_on_a_bound_give_that_point() -> None:
    assert mean_ci([0.0, 0.0, 0.0], scale="proportion").as_dict() == {"mean": 0, "ci_low": 0, "ci_high": 0}
    assert mean_ci([1.0, 1.0], scale="proportion").as_dict() == {"mean": 1, "ci_low": 1, "ci_high": 1}
    assert mean_ci([0.0, 0.0], scale="non_negative").as_dict() == {"mean": 0, "ci_low": 0, "ci_high": 0}
    one = mean_ci([0.4], scale="proportion")
    assert not math.isfinite(one.ci_low) and not math.isfinite(one.ci_high)  # one replication: no interval


def test_every_metric_has_its_scale() -> None:
    assert {
        "service_level",
        "p_wait",
        "abandon_rate",
        "fcr",
        "resolution_rate",
        "csat",
        "occupancy",
    } == PROPORTIONS
    for m in [*CHANNEL_METRICS, *GROUP_METRICS]:
        assert scale_of(m) == ("proportion" if m in PROPORTIONS else "non_negative"), m
        assert m in PROPORTIONS or m in NON_NEGATIVE


# --- everywhere the interval is shown --------------------------------------------------------

STARVED: dict[str, Any] = {
    "name": "starved",
    "seed": 4,
    "replications": 3,
    "horizon_hours": 1,
    "interval_min": 30,
    "channels": {
        "phone": {
            "arrivals": {"rate_per_hour": 8},
            "handle_time": {"dist": "exponential", "mean_s": 600},
            "patience": {"dist": "exponential", "mean_s": 200},
            "target": {"answer_within_s": 20},
        }
    },
    "agents": {"team": {"count": 1, "skills": ["phone"]}},
}
"""One agent, 1.3 Erlangs of calls, one hour: few calls, noisy figures near their bounds."""


@pytest.fixture(scope="module")
def starved() -> sim.RunResult:
    return sim.run(sim.load_scenario(STARVED), records="summary")


def _check_rows(rows: Any) -> None:
    for r in rows:
        metric, low, high = r["metric"], r["ci_low"], r["ci_high"]
        if low is None or (isinstance(low, float) and math.isnan(low)):
            continue
        assert low >= 0, (r["name"], metric, low)
        if metric in PROPORTIONS:
            assert high <= 1, (r["name"], metric, high)


def test_summary_and_json_keep_the_bounds(starved: sim.RunResult) -> None:
    summary = starved.summary()
    for m in ("abandoned", "asa_s", "abandon_rate", "p_wait"):  # the plain t interval leaves the range here
        assert mean_ci(starved.values("channel", "phone", m)).ci_low < 0, m
    _check_rows(summary.to_dict("records"))
    payload = json.loads(json.dumps(starved.to_dict()))
    rows = [
        {"name": name, "metric": m, **e}
        for scope in ("channels", "groups")
        for name, metrics in payload[scope].items()
        for m, e in metrics.items()
        if isinstance(e, dict) and "ci_low" in e
    ]
    _check_rows(rows)
    table = summary.set_index(["name", "metric"])
    for r in rows:  # JSON shows the same interval as the table
        if r["ci_low"] is not None:
            assert r["ci_low"] == pytest.approx(table.loc[(r["name"], r["metric"]), "ci_low"])


def test_plot_bands_stay_inside_the_range(starved: sim.RunResult) -> None:
    """The service-level band of the per-interval plot stays within 0–100 %."""
    fig = plots.service_level_by_interval(starved.intervals())
    ys = [
        v[:, 1]
        for ax in fig.axes
        for c in ax.collections
        if isinstance(c, PolyCollection)
        for p in c.get_paths()
        for v in [p.vertices]
    ]
    assert ys, "no CI band drawn"
    values = np.concatenate(ys)
    values = values[np.isfinite(values)]
    top = 100.0 if values.max() > 1.5 else 1.0
    assert values.min() >= 0 and values.max() <= top + 1e-9


# --- coverage on a known case ----------------------------------------------------------------

COVERAGE_REPS = 8
COVERAGE_EXPERIMENTS = 100


@pytest.mark.slow
def test_proportion_interval_covers_the_erlang_c_service_level() -> None:
    """M/M/3 at 2 Erlangs, share answered in 20 s: of 100 independent experiments of 8
    replications of 10 hours, at least 93 % have a 95 % interval containing Erlang C's
    service level.

    The 800 replications are run at once (independent streams of one seed) and split into
    experiments of 8. With 100 experiments, 93 is 0.9 binomial standard deviations below 95.
    """
    scenario = sim.load_scenario(
        {
            "name": "coverage",
            "seed": 2024,
            "horizon_hours": 11,
            "warmup_hours": 1,
            "channels": {
                "phone": {
                    "arrivals": {"rate_per_hour": 120},
                    "handle_time": {"dist": "exponential", "mean_s": 60},
                    "target": {"answer_within_s": 20},
                }
            },
            "agents": {"team": {"count": 3, "skills": ["phone"]}},
        }
    )
    truth = erlang_c_service_level(3, 2.0, 60, 20)
    result = sim.run(scenario, replications=COVERAGE_REPS * COVERAGE_EXPERIMENTS, records="none", workers=2)
    values = result.values("channel", "phone", "service_level").reshape(COVERAGE_EXPERIMENTS, COVERAGE_REPS)
    covered = 0
    for row in values:
        e = mean_ci(row, scale="proportion")
        assert 0 <= e.ci_low <= e.ci_high <= 1
        covered += e.ci_low <= truth <= e.ci_high
    assert covered >= 93, f"{covered} of {COVERAGE_EXPERIMENTS} intervals cover {truth:.4f}"


# --- --precision that stops at the cap -------------------------------------------------------

PAIR: dict[str, Any] = {
    "name": "pair",
    "seed": 5,
    "replications": 3,
    "horizon_hours": 2,
    "channels": {
        "phone": {
            "arrivals": {"rate_per_hour": 240},
            "handle_time": {"dist": "exponential", "mean_s": 60},
            "patience": {"dist": "exponential", "mean_s": 300},
        }
    },
    "agents": {"team": {"count": 5, "skills": ["phone"]}},
    "variants": {"hire_one": {"agents.team.count": 6}},
}


def test_precision_not_reached_is_reported() -> None:
    result = compare(
        load_experiment(PAIR),
        replications=3,
        precision=Precision.parse("phone.service_level=0.0001"),
        max_replications=5,
    )
    assert result.n == 5
    assert result.precision is not None and not result.precision.reached
    d = result.to_dict()["precision"]
    assert d["reached"] is False and d["max_replications"] == 5 and d["achieved_half_width"] > 0.0001


def test_precision_reached_is_reported_too() -> None:
    result = compare(
        load_experiment(PAIR),
        replications=3,
        precision=Precision.parse("phone.offered=1000"),
        max_replications=5,
    )
    assert result.precision is not None and result.precision.reached and result.n == 3
    assert result.to_dict()["precision"]["reached"] is True


def test_cli_says_on_stderr_that_precision_stopped_at_the_cap(tmp_path: Path) -> None:
    path = tmp_path / "pair.yaml"
    path.write_text(yaml.safe_dump(PAIR))
    proc = subprocess.run(
        [sys.executable, "-m", "sim", "compare", str(path), "--precision", "phone.service_level=0.0001",
         "--max-replications", "4", "-j", "1", "-q", "--json"],
        capture_output=True, text=True,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert "not reached" in proc.stderr and "--max-replications 4" in proc.stderr
    assert json.loads(proc.stdout)["precision"]["reached"] is False
