"""Every declared rule of the churn contracts is guarded by a generated case (issue 21).

The contracts are the raw and prepared schemas (pandera) and the request model (pydantic); the
cases come from tests/rules.py and tests/request_rules.py. Meta-tests: deleting any one rule
from a copy of a contract lets one of its cases through (or stops the contract naming it). The
raw schema and the request model refuse each other's cases, so deleting a rule from one of them
in src/ fails here even though its own case disappears with it; and tests/declared_rules.txt
records every rule, so a deletion no other contract notices shows as a failing diff.
"""

from __future__ import annotations

import io
import json
from typing import Any

import pandas as pd
import pytest
from pydantic import TypeAdapter, ValidationError

from churn import schema
from churn.prepare import clean
from churn.request import Customers, ValidCustomer
from churn.validate import check_table
from tests.corpus import GENERATION_ROWS, generated, raw_schema
from tests.request_rules import core_schema, record_notices, records, request_cases
from tests.rules import (
    Case,
    Generated,
    Rule,
    batches,
    break_all,
    break_record,
    csv_roundtrip,
    frame_cases,
    frame_notices,
    unnoticed_deletions,
)
from tests.rules_inventory import assert_inventory

CUSTOMERS: TypeAdapter[Any] = TypeAdapter(Customers)


@pytest.fixture(scope="module")
def good(good_small_csv: bytes) -> pd.DataFrame:
    """The rows the generator breaks, as the raw stage reads them."""
    return csv_roundtrip(pd.read_csv(io.BytesIO(good_small_csv)).head(GENERATION_ROWS))


@pytest.fixture(scope="module")
def raw(good_small_csv: bytes, validate_params: dict[str, Any]) -> Generated:
    return generated(good_small_csv, validate_params)


@pytest.fixture(scope="module")
def prepared_contract(validate_params: dict[str, Any]) -> Any:
    bounds = {key: validate_params[key] for key in ("label_rate_min", "label_rate_max")}
    return schema.prepared_schema(**bounds)


@pytest.fixture(scope="module")
def prepared_good(good: pd.DataFrame) -> pd.DataFrame:
    return clean(good)


@pytest.fixture(scope="module")
def prepared(prepared_contract: Any, prepared_good: pd.DataFrame) -> Generated:
    return frame_cases("prepared", prepared_contract, prepared_good)


@pytest.fixture(scope="module")
def customers(good: pd.DataFrame) -> list[dict[str, Any]]:
    return records(good.drop(columns=[schema.LABEL]))


@pytest.fixture(scope="module")
def requests(customers: list[dict[str, Any]]) -> Generated:
    return request_cases("request", ValidCustomer, customers)


def _unbreakable_in_csv(rule: Rule, contract: Any) -> bool:
    """Rules no CSV file can break: a text type (every cell of a CSV is text) and a minimum
    length of 1 on a column without nulls (an empty cell reads as a null, refused as one)."""
    column = contract.columns.get(rule.column)
    if column is None:
        return False
    text_type = rule.name == f"type {column.dtype}" and column.coerce and "str" in str(column.dtype)
    return text_type or (rule.name.startswith("str_length(1,") and not column.nullable)


def test_every_rule_of_the_raw_schema_has_a_case_but_those_no_csv_can_break(
    raw: Generated, validate_params: dict[str, Any]
) -> None:
    contract = raw_schema(validate_params)
    unguarded = [(rule.column, rule.name) for rule in raw.unguarded]
    assert all(_unbreakable_in_csv(rule, contract) for rule in raw.unguarded), unguarded
    assert {case.column for case in raw.cases} >= set(schema.RAW_COLUMNS)
    kinds = {case.rule.split(" ")[-1] for case in raw.cases}
    assert {"below", "above", "required", "nullable", "unique", "strict"} <= kinds, kinds


def test_every_rule_of_the_prepared_schema_and_the_request_model_has_a_case(
    prepared: Generated, requests: Generated
) -> None:
    assert [(rule.column, rule.name) for rule in prepared.unguarded] == []
    assert [(rule.column, rule.name) for rule in requests.unguarded] == []
    assert {case.column for case in requests.cases} >= {schema.ID, *schema.FEATURES}


def _unnamed(
    cases: list[Case],
    good: pd.DataFrame,
    contract: Any,
    *,
    load: Any = lambda frame: frame,
    words: bool = True,
) -> list[str]:
    """The cases a contract's report does not name (column, and the rule's words), checked a
    batch at a time as validate would report them."""
    unnamed = []
    for batch in batches(cases):
        problems = check_table(load(break_all(good, batch)), contract, rows_shown=5, line_offset=0)
        for case in batch:
            named = [
                problem
                for problem in problems
                if problem["column"] == (case.reported or case.column)
                # a rule across columns names the row (line_offset 0: the line is the row)
                or (
                    problem["column"] == "(row)"
                    and case.row in {example.get("line") for example in problem["examples"]}
                )
            ]
            if words:
                named = [
                    problem
                    for problem in named
                    if all(word.lower() in problem["rule"].lower() for word in case.words)
                ]
            if not named:
                unnamed.append(f"{case}: {problems}")
    return unnamed


def test_each_prepared_case_is_refused_naming_column_and_rule(
    prepared: Generated, prepared_contract: Any, prepared_good: pd.DataFrame
) -> None:
    assert _unnamed(prepared.cases, prepared_good, prepared_contract) == []


def _request_errors(body: Any) -> list[dict[str, Any]]:
    try:
        CUSTOMERS.validate_json(json.dumps(body))
    except ValidationError as error:
        return [dict(detail) for detail in error.errors(include_url=False, include_input=False)]
    return []


def _names(problem: dict[str, Any], field: str) -> bool:
    """The error is about the field: at its place, or a row rule's message naming it."""
    return field in problem["loc"] or field in problem["msg"]


def test_each_bad_request_is_refused_naming_its_field(
    requests: Generated, customers: list[dict[str, Any]]
) -> None:
    unnamed = []
    for case in requests.cases:
        bad = break_record(customers[case.row or 0], case)
        assert bad is not None, case
        problems = _request_errors([bad])
        if not any(_names(problem, case.column) for problem in problems):
            unnamed.append(f"{case}: {problems}")
    assert not unnamed, "\n".join(unnamed)


def test_the_request_model_refuses_every_bad_row_of_the_data_contract(
    raw: Generated, customers: list[dict[str, Any]]
) -> None:
    """A rule deleted from the request model is still broken by the raw schema's case."""
    accepted = []
    for case in raw.cases:
        if case.column == schema.LABEL:
            continue  # a request has no label
        bad = break_record(customers[case.row or 0], case)
        if bad is None:
            continue  # a rule on the whole table (duplicates, the label's share)
        problems = _request_errors([bad])
        if not any(_names(problem, case.column) for problem in problems):
            accepted.append(f"{case}: {problems}")
    assert not accepted, "\n".join(accepted)


def test_the_data_contract_refuses_every_bad_request(
    requests: Generated, good: pd.DataFrame, validate_params: dict[str, Any]
) -> None:
    """A rule deleted from the raw schema is still broken by the request model's case."""
    # A number in a CSV's text column is that text: a text field's type has nothing to break.
    cases = [case for case in requests.cases if case.rule != "type str"]
    contract = raw_schema(validate_params)
    assert _unnamed(cases, good, contract, load=csv_roundtrip, words=False) == []


def test_deleting_any_rule_of_the_raw_schema_lets_a_case_through(
    raw: Generated, good: pd.DataFrame, validate_params: dict[str, Any]
) -> None:
    contract = raw_schema(validate_params)
    notices = frame_notices(contract, good, csv_roundtrip)
    guarded = [rule for rule in raw.rules if not _unbreakable_in_csv(rule, contract)]
    assert unnoticed_deletions(guarded, raw.cases, notices) == []


def test_deleting_any_rule_of_the_prepared_schema_lets_a_case_through(
    prepared: Generated, prepared_contract: Any, prepared_good: pd.DataFrame
) -> None:
    notices = frame_notices(prepared_contract, prepared_good, lambda frame: frame)
    assert unnoticed_deletions(prepared.rules, prepared.cases, notices) == []


def test_deleting_any_rule_of_the_request_model_lets_a_case_through(
    requests: Generated, customers: list[dict[str, Any]]
) -> None:
    notices = record_notices(core_schema(ValidCustomer), customers)
    assert unnoticed_deletions(requests.rules, requests.cases, notices) == []


def test_the_declared_rules_are_the_recorded_ones(
    raw: Generated, prepared: Generated, requests: Generated
) -> None:
    assert_inventory("churn", {"raw": raw, "prepared": prepared, "request": requests})
