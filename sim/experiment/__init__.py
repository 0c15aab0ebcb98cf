"""Experiments: variants compared on common random numbers, parameter sweeps, task storage."""
