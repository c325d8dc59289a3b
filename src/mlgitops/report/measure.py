"""Every metric on every resample: blocks of resample counts in, a (sides, metrics, resamples)
array out, with no Python loop per resample.

Non-ranked metrics are ratios of weighted sums of per-row columns (`metrics.row_columns`), so a
block's sums for all of them, both sides at once, are one matrix product of the block's counts
with the columns. ROC AUC and average precision come from running sums in score order
(`ranking`). Memory is bounded by the block size (`resample.BLOCK_BYTES`).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor

import numpy as np
from numpy.typing import NDArray

from mlgitops.report.metrics import RANKED, FloatArray, ratio_metric, row_columns
from mlgitops.report.ranking import rank_rows, ranked_metrics


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
    columns = np.hstack([row_columns(label, score, threshold=threshold) for score in scores])
    ranked = [rank_rows(label, score) for score in scores] if RANKED & set(metrics) else []

    def measure(block: NDArray[np.integer]) -> FloatArray:
        sums = (block.astype(np.float64) @ columns).reshape(len(block), len(scores), -1)
        out = np.empty((len(scores), len(metrics), len(block)))
        for side in range(len(scores)):
            auc_ap = ranked_metrics(block, ranked[side]) if ranked else None
            for i, name in enumerate(metrics):
                if auc_ap is not None and name in RANKED:
                    out[side, i] = auc_ap[0] if name == "roc_auc" else auc_ap[1]
                else:
                    out[side, i] = ratio_metric(name, sums[:, side])
        return out

    parts = list(_bounded_map(measure, counts, workers=workers))
    return np.concatenate(parts, axis=-1)


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
