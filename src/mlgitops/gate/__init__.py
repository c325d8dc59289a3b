"""`mlgitops gate`: applies the policy in params.yaml (`gate`) to a report.json.

The gate reads only report.json, so the comment and the verdict come from the same numbers.
Public API: `app` (the command), `load_report`, `evaluate_gate`, `GateResult`, `Check`,
`render_markdown`, `render_table`, `verdict_line`; each rule's worsening limit is decided on
the change's interval when the report has one (`mlgitops.gate.interval`).
"""

from __future__ import annotations

from mlgitops.gate.checks import evaluate_gate
from mlgitops.gate.command import app
from mlgitops.gate.render import render_markdown, render_table
from mlgitops.gate.report_file import load_report
from mlgitops.gate.result import Check, GateResult
from mlgitops.gate.verdict import verdict_line

__all__ = [
    "Check",
    "GateResult",
    "app",
    "evaluate_gate",
    "load_report",
    "render_markdown",
    "render_table",
    "verdict_line",
]
