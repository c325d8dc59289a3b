"""The metrics a PR report can recompute from (label, score), point values and per-row parts.

Point values come from scikit-learn. The bootstrap (`mlgitops.report.stats`) needs the same
metrics for thousands of resamples at once, so each metric is also written here as a function
of weighted sums (`ratio_metric`) or of ranks (`roc_auc`, `average_precision` in
`mlgitops.report.ranking`); the tests hold the two forms equal.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Literal

import numpy as np
from numpy.typing import NDArray

from mlgitops.errors import UsageError

Better = Literal["higher", "lower"]
FloatArray = NDArray[np.float64]

# Which way is better for each metric the statistics know; the names are the ones the
# example pipeline writes to its metrics file, and any pipeline may use them.
DIRECTION: dict[str, Better] = {
    "roc_auc": "higher",
    "average_precision": "higher",
    "log_loss": "lower",
    "brier": "lower",
    "accuracy": "higher",
    "precision": "higher",
    "recall": "higher",
    "f1": "higher",
    "rmse": "lower",
    "mae": "lower",
}
RANKED = frozenset({"roc_auc", "average_precision"})  # need the order of the scores
# The metrics that need a 0/1 label; rmse and mae take any numeric target.
BINARY = frozenset(DIRECTION) - {"rmse", "mae"}

# Per-row columns whose weighted sums give every non-ranked metric (see `ratio_metric`).
COLUMNS = ("rows", "positive", "log_loss", "squared", "absolute", "correct", "hit", "flagged")


def check_metrics(metrics: list[str], label: FloatArray) -> None:
    """Raise UsageError for an unknown metric, or labels the metrics cannot use."""
    unknown = [name for name in metrics if name not in DIRECTION]
    if unknown:
        raise UsageError(
            f"no statistics for metric(s) {', '.join(unknown)}; "
            f"known: {', '.join(sorted(DIRECTION))}"
        )
    if BINARY.intersection(metrics) and not np.isin(label, (0.0, 1.0)).all():
        raise UsageError(
            f"{', '.join(sorted(BINARY.intersection(metrics)))} need labels of 0 and 1; "
            "these labels have other values (a regressor's target? use rmse and mae)"
        )
    if RANKED.intersection(metrics) and len(np.unique(label)) < 2:
        raise UsageError(
            f"{', '.join(sorted(RANKED.intersection(metrics)))} need rows of both labels; "
            f"all {len(label)} rows have the label {label[0] if len(label) else 'none'}"
        )


def point_value(name: str, label: FloatArray, score: FloatArray, *, threshold: float) -> float:
    """The metric on all rows, as scikit-learn computes it."""
    from sklearn import metrics as sk

    flagged = score >= threshold  # as the evaluate stage applies its threshold
    compute: dict[str, Callable[[], float]] = {
        "roc_auc": lambda: sk.roc_auc_score(label, score),
        "average_precision": lambda: sk.average_precision_score(label, score),
        "log_loss": lambda: sk.log_loss(label, score, labels=[0, 1]),
        "brier": lambda: sk.brier_score_loss(label, score),
        "accuracy": lambda: sk.accuracy_score(label, flagged),
        "precision": lambda: sk.precision_score(label, flagged, zero_division=0.0),
        "recall": lambda: sk.recall_score(label, flagged, zero_division=0.0),
        "f1": lambda: sk.f1_score(label, flagged, zero_division=0.0),
        "rmse": lambda: sk.root_mean_squared_error(label, score),
        "mae": lambda: sk.mean_absolute_error(label, score),
    }
    return float(compute[name]())


def row_columns(label: FloatArray, score: FloatArray, *, threshold: float) -> FloatArray:
    """One column per name in COLUMNS, one row per row: what `ratio_metric` sums."""
    flagged = score >= threshold
    # scikit-learn's log_loss clips the probability to [eps, 1 - eps] of its dtype
    eps = np.finfo(np.float64).eps
    clipped = np.clip(score, eps, 1 - eps)
    binary = np.isin(label, (0.0, 1.0)).all()
    log_loss = -(label * np.log(clipped) + (1 - label) * np.log1p(-clipped)) if binary else 0.0
    error = score - label
    columns = {
        "rows": np.ones_like(score),
        "positive": label,
        "log_loss": log_loss,
        "squared": error * error,
        "absolute": np.abs(error),
        "correct": (flagged == (label == 1)).astype(np.float64),
        "hit": (flagged & (label == 1)).astype(np.float64),
        "flagged": flagged.astype(np.float64),
    }
    return np.column_stack([np.broadcast_to(columns[name], score.shape) for name in COLUMNS])


def ratio_metric(name: str, sums: FloatArray) -> FloatArray:
    """A non-ranked metric from weighted column sums (..., len(COLUMNS)), one per resample."""
    part = dict(zip(COLUMNS, np.moveaxis(sums, -1, 0), strict=True))
    rows, positive, hit, flagged = part["rows"], part["positive"], part["hit"], part["flagged"]
    with np.errstate(divide="ignore", invalid="ignore"):
        values: dict[str, Callable[[], FloatArray]] = {
            "log_loss": lambda: part["log_loss"] / rows,
            "brier": lambda: part["squared"] / rows,
            "accuracy": lambda: part["correct"] / rows,
            # scikit-learn's zero_division=0: no flagged (or no positive) row scores 0
            "precision": lambda: _ratio_or_zero(hit, flagged),
            "recall": lambda: _ratio_or_zero(hit, positive),
            "f1": lambda: _ratio_or_zero(2 * hit, flagged + positive),
            "rmse": lambda: np.sqrt(part["squared"] / rows),
            "mae": lambda: part["absolute"] / rows,
        }
        return values[name]()


def _ratio_or_zero(numerator: FloatArray, denominator: FloatArray) -> FloatArray:
    return np.divide(numerator, denominator, out=np.zeros_like(numerator), where=denominator != 0)
