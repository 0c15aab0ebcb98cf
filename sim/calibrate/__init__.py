"""Calibration: a centre's contact log read and checked (`log`), a scenario fitted from it (`fit`)."""
