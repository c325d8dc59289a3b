"""The numbers of the drift check: PSI, bin edges, bounded samples and the two-sample tests.

Everything here works on counts or on fixed-size samples, never on the whole log, so the
command's memory does not grow with the number of logged rows.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]


def psi(reference: npt.ArrayLike, current: npt.ArrayLike, *, epsilon: float) -> float:
    """Population stability index of two histograms over the same bins (counts or shares).

    PSI = sum over bins of (c - r) * ln(c / r), with r and c the bins' shares; an empty bin
    counts as `epsilon` so that a level seen on one side only gives a large, finite term.
    """
    ref = np.asarray(reference, dtype=np.float64)
    cur = np.asarray(current, dtype=np.float64)
    if ref.shape != cur.shape:
        raise ValueError(f"histograms differ in shape: {ref.shape} and {cur.shape}")
    if ref.sum() <= 0 or cur.sum() <= 0:
        raise ValueError("a histogram is empty")
    ref_share = np.maximum(ref / ref.sum(), epsilon)
    cur_share = np.maximum(cur / cur.sum(), epsilon)
    return float(np.sum((cur_share - ref_share) * np.log(cur_share / ref_share)))


def quantile_edges(values: FloatArray, bins: int) -> FloatArray:
    """Inner cut points at the reference's quantiles 1/bins ... (bins-1)/bins, duplicates merged.

    Bins are right-closed, (-inf, e1], (e1, e2], ..., (ek, inf): the tails are open, so current
    values outside the reference's range still land in a bin.
    """
    known = values[~np.isnan(values)]
    if known.size == 0:
        return np.empty(0, dtype=np.float64)
    # Observed values as cuts (no interpolation): a discrete column's bins follow its values.
    cuts = np.quantile(known, np.arange(1, bins) / bins, method="inverted_cdf")
    edges = np.unique(cuts)
    # The largest value as a cut would leave the last bin for values beyond the reference only.
    return np.asarray(edges[edges < known.max()], dtype=np.float64)


def bin_counts(values: FloatArray, edges: FloatArray) -> IntArray:
    """Counts per bin of `edges` (len(edges) + 1 bins), then one more: the missing values."""
    missing = np.isnan(values)
    known = values[~missing]
    index = np.searchsorted(edges, known, side="left")
    counts = np.bincount(index, minlength=edges.size + 1)
    return np.append(counts, int(missing.sum())).astype(np.int64)


class Reservoir:
    """A uniform sample without replacement of at most `size` values from a stream of chunks.

    Each value gets a random key; the sample is the `size` values with the smallest keys seen
    so far (a bottom-k sketch), which is uniform whatever the chunk sizes.
    """

    def __init__(self, size: int, *, seed: int) -> None:
        self.size = size
        self._rng = np.random.default_rng(seed)
        self._values = np.empty(0, dtype=np.float64)
        self._keys = np.empty(0, dtype=np.float64)

    def add(self, values: FloatArray) -> None:
        known = values[~np.isnan(values)]
        keys = np.concatenate([self._keys, self._rng.random(known.size)])
        pool = np.concatenate([self._values, known])
        if pool.size > self.size:
            keep = np.argpartition(keys, self.size - 1)[: self.size]
            keys, pool = keys[keep], pool[keep]
        self._keys, self._values = keys, pool

    @property
    def values(self) -> FloatArray:
        return self._values


def ks_p_value(reference: FloatArray, current: FloatArray) -> float | None:
    """Two-sample Kolmogorov-Smirnov p-value of two samples; None when a side is empty."""
    if reference.size == 0 or current.size == 0:
        return None
    from scipy import stats  # a second of import time, needed only here and below

    # The asymptotic distribution: the exact one costs a quarter second per column at 10,000.
    return float(stats.ks_2samp(reference, current, method="asymp").pvalue)


def chi2_p_value(reference: IntArray, current: IntArray) -> float | None:
    """Chi-square test of homogeneity of two count vectors over the same levels.

    Levels empty on both sides are dropped; None when fewer than two levels remain.
    """
    table = np.vstack([reference, current])
    table = table[:, table.sum(axis=0) > 0]
    if table.shape[1] < 2 or (table.sum(axis=1) == 0).any():
        return None
    from scipy import stats

    return float(stats.chi2_contingency(table, correction=False).pvalue)
