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

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray

from mlgitops.errors import UsageError
from mlgitops.report.measure import resample_metrics
from mlgitops.report.metrics import DIRECTION, Better, FloatArray, check_metrics, point_value
from mlgitops.report.resample import BLOCK_BYTES, Scheme, count_blocks, pick_scheme

Verdict = Literal["better", "worse", "within noise"]
Rows = tuple[FloatArray, FloatArray]  # label, score
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
    threads. The values depend on the first four only."""

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
    values = resample_metrics(
        y,
        [base_score, head_score],
        metrics,
        threshold=threshold,
        counts=_blocks(rng, len(y), bootstrap),
        workers=bootstrap.workers,
    )
    sides = ((y, base_score), (y, head_score))
    return [
        _change(name, sides, (values[0, i], values[1, i]), threshold, bootstrap, paired=True)
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
    base_rows, head_rows = (
        (_floats(base[0]), _floats(base[1])),
        (_floats(head[0]), _floats(head[1])),
    )
    for y, score in (base_rows, head_rows):
        if len(y) != len(score):
            raise UsageError(f"{len(y)} labels but {len(score)} scores")
        check_metrics(list(metrics), y)
    rng = np.random.default_rng(bootstrap.seed)
    # base's resamples are all drawn before head's: one seed, two independent sets of draws
    base_values, head_values = (
        resample_metrics(
            y,
            [score],
            metrics,
            threshold=threshold,
            counts=_blocks(rng, len(y), bootstrap),
            workers=bootstrap.workers,
        )[0]
        for y, score in (base_rows, head_rows)
    )
    return [
        _change(
            name,
            (base_rows, head_rows),
            (base_values[i], head_values[i]),
            threshold,
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
    sides: tuple[Rows, Rows],
    values: tuple[FloatArray, FloatArray],
    threshold: float,
    bootstrap: Bootstrap,
    *,
    paired: bool,
) -> MetricChange:
    base, head = (point_value(name, *rows, threshold=threshold) for rows in sides)
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
        base_rows=len(sides[0][0]),
        head_rows=len(sides[1][0]),
        resamples=int(np.isfinite(differences).sum()),
    )


def _blocks(
    rng: np.random.Generator, rows: int, bootstrap: Bootstrap
) -> Iterable[NDArray[np.uint8]]:
    if bootstrap.resamples < 1:
        raise UsageError(f"resamples must be at least 1, got {bootstrap.resamples}")
    if not 0 < bootstrap.confidence < 1:
        raise UsageError(f"confidence must be between 0 and 1, got {bootstrap.confidence}")
    scheme = pick_scheme(rows, bootstrap.scheme)
    return count_blocks(
        rng, rows, bootstrap.resamples, scheme=scheme, block_bytes=bootstrap.block_bytes
    )


def _floats(values: ArrayLike) -> FloatArray:
    array = np.asarray(values, dtype=np.float64)
    if array.ndim != 1:
        raise UsageError(f"expected one value per row, got an array of shape {array.shape}")
    if not np.isfinite(array).all():
        raise UsageError("labels and scores must be finite numbers (found NaN or infinity)")
    return array
