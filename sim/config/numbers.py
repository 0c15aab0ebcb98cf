"""Numbers in scenario files are numbers: text and true/false are refused where one belongs.

pydantic's lax mode would read `"60"` as 60 and `true` (or YAML's `yes`, `on`) as 1; in a
scenario file both are almost always a mistake, so every numeric field of every scenario
model is annotated with `Number`, which refuses them with a message saying why.
"""

from __future__ import annotations

from typing import Any

from pydantic import BeforeValidator


def plain_number(value: Any) -> Any:
    """Refuse text and true/false where a number belongs; pass anything else on.

    Numbers of any numeric type (including numpy's) pass through to the usual checks.

    Raises:
        ValueError: `value` is text or a boolean.
    """
    if isinstance(value, bool):
        raise ValueError(
            f"must be a number, not {str(value).lower()} (YAML reads yes/no/on/off/true/false as true/false)"
        )
    if isinstance(value, str):
        raise ValueError(f"must be a number, not the text {value[:40]!r} (write numbers without quotes)")
    return value


def plain_bool(value: Any) -> Any:
    """Refuse anything but true/false where a yes-or-no belongs (`"true"`, 1 and `"yes"` included).

    Raises:
        ValueError: `value` is not a boolean.
    """
    if not isinstance(value, bool):
        raise ValueError("must be true or false (without quotes)")
    return value


Number = BeforeValidator(plain_number)
"""Annotate numeric fields with this so that text and booleans are rejected."""
Bool = BeforeValidator(plain_bool)
"""Annotate yes-or-no fields with this so that text and numbers are rejected."""

__all__ = ["Bool", "Number", "plain_bool", "plain_number"]
