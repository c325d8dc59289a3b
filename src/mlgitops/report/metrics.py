"""The metrics a PR report can recompute from (label, score), written for many resamples.

The bootstrap (`mlgitops.report.stats`) needs each metric on thousands of resamples at once, so
each is a function of weighted totals rather than of rows: means of per-row values
(`mean_metric`: log loss, Brier, RMSE, MAE, from the weighted sums of `row_columns`), or counts
at the threshold (`threshold_metric`: accuracy, precision, recall, F1, from true and false
positives) and ranks (ROC AUC, average precision), both in `mlgitops.report.ranking`. The tests
hold every one equal to scikit-learn's on the rows each resample draws.
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
THRESHOLDED = frozenset({"accuracy", "precision", "recall", "f1"})  # score >= threshold
# Per-row values whose weighted means make the other metrics; "rows" is the weight itself.
COLUMN_OF = {"log_loss": "log_loss", "brier": "squared", "rmse": "squared", "mae": "absolute"}
# The metrics that need a 0/1 label; rmse and mae take any numeric target.
BINARY = frozenset(DIRECTION) - {"rmse", "mae"}


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


def mean_columns(metrics: list[str]) -> list[str]:
    """The per-row columns these metrics need, "rows" (the weight) first."""
    return ["rows", *sorted({COLUMN_OF[name] for name in metrics if name in COLUMN_OF})]


def row_columns(label: FloatArray, score: FloatArray, columns: list[str]) -> FloatArray:
    """One column per name in `columns`, one row per row: what `mean_metric` sums."""
    if not columns:
        return np.empty((len(score), 0))
    error = score - label

    def log_loss() -> FloatArray:
        # scikit-learn's log_loss clips the probability to [eps, 1 - eps] of its dtype
        eps = np.finfo(np.float64).eps
        clipped = np.clip(score, eps, 1 - eps)
        return -(label * np.log(clipped) + (1 - label) * np.log1p(-clipped))

    make: dict[str, Callable[[], FloatArray]] = {
        "rows": lambda: np.ones_like(score),
        "log_loss": log_loss,
        "squared": lambda: error * error,
        "absolute": lambda: np.abs(error),
    }
    return np.column_stack([make[name]() for name in columns])


def mean_metric(name: str, sums: dict[str, FloatArray]) -> FloatArray:
    """log_loss, brier, rmse or mae per resample from the weighted column sums."""
    mean = sums[COLUMN_OF[name]] / sums["rows"]
    return np.sqrt(mean) if name == "rmse" else mean


def threshold_metric(
    name: str,
    true_pos: FloatArray,
    false_pos: FloatArray,
    positives: FloatArray,
    negatives: FloatArray,
) -> FloatArray:
    """accuracy, precision, recall or F1 per resample from weighted counts at the threshold.

    As scikit-learn with zero_division=0: no flagged (or no positive) row scores 0.
    """
    if name == "accuracy":
        return (true_pos + negatives - false_pos) / (positives + negatives)
    numerator, denominator = {
        "precision": (true_pos, true_pos + false_pos),
        "recall": (true_pos, positives),
        "f1": (2 * true_pos, true_pos + false_pos + positives),
    }[name]
    ratio: FloatArray = np.divide(
        numerator, denominator, out=np.zeros_like(numerator), where=denominator != 0
    )
    return ratio
