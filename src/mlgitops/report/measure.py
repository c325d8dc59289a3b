"""Every metric on every resample: blocks of resample counts in, a (sides, metrics, resamples)
array out, with no Python loop per resample.

Means of per-row values (log loss, Brier, RMSE, MAE) are weighted sums, so a block's sums for
all of them, all sides at once, are one matrix product of the block's counts with the per-row
columns; the more resamples a block holds, the fewer times the columns are read. Counts at
the threshold, ROC AUC and average precision come from running totals in score order
(`ranking`), a few resamples at a time. Memory is bounded: per block in flight (one, plus
one per extra worker), its draws (`resample.BLOCK_BYTES`) and 8-bit counts, plus SUM_CELLS of
float copies and RANK_CELLS of running totals, whatever the number of resamples.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor

import numpy as np
from numpy.typing import NDArray
from threadpoolctl import threadpool_limits

from mlgitops.report.metrics import (
    RANKED,
    THRESHOLDED,
    FloatArray,
    mean_columns,
    mean_metric,
    row_columns,
    threshold_metric,
)
from mlgitops.report.ranking import RankedRows, rank_rows, ranked_totals

# Cells (resamples x rows) per pass of running totals: their arrays then fit in a fast cache,
# measured twice as fast as whole blocks at 100,000 rows and 1,000,000.
RANK_CELLS = 2**20
SUM_CELLS = 2**19  # cells per slice of the matrix product: 4 MiB of float64 counts


def resample_metrics(
    label: FloatArray,
    scores: Sequence[FloatArray],
    metrics: Sequence[str],
    *,
    threshold: float,
    counts: Iterable[NDArray[np.integer]],
    workers: int = 1,
) -> FloatArray:
    """Each metric of each score vector on each resample: shape (scores, metrics, resamples).

    `counts` yields (block, rows) matrices of how often each row is drawn; every score vector
    is measured on the same draws. `workers` threads measure blocks side by side (numpy
    releases the GIL in its array loops); the values do not depend on it.
    """
    wanted = list(metrics)
    names = mean_columns(wanted)[1:]  # "rows" is shared by the sides: one column
    columns = np.hstack(
        [np.ones((len(label), 1))] + [row_columns(label, score, names) for score in scores]
    )
    ranked: list[RankedRows] = []
    if (RANKED | THRESHOLDED) & set(wanted):
        ranked = [rank_rows(label, score, threshold=threshold) for score in scores]
    curves = bool(RANKED & set(wanted))

    def measure(block: NDArray[np.integer]) -> FloatArray:
        sums = _weighted_sums(block, columns)
        out = np.empty((len(scores), len(wanted), len(block)))
        # the running totals go through a few resamples at a time, to stay in cache
        step = max(1, RANK_CELLS // block.shape[1])
        for side in range(len(scores)):
            side_sums = {"rows": sums[:, 0]}
            side_sums |= {n: sums[:, 1 + side * len(names) + j] for j, n in enumerate(names)}
            for start in range(0, len(block), step):
                part = slice(start, start + step)
                totals = ranked_totals(block[part], ranked[side], curves=curves) if ranked else None
                for i, name in enumerate(wanted):
                    if name in RANKED and totals is not None:
                        value = totals.roc_auc if name == "roc_auc" else totals.average_precision
                        assert value is not None  # curves were asked for
                        out[side, i, part] = value
                    elif name in THRESHOLDED and totals is not None:
                        out[side, i, part] = threshold_metric(
                            name,
                            totals.true_pos,
                            totals.false_pos,
                            totals.positives,
                            totals.negatives,
                        )
                    elif start == 0:
                        out[side, i] = mean_metric(name, side_sums)
        return out

    # One BLAS thread per product: the products are many and small, and BLAS's own threads
    # wait for each other on a busy core (1.2 ns a cell single-threaded, 3.5 to 11 with two
    # on a shared 2-core machine); `workers` is the parallelism that pays here.
    with threadpool_limits(limits=1, user_api="blas"):
        return np.concatenate(list(_bounded_map(measure, counts, workers=workers)), axis=-1)


def _weighted_sums(block: NDArray[np.integer], columns: FloatArray) -> FloatArray:
    """block @ columns in float64, a slice of rows at a time: each slice's float copy of the
    counts is small enough to be reused from the heap and read back from cache (one copy of a
    whole block is a fresh mapping, paid for in page faults, then read from memory)."""
    sums = np.zeros((len(block), columns.shape[1]))
    step = max(1, SUM_CELLS // len(block))
    for start in range(0, block.shape[1], step):
        part = slice(start, start + step)
        sums += block[:, part].astype(np.float64) @ columns[part]
    return sums


def _bounded_map(
    function: Callable[[NDArray[np.integer]], FloatArray],
    blocks: Iterable[NDArray[np.integer]],
    *,
    workers: int,
) -> Iterator[FloatArray]:
    """function over blocks, in order, at most `workers` blocks in flight (Executor.map would
    draw every block first, and memory would grow with the resample count)."""
    if workers <= 1:
        yield from map(function, blocks)
        return
    with ThreadPoolExecutor(max_workers=workers) as pool:
        pending: deque[Future[FloatArray]] = deque()
        for block in blocks:
            if len(pending) == workers:
                yield pending.popleft().result()
            pending.append(pool.submit(function, block))
        while pending:
            yield pending.popleft().result()
