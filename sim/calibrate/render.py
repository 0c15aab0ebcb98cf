"""A fitted centre written as a commented scenario file that extends nothing.

Every figure carries a comment saying what it is and how it was estimated, so that the file
can be read, checked against the log and edited by hand. `write_scenario` loads the text
through the ordinary scenario loader before it puts the file in place (atomically), so a
fit never leaves a file that `staffsim run` would refuse.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path

from sim.calibrate.aftercall import LONGEST_GAP_S
from sim.calibrate.estimators import SIGNIFICANCE
from sim.calibrate.fit import ASSUMED_HANDLE_MIN, ClassFit, Fit, days_text
from sim.calibrate.staffing import MIN_WAITING_S
from sim.config import load_scenario
from sim.runner.atomic import replace_file


def _num(value: float) -> str:
    if value == int(value) and abs(value) < 1e9:
        return str(int(value))
    return f"{value:.4g}" if abs(value) >= 1 else f"{value:.3g}"


def _list(
    values: Sequence[float], indent: str, per_line: int, labels: Sequence[str] | None = None
) -> list[str]:
    """A flow list over several lines, `per_line` values each, with an optional label comment per line."""
    lines = ["["]
    for i in range(0, len(values), per_line):
        chunk = ", ".join(_num(float(v)) for v in values[i : i + per_line]) + ","
        label = f"  # {labels[i // per_line]}" if labels is not None else ""
        lines.append(f"{indent}  {chunk}{label}")
    lines.append(f"{indent}]")
    return lines


def _clock(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def _day_labels(interval_min: int, per_line: int) -> list[str]:
    per_day = 1440 // interval_min
    return [
        f"{_clock(i * interval_min)}-{_clock(min(1440, (i + per_line) * interval_min) - 0)}"
        for i in range(0, per_day, per_line)
    ]


def _per_line(interval_min: int) -> int:
    return {15: 8, 30: 6, 60: 6}[interval_min]


def _channel(fit: Fit, c: ClassFit) -> list[str]:
    iv = fit.interval_min
    per_line = _per_line(iv)
    labels = _day_labels(iv, per_line)
    a = c.arrivals
    what = f"class {c.label} of channel {c.channel}" if c.key != c.channel else f"channel {c.channel}"
    out = [
        f"  {c.key}:",
        f"    # {what}: {c.n:,} contacts on {a.days} days; observed abandonment {c.abandon_rate:.1%}, "
        f"P(wait) {c.p_wait:.2f}, ASA {c.asa_s:.1f} s.",
        f"    kind: {c.kind}",
        "    arrivals:",
        "      profile:",
        f"        interval_min: {iv}",
        f"        # Mean arrivals per hour in each {iv}-minute interval over the {a.days} days "
        f"(mean count × {60 // iv if iv <= 60 else 1}); {a.per_day:,.1f} a day.",
        "        rates_per_hour: "
        + "\n".join(_list([round(r, 3) for r in a.rates_per_hour], "        ", per_line, labels)),
    ]
    out += [
        "      overdispersion:",
        "        # Counts vary more than Poisson: variance/mean of an interval's count across days, median over",
        f"        # intervals with >= 1 contact a day: {a.dispersion_median:.2f} (Poisson: 1). Gamma rate multipliers",
        "        # (mean 1) by the method of moments on Var = m + m²·cv²: one per day (daily_cv, from the",
        "        # daily totals) and one per interval within the day (interval_cv, from the counts' spread",
        "        # around the day's level).",
        f"        daily_cv: {a.daily_cv:.4f}",
        f"        interval_cv: {a.interval_cv:.4f}",
    ]
    h = c.handle
    if h is None:
        out += [
            "    handle_time:",
            f"      # ASSUMED: the log holds no handle times for this class ({ASSUMED_HANDLE_MIN:g} min, exponential).",
            "      dist: exponential",
            f"      mean_min: {ASSUMED_HANDLE_MIN:g}",
        ]
    else:
        out += [
            "    handle_time:",
            f"      # The {h.n:,} answered contacts' handle_s, as {len(h.quantiles)} quantiles scaled to keep the sample",
            f"      # mean {h.mean_s:.1f} s (CV {h.cv:.2f}); {h.short_share:.1%} are under 10 s and are kept. A lognormal",
            f"      # of the same mean and CV would be: {{dist: lognormal, mean_s: {h.mean_s:.1f}, cv: {h.cv:.2f}}}.",
            "      dist: empirical",
            "      values: " + "\n".join(_list(h.quantiles, "      ", 10)),
        ]
        if h.by_interval is not None:
            out += [
                "    handle_time_profile:",
                f"      # Handle times differ by time of day (Kruskal-Wallis p = {h.by_interval_p:.2g} < {SIGNIFICANCE:g}):",
                "      # each interval's mean ÷ the overall mean, shrunk toward 1 with a weight of 30 contacts.",
                f"      interval_min: {iv}",
                "      multipliers: " + "\n".join(_list(h.by_interval, "      ", per_line, labels)),
            ]
        else:
            p = (
                "too few contacts per interval to test"
                if math.isnan(h.by_interval_p)
                else f"Kruskal-Wallis p = {h.by_interval_p:.2g}"
            )
            out.append(f"    # Handle time does not differ by time of day enough to model ({p}).")
    w = c.wrap_up
    if w is not None:
        whose = {
            "class": "this class's",
            "channel": "its channel's",
            "channel, too few": "its channel's (too few of this class's)",
            "log": "the whole log's (too few of this class's)",
        }[w.source]
        out += [
            "    wrap_up:",
            f"      # After-call work: {whose} {w.n:,} gaps from the end of a contact to the agent's next answer, kept",
            "      # when callers were waiting as the contact ended (a free agent would have answered at once) and",
            f"      # under {LONGEST_GAP_S / 60:g} min: median {w.median_s:.0f} s, mean {w.mean_s:.1f} s, 90th percentile {w.p90_s:.0f} s. Bias: up",
            "      # where the queue emptied during the gap or the caller waiting needed another skill; down for",
            f"      # pauses over {LONGEST_GAP_S / 60:g} min (dropped). {len(w.quantiles)} quantiles scaled to keep the mean.",
            "      dist: empirical",
            "      values: " + "\n".join(_list(w.quantiles, "      ", 10)),
        ]
    pat = c.patience
    if pat is not None:
        km_median = f"{pat.km_median_s:.0f} s" if pat.km_median_s is not None else "beyond the longest wait"
        verdict = (
            f"the exponential is not rejected (p = {pat.lr_p:.2g} >= {SIGNIFICANCE:g}): it is used"
            if pat.exponential_fits
            else f"the exponential is rejected (p = {pat.lr_p:.2g} < {SIGNIFICANCE:g}): Kaplan-Meier is used"
        )
        out += [
            "    patience:",
            f"      # Censored: {pat.abandoned:,} of {pat.n:,} contacts abandoned (their wait is their patience); the",
            "      # answered ones' waits are lower bounds on theirs. Exponential MLE: Σ waits ÷ abandons =",
            f"      # {pat.exp_mean_s:.1f} s. Kaplan-Meier median {km_median}. (The naive mean of the abandoned waits,",
            f"      # {pat.naive_mean_s:.1f} s, ignores censoring and is far too short.) Likelihood-ratio test against",
            f"      # a Weibull (shape {pat.weibull_shape:.2f}; 1 = exponential): {verdict}.",
        ]
        if pat.exponential_fits:
            out += [
                "      dist: exponential",
                f"      mean_s: {pat.exp_mean_s:.1f}",
                f"      # Kaplan-Meier alternative: {{dist: empirical, values: [{len(pat.km_quantiles)} quantiles]}}",
            ]
        else:
            out += [
                "      # Kaplan-Meier quantiles; beyond the longest observed wait, the exponential tail (MLE mean).",
                f"      # Exponential alternative: {{dist: exponential, mean_s: {pat.exp_mean_s:.1f}}}",
                "      dist: empirical",
                "      values: " + "\n".join(_list(pat.km_quantiles, "      ", 10)),
            ]
    elif c.kind != "email":
        out.append("    # No contact abandoned: no patience (customers wait until answered).")
    if c.reply is not None:
        r = c.reply
        out += [
            f"    # Reply times (the waits of answered contacts): median {r.median_min:.1f} min, {r.within_60_min:.0%} within",
            f"    # 60 min; deciles 10-90 %: {', '.join(_num(v) for v in r.quantiles_min)} min.",
            f"    # Median by hour of arrival (h: min): {', '.join(f'{h}: {_num(v)}' for h, v in r.median_by_hour_min.items())}.",
        ]
        if c.kind == "social":
            out += [
                "    target:",
                f"      answer_within_min: 60  # the common social target; observed: {r.within_60_min:.0%} within it",
            ]
    if c.kind == "phone":
        out += ["    target:", "      answer_within_s: 20  # the common 80/20 target; not in the log"]
    return out


def render_scenario(fit: Fit, name: str | None = None) -> str:
    """The fitted centre as YAML text with comments (see the module docstring)."""
    iv = fit.interval_min
    first, last = fit.dates[0].date(), fit.dates[-1].date()
    n = sum(c.n for c in fit.classes)
    stem = Path(fit.source).stem
    lines = [
        f"# Fitted by `staffsim fit` from {Path(fit.source).name}: {n:,} contacts on {len(fit.dates)} days",
        f"# ({first} to {last}; days of the week {days_text(fit.days)}), {iv}-minute intervals, classes by {fit.class_by}.",
        "# One replication is one such day (00:00-24:00). Every figure below says how it was estimated;",
        "# none is fitted to the waiting, abandonment or service-level figures a back-test compares.",
    ]
    lines += [f"# NOTE: {note}" for note in fit.notes]
    lines += [
        f"name: {name or 'fitted-' + stem}",
        "description: >",
        f"  Fitted from the contact log {Path(fit.source).name} ({first} to {last}, {days_text(fit.days)}).",
        "seed: 1",
        "replications: 20",
        "horizon_hours: 24",
        "warmup_hours: 0",
        f"interval_min: {iv}",
        "",
        "channels:",
    ]
    for c in fit.classes:
        lines += _channel(fit, c)
    s = fit.staffing
    per_line = _per_line(iv)
    lines += [
        "",
        "agents:",
        "  agents:",
        f"    skills: [{', '.join(c.key for c in fit.classes)}]",
        "    staffing:",
        f"      interval_min: {iv}",
        f"      # Agents on duty: {s.method}.",
    ]
    if fit.staffing_by == "logged-in" and not s.method.startswith(("roster", "ASSUMED")):
        lines += [
            "      # An agent is logged in from their first answer to the end of their last contact; a pause over",
            f"      # {LONGEST_GAP_S / 60:g} min ends a session. Bias: down (time logged in before the first and after the last",
            "      # contact is missed), up (pauses under that are counted). Agents talking + in after-call work +",
            "      # idle, so each channel's wrap_up (above) is what occupies them between contacts.",
            f"      # Unrounded means: {', '.join(f'{m:.2f}' for m in s.means)}",
        ]
    elif not s.method.startswith(("roster", "ASSUMED")):
        lines += [
            f"      # Intervals with too little waiting (< {MIN_WAITING_S} s) gave a lower bound: {s.lower_bound_share:.0%} of the",
            "      # active (day, interval) cells. Bias: toward fewer than the roster's head count (talk time only,",
            "      # no after-call work or breaks: the effective capacity; waiting falls more where fewer are on).",
            f"      # Unrounded means: {', '.join(f'{m:.2f}' for m in s.means)}",
        ]
    lines.append("      counts: " + "\n".join(_list(s.counts, "      ", per_line, _day_labels(iv, per_line))))
    order = fit.routing_order
    lines += ["", "routing:"]
    if order is None:
        lines += [
            "  # Classes do not wait differently beyond their intervals' busy-ness: first come, first served.",
            "  policy: fifo",
        ]
    else:
        for channel, prio in fit.priority.items():
            ratios = ", ".join(f"{k} {v:.2f}" for k, v in sorted(prio.ratio.items(), key=lambda kv: kv[1]))
            lines += [
                f"  # {channel}: contacts that waited ÷ expected from their (day, interval) cells: {ratios}",
                f"  # (chi-square p = {prio.p_value:.2g}). Lowest ratio served first.",
            ]
        lines += ["  policy: priority", f"  order: [{', '.join(order)}]"]
    return "\n".join(lines) + "\n"


def write_scenario(fit: Fit, out: str | Path, name: str | None = None) -> str:
    """Render, check that it loads as a scenario, and write it atomically. Returns the text."""
    text = render_scenario(fit, name)
    replace_file(Path(out), text, check=load_scenario, suffix=".yaml")
    return text
