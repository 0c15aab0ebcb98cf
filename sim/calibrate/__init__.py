"""Contact logs: read a centre's log, fit a scenario to it, back-test a scenario against it."""
