"""The one error a user sees for a bad scenario: file, key path, line and what is allowed."""

from __future__ import annotations

from dataclasses import dataclass

from sim.text import excerpt, visible

MAX_PROBLEM_CHARS = 600
"""The longest line a problem prints: a message never fills the screen, however long the
key or value it quotes."""


@dataclass(frozen=True, slots=True)
class Problem:
    """One thing wrong in a scenario.

    Attributes:
        path: dotted key path such as ``channels.phone.arrivals.rate_per_hour``; empty for
            the file as a whole.
        message: what is wrong and what is allowed.
        line: 1-based line in the file, when known.
        file: the file the line is in, when it is not the scenario named by the error but a
            file it `extends`, with the chain it was reached through, such as
            ``parent.yaml (extended by child.yaml)``; None for the scenario itself.
    """

    path: str
    message: str
    line: int | None = None
    file: str | None = None


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
        """One line per problem (at most `limit`), each bounded and with control characters visible."""
        lines = [f"invalid scenario {visible(self.source)}:"]
        for p in self.problems[:limit]:
            if p.file is not None:  # in a file the scenario extends: that file first
                where = (
                    p.file + (f": line {p.line}" if p.line is not None else "") + f": {p.path or '(file)'}"
                )
            else:
                where = p.path or "(file)"
                if p.line is not None:
                    where += f" (line {p.line})"
            lines.append("  " + excerpt(f"{where}: {p.message}", MAX_PROBLEM_CHARS))
        if len(self.problems) > limit:
            lines.append(f"  ... and {len(self.problems) - limit} more")
        return "\n".join(lines)
