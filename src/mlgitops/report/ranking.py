"""ROC AUC and average precision for many resamples at once, from resample counts.

A resample is a vector of counts, how many times each row was drawn. Both metrics depend only
on the order of the scores, so the rows are put in score order once; then, per resample,
ROC AUC is the Mann-Whitney statistic (each positive earns the weight of the negatives scored
below it, half for a tie) and average precision is the mean over positives of the precision at
the positive's own score. Both come from running sums of the counts, so a block of resamples is
a few passes over one (resamples x rows) array, with no sort and no Python loop per resample.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.intp]


@dataclass(frozen=True)
class RankedRows:
    """Where each row goes in score order, and where each positive falls among the others."""

    order: IntArray  # positives by ascending score, then negatives by ascending score
    positives: int
    below: IntArray  # per ordered positive: negatives scored strictly below it
    below_or_tied: IntArray | None  # ... and tied with it; None when no positive ties a negative
    positives_below: IntArray  # per ordered positive: positives scored strictly below it


def rank_rows(label: FloatArray, score: FloatArray) -> RankedRows:
    """Order the rows once; every resample reuses the order."""
    positive = np.flatnonzero(label == 1)
    negative = np.flatnonzero(label != 1)
    positive = positive[np.argsort(score[positive], kind="stable")]
    negative = negative[np.argsort(score[negative], kind="stable")]
    positive_scores, negative_scores = score[positive], score[negative]
    below = np.searchsorted(negative_scores, positive_scores, side="left")
    below_or_tied = np.searchsorted(negative_scores, positive_scores, side="right")
    return RankedRows(
        order=np.concatenate([positive, negative]),
        positives=len(positive),
        below=below,
        below_or_tied=None if np.array_equal(below, below_or_tied) else below_or_tied,
        positives_below=np.searchsorted(positive_scores, positive_scores, side="left"),
    )


def ranked_metrics(counts: NDArray[np.integer], rows: RankedRows) -> tuple[FloatArray, FloatArray]:
    """ROC AUC and average precision per resample; counts is (resamples, rows), rows' order.

    A resample without a positive or without a negative has neither metric: NaN.
    """
    ordered = np.take(counts, rows.order, axis=1)
    pos_counts, neg_counts = ordered[:, : rows.positives], ordered[:, rows.positives :]
    # running totals with a leading 0: column j holds the weight of the first j rows
    neg_running = _running_total(neg_counts)
    pos_running = _running_total(pos_counts)
    negatives, positives = neg_running[:, -1:], pos_running[:, -1:]
    neg_below = np.take(neg_running, rows.below, axis=1)
    weight = pos_counts.astype(np.float64)
    if rows.below_or_tied is None:
        credit = np.einsum("ij,ij->i", weight, neg_below.astype(np.float64))
    else:  # a tie with a negative earns half
        tied = neg_below + np.take(neg_running, rows.below_or_tied, axis=1)
        credit = 0.5 * np.einsum("ij,ij->i", weight, tied.astype(np.float64))
    # precision at a positive's score: the rows scored at or above it that are positive
    true_above = positives - np.take(pos_running, rows.positives_below, axis=1)
    above = true_above + (negatives - neg_below)
    # a positive drawn 0 times adds nothing; keep its 0/0 out of the sum
    np.maximum(above, 1, out=above)
    precision = np.divide(true_above, above, dtype=np.float64)
    total_pos, total_neg = positives[:, 0].astype(np.float64), negatives[:, 0].astype(np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        auc = credit / (total_pos * total_neg)
        ap = np.einsum("ij,ij->i", weight, precision) / total_pos
    degenerate = (total_pos == 0) | (total_neg == 0)
    auc[degenerate] = np.nan
    ap[degenerate] = np.nan
    return auc, ap


def _running_total(counts: NDArray[np.integer]) -> NDArray[np.signedinteger]:
    # 32-bit sums are several times faster than 64-bit ones; a resample's total weight is
    # about the row count (exactly, for the multinomial scheme), far below 2**31 until 10**9 rows
    dtype = np.int32 if counts.shape[1] < 2**30 else np.int64
    total = np.zeros((counts.shape[0], counts.shape[1] + 1), dtype=dtype)
    np.cumsum(counts, axis=1, out=total[:, 1:])
    return total
