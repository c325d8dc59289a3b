"""DeLong's test for two correlated ROC AUCs: the same rows scored by two models.

DeLong, DeLong & Clarke-Pearson (1988), computed the fast way of Sun & Xu (2014, "Fast
implementation of DeLong's algorithm for comparing the areas under correlated receiver
operating characteristic curves", IEEE Signal Processing Letters 21(11)): each row's placement
among the other class comes from midranks, so the cost is a sort per model, not a pass per pair
of rows. Variances use the n-1 denominator, as R's pROC does (`var`, `cov`, `roc.test`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike
from scipy import stats

from mlgitops.errors import UsageError


@dataclass(frozen=True)
class DeLongResult:
    """Both AUCs, their variances and covariance, and the test of their difference."""

    base_auc: float
    head_auc: float
    base_variance: float
    head_variance: float
    covariance: float
    z: float  # (head - base) / its standard error; 0 when the two are identical
    p_value: float  # two-sided
    delta_low: float  # normal-approximation interval of head - base at `confidence`
    delta_high: float


def delong_test(
    label: ArrayLike, base: ArrayLike, head: ArrayLike, *, confidence: float = 0.95
) -> DeLongResult:
    """Compare head's ROC AUC with base's on the same rows; label is 1 for a positive."""
    y = np.asarray(label)
    scores = np.vstack([np.asarray(base, dtype=np.float64), np.asarray(head, dtype=np.float64)])
    if scores.shape[1] != len(y):
        raise UsageError(f"{len(y)} labels but {scores.shape[1]} scores per model")
    positive = y == 1
    m, n = int(positive.sum()), int((~positive).sum())
    if m < 2 or n < 2:
        raise UsageError(f"DeLong's test needs 2 rows of each label, got {m} and {n}")
    pos, neg = scores[:, positive], scores[:, ~positive]
    # a row's midrank among all rows, minus its midrank in its own class, counts the rows of
    # the other class below it (ties counting half): its placement
    all_ranks = stats.rankdata(np.hstack([pos, neg]), axis=1)
    pos_place = (all_ranks[:, :m] - stats.rankdata(pos, axis=1)) / n
    neg_place = 1.0 - (all_ranks[:, m:] - stats.rankdata(neg, axis=1)) / m
    auc = pos_place.mean(axis=1)
    covariance = np.cov(pos_place) / m + np.cov(neg_place) / n
    diff_variance = covariance[0, 0] + covariance[1, 1] - 2 * covariance[0, 1]
    delta = auc[1] - auc[0]
    if diff_variance <= 0:  # identical rankings: no difference and no spread
        z, p_value = 0.0, 1.0
    else:
        z = float(delta / np.sqrt(diff_variance))
        p_value = float(2 * stats.norm.sf(abs(z)))
    half_width = stats.norm.ppf(0.5 + confidence / 2) * np.sqrt(max(diff_variance, 0.0))
    return DeLongResult(
        base_auc=float(auc[0]),
        head_auc=float(auc[1]),
        base_variance=float(covariance[0, 0]),
        head_variance=float(covariance[1, 1]),
        covariance=float(covariance[0, 1]),
        z=z,
        p_value=p_value,
        delta_low=float(delta - half_width),
        delta_high=float(delta + half_width),
    )
