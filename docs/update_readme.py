"""Regenerate the README's table of myth verdicts from `staffsim study myths --out docs/myths`.

Run from the project folder after the study::

    staffsim study myths --out docs/myths --overwrite
    python docs/update_readme.py

It replaces the text between the README's myths-verdicts markers with the table built from
docs/myths/myths.json; `tests/test_myths.py` checks that the two agree.
"""

from __future__ import annotations

import json
from pathlib import Path

from sim.experiment.myths import replace_readme_block

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    """Rewrite README.md in place."""
    payload = json.loads((ROOT / "docs" / "myths" / "myths.json").read_text(encoding="utf-8"))
    readme = ROOT / "README.md"
    readme.write_text(replace_readme_block(readme.read_text(encoding="utf-8"), payload), encoding="utf-8")


if __name__ == "__main__":
    main()
