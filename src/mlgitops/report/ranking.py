"""Counts at a threshold, ROC AUC and average precision for many resamples at once.

A resample is a vector of counts, how many times each row was drawn. These metrics depend only
on where the scores fall, so the rows are put in score order once (positives, then negatives);
then, per resample, running totals of the counts give everything: the true and false positives
at the threshold; ROC AUC as the Mann-Whitney statistic (each positive earns the weight of the
negatives scored below it, half for a tie); average precision as the mean over positives of the
precision at the positive's own score (the rows at or above it that are positive), which is
scikit-learn's step-wise sum over distinct thresholds. A block of resamples is a few passes over
one (resamples x rows) array, with no sort and no Python loop per resample.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
from numpy.typing import NDArray

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.intp]


@dataclass(frozen=True)
class RankedRows:
    """Where each row goes in score order, and where each positive falls among the others."""

    order: IntArray | None  # positives by ascending score, then negatives; None: already so
    positives: int
    below: IntArray  # per ordered positive: negatives scored strictly below it
    below_or_tied: IntArray | None  # ... and tied with it; None when no positive ties a negative
    positives_below: IntArray | None  # per ordered positive: positives scored strictly below
    # it; None when no two positives tie (then it is 0, 1, 2, ...)
    unflagged: tuple[int, int]  # positives, negatives scored below the threshold


@dataclass(frozen=True)
class Totals:
    """Per resample: weighted rows of each label, flagged rows of each, and the two curves."""

    positives: FloatArray
    negatives: FloatArray
    true_pos: FloatArray
    false_pos: FloatArray
    roc_auc: FloatArray | None  # None unless asked for
    average_precision: FloatArray | None


def rank_order(label: FloatArray, score: FloatArray) -> IntArray:
    """Positives by ascending score, then negatives by ascending score (stable)."""
    positive = np.flatnonzero(label == 1)
    negative = np.flatnonzero(label != 1)
    return np.concatenate(
        [
            positive[np.argsort(score[positive], kind="stable")],
            negative[np.argsort(score[negative], kind="stable")],
        ]
    )


def rank_rows(label: FloatArray, score: FloatArray, *, threshold: float) -> RankedRows:
    """Order the rows once; every resample reuses the order."""
    order = rank_order(label, score)
    positives = int((label == 1).sum())
    ordered = score[order]
    positive_scores, negative_scores = ordered[:positives], ordered[positives:]
    below = np.searchsorted(negative_scores, positive_scores, side="left")
    below_or_tied = np.searchsorted(negative_scores, positive_scores, side="right")
    positives_below = np.searchsorted(positive_scores, positive_scores, side="left")
    return RankedRows(
        order=None if np.array_equal(order, np.arange(len(order))) else order,
        positives=positives,
        below=below,
        below_or_tied=None if np.array_equal(below, below_or_tied) else below_or_tied,
        positives_below=(
            None if np.array_equal(positives_below, np.arange(positives)) else positives_below
        ),
        unflagged=(
            int(np.searchsorted(positive_scores, threshold, side="left")),
            int(np.searchsorted(negative_scores, threshold, side="left")),
        ),
    )


def ranked_totals(counts: NDArray[np.integer], rows: RankedRows, *, curves: bool) -> Totals:
    """Totals for a (resamples, rows) block of counts, rows in data order; the curves (AUC,
    average precision) only when `curves`. A resample without a positive or a negative has no
    curve: NaN."""
    ordered = counts if rows.order is None else np.take(counts, rows.order, axis=1)
    pos_counts, neg_counts = ordered[:, : rows.positives], ordered[:, rows.positives :]
    # running totals with a leading 0: column j holds the weight of the first j rows
    neg_running, pos_running = _running_total(neg_counts), _running_total(pos_counts)
    negatives, positives = neg_running[:, -1].astype(np.float64), pos_running[:, -1]
    unflagged_pos, unflagged_neg = rows.unflagged
    totals = Totals(
        positives=positives.astype(np.float64),
        negatives=negatives,
        true_pos=(positives - pos_running[:, unflagged_pos]).astype(np.float64),
        false_pos=negatives - neg_running[:, unflagged_neg],
        roc_auc=None,
        average_precision=None,
    )
    if not curves:
        return totals
    # Few temporaries, cast inside einsum and divide: a fresh array per step costs more in
    # page faults than the arithmetic it holds.
    neg_below = np.take(neg_running, rows.below, axis=1)
    if rows.below_or_tied is None:
        credit = np.einsum("ij,ij->i", pos_counts, neg_below, dtype=np.float64)
    else:  # a tie with a negative earns half
        tied = np.take(neg_running, rows.below_or_tied, axis=1)
        tied += neg_below
        credit = 0.5 * np.einsum("ij,ij->i", pos_counts, tied, dtype=np.float64)
    if rows.positives_below is None:
        pos_below = pos_running[:, : rows.positives]
    else:
        pos_below = np.take(pos_running, rows.positives_below, axis=1)
    true_above = np.subtract(positives[:, None], pos_below)
    above = np.subtract(neg_running[:, -1:], neg_below, out=neg_below)  # false positives above
    above += true_above
    np.maximum(above, 1, out=above)  # a positive drawn 0 times adds 0: keep its 0/0 out
    precision = np.divide(true_above, above, dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        auc = credit / (totals.positives * negatives)
        ap = np.einsum("ij,ij->i", pos_counts, precision, dtype=np.float64) / totals.positives
    degenerate = (totals.positives == 0) | (negatives == 0)
    auc[degenerate] = np.nan
    ap[degenerate] = np.nan
    return replace(totals, roc_auc=auc, average_precision=ap)


def _running_total(counts: NDArray[np.integer]) -> NDArray[np.signedinteger]:
    # 32-bit sums are several times faster than 64-bit ones; a resample's total weight is
    # about the row count (exactly, for the multinomial scheme), far below 2**31 until 10**9 rows
    dtype = np.int32 if counts.shape[1] < 2**30 else np.int64
    total = np.zeros((counts.shape[0], counts.shape[1] + 1), dtype=dtype)
    np.cumsum(counts, axis=1, out=total[:, 1:])
    return total
