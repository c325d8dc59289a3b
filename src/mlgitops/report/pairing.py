"""Which evaluation rows base and head share, matched on an id column.

The paired bootstrap and DeLong's test compare two models on the same rows; when the rows
differ (new data, a new split, a relabelled row) only unpaired intervals are honest.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

from mlgitops.errors import UsageError


@dataclass(frozen=True)
class Pairing:
    """Positions of the shared ids in base's and head's rows, in the same order."""

    base_index: NDArray[np.intp]
    head_index: NDArray[np.intp]
    same_rows: bool  # the same ids on both sides, each with the same label: pair them


def pair_rows(
    base_id: ArrayLike, base_label: ArrayLike, head_id: ArrayLike, head_label: ArrayLike
) -> Pairing:
    """Match rows on id; raise UsageError when an id repeats on one side (no pairing then)."""
    ids = [np.asarray(base_id), np.asarray(head_id)]
    for side, values in zip(("base", "head"), ids, strict=True):
        unique, counts = np.unique(values, return_counts=True)
        if len(unique) != len(values):
            raise UsageError(
                f"the {side} rows repeat ids (e.g. {unique[counts > 1][0]!r}); "
                "rows can only be paired on an id that names one row"
            )
    _, base_index, head_index = np.intersect1d(ids[0], ids[1], return_indices=True)
    labels_agree = np.array_equal(
        np.asarray(base_label)[base_index], np.asarray(head_label)[head_index]
    )
    same = len(base_index) == len(ids[0]) == len(ids[1]) and labels_agree
    return Pairing(base_index=base_index, head_index=head_index, same_rows=same)
