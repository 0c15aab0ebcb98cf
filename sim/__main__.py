"""`python -m sim`: the same as the `staffsim` command."""

from __future__ import annotations

from sim.cli import main

if __name__ == "__main__":
    main()
