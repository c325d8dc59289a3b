"""The schema is one consistent truth about the columns, and the real data obeys it."""

from __future__ import annotations

from typing import Any

import pandas as pd
import pytest
from pandera.errors import SchemaErrors

from churn import schema
from churn.prepare import clean


def test_every_feature_is_in_exactly_one_group() -> None:
    groups = [*schema.BINARY, *schema.NUMERIC_RANGES, *schema.CATEGORICAL]
    assert sorted(groups) == sorted(schema.FEATURES)
    assert len(set(schema.FEATURES)) == len(schema.FEATURES)
    assert set(schema.INTEGER) <= set(schema.NUMERIC_RANGES)


def test_neither_the_id_nor_the_label_is_a_feature() -> None:
    assert schema.ID not in schema.FEATURES
    assert schema.LABEL not in schema.FEATURES
    assert schema.LABEL_POSITIVE in schema.LABEL_LEVELS


def test_the_export_has_exactly_the_raw_columns_in_order(good_raw: pd.DataFrame) -> None:
    assert tuple(good_raw.columns) == schema.RAW_COLUMNS


def test_category_dtypes_keep_the_declared_level_order() -> None:
    for column, levels in schema.CATEGORICAL.items():
        assert tuple(schema.category_dtype(column).categories) == levels


def test_the_real_data_uses_only_declared_levels(good_raw: pd.DataFrame) -> None:
    for column, levels in schema.CATEGORICAL.items():
        assert set(good_raw[column].unique()) <= set(levels), column
    assert set(good_raw[schema.LABEL].unique()) == set(schema.LABEL_LEVELS)


def test_the_whole_real_table_passes_both_schemas(
    good_raw: pd.DataFrame, validate_params: dict[str, Any]
) -> None:
    bounds = {key: validate_params[key] for key in ("label_rate_min", "label_rate_max")}
    schema.raw_schema(**bounds).validate(good_raw, lazy=True)
    schema.prepared_schema(**bounds).validate(clean(good_raw), lazy=True)


def test_the_label_rate_bounds_are_inclusive(good_raw: pd.DataFrame) -> None:
    rate = float((good_raw[schema.LABEL] == schema.LABEL_POSITIVE).mean())
    schema.raw_schema(label_rate_min=rate, label_rate_max=rate).validate(good_raw)
    with pytest.raises(SchemaErrors, match=r"label_rate_in_range|churners"):
        schema.raw_schema(label_rate_min=rate + 0.01, label_rate_max=1.0).validate(
            good_raw, lazy=True
        )
    with pytest.raises(SchemaErrors, match=r"label_rate_in_range|churners"):
        schema.raw_schema(label_rate_min=0.0, label_rate_max=rate - 0.01).validate(
            good_raw, lazy=True
        )


def test_a_blank_total_is_allowed_only_for_new_customers(good_small: pd.DataFrame) -> None:
    frame = good_small.copy()
    frame.loc[0, "tenure"] = 0
    frame.loc[0, "total_charges"] = None
    bounds = {"label_rate_min": 0.0, "label_rate_max": 1.0}
    schema.raw_schema(**bounds).validate(frame)
    frame.loc[0, "tenure"] = 1
    with pytest.raises(SchemaErrors, match="total_charges"):
        schema.raw_schema(**bounds).validate(frame, lazy=True)
