"""Calibration: a centre's contact log read and checked (`log`), a scenario fitted from it (`fit`),
and a scenario back-tested against a log (`backtest`, with the band statistics in `bands`)."""
