"""Where a change hurts: the metrics per slice (one value of a slice column), small slices folded.

A slice with fewer rows than `min_rows` on either side is folded: named with its size, not
measured, since its interval would be too wide to say anything. The worst slice is the one whose
first metric (a gated one when the gate names one) moved furthest the wrong way.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from mlgitops.report.evidence_records import Comparison, MetricKey, compare, rounded
from mlgitops.report.stats import Bootstrap


def compare_slices(
    comparison: Comparison,
    columns: list[str],
    metrics: list[MetricKey],
    *,
    min_rows: int,
    threshold: float,
    bootstrap: Bootstrap,
) -> dict[str, Any]:
    """The `slices`, `folded`, `smallest_slice_rows` and `worst_slice` entries of evidence."""
    measured: list[dict[str, Any]] = []
    folded: list[dict[str, Any]] = []
    for column in columns:
        small: list[str] = []
        small_rows = 0
        for value in _values(comparison, column):
            part = comparison.slice(column, value)
            rows = {"base": len(part.base.label), "head": len(part.head.label)}
            if min(rows.values()) < min_rows:
                small.append(value)
                small_rows += rows["head"]
                continue
            records = compare(part, metrics, threshold=threshold, bootstrap=bootstrap)
            measured.append({"column": column, "value": value, "rows": rows, "metrics": records})
        if small:
            folded.append({"column": column, "values": small, "rows": small_rows})
    sizes = [min(entry["rows"].values()) for entry in measured]
    return {
        "slices": measured,
        "folded": folded,
        "smallest_slice_rows": min(sizes) if sizes else None,
        "worst_slice": worst_slice(measured, metrics),
    }


def _values(comparison: Comparison, column: str) -> list[str]:
    """Every value the column takes on either side, sorted (a stable report)."""
    both = np.concatenate([comparison.base.slices[column], comparison.head.slices[column]])
    return [str(value) for value in np.unique(both)]


def worst_slice(measured: list[dict[str, Any]], metrics: list[MetricKey]) -> dict[str, Any] | None:
    """The slice whose first measurable metric worsened most (or improved least)."""
    for metric in metrics:
        moved = [
            (_worsening(entry["metrics"][metric.key]), index)
            for index, entry in enumerate(measured)
            if metric.key in entry["metrics"] and entry["metrics"][metric.key]["delta"] is not None
        ]
        if not moved:
            continue
        _, index = max(moved, key=lambda item: (item[0], -item[1]))  # ties: the first
        entry = measured[index]
        record = entry["metrics"][metric.key]
        return {
            "column": entry["column"],
            "value": entry["value"],
            "metric": metric.key,
            "delta": rounded(record["delta"]),
            "label": record["label"],
        }
    return None


def _worsening(record: dict[str, Any]) -> float:
    delta = float(record["delta"])
    return -delta if record["better"] == "higher" else delta
