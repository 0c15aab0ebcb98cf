"""Metrics: pure functions from a replication's tallies to service figures, and their CIs."""
