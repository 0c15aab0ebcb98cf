"""The planner's browser app: open a centre, edit it, run it, move agents or hire, plan staffing.

`staffsim app [SCENARIO]` serves it on 127.0.0.1 (`sim.app.server.serve`); each browser
tab gets its own page (`sim.app.page.create_app`). It needs the optional dependencies
``pip install 'staffsim[app]'`` (Panel). Everything it shows comes from the public API —
`sim.load_scenario`, `sim.run`, `sim.compare`, `sim.optimize` — run in worker processes.
"""
