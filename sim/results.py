"""The result of running a scenario: replications turned into tidy pandas tables with CIs.

`RunResult` holds the plain per-replication outputs and builds tables on request:
`summary()` (mean and 95 % Student-t CI per channel and metric), `replications()` (one
row per replication × channel × metric), `intervals()` (per-interval service figures) and
`contacts()` (one row per contact, records ``"full"`` only). `estimate(name, metric)`
answers for a channel, an agent group or ``"overall"`` alike, and `save(folder)` writes
the tables, the JSON and a manifest atomically (what `staffsim run --out` writes).

An undefined figure — the CI of a single replication, a ratio with nothing to divide — is
NaN in every table and estimate, and null in the JSON.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from sim.config.schema import Scenario
from sim.metrics.contacts import CHANNEL_METRICS
from sim.metrics.shown import shown_metrics
from sim.metrics.stats import Estimate, metric_ci
from sim.records import CONTACT_COLUMNS, IntervalLevels, ReplicationOutput, interval_ratios
from sim.report.output import manifest
from sim.runner.atomic import atomic_dir, write_json
from sim.types import Outcome

if TYPE_CHECKING:
    import pandas as pd


class SavesItself:
    """A result that writes its files into a folder (`write`) and so saves itself (`save`)."""

    def write(self, folder: Path) -> None:
        """Write the result's files into the existing `folder`."""
        raise NotImplementedError

    def save(self, folder: str | Path, *, overwrite: bool = False) -> Path:
        """Write the result into `folder`, whole or not at all: what its command writes with --out.

        The files go into a temporary folder beside `folder`, renamed into place when complete.

        Raises:
            OutputExistsError: `folder` exists and `overwrite` is False.
        """
        with atomic_dir(folder, overwrite=overwrite) as tmp:
            self.write(tmp)
        return Path(folder)


@dataclass
class RunResult(SavesItself):
    """Replications of one scenario.

    Attributes:
        scenario: the scenario that was run.
        seed: the seed the replications were derived from.
        outputs: one `ReplicationOutput` per replication, in replication order.
        records: the records mode used.
        files: the scenario files read, the scenario's own and those it extends (for the
            manifest); empty for a scenario built in Python.
    """

    scenario: Scenario
    seed: int
    outputs: list[ReplicationOutput]
    records: str = "summary"
    files: list[str] = field(default_factory=list)

    @property
    def n(self) -> int:
        """Number of replications."""
        return len(self.outputs)

    # --- estimates -------------------------------------------------------------------

    def values(self, scope: str, name: str, metric: str) -> np.ndarray:
        """One metric across replications (scope ``"channel"`` or ``"group"``)."""
        table = "channels" if scope == "channel" else "groups"
        return np.array([getattr(o, table)[name][metric] for o in self.outputs], dtype=np.float64)

    def estimate(self, name: str, metric: str) -> Estimate:
        """Mean and 95 % CI of one figure of a channel, an agent group or ``"overall"``.

        The interval stays inside the metric's range (`sim.metrics.stats`).

        Args:
            name: a channel (``"phone"``), an agent group (``"phone_team"``) or
                ``"overall"`` (every group together).
            metric: a channel metric (`sim.metrics.contacts.CHANNEL_METRICS`) or a group
                metric (`GROUP_METRICS`), as the name calls for.

        Raises:
            KeyError: the scenario has no such channel or group, or it has no such metric;
                the message lists what there is.
        """
        first = self.outputs[0]
        for scope, table in (("channel", first.channels), ("group", first.groups)):
            if name in table and metric in table[name]:
                return metric_ci(self.values(scope, name, metric), metric)
        if name in first.channels or name in first.groups:
            known = first.channels[name] if name in first.channels else first.groups[name]
            raise KeyError(f"'{name}' has no metric '{metric}'; it has: {', '.join(known)}")
        raise KeyError(
            f"'{self.scenario.name}' has no channel or agent group '{name}'; channels: "
            f"{', '.join(first.channels)}; groups: {', '.join(first.groups)}"
        )

    def channel_estimates(self) -> dict[str, dict[str, Estimate]]:
        """Channel → metric → estimate."""
        return {
            ch: {m: metric_ci(self.values("channel", ch, m), m) for m in CHANNEL_METRICS}
            for ch in self.outputs[0].channels
        }

    def group_estimates(self) -> dict[str, dict[str, Estimate]]:
        """Group (and ``"overall"``) → metric → estimate."""
        return {
            g: {m: metric_ci(self.values("group", g, m), m) for m in metrics}
            for g, metrics in self.outputs[0].groups.items()
        }

    # --- tables ----------------------------------------------------------------------

    def summary(self) -> pd.DataFrame:
        """One row per (scope, name, metric): mean, ci_low, ci_high, n."""
        import pandas as pd

        rows = []
        for scope, estimates in (("channel", self.channel_estimates()), ("group", self.group_estimates())):
            for name, metrics in estimates.items():
                for metric, e in metrics.items():
                    rows.append((scope, name, metric, e.mean, e.ci_low, e.ci_high, e.n))
        return pd.DataFrame(rows, columns=["scope", "name", "metric", "mean", "ci_low", "ci_high", "n"])

    def replications(self) -> pd.DataFrame:
        """One row per replication × (scope, name) × metric, with the value."""
        import pandas as pd

        rows = []
        for o in self.outputs:
            for scope, table in (("channel", o.channels), ("group", o.groups)):
                for name, metrics in table.items():
                    for metric, value in metrics.items():
                        rows.append((o.replication, scope, name, metric, float(value)))
        return pd.DataFrame(rows, columns=["replication", "scope", "name", "metric", "value"])

    def intervals(self) -> pd.DataFrame:
        """Per replication, channel and interval: counts, service level, ASA, queue, sentiment.

        Contacts are attributed to the interval in which they arrived; queue length and public
        sentiment are time averages over the interval. The rows carry channel figures only:
        agents busy and on duty per group and interval are in `group_intervals()`. Needs
        records ``"summary"`` or ``"full"``.
        """
        import pandas as pd

        frames = []
        for o in self.outputs:
            if o.intervals is None:
                raise ValueError("interval statistics need records='summary' or 'full'")
            iv = o.intervals
            length = iv["interval_s"]
            names = iv["channels"]
            levels = IntervalLevels.between(iv["areas"])
            n_iv = len(levels.sentiment)
            starts = np.arange(n_iv) * length
            widths = np.diff(np.minimum(np.append(starts, self.scenario.horizon_s), self.scenario.horizon_s))
            widths = np.where(widths > 0, widths, np.nan)
            queue = levels.queue / widths[:, None]
            sentiment = 100.0 * (levels.sentiment / widths)
            tallies = {
                k: np.asarray(v, dtype=np.float64).reshape(len(names), n_iv) for k, v in iv["tallies"].items()
            }
            ratios = interval_ratios(tallies)
            for i, ch in enumerate(names):
                frames.append(
                    pd.DataFrame(
                        {
                            "replication": o.replication,
                            "channel": ch,
                            "interval": np.arange(n_iv),
                            "start_s": starts,
                            "offered": tallies["offered"][i],
                            "answered": tallies["answered"][i],
                            "abandoned": tallies["abandoned"][i],
                            "service_level": ratios["service_level"][i],
                            "p_wait": ratios["p_wait"][i],
                            "asa_s": ratios["asa_s"][i],
                            "queue_length": queue[:, i],
                            "public_sentiment": sentiment,
                        }
                    )
                )
        return pd.concat(frames, ignore_index=True)

    def group_intervals(self) -> pd.DataFrame:
        """Per replication, agent group and interval: agents busy, agents on duty, occupancy.

        `busy_agents` and `on_duty` are time averages over the interval, in agents (one
        holding several written conversations counts once), as the group metrics of the
        same names are over the run; `occupancy` is busy ÷ on duty in the
        interval (NaN where no agent of the group was on duty). There is no all-group row:
        every agent belongs to exactly one group, so summing `busy_agents` or `on_duty` over
        the groups of an interval gives the all-group figure, and busy ÷ on duty of those
        sums its occupancy. Needs records ``"summary"`` or ``"full"``.
        """
        import pandas as pd

        frames = []
        for o in self.outputs:
            if o.intervals is None:
                raise ValueError("interval statistics need records='summary' or 'full'")
            iv = o.intervals
            levels = IntervalLevels.between(iv["areas"])
            n_iv = len(levels.sentiment)
            starts = np.arange(n_iv) * iv["interval_s"]
            widths = np.diff(np.minimum(np.append(starts, self.scenario.horizon_s), self.scenario.horizon_s))
            widths = np.where(widths > 0, widths, np.nan)
            with np.errstate(invalid="ignore", divide="ignore"):
                occupancy = np.where(levels.on_duty > 0, levels.busy / levels.on_duty, np.nan)
            for j, g in enumerate(iv["groups"]):
                spec = self.scenario.agents[g].concurrency
                agents = widths * (1 if spec is None else spec.threads)  # levels are in conversation slots
                frames.append(
                    pd.DataFrame(
                        {
                            "replication": o.replication,
                            "group": g,
                            "interval": np.arange(n_iv),
                            "start_s": starts,
                            "busy_agents": levels.busy[:, j] / agents,
                            "on_duty": levels.on_duty[:, j] / agents,
                            "occupancy": occupancy[:, j],
                        }
                    )
                )
        return pd.concat(frames, ignore_index=True)

    def contacts(self) -> pd.DataFrame:
        """One row per contact of every replication (columns: `sim.records.CONTACT_COLUMNS`).

        Raises:
            ValueError: the run did not keep full records.
        """
        import pandas as pd

        frames = []
        channel_names = list(self.scenario.channels)
        group_names = [*self.scenario.agents, ""]
        outcome_names = [o.name.lower() for o in Outcome]
        for o in self.outputs:
            if o.contacts is None:
                raise ValueError("per-contact records need records='full' (CLI: --records full)")
            cols = {k: np.asarray(v) for k, v in o.contacts.items()}
            arrived = cols["arrived_at"]
            answered = cols["answered_at"]
            ended = cols["ended_at"]
            wait = (
                np.where(
                    np.isnan(answered), np.where(np.isnan(ended), self.scenario.horizon_s, ended), answered
                )
                - arrived
            )
            frame = pd.DataFrame(
                {
                    "replication": o.replication,
                    "contact_id": cols["contact_id"].astype(np.int64),
                    "channel": pd.Categorical.from_codes(
                        cols["channel"].astype(np.int64), pd.Index(channel_names)
                    ),
                    "arrived_at": arrived,
                    "answered_at": answered,
                    "ended_at": ended,
                    "outcome": pd.Categorical.from_codes(
                        cols["outcome"].astype(np.int64), pd.Index(outcome_names)
                    ),
                    "wait_s": wait,
                    "handle_time_s": cols["handle_time_s"],
                    "patience_s": cols["patience_s"],
                    "group": pd.Categorical.from_codes(
                        cols["group"].astype(np.int64) % len(group_names), pd.Index(group_names)
                    ),
                    "counted": arrived >= self.scenario.warmup_s,
                }
            )
            frames.append(frame.sort_values("contact_id", kind="stable").reset_index(drop=True))
        out = pd.concat(frames, ignore_index=True)
        assert list(out.columns) == list(CONTACT_COLUMNS)
        return out

    def write(self, folder: Path) -> None:
        """Write the result's files into the existing `folder`.

        Files: `summary.csv`, `replications.csv`, `intervals.csv` (records ``"summary"`` or
        ``"full"``), `contacts.parquet` (``"full"``), `result.json` and `manifest.json`.
        """
        self.summary().to_csv(folder / "summary.csv", index=False)
        self.replications().to_csv(folder / "replications.csv", index=False)
        if self.records in ("summary", "full"):
            self.intervals().to_csv(folder / "intervals.csv", index=False)
            self.group_intervals().to_csv(folder / "group_intervals.csv", index=False)
        if self.records == "full":
            self.contacts().to_parquet(folder / "contacts.parquet", index=False)
        write_json(folder / "result.json", self.to_dict())
        write_json(
            folder / "manifest.json",
            manifest(
                self.files,
                self.scenario.model_dump_json(),
                seed=self.seed,
                replications=self.n,
                records=self.records,
                scenario=self.scenario.model_dump(mode="json"),
                shown=shown_metrics([self.scenario]),
            ),
        )

    def to_dict(self) -> dict[str, Any]:
        """The JSON object `staffsim run --json` prints."""
        return {
            "scenario": self.scenario.name,
            "replications": self.n,
            "seed": self.seed,
            "channels": {
                ch: {m: _clean(e.as_dict()) for m, e in metrics.items()}
                for ch, metrics in self.channel_estimates().items()
            },
            "groups": {
                g: {m: _clean(e.as_dict()) for m, e in metrics.items()}
                for g, metrics in self.group_estimates().items()
            },
        }


def _clean(d: dict[str, float]) -> dict[str, float | None]:
    """JSON has no NaN or infinity: write null instead."""
    return {k: (v if math.isfinite(v) else None) for k, v in d.items()}
