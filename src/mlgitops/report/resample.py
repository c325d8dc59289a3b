"""Bootstrap resamples as count matrices, drawn in blocks so memory stays bounded.

Row j of a block says how many times each data row is drawn in one resample. Two schemes:

- "multinomial", the classic bootstrap: n draws with replacement from n rows. The draws are
  `rng.integers(0, n, (resamples, n))`, exactly the indices `scipy.stats.bootstrap` draws from
  the same generator, so the two can be checked against each other resample for resample.
- "poisson": each row drawn Poisson(1) times, independently (Hanley & MacGibbon 2006; Chamandy
  et al. 2012, "Estimating uncertainty for massive data streams"). For large n it gives the same
  intervals as the multinomial scheme, and it is several times cheaper to draw: 16 random bits
  per row, looked up in a table of Poisson(1) quantiles (probabilities rounded to 1/65536,
  which moves the weights' mean and variance by less than 1e-4).

`scheme=None` picks multinomial up to POISSON_FROM rows, Poisson above. Given the seed, the
resample count and the rows, the counts are the same whatever the block size.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Literal

import numpy as np
from numpy.typing import NDArray
from scipy import stats

Scheme = Literal["multinomial", "poisson"]
POISSON_FROM = 50_000  # rows; below it the classic bootstrap costs little
BLOCK_BYTES = 64 * 2**20  # working memory to draw one block of resamples
# bytes per (resample, row) cell while drawing: 64-bit indices and counts, or 16 random bits
# and the 8-bit count (plus one row of 64-bit indices for the table lookup)
_BYTES_PER_CELL: dict[Scheme, int] = {"multinomial": 17, "poisson": 3}
_LEVELS = 2**16
# Poisson(1) quantile at the middle of each of 65536 equal slices of probability
_POISSON_TABLE = np.searchsorted(
    stats.poisson.cdf(np.arange(32), 1.0), (np.arange(_LEVELS) + 0.5) / _LEVELS, side="right"
).astype(np.uint8)


def pick_scheme(rows: int, scheme: Scheme | None) -> Scheme:
    """The scheme asked for, or the default for this many rows."""
    if scheme is not None:
        return scheme
    return "poisson" if rows >= POISSON_FROM else "multinomial"


def count_blocks(
    rng: np.random.Generator,
    rows: int,
    resamples: int,
    *,
    scheme: Scheme,
    block_bytes: int = BLOCK_BYTES,
) -> Iterator[NDArray[np.uint8]]:
    """Yield (block, rows) count matrices, resamples in order, until `resamples` are drawn."""
    per_block = max(1, min(resamples, block_bytes // (_BYTES_PER_CELL[scheme] * max(rows, 1))))
    for start in range(0, resamples, per_block):
        size = min(per_block, resamples - start)
        if scheme == "multinomial":
            yield _multinomial(rng, rows, size)
        else:
            yield _poisson(rng, rows, size)


def _multinomial(rng: np.random.Generator, rows: int, size: int) -> NDArray[np.uint8]:
    drawn = rng.integers(0, rows, (size, rows))
    drawn += np.arange(size)[:, None] * rows  # one bincount for the whole block
    counts = np.bincount(drawn.ravel(), minlength=size * rows).reshape(size, rows)
    # 8-bit counts halve the traffic of every later pass; a row drawn 256 times in one resample
    # (odds below 1e-300 for any n) would raise, never wrap
    if counts.max(initial=0) > np.iinfo(np.uint8).max:
        raise OverflowError("a bootstrap count does not fit 8 bits")
    return counts.astype(np.uint8)


def _poisson(rng: np.random.Generator, rows: int, size: int) -> NDArray[np.uint8]:
    # whole 64-bit words per resample, so a resample's bits do not depend on the block size
    words = rng.bit_generator.random_raw((size, -(-rows // 4)))
    bits = np.ascontiguousarray(words).view(np.uint16)[:, :rows]
    counts = np.empty((size, rows), dtype=np.uint8)
    for resample in range(size):  # np.take copies its indices to 64 bits: one row at a time
        np.take(_POISSON_TABLE, bits[resample], out=counts[resample])
    return counts
