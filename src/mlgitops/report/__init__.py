"""`mlgitops report`: what a pull request changes in a DVC repository, as a PR comment.

Public API: `app` (the CLI command), `ReportRequest`, `build_report`, `write_report`,
`render_markdown`, `SCHEMA_VERSION`; the report.json shape is in docs/pr-loop.md.
"""

from __future__ import annotations

from mlgitops.report.build import SCHEMA_VERSION, ReportRequest, build_report, write_report
from mlgitops.report.command import app
from mlgitops.report.markdown import render_markdown

__all__ = [
    "SCHEMA_VERSION",
    "ReportRequest",
    "app",
    "build_report",
    "render_markdown",
    "write_report",
]
