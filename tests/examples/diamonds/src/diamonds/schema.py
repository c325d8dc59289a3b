"""The diamonds' columns, once: names, levels, ranges and the pandera schema that checks them.

The pipeline (prepare, train, evaluate) and the service read every column list from here.
"""

from __future__ import annotations

from typing import Final

import pandas as pd
import pandera.pandas as pa

ID: Final = "stone_id"  # the dealer's stock number: answers echo it, the request log hashes it
TARGET: Final = "price"  # US dollars: what the model predicts
SCORE: Final = "predicted_price"  # the answer's field, the reference's column, the metric's name

# Fixed levels, worst to best as ggplot2 orders them: the model's category codes are positions
# in these tuples, so their order is part of the model.
CATEGORICAL: Final[dict[str, tuple[str, ...]]] = {
    "cut": ("Fair", "Good", "Very Good", "Premium", "Ideal"),
    "color": ("J", "I", "H", "G", "F", "E", "D"),
    "clarity": ("I1", "SI2", "SI1", "VS2", "VS1", "VVS2", "VVS1", "IF"),
}
# Inclusive ranges; a 0 mm dimension is a missing measurement, which prepare drops.
NUMERIC_RANGES: Final[dict[str, tuple[float, float]]] = {
    "carat": (0.1, 6.0),
    "depth": (40.0, 80.0),  # total depth, % of the mean diameter
    "table": (40.0, 100.0),  # width of the top, % of the mean diameter
    "x": (0.1, 60.0),  # mm
    "y": (0.1, 60.0),
    "z": (0.1, 40.0),
}
FEATURES: Final = ("carat", *CATEGORICAL, "depth", "table", "x", "y", "z")


def category_dtype(column: str) -> pd.CategoricalDtype:
    return pd.CategoricalDtype(categories=list(CATEGORICAL[column]), ordered=False)


def features_schema() -> pa.DataFrameSchema:
    """What a row must be to be scored: the training rows and every request alike."""
    columns = {
        name: pa.Column(float, pa.Check.in_range(low, high), coerce=True)
        for name, (low, high) in NUMERIC_RANGES.items()
    }
    columns |= {name: pa.Column(str, pa.Check.isin(levels)) for name, levels in CATEGORICAL.items()}
    return pa.DataFrameSchema(columns, strict="filter")


def prepared_schema() -> pa.DataFrameSchema:
    """The prepared tables: an id, the features and a positive price."""
    return features_schema().add_columns(
        {
            ID: pa.Column(str, unique=True),
            TARGET: pa.Column(float, pa.Check.gt(0), coerce=True),
        }
    )
