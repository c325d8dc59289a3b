"""The evaluation rows' predictions: id, label, score and the slice columns, one row per customer.

A declared output of the evaluate stage (dvc.yaml), read by `mlgitops report` at the base and
at the head (params.yaml `report.predictions`): with the same rows scored by both models it
puts a paired interval on every metric's change and compares them per slice.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from churn import schema
from churn.io import write_parquet

PREDICTIONS_PATH = Path("reports/predictions.parquet")
SLICE_COLUMNS = ("contract", "internet_service")  # as the schema has them
TENURE_BAND = "tenure_band"
# Months of tenure where a band starts; the last band is open-ended.
_TENURE_STARTS = (0, 12, 24, 48)
_TENURE_NAMES = ("0-11 months", "12-23 months", "24-47 months", "48+ months")


def tenure_band(tenure: pd.Series) -> pd.Series:
    """The tenure in months as one of four bands: the first year, the second, to four, beyond."""
    edges = [*_TENURE_STARTS, np.inf]
    return pd.cut(tenure, bins=edges, labels=list(_TENURE_NAMES), right=False).astype(str)


def predictions_table(frame: pd.DataFrame, scores: np.ndarray, score_column: str) -> pd.DataFrame:
    """One row per evaluated customer, sorted by id so the file's bytes do not depend on row
    order: id, label (0/1), the model's score, and the columns the report slices by."""
    table = pd.DataFrame(
        {
            schema.ID: frame[schema.ID].astype(str).to_numpy(),
            schema.LABEL: frame[schema.LABEL].astype("int8").to_numpy(),
            score_column: np.asarray(scores, dtype=np.float64),
            **{column: frame[column].astype(str).to_numpy() for column in SLICE_COLUMNS},
            TENURE_BAND: tenure_band(frame["tenure"]).to_numpy(),
        }
    )
    return table.sort_values(schema.ID, kind="stable").reset_index(drop=True)


def write_predictions(
    frame: pd.DataFrame, scores: np.ndarray, *, score_column: str, path: Path = PREDICTIONS_PATH
) -> None:
    """Write the predictions table of `frame`'s rows to `path` (Parquet)."""
    write_parquet(predictions_table(frame, scores, score_column), path)
