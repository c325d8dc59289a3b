"""Is a metric's change real? Bootstrap intervals for base, head and their difference.

Paired, when base and head scored the same rows: every resample draws the same rows for both
sides, so the row-to-row variation both models share cancels out of the difference. Unpaired,
when the rows differ (new data, a new split): each side is resampled on its own. Each interval
is the percentile interval of the resampled values (linear interpolation, as `numpy.quantile`
and `scipy.stats.bootstrap` take it). A difference is "better" or "worse" only when its whole
interval lies on one side of 0, else "within noise".

Pure functions over numpy arrays; they know nothing of any model or file.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
from numpy.typing import ArrayLike

from mlgitops.errors import UsageError
from mlgitops.report.measure import resample_metrics
from mlgitops.report.metrics import DIRECTION, Better, FloatArray, check_metrics
from mlgitops.report.ranking import rank_order
from mlgitops.report.resample import BLOCK_BYTES, Scheme, count_blocks, pick_scheme

Verdict = Literal["better", "worse", "within noise"]
RESAMPLES = 2_000
CONFIDENCE = 0.95


@dataclass(frozen=True)
class Interval:
    """A percentile interval of the resampled values."""

    low: float
    high: float


@dataclass(frozen=True)
class MetricChange:
    """One metric, base against head: values, intervals and the verdict on the difference."""

    metric: str
    better: Better
    paired: bool
    base: float
    head: float
    delta: float  # head - base
    base_interval: Interval
    head_interval: Interval
    delta_interval: Interval
    verdict: Verdict
    base_rows: int
    head_rows: int
    resamples: int  # those where the metric is defined (a resample may draw no positive)


@dataclass(frozen=True)
class Bootstrap:
    """How to resample: count, seed, confidence level, scheme (`resample`), memory per block,
    threads. The draws depend on the first four only; the threads change nothing, and another
    block size only the last bits of the weighted sums (below 1e-12), so a report that keeps
    the default blocks and rounds its figures is the same byte for byte."""

    resamples: int = RESAMPLES
    seed: int = 0
    confidence: float = CONFIDENCE
    scheme: Scheme | None = None
    block_bytes: int = BLOCK_BYTES
    workers: int = 1


def paired_bootstrap(
    label: ArrayLike,
    base: ArrayLike,
    head: ArrayLike,
    *,
    metrics: Sequence[str],
    threshold: float = 0.5,
    bootstrap: Bootstrap = Bootstrap(),
) -> list[MetricChange]:
    """Base and head scores of the same rows, in the same order: one change per metric."""
    y, base_score, head_score = _floats(label), _floats(base), _floats(head)
    if not len(y) == len(base_score) == len(head_score):
        raise UsageError(
            f"paired rows differ in number: {len(y)} labels, {len(base_score)} base scores, "
            f"{len(head_score)} head scores"
        )
    check_metrics(list(metrics), y)
    rng = np.random.default_rng(bootstrap.seed)
    y, (base_score, head_score) = _drawing_order(y, [base_score, head_score], bootstrap)
    points, values = _measure(rng, y, [base_score, head_score], metrics, threshold, bootstrap)
    return [
        _change(name, points[:, i], values[:, i], (len(y), len(y)), bootstrap, paired=True)
        for i, name in enumerate(metrics)
    ]


def unpaired_bootstrap(
    base: tuple[ArrayLike, ArrayLike],
    head: tuple[ArrayLike, ArrayLike],
    *,
    metrics: Sequence[str],
    threshold: float = 0.5,
    bootstrap: Bootstrap = Bootstrap(),
) -> list[MetricChange]:
    """(label, score) of the base rows and of the head rows, each side resampled on its own."""
    rng = np.random.default_rng(bootstrap.seed)
    points, values = [], []
    # base's resamples are all drawn before head's: one seed, two independent sets of draws
    for label, score in (base, head):
        y, scores = _floats(label), [_floats(score)]
        if len(y) != len(scores[0]):
            raise UsageError(f"{len(y)} labels but {len(scores[0])} scores")
        check_metrics(list(metrics), y)
        y, scores = _drawing_order(y, scores, bootstrap)
        point, value = _measure(rng, y, scores, metrics, threshold, bootstrap)
        points.append(point[0])
        values.append(value[0])
    rows = (len(np.asarray(base[0])), len(np.asarray(head[0])))
    return [
        _change(
            name,
            np.array([points[0][i], points[1][i]]),
            np.stack([values[0][i], values[1][i]]),
            rows,
            bootstrap,
            paired=False,
        )
        for i, name in enumerate(metrics)
    ]


def verdict(better: Better, interval: Interval) -> Verdict:
    """better/worse when the difference's interval excludes 0 that way, else within noise."""
    if interval.low > 0:
        return "better" if better == "higher" else "worse"
    if interval.high < 0:
        return "worse" if better == "higher" else "better"
    return "within noise"


def percentile_interval(values: FloatArray, confidence: float = CONFIDENCE) -> Interval:
    """The central `confidence` share of the defined values (NaN resamples left out)."""
    if not np.isfinite(values).any():
        return Interval(float("nan"), float("nan"))
    tail = (1 - confidence) / 2
    low, high = np.nanquantile(values, [tail, 1 - tail])
    return Interval(float(low), float(high))


def _change(
    name: str,
    points: FloatArray,
    values: FloatArray,
    rows: tuple[int, int],
    bootstrap: Bootstrap,
    *,
    paired: bool,
) -> MetricChange:
    """points: (base, head) on all rows; values: (base, head) on each resample."""
    base, head = float(points[0]), float(points[1])
    differences = values[1] - values[0]
    delta_interval = percentile_interval(differences, bootstrap.confidence)
    return MetricChange(
        metric=name,
        better=DIRECTION[name],
        paired=paired,
        base=base,
        head=head,
        delta=head - base,
        base_interval=percentile_interval(values[0], bootstrap.confidence),
        head_interval=percentile_interval(values[1], bootstrap.confidence),
        delta_interval=delta_interval,
        verdict=verdict(DIRECTION[name], delta_interval),
        base_rows=rows[0],
        head_rows=rows[1],
        resamples=int(np.isfinite(differences).sum()),
    )


def _measure(
    rng: np.random.Generator,
    label: FloatArray,
    scores: list[FloatArray],
    metrics: Sequence[str],
    threshold: float,
    bootstrap: Bootstrap,
) -> tuple[FloatArray, FloatArray]:
    """The metrics on all rows (sides, metrics) and on each resample (sides, metrics, B)."""
    if bootstrap.resamples < 1:
        raise UsageError(f"resamples must be at least 1, got {bootstrap.resamples}")
    if not 0 < bootstrap.confidence < 1:
        raise UsageError(f"confidence must be between 0 and 1, got {bootstrap.confidence}")
    every_row_once = [np.ones((1, len(label)), dtype=np.uint8)]
    points = resample_metrics(label, scores, metrics, threshold=threshold, counts=every_row_once)
    scheme = pick_scheme(len(label), bootstrap.scheme)
    blocks = count_blocks(
        rng, len(label), bootstrap.resamples, scheme=scheme, block_bytes=bootstrap.block_bytes
    )
    values = resample_metrics(
        label, scores, metrics, threshold=threshold, counts=blocks, workers=bootstrap.workers
    )
    return points[:, :, 0], values


def _drawing_order(
    label: FloatArray, scores: list[FloatArray], bootstrap: Bootstrap
) -> tuple[FloatArray, list[FloatArray]]:
    """The rows in the order their counts are drawn: as given for the multinomial scheme (the
    draws are scipy's), in the first score's rank order for the Poisson one. Poisson counts are
    independent per row, so any fixed order gives the same distribution, and this one spares
    the first side its gather into score order on every resample."""
    if pick_scheme(len(label), bootstrap.scheme) == "multinomial":
        return label, scores
    order = rank_order(label, scores[0])
    return label[order], [score[order] for score in scores]


def _floats(values: ArrayLike) -> FloatArray:
    array = np.asarray(values, dtype=np.float64)
    if array.ndim != 1:
        raise UsageError(f"expected one value per row, got an array of shape {array.shape}")
    if not np.isfinite(array).all():
        raise UsageError("labels and scores must be finite numbers (found NaN or infinity)")
    return array
