"""Regenerate the README's table of myth verdicts from `staffsim study myths --out docs/myths`.

Run from the project folder after the study::

    staffsim study myths --out docs/myths --overwrite
    staffsim compare scenarios/argument/growing_company.yaml --json > docs/argument/compare.json
    python docs/update_readme.py

It replaces the text between the README's myths-verdicts markers with the table built from
docs/myths/myths.json, and between its argument-verdicts markers with the verdicts in
docs/argument/compare.json; `tests/test_myths.py` checks that README and outputs agree.
"""

from __future__ import annotations

import json
from pathlib import Path

from sim.experiment.myths import (
    ARGUMENT_BEGIN,
    ARGUMENT_END,
    argument_block,
    replace_block,
    replace_readme_block,
)

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    """Rewrite README.md in place."""
    payload = json.loads((ROOT / "docs" / "myths" / "myths.json").read_text(encoding="utf-8"))
    argument = json.loads((ROOT / "docs" / "argument" / "compare.json").read_text(encoding="utf-8"))
    readme = ROOT / "README.md"
    text = replace_readme_block(readme.read_text(encoding="utf-8"), payload)
    text = replace_block(text, argument_block(argument), ARGUMENT_BEGIN, ARGUMENT_END)
    readme.write_text(text, encoding="utf-8")


if __name__ == "__main__":
    main()
