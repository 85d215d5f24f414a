"""Errors of the rules package.

RuleError                      root: anything wrong with rules
└── RuleFileError(ValueError)  one or more problems in rule files, each with a location
"""

from __future__ import annotations

from dataclasses import dataclass


class RuleError(Exception):
    """Root of the rules package's errors."""


@dataclass(frozen=True)
class Problem:
    """One problem in a rule file, located as precisely as the file allows."""

    file: str
    message: str
    rule_id: str | None = None  # the rule's id, or the entity's for an entity problem
    field: str | None = None
    line: int | None = None
    kind: str = "rule"  # "rule" or "entity": what rule_id names

    def __str__(self) -> str:
        where = self.file + (f":{self.line}" if self.line else "")
        parts = [where]
        if self.rule_id:
            parts.append(f"{self.kind} {self.rule_id}")
        if self.field:
            parts.append(self.field)
        return f"{': '.join(parts)}: {self.message}"


class RuleFileError(RuleError, ValueError):
    """Rule files that cannot be loaded. `problems` lists every problem found."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))
