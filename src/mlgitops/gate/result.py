"""What the gate found: one `Check` per limit of each rule, and the `GateResult` of them all."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Kind = Literal["pipeline", "present", "floor", "ceiling", "worsening"]
Mode = Literal["non_inferiority", "clear_harm", "point"]


@dataclass(frozen=True)
class Check:
    """One row of the gate's table: one limit of one rule, or the pipeline's status.

    A worsening check also keeps what its one-line verdict needs: the change it judged, the
    change's interval when the report had one, the allowed change (signed: -0.01 for a
    higher-is-better metric), how it decided and how much room was left.
    """

    subject: str
    file: str | None
    old: float | None
    new: float | None
    limit: str
    passed: bool
    reason: str
    kind: Kind = "present"
    bound: float | None = None  # the floor or ceiling
    better: str | None = None  # the rule's direction
    delta: float | None = None  # head minus base, as judged (the evidence's when it has one)
    interval: tuple[float, float] | None = None  # the delta's confidence interval
    confidence: float | None = None
    allowed: float | None = None
    decided_on: Mode | None = None
    note: str | None = None  # why a rule that asked for an interval was decided on the point
    margin: float | None = None  # room left before it breaks, as a share of the allowance

    @property
    def change(self) -> float | None:
        """Head minus base, when both are numbers."""
        return None if self.old is None or self.new is None else self.new - self.old


@dataclass(frozen=True)
class GateResult:
    """Every check the gate ran, in policy order, the pipeline's first."""

    checks: tuple[Check, ...]

    @property
    def broken(self) -> tuple[Check, ...]:
        return tuple(check for check in self.checks if not check.passed)

    @property
    def passed(self) -> bool:
        return not self.broken

    @property
    def notes(self) -> tuple[str, ...]:
        """One line per reason a rule was decided on the point instead of its interval."""
        metrics: dict[str, list[str]] = {}
        for check in self.checks:
            if check.note:
                metrics.setdefault(check.note, []).append(check.subject)
        return tuple(
            f"{', '.join(names)}: {note}; decided on the point" for note, names in metrics.items()
        )
