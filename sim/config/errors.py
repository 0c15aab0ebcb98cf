"""The one error a user sees for a bad scenario: file, key path, line and what is allowed."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Problem:
    """One thing wrong in a scenario.

    Attributes:
        path: dotted key path such as ``channels.phone.arrivals.rate_per_hour``; empty for
            the file as a whole.
        message: what is wrong and what is allowed.
        line: 1-based line in the file, when known.
    """

    path: str
    message: str
    line: int | None = None


class ScenarioError(Exception):
    """A scenario could not be read or is not valid.

    The CLI prints `str(error)` and exits with status 2; Python callers can inspect
    `problems` (a list of `Problem`).
    """

    def __init__(self, source: str, problems: list[Problem]) -> None:
        self.source = source
        self.problems = problems
        super().__init__(self._render())

    def _render(self, limit: int = 12) -> str:
        lines = [f"invalid scenario {self.source}:"]
        for p in self.problems[:limit]:
            where = p.path or "(file)"
            if p.line is not None:
                where += f" (line {p.line})"
            lines.append(f"  {where}: {p.message}")
        if len(self.problems) > limit:
            lines.append(f"  ... and {len(self.problems) - limit} more")
        return "\n".join(lines)
