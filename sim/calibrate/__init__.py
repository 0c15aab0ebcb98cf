"""Calibration: a centre's contact log read and checked (`log`), a scenario fitted from it (`fit`).

A scenario is back-tested against a log by `backtest` (band statistics in `bands`).
"""
