"""Calibration: from a centre's contact log to a scenario, and a scenario back-tested against a log.

- `log`: the contact-log format, read and checked (`read_log` → `ContactLog`); `checks`
  holds its column checks and the `LogError` a bad log raises.
- `estimators`: arrivals and their over-dispersion, handle time, patience with censoring,
  priority between classes.
- `staffing`: agents on duty per interval, inferred from the log or read from a roster.
- `fit`: `fit_log` puts them together into a `Fit`; `render` writes it as a commented
  scenario (`write_scenario`).
- `bands`: observed figures per interval with a 95 % band from the day-to-day variation, and
  the simulated ones with their CI; `days`: the log's days as runs of the scenario, as
  written or with the log's arrivals and staffing replayed; `backtest`: the comparison,
  interval by interval.
"""
