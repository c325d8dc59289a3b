"""Reading the report's `evidence` for display: a metric's record, its interval and label."""

from __future__ import annotations

import math
from typing import Any, TypeGuard

from mlgitops.report.cells import bound

LABELS = {
    "better": "✅ better",
    "worse": "❌ worse",
    "within noise": "≈ within noise",
    "unchanged": "➖ unchanged",
    "new": "🆕 new (no base value)",
    "missing": "⚠️ missing at head",
}


def evidence(report: dict[str, Any]) -> dict[str, Any]:
    """The report's evidence, `{}` when it has none (an older report)."""
    found = report.get("evidence")
    return found if isinstance(found, dict) else {}


def confidence(report: dict[str, Any]) -> float:
    """The confidence level of the intervals (0.95 when unsaid)."""
    level = (evidence(report).get("bootstrap") or {}).get("confidence")
    return float(level) if is_number(level) else 0.95


def ci_header(report: dict[str, Any]) -> str:
    """`95% CI of the change`."""
    return f"{confidence(report) * 100:g}% CI"


def interval(record: dict[str, Any] | None) -> str:
    """`−0.0101 to −0.0023`, or `-` when the record has no usable interval."""
    ends = (record or {}).get("delta_ci")
    if not (isinstance(ends, list) and len(ends) == 2 and all(map(is_number, ends))):
        return "-"
    return f"{bound(ends[0])} to {bound(ends[1])}"


def label(record: dict[str, Any]) -> str:
    """The evidence's label with its mark."""
    text = str(record.get("label") or "")
    return LABELS.get(text, text)


def is_number(value: Any) -> TypeGuard[int | float]:
    """A finite int or float, not a bool."""
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)
