"""What `mlgitops doctor` reports: one Finding per break of the convention, with where and why."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, Literal

Severity = Literal["error", "warning"]


@dataclass(frozen=True)
class Finding:
    """One break: which check found it, where (repository-relative file, 1-based line or None
    when the break is the file's absence), what is wrong, why it matters and the fix."""

    check: str
    severity: Severity
    file: str
    line: int | None
    message: str
    why: str
    fix: str

    @property
    def where(self) -> str:
        """`file:line`, the form editors and CI annotations jump to."""
        return self.file if self.line is None else f"{self.file}:{self.line}"

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)
