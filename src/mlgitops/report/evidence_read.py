"""Read one revision's predictions file through DVC, and line base and head up on the id.

A failure (file absent at a revision, a column missing, a repeated id) raises the evidence's
`UnavailableError` with a sentence naming the file, the revision side and the column.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from mlgitops.errors import UsageError
from mlgitops.report.evidence import UnavailableError
from mlgitops.report.evidence_records import Comparison, Side
from mlgitops.report.pairing import pair_rows
from mlgitops.settings.report import PredictionsSettings

_PARQUET = (".parquet", ".pq")


@dataclass(frozen=True)
class Workspace:
    """The workspace's files, opened as DVC's file system would open them (repo-relative)."""

    root: Path

    def open(self, path: str, mode: str = "rb") -> Any:
        return (self.root / path).open(mode)


@dataclass(frozen=True)
class Predictions:
    """One side's table as read: the declared columns and the slice columns it has."""

    side: str  # "base" or "head", for messages
    frame: pd.DataFrame


def read_predictions(
    fs: Any, declared: PredictionsSettings, slices: tuple[str, ...], *, side: str
) -> Predictions:
    """The predictions file at the revision `fs` shows; only the columns the report uses."""
    path = declared.path
    try:
        with fs.open(path, mode="rb") as handle:
            frame = _read(handle, path)
    except FileNotFoundError:
        raise UnavailableError(
            f"the {side} revision has no {path} (does its pipeline write it yet? then the "
            "next pull request gets intervals)"
        ) from None
    except Exception as error:  # any reader or cache failure is reported, not raised
        raise UnavailableError(
            f"cannot read {path} at the {side} revision: {type(error).__name__}: {error}"
        ) from None
    needed = {"id": declared.id, "label": declared.label, "score": declared.score}
    absent = [f"{key} column `{name}`" for key, name in needed.items() if name not in frame]
    if absent:
        raise UnavailableError(
            f"{path} at the {side} revision has no {', '.join(absent)} "
            f"(params.yaml report.predictions; it has: {', '.join(map(str, frame.columns))})"
        )
    keep = [*needed.values(), *(c for c in slices if c in frame and c not in needed.values())]
    return Predictions(side, frame[keep])


def _read(handle: Any, path: str) -> pd.DataFrame:
    if path.lower().endswith(_PARQUET):
        return pd.read_parquet(handle)
    return pd.read_csv(handle, sep="\t" if path.lower().endswith(".tsv") else ",")


def pair_sides(
    base: Predictions, head: Predictions, declared: PredictionsSettings, slices: tuple[str, ...]
) -> tuple[Comparison, dict[str, int], list[str]]:
    """The comparison (paired when both sides have the same ids with the same labels), the row
    counts, and the slice columns that one side lacks."""
    missing = [c for c in slices if c not in base.frame or c not in head.frame]
    present = [c for c in slices if c not in missing]
    ids = {p.side: p.frame[declared.id].astype(str).to_numpy() for p in (base, head)}
    labels = {p.side: _numbers(p, declared.label, declared.path) for p in (base, head)}
    try:
        pairing = pair_rows(ids["base"], labels["base"], ids["head"], labels["head"])
    except UsageError as error:
        raise UnavailableError(f"{declared.path}: {error}") from None
    rows = {
        "base": len(base.frame),
        "head": len(head.frame),
        "shared": len(pairing.base_index),
    }
    sides = {p.side: _side(p, declared, present) for p in (base, head)}
    if not pairing.same_rows:
        return Comparison(sides["base"], sides["head"], paired=False), rows, missing
    at_base, at_head = pairing.base_index, pairing.head_index
    head_slices = {column: values[at_head] for column, values in sides["head"].slices.items()}
    comparison = Comparison(
        Side(sides["base"].label[at_base], sides["base"].score[at_base], head_slices),
        Side(sides["head"].label[at_head], sides["head"].score[at_head], head_slices),
        paired=True,
    )
    return comparison, rows, missing


def _side(predictions: Predictions, declared: PredictionsSettings, columns: list[str]) -> Side:
    frame = predictions.frame
    return Side(
        label=_numbers(predictions, declared.label, declared.path),
        score=_numbers(predictions, declared.score, declared.path),
        slices={column: frame[column].astype(str).to_numpy(dtype=np.str_) for column in columns},
    )


def _numbers(predictions: Predictions, column: str, path: str) -> Any:
    try:
        values = pd.to_numeric(predictions.frame[column], errors="raise").to_numpy(np.float64)
    except (ValueError, TypeError):
        raise UnavailableError(
            f"{path} at the {predictions.side} revision: column `{column}` is not numeric"
        ) from None
    if not np.isfinite(values).all():
        raise UnavailableError(
            f"{path} at the {predictions.side} revision: column `{column}` has missing or "
            "infinite values"
        )
    return values
