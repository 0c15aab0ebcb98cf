"""The staffing optimiser: targets, Erlang starts, searches on common random numbers, plans.

Three searches share one evaluator (`search`): `headcount` (one count per group),
`intervals` (a count per group per interval) and `shifts` (a count per written shift).
"""
