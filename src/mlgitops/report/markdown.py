"""Render a report (the report.json data) as the markdown of a pull-request comment.

The first block is the headline (`mlgitops.report.summary`), so the publisher can put the
gate's verdict above it and the gate's table right under it; the sections follow
(`slice_table`, `sections`). Long tables fold into `<details>`; the text stays within GitHub's
65,536-character comment limit, with room left for the publisher's marker, the gate table and
longer image links.
"""

from __future__ import annotations

import re
from typing import Any

from mlgitops.report import sections
from mlgitops.report.cells import FOLD_ROWS
from mlgitops.report.gap import GAP_WIDENING
from mlgitops.report.slice_table import slices
from mlgitops.report.summary import headline

__all__ = ["BUDGET", "FOLD_ROWS", "GITHUB_LIMIT", "TRUNCATION_NOTE", "render_markdown"]

GITHUB_LIMIT = 65_536
RESERVED = 4_096  # for the publisher: marker, gate.md, image links rewritten to full URLs
BUDGET = GITHUB_LIMIT - RESERVED
TRUNCATION_NOTE = (
    "> ✂️ This report was cut to fit GitHub's 65,536-character comment limit; "
    "the complete data is in `report.json` in this run's `report` artifact."
)
_ROW_CAPS = (None, 200, 50, 20, 5)


def render_markdown(
    report: dict[str, Any],
    *,
    artifact_url: str | None = None,
    limit: int = BUDGET,
    gap_widening: float = GAP_WIDENING,
) -> str:
    """The comment body for `report`, at most `limit` characters.

    `artifact_url` links the run's artifact (the interactive plots page is in it);
    `gap_widening` is how much the train-test gap may widen before it is flagged.
    """
    text = ""
    for cap in _ROW_CAPS:
        text = _render(report, cap, artifact_url, gap_widening)
        if len(text) <= limit:
            return text
    return _cut(text, limit)


def _render(
    report: dict[str, Any], cap: int | None, artifact_url: str | None, gap_widening: float
) -> str:
    cut: list[bool] = []
    parts = [
        headline(report, gap_widening=gap_widening, cap=cap),
        sections.pipeline(report),
        slices(report, cap, cut),
        sections.full_metrics(report, cap, cut),
        sections.params(report, cap, cut),
        sections.stages(report, cap, cut),
        sections.data(report, cap, cut),
        sections.plots(report, artifact_url),
    ]
    if any(cut):
        parts.append(TRUNCATION_NOTE)
    return "\n\n".join(part for part in parts if part) + "\n"


def _cut(text: str, limit: int) -> str:
    """Cut at a line boundary, close open fences and <details>, and say so."""
    room = limit - len(TRUNCATION_NOTE) - 64
    kept = text[: text.rfind("\n", 0, room) + 1]
    fences = re.findall(r"^(`{3,})", kept, flags=re.MULTILINE)
    closing = ""
    if len(fences) % 2:
        closing += f"\n{fences[-1]}\n"
    closing += "\n</details>\n" * max(0, kept.count("<details>") - kept.count("</details>"))
    return f"{kept}{closing}\n{TRUNCATION_NOTE}\n"
