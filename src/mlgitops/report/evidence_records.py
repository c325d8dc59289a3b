"""Base against head on per-row predictions: one report.json record per metric.

The rows are already read and, when base and head scored the same rows, aligned one to one
(`Comparison.paired`): the paired bootstrap and, for ROC AUC, DeLong's test. Otherwise each side
is resampled on its own. Floats are rounded to 6 significant digits so a fixed seed gives the
same report.json byte for byte.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from mlgitops.errors import UsageError
from mlgitops.report.delong import delong_test
from mlgitops.report.metrics import RANKED, FloatArray
from mlgitops.report.stats import (
    Bootstrap,
    Interval,
    MetricChange,
    paired_bootstrap,
    unpaired_bootstrap,
)

Labels = NDArray[np.str_]


@dataclass(frozen=True)
class Side:
    """One revision's rows: label, score and the value of each slice column (as text)."""

    label: FloatArray
    score: FloatArray
    slices: dict[str, Labels]

    def where(self, mask: NDArray[np.bool_]) -> Side:
        """The rows where `mask` holds."""
        return Side(
            self.label[mask],
            self.score[mask],
            {column: values[mask] for column, values in self.slices.items()},
        )


@dataclass(frozen=True)
class Comparison:
    """Base's and head's rows; when `paired`, row i of both is the same row (same id, label)."""

    base: Side
    head: Side
    paired: bool

    def slice(self, column: str, value: str) -> Comparison:
        """The rows whose `column` is `value`: head's value decides for paired rows (a row
        whose slice value changed between the revisions is counted where head puts it)."""
        head_mask = self.head.slices[column] == value
        base_mask = head_mask if self.paired else self.base.slices[column] == value
        return Comparison(self.base.where(base_mask), self.head.where(head_mask), self.paired)


@dataclass(frozen=True)
class MetricKey:
    """A metric as the gate and the metrics file name it (`test.roc_auc`), and its statistic."""

    key: str
    statistic: str
    path: str


def compare(
    comparison: Comparison,
    metrics: list[MetricKey],
    *,
    threshold: float,
    bootstrap: Bootstrap,
) -> dict[str, dict[str, Any]]:
    """One record per metric that these rows define (ROC AUC and average precision need both
    labels on each side: a slice of one label has none)."""
    usable = [m for m in metrics if m.statistic not in RANKED or _both_labels(comparison)]
    if not usable or not (len(comparison.base.label) and len(comparison.head.label)):
        return {}
    statistics = [m.statistic for m in usable]
    base, head = comparison.base, comparison.head
    if comparison.paired:
        changes = paired_bootstrap(
            base.label,
            base.score,
            head.score,
            metrics=statistics,
            threshold=threshold,
            bootstrap=bootstrap,
        )
    else:
        changes = unpaired_bootstrap(
            (base.label, base.score),
            (head.label, head.score),
            metrics=statistics,
            threshold=threshold,
            bootstrap=bootstrap,
        )
    return {
        metric.key: _record(metric, change, _delong_p(comparison, metric, bootstrap))
        for metric, change in zip(usable, changes, strict=True)
    }


def _both_labels(comparison: Comparison) -> bool:
    return all(len(np.unique(side.label)) == 2 for side in (comparison.base, comparison.head))


def _delong_p(comparison: Comparison, metric: MetricKey, bootstrap: Bootstrap) -> float | None:
    """DeLong's two-sided p-value for paired ROC AUCs; None otherwise or when undefined."""
    if metric.statistic != "roc_auc" or not comparison.paired:
        return None
    try:
        result = delong_test(
            comparison.base.label,
            comparison.base.score,
            comparison.head.score,
            confidence=bootstrap.confidence,
        )
    except UsageError:  # fewer than 2 rows of a label in a small slice
        return None
    return result.p_value


def _record(metric: MetricKey, change: MetricChange, delong_p: float | None) -> dict[str, Any]:
    return {
        "path": metric.path,
        "better": change.better,
        "paired": change.paired,
        "base": rounded(change.base),
        "head": rounded(change.head),
        "delta": rounded(change.delta),
        "base_ci": _interval(change.base_interval),
        "head_ci": _interval(change.head_interval),
        "delta_ci": _interval(change.delta_interval),
        "label": change.verdict,
        "resamples": change.resamples,
        "delong_p": rounded(delong_p),
    }


def _interval(interval: Interval) -> list[float | None]:
    return [rounded(interval.low), rounded(interval.high)]


def rounded(value: float | None) -> float | None:
    """6 significant digits; None for a missing or undefined (NaN) figure."""
    if value is None or not math.isfinite(value):
        return None
    return float(f"{value:.6g}")
