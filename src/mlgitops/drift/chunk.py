"""What the log reader hands to the comparison: one chunk of rows, column by column."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from mlgitops.drift.stats import FloatArray

Values = FloatArray | dict[Any, int]
"""A numeric column's values (NaN for null), or a categorical column's counts per raw value."""


@dataclass(frozen=True)
class Chunk:
    """Parsed rows, column by column in the reader's order, and the scores (NaN for null)."""

    columns: tuple[Values, ...]
    scores: FloatArray | None
    rows: int
