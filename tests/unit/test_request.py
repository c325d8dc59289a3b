"""The request model is the schema's: same columns, levels, ranges and row rule, strict types."""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import pandas as pd
import pytest
from pydantic import TypeAdapter, ValidationError

from churn import schema
from churn.request import MAX_CUSTOMERS, ROW_RULE_ERROR, Customer, Customers

CUSTOMERS: TypeAdapter[Any] = TypeAdapter(Customers)
CUSTOMER_SCHEMA = TypeAdapter(Customer).json_schema()


def raw_records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """Rows of the raw table as a client sends them: JSON values, a blank total as null."""
    records = frame.drop(columns=[schema.LABEL]).to_dict("records")
    return [
        {str(k): None if isinstance(v, float) and np.isnan(v) else v for k, v in r.items()}
        for r in records
    ]


@pytest.fixture
def customer(good_small: pd.DataFrame) -> dict[str, Any]:
    return raw_records(good_small)[0]


def errors(body: Any) -> list[dict[str, Any]]:
    with pytest.raises(ValidationError) as raised:
        CUSTOMERS.validate_json(json.dumps(body))
    details = raised.value.errors(include_url=False, include_context=False, include_input=False)
    return [dict(detail) for detail in details]


def test_the_fields_are_the_raw_columns_without_the_label() -> None:
    assert tuple(CUSTOMER_SCHEMA["properties"]) == (schema.ID, *schema.FEATURES)
    assert CUSTOMER_SCHEMA["required"] == [schema.ID, *schema.FEATURES]


def test_the_json_schema_carries_the_schemas_levels_and_ranges() -> None:
    properties = CUSTOMER_SCHEMA["properties"]
    for column, levels in schema.CATEGORICAL.items():
        assert properties[column]["enum"] == list(levels), column
    for column, (low, high) in schema.NUMERIC_RANGES.items():
        numbers = properties[column].get("anyOf", [properties[column]])[0]
        assert (numbers["minimum"], numbers["maximum"]) == (low, high), column
    for column in schema.BINARY:
        assert (properties[column]["minimum"], properties[column]["maximum"]) == (0, 1), column
    assert CUSTOMER_SCHEMA["additionalProperties"] is False


def test_every_row_of_the_real_data_is_a_valid_request(good_raw: pd.DataFrame) -> None:
    records = raw_records(good_raw)
    customers = CUSTOMERS.validate_json(json.dumps(records[:MAX_CUSTOMERS]))
    assert len(customers) == len(records)
    assert [c[schema.ID] for c in customers] == good_raw[schema.ID].tolist()


def test_one_customer_is_a_list_of_one(customer: dict[str, Any]) -> None:
    [one] = CUSTOMERS.validate_json(json.dumps(customer))
    assert one == customer


@pytest.mark.parametrize(
    ("change", "field", "error"),
    [
        ({"contract": None}, "contract", "literal_error"),
        ({"contract": "Monthly"}, "contract", "literal_error"),
        ({"tenure": "34"}, "tenure", "int_type"),
        ({"tenure": 34.5}, "tenure", "int_type"),
        ({"tenure": 121}, "tenure", "less_than_equal"),
        ({"monthly_charges": -1.0}, "monthly_charges", "greater_than_equal"),
        ({"monthly_charges": "70.7"}, "monthly_charges", "float_type"),
        ({"female": 2}, "female", "less_than_equal"),
        ({"female": True}, "female", "int_type"),
        ({"female": 1.0}, "female", "int_type"),
        ({"customer_id": ""}, "customer_id", "string_too_short"),
        ({"customer_id": 17}, "customer_id", "string_type"),
        ({"nickname": "x"}, "nickname", "extra_forbidden"),
    ],
)
def test_a_broken_rule_names_the_field(
    customer: dict[str, Any], change: dict[str, Any], field: str, error: str
) -> None:
    [problem] = errors([{**customer, **change}])
    assert problem["loc"] == (0, field)
    assert problem["type"] == error


def test_a_missing_field_is_named(customer: dict[str, Any]) -> None:
    del customer["payment_method"]
    [problem] = errors([customer])
    assert (problem["loc"], problem["type"]) == ((0, "payment_method"), "missing")


def test_total_charges_may_be_null_only_for_a_new_customer(customer: dict[str, Any]) -> None:
    assert customer["tenure"] > 0
    [problem] = errors([{**customer, "total_charges": None}])
    assert problem["type"] == ROW_RULE_ERROR
    assert "total_charges" in problem["msg"]
    [new] = CUSTOMERS.validate_python([{**customer, "tenure": 0, "total_charges": None}])
    assert new["total_charges"] is None


def test_the_list_holds_one_to_max_customers(customer: dict[str, Any]) -> None:
    assert errors([])[0]["type"] == "too_short"
    assert errors([customer] * (MAX_CUSTOMERS + 1))[0]["type"] == "too_long"
    assert len(CUSTOMERS.validate_python([customer] * MAX_CUSTOMERS)) == MAX_CUSTOMERS
