"""Whether the drift report says retraining is due, and the report's text for the PR body."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mlgitops.errors import UsageError


@dataclass(frozen=True)
class DriftVerdict:
    """What `mlgitops drift --out DIR` concluded (DIR/drift.json) and said (DIR/drift.md)."""

    due: bool
    rows: int
    drifted: tuple[str, ...]
    markdown: str
    folder: Path  # where drift.json, drift.md and the pictures are

    @property
    def reason(self) -> str:
        """One line on why retraining is, or is not, due."""
        if self.due:
            named = ", ".join(self.drifted) or "the policy's rule"
            return f"retraining is due: {self.rows} logged rows, drifted: {named}"
        if self.drifted:
            return (
                f"retraining is not due: {self.rows} logged rows; drifted "
                f"({', '.join(self.drifted)}) but fewer than the policy asks for"
            )
        return f"retraining is not due: {self.rows} logged rows, no feature drifted"


def read_verdict(folder: Path) -> DriftVerdict:
    """drift.json and drift.md of a drift report folder; UsageError naming what is wrong."""
    report_json, report_md = folder / "drift.json", folder / "drift.md"
    if not report_json.is_file():
        raise UsageError(
            f"{report_json} not found; run `mlgitops drift ... --out {folder}` first, or pass "
            "--drift with the folder it wrote"
        )
    try:
        data: Any = json.loads(report_json.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise UsageError(f"{report_json} is not valid JSON ({error})") from None
    if not isinstance(data, dict):
        raise UsageError(f"{report_json} holds {type(data).__name__}, not an object")
    due, rows, drifted = data.get("retraining_due"), data.get("rows"), data.get("drifted", [])
    if not isinstance(due, bool):
        raise UsageError(f"{report_json}: retraining_due must be true or false, found {due!r}")
    if not isinstance(rows, int) or isinstance(rows, bool):
        raise UsageError(f"{report_json}: rows must be a whole number, found {rows!r}")
    if not isinstance(drifted, list) or not all(isinstance(name, str) for name in drifted):
        raise UsageError(f"{report_json}: drifted must be a list of names, found {drifted!r}")
    markdown = ""
    if due:
        if not report_md.is_file():
            raise UsageError(f"{report_md} not found: the pull request's body is the drift report")
        markdown = report_md.read_text(encoding="utf-8")
    return DriftVerdict(
        due=due, rows=rows, drifted=tuple(drifted), markdown=markdown, folder=folder
    )
