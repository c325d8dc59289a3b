"""The one truth for the churn data's columns: names, types, ranges, levels, and the rules.

Every other module (prepare, validate, train, evaluate, the service) reads its column lists
from here, so adding or changing a feature is one edit.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Final

import pandas as pd

ID: Final = "customer_id"
LABEL: Final = "churn"
LABEL_POSITIVE: Final = "Yes"
LABEL_LEVELS: Final = ("No", "Yes")

# 0/1 flags as the source ships them.
BINARY: Final = (
    "female",
    "senior_citizen",
    "partner",
    "dependents",
    "phone_service",
    "paperless_billing",
)

_INTERNET_ADDON = ("No", "Yes", "No internet service")

# Fixed levels: the model's category codes are positions in these tuples, so their order
# is part of the model. Append new levels at the end; never reorder.
CATEGORICAL: Final[dict[str, tuple[str, ...]]] = {
    "multiple_lines": ("No", "Yes", "No phone service"),
    "internet_service": ("DSL", "Fiber optic", "No"),
    "online_security": _INTERNET_ADDON,
    "online_backup": _INTERNET_ADDON,
    "device_protection": _INTERNET_ADDON,
    "tech_support": _INTERNET_ADDON,
    "streaming_tv": _INTERNET_ADDON,
    "streaming_movies": _INTERNET_ADDON,
    "contract": ("Month-to-month", "One year", "Two year"),
    "payment_method": (
        "Electronic check",
        "Mailed check",
        "Bank transfer (automatic)",
        "Credit card (automatic)",
    ),
}

# Inclusive ranges a value must fall in; generous, but they catch unit mistakes and sign flips.
NUMERIC_RANGES: Final[dict[str, tuple[float, float]]] = {
    "tenure": (0, 120),  # months
    "monthly_charges": (0.0, 500.0),
    "total_charges": (0.0, 60_000.0),
}
INTEGER: Final = ("tenure",)

FEATURES: Final = (
    *BINARY,
    "tenure",
    *CATEGORICAL,
    "monthly_charges",
    "total_charges",
)
RAW_COLUMNS: Final = (ID, *FEATURES, LABEL)
PREPARED_COLUMNS: Final = (ID, *FEATURES, LABEL)


def category_dtype(column: str) -> pd.CategoricalDtype:
    """The pandas dtype of a categorical feature, with its fixed levels in their fixed order."""
    return pd.CategoricalDtype(categories=list(CATEGORICAL[column]), ordered=False)


if TYPE_CHECKING:
    import pandera.pandas as pa

# Fixed-width labels for the rules, so the validation report reads the same everywhere.
_TOTAL_CHARGES_RULE = "total_charges is blank only for new customers (tenure 0)"


def _total_charges_known(frame: pd.DataFrame) -> pd.Series[bool] | bool:
    """Blank total_charges only for new customers; a missing column is reported on its own."""
    if "total_charges" not in frame or "tenure" not in frame:
        return True
    return frame["total_charges"].notna() | (frame["tenure"] == 0)


def _label_rate_check(*, low: float, high: float, positive: Any) -> pa.Check:
    import pandera.pandas as pa

    def within_bounds(labels: pd.Series) -> bool:
        return bool(low <= (labels == positive).mean() <= high)

    return pa.Check(
        within_bounds,
        name="label_rate_in_range",
        error=f"share of churners must be within [{low}, {high}]",
    )


def raw_schema(*, label_rate_min: float, label_rate_max: float) -> pa.DataFrameSchema:
    """The contract for the raw table as it arrives: exactly these columns, typed and in range."""
    # Imported here: pandera costs ~2.5 s of start-up that train, evaluate and serving don't need.
    import pandera.pandas as pa

    # Integer columns are read as float64: coercing 1.5 to int64 would silently make it 1.
    whole = pa.Check(lambda values: values % 1 == 0, name="is a whole number")
    columns: dict[str, pa.Column] = {
        ID: pa.Column(str, pa.Check.str_length(min_value=1), unique=True, coerce=True),
        **{c: pa.Column("float64", pa.Check.isin([0, 1]), coerce=True) for c in BINARY},
        **{
            c: pa.Column(
                "float64",
                [pa.Check.in_range(low, high), *([whole] if c in INTEGER else [])],
                coerce=True,
                nullable=c == "total_charges",
            )
            for c, (low, high) in NUMERIC_RANGES.items()
        },
        **{
            c: pa.Column(str, pa.Check.isin(list(levels)), coerce=True)
            for c, levels in CATEGORICAL.items()
        },
        LABEL: pa.Column(
            str,
            [
                pa.Check.isin(list(LABEL_LEVELS)),
                _label_rate_check(low=label_rate_min, high=label_rate_max, positive=LABEL_POSITIVE),
            ],
            coerce=True,
        ),
    }
    return pa.DataFrameSchema(
        columns,
        checks=[
            pa.Check(
                _total_charges_known,
                name=_TOTAL_CHARGES_RULE,
            )
        ],
        strict=True,
        name="raw",
    )


def prepared_schema(*, label_rate_min: float, label_rate_max: float) -> pa.DataFrameSchema:
    """The contract for what prepare hands to training: no nulls, fixed categories, 0/1 label."""
    import pandera.pandas as pa

    columns: dict[str, pa.Column] = {
        ID: pa.Column(str, unique=True),
        **{c: pa.Column("int8", pa.Check.isin([0, 1])) for c in BINARY},
        **{
            c: pa.Column("int64" if c in INTEGER else "float64", pa.Check.in_range(low, high))
            for c, (low, high) in NUMERIC_RANGES.items()
        },
        **{c: pa.Column(category_dtype(c)) for c in CATEGORICAL},
        LABEL: pa.Column(
            "int8",
            [
                pa.Check.isin([0, 1]),
                _label_rate_check(low=label_rate_min, high=label_rate_max, positive=1),
            ],
        ),
    }
    return pa.DataFrameSchema(columns, strict=True, name="prepared")
