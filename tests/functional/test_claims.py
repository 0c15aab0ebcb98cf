"""Claims in scenario files: validation, and verdicts whose truth is known by construction."""

from __future__ import annotations

import copy
import json
import math
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import yaml
from click.testing import CliRunner
from scipy import stats

from sim.cli import main
from sim.config.claims import Claim
from sim.config.errors import ScenarioError
from sim.config.variants import load_experiment
from sim.experiment.claims import FAILS, HOLDS, UNDECIDED, judge_values, replications_to_decide
from sim.experiment.compare import compare

MMCM: dict[str, Any] = {
    "name": "claims-mmcm",
    "seed": 11,
    "replications": 5,
    "horizon_hours": 12,
    "warmup_hours": 1,
    "channels": {
        "phone": {
            "arrivals": {"rate_per_hour": 300},
            "handle_time": {"dist": "exponential", "mean_s": 60},
            "patience": {"dist": "exponential", "mean_s": 120},
            "target": {"answer_within_s": 20},
        }
    },
    "agents": {"team": {"count": 6, "skills": ["phone"]}},
    "variants": {
        "minus_one": {"agents.team.count": 5},
        "identical": {"agents.team.count": 6},
        "redrawn": {"channels.phone.handle_time": {"dist": "gamma", "mean_s": 60, "cv": 1.01}},
    },
}


def experiment(claims: dict[str, Any], **changes: Any) -> dict[str, Any]:
    data = copy.deepcopy(MMCM)
    data.update(changes)
    data["claims"] = claims
    return data


def verdicts(data: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
    return {v.name: v for v in compare(load_experiment(data), **kwargs).verdicts()}


def test_known_verdicts_removed_agent_identical_variant_and_tiny_effect() -> None:
    claims = {
        "removing_hurts": {"variant": "minus_one", "metric": "phone.service_level", "expect": "lower"},
        "removing_helps": {"variant": "minus_one", "metric": "phone.service_level", "expect": "higher"},
        "identical_is_same": {
            "variant": "identical",
            "metric": "phone.service_level",
            "expect": "unchanged",
            "within": 0.01,
        },
        "removing_is_same": {
            "variant": "minus_one",
            "metric": "phone.service_level",
            "expect": "unchanged",
            "within": 0.01,
        },
        # Gamma with CV 1.01 is nearly the exponential but drawn another way: a tiny effect,
        # but no common random numbers either, so three replications cannot tell.
        "redrawn_lowers": {"variant": "redrawn", "metric": "phone.service_level", "expect": "lower"},
    }
    v = verdicts(experiment(claims), replications=3)
    assert v["removing_hurts"].verdict == HOLDS
    assert v["removing_helps"].verdict == FAILS
    assert v["identical_is_same"].verdict == HOLDS
    assert v["removing_is_same"].verdict == FAILS
    tiny = v["redrawn_lowers"]
    assert tiny.verdict == UNDECIDED
    assert tiny.needed is not None and tiny.needed > 3
    assert "replications would decide it" in tiny.evidence() or "more than" in tiny.evidence()


def test_a_bound_larger_than_the_effect_does_not_hold() -> None:
    claims = {
        "small_bound": {"variant": "minus_one", "metric": "phone.service_level", "expect": "lower",
                        "by_more_than": 0.01},
        "huge_bound": {"variant": "minus_one", "metric": "phone.service_level", "expect": "lower",
                       "by_more_than": 0.9},
        "occupancy_up": {"variant": "minus_one", "metric": "team.occupancy", "expect": "higher"},
        "baseline_side": {"variant": "baseline", "against": "minus_one", "metric": "phone.abandon_rate",
                          "expect": "lower"},
    }  # fmt: skip
    v = verdicts(experiment(claims), replications=4)
    assert v["small_bound"].verdict == HOLDS
    assert v["huge_bound"].verdict == FAILS
    assert v["occupancy_up"].verdict == HOLDS
    assert v["baseline_side"].verdict == HOLDS


def test_flipping_the_numbers_flips_the_verdicts() -> None:
    data = experiment({"x": {"variant": "minus_one", "metric": "phone.service_level", "expect": "lower"}})
    result = compare(load_experiment(data), replications=4)
    side = result.variants["minus_one"].values("channel", "phone", "service_level")
    other = result.baseline.values("channel", "phone", "service_level")
    lower = Claim(variant="minus_one", metric="phone.service_level", expect="lower")
    higher = Claim(variant="minus_one", metric="phone.service_level", expect="higher")
    assert judge_values("x", lower, side, other).verdict == HOLDS
    assert judge_values("x", lower, other, side).verdict == FAILS  # swapped sides
    assert judge_values("x", higher, other, side).verdict == HOLDS
    assert judge_values("x", higher, side, other).verdict == FAILS
    # a tiny effect stays undecided whichever way it is read
    tiny = other + np.array([0.001, -0.002, 0.0015, -0.0005])
    assert judge_values("x", lower, tiny, other).verdict == UNDECIDED
    assert judge_values("x", higher, tiny, other).verdict == UNDECIDED


def test_a_claims_interval_of_a_share_stays_inside_minus_one_and_one() -> None:
    """Two replications whose service level fell by 60 and 50 pp: the t interval of the change
    reaches −119 pp; a claim reports (and judges) it cut at −100 pp, as `compare` does, with
    the same verdict; a metric that is not a share keeps the plain interval."""
    side, other = np.array([0.30, 0.30]), np.array([0.90, 0.80])
    plain = stats.t.interval(0.95, 1, loc=-0.55, scale=stats.sem(side - other))
    assert plain[0] < -1
    claim = Claim(variant="v", metric="phone.service_level", expect="lower", by_more_than=0.05)
    v = judge_values("x", claim, side, other)
    assert v.diff.ci_low == -1.0 and v.diff.ci_high == pytest.approx(plain[1], abs=1e-12)
    assert v.judged[0] == -1.0 and v.verdict == UNDECIDED  # the interval still reaches above −0.05
    asa = Claim(variant="v", metric="phone.asa_s", expect="lower")
    assert judge_values("x", asa, side, other).diff.ci_low == pytest.approx(plain[0], abs=1e-12)


def test_replications_to_decide_is_the_least_n_whose_half_width_clears_the_bound() -> None:
    claim = Claim(variant="a", metric="phone.service_level", expect="lower", by_more_than=0.02)
    mean, sd = -0.03, 0.02  # distance 0.01 from the bound
    n = replications_to_decide(claim, mean, sd, 0.95)
    assert n is not None

    def half(k: int) -> float:
        return float(stats.t.ppf(0.975, k - 1)) * sd / math.sqrt(k)

    assert half(n) < 0.01 <= half(n - 1)
    assert replications_to_decide(claim, -0.02, sd, 0.95) is None  # on the bound: never decided


def test_equivalence_uses_the_90_percent_interval() -> None:
    rng = np.random.default_rng(3)
    base = rng.normal(0.8, 0.02, size=12)
    side = base + rng.normal(0.004, 0.003, size=12)
    d = side - base
    half90 = float(stats.t.ppf(0.95, 11)) * d.std(ddof=1) / math.sqrt(12)
    half95 = float(stats.t.ppf(0.975, 11)) * d.std(ddof=1) / math.sqrt(12)
    m = (d.mean() + half90 + d.mean() + half95) / 2  # between the two upper bounds
    claim = Claim(variant="a", metric="phone.service_level", expect="unchanged", within=m)
    verdict = judge_values("eq", claim, side, base)
    assert verdict.verdict == HOLDS and verdict.level == 0.90


def test_compare_json_and_report_carry_the_verdicts(tmp_path: Path) -> None:
    path = tmp_path / "x.yaml"
    claims = {"removing_hurts": {"variant": "minus_one", "metric": "phone.service_level", "expect": "lower",
                                 "source": "Fewer agents, worse service."}}  # fmt: skip
    path.write_text(yaml.safe_dump(experiment(claims, horizon_hours=4, replications=3)))
    result = CliRunner().invoke(main, ["compare", str(path), "--json", "-j", "1", "-q"])
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    (c,) = payload["claims"]
    assert c["name"] == "removing_hurts" and c["verdict"] == HOLDS
    assert c["diff"]["ci_high"] < 0 and c["source"] == "Fewer agents, worse service."
    out = tmp_path / "out"
    result = CliRunner().invoke(main, ["compare", str(path), "-j", "1", "-q", "--out", str(out), "--report"])
    assert result.exit_code == 0, result.output
    assert "[holds] removing_hurts" in result.stdout
    html = (out / "report.html").read_text()
    assert "Claims" in html and "removing_hurts" in html


@pytest.mark.parametrize(
    ("claim", "path", "needle"),
    [
        ({"variant": "minus_two", "metric": "phone.service_level", "expect": "lower"},
         "claims.c.variant", "unknown variant 'minus_two'; allowed: baseline, minus_one"),
        ({"variant": "minus_one", "against": "nope", "metric": "phone.service_level", "expect": "lower"},
         "claims.c.against", "unknown variant 'nope'"),
        ({"variant": "minus_one", "metric": "phone.servce_level", "expect": "lower"},
         "claims.c.metric", "unknown metric 'servce_level' for 'phone'; allowed: offered"),
        ({"variant": "minus_one", "metric": "email.service_level", "expect": "lower"},
         "claims.c.metric", "'email' is not a channel or agent group"),
        ({"variant": "minus_one", "metric": "team.csat", "expect": "lower"},
         "claims.c.metric", "unknown metric 'csat' for 'team'"),
        ({"variant": "minus_one", "metric": "phone.service_level", "expect": "worse"},
         "claims.c.expect", "'lower', 'higher' or 'unchanged'"),
        ({"variant": "minus_one", "metric": "phone.service_level", "expect": "unchanged"},
         "claims.c", "needs 'within'"),
        ({"variant": "minus_one", "metric": "phone.service_level", "expect": "lower", "by": 1},
         "claims.c.by", "unknown key 'by'; allowed here: variant, against, metric"),
        ({"variant": "minus_one", "metric": "phone.service_level", "expect": "lower",
          "turning": {"path": "channels.phone.arrivals.rate", "low": 1, "high": 2}},
         "claims.c.turning.path", "no key 'rate' under channels.phone.arrivals"),
        ({"variant": "minus_one", "metric": "phone.service_level", "expect": "lower",
          "turning": {"path": "agents.team.count", "low": 5, "high": 2}},
         "claims.c.turning", "low (5) must be below high (2)"),
    ],
)  # fmt: skip
def test_bad_claims_name_the_file_key_path_and_line(
    tmp_path: Path, claim: dict[str, Any], path: str, needle: str
) -> None:
    file = tmp_path / "bad.yaml"
    file.write_text(yaml.safe_dump(experiment({"c": claim}), sort_keys=False))
    with pytest.raises(ScenarioError) as info:
        load_experiment(file)
    text = str(info.value)
    assert str(file) in text and path in text and needle in text, text
    assert "(line " in text
    result = CliRunner().invoke(main, ["check", str(file)])
    assert result.exit_code == 2 and "Traceback" not in result.output
    assert needle in result.stderr


@pytest.mark.slow
def test_turning_point_on_an_mmc_m_queue_matches_erlang_a_bisection() -> None:
    """Removing one of 6 agents costs more than 5 points of service level above some load.

    Erlang A gives that load by bisection on the exact service levels; the simulated turning
    point's 95 % bootstrap CI must contain it.
    """
    from scipy.optimize import brentq

    from sim.analytic import erlang as e
    from sim.experiment.turning import find_turning

    turning = {"path": "channels.phone.arrivals.rate_per_hour", "low": 100, "high": 250}
    claim = {"variant": "minus_one", "metric": "phone.service_level", "expect": "lower", "by_more_than": 0.05,
             "turning": turning}  # fmt: skip
    exp = load_experiment(experiment({"c": claim}, horizon_hours=40))
    tp = find_turning(exp, "c", exp.claims["c"], exp.claims["c"].turning, replications=10)

    def gap(rate: float) -> float:
        lam = rate / 3600
        return (
            e.erlang_a(5, lam, 60, 120, 20).service_level
            - e.erlang_a(6, lam, 60, 120, 20).service_level
            + 0.05
        )

    exact = brentq(gap, 100, 250)
    assert tp.value is not None and tp.ci is not None
    assert tp.ci[0] <= exact <= tp.ci[1], (tp.sentence(), exact)
    assert tp.before == FAILS and tp.after == HOLDS
    verdicts = tp.verdicts()
    assert verdicts[0] == FAILS and verdicts[-1] == HOLDS


def test_turning_from_the_command_line_prints_json_and_a_figure(tmp_path: Path) -> None:
    path = tmp_path / "x.yaml"
    claims = {"removing_hurts": {"variant": "minus_one", "metric": "phone.service_level", "expect": "lower",
                                 "by_more_than": 0.05}}  # fmt: skip
    path.write_text(yaml.safe_dump(experiment(claims, horizon_hours=6, replications=3)))
    out = tmp_path / "out"
    args = [
        "compare",
        str(path),
        "-j",
        "1",
        "-q",
        "--turning",
        "channels.phone.arrivals.rate_per_hour=60:400:3",
    ]
    result = CliRunner().invoke(main, [*args, "--out", str(out), "--report"])
    assert result.exit_code == 0, result.output
    assert "turning point: removing_hurts: does not hold below and holds above" in result.stdout
    assert "does not hold below and holds above" in (out / "report.html").read_text()
    assert (out / "turning-removing_hurts.png").stat().st_size > 0
    turning = json.loads((out / "result.json").read_text())["claims"][0]["turning"]
    assert 60 < turning["value"] < 400 and turning["ci_low"] <= turning["value"] <= turning["ci_high"]
    bad = CliRunner().invoke(main, [*args[:-1], "channels.phone.arrivals.rate=1:2"])
    assert bad.exit_code == 2 and "no key 'rate'" in bad.stderr
    bad = CliRunner().invoke(main, [*args[:-1], "channels.phone.arrivals.rate_per_hour=5"])
    assert bad.exit_code == 2 and "PATH=LOW:HIGH" in bad.stderr


def test_python_api_judges_the_claims_of_a_dict() -> None:
    import sim

    claims = {"removing_hurts": {"variant": "minus_one", "metric": "phone.service_level", "expect": "lower"}}
    table = sim.claims(experiment(claims, horizon_hours=4), replications=3)
    assert list(table.name) == ["removing_hurts"] and list(table.verdict) == [HOLDS]
    assert table.diff_ci_high[0] < 0 and math.isnan(table.turning_value[0])
