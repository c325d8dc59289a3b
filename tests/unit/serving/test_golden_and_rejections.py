"""The runtime's generic parts with names unlike the example model's: golden answers compared
field by field, and BentoML's 4xx answers reshaped to name the service's own fields."""

from __future__ import annotations

import json
import math

import pytest

from mlgitops.golden import GoldenFormatError, mismatches, parse_golden
from mlgitops.serving import Rejections

REJECTIONS = Rejections(
    fields=["row_id", "carat", "cut"],
    list_field="stones",
    max_rows=3,
    row_rules={"depth_rule": "depth"},
    too_many_hint="send a file",
)


def test_numbers_match_within_the_tolerance_and_anything_else_must_be_equal() -> None:
    expected = {"price": 100.0, "cheap": False, "grade": "A"}
    assert mismatches(expected, {"price": 100.0000004, "cheap": False, "grade": "A"}, 1e-6) == []
    found = mismatches(expected, {"price": 100.1, "cheap": True, "x": 1}, 1e-6)
    assert found == [
        "price: got 100.100000, the card says 100.000000 (off by 0.1 > 1e-06)",
        "cheap: got True, the card says False",
        "grade: missing from the answer",
    ]
    assert mismatches({"price": 1.0}, {"price": math.nan}, 1.0) != []
    assert mismatches({"price": 1.0}, [1.0], 1.0) == ["the answer is not an object: [1.0]"]


def test_the_golden_section_declares_where_rows_and_answers_go() -> None:
    golden = parse_golden(
        {
            "golden": {
                "route": "/price",
                "request_key": "stones",
                "response_key": "prices",
                "cases": [{"input": {"carat": 1.0}, "expected": {"price": 5.0}}],
            }
        }
    )
    assert golden.body([{"carat": 1.0}]) == {"stones": [{"carat": 1.0}]}
    assert golden.answers({"prices": [{"price": 5.0}]}) == [{"price": 5.0}]
    assert golden.answers([{"price": 5.0}]) is None  # not where the card says
    bare = golden.model_copy(update={"request_key": None, "response_key": None})
    assert bare.body([{"carat": 1.0}]) == [{"carat": 1.0}]
    assert bare.answers([{"price": 5.0}]) == [{"price": 5.0}]
    with pytest.raises(GoldenFormatError, match=r"golden\.route: String should match"):
        parse_golden({"golden": {"route": "price", "request_key": None, "cases": []}})


def _pydantic_400(*details: dict[str, object]) -> bytes:
    return json.dumps({"detail": list(details)}).encode()


def test_a_too_long_list_is_a_413_naming_the_list_and_the_limit() -> None:
    body = _pydantic_400({"type": "too_long", "loc": ["stones"], "msg": "List too long"})
    status, answer = REJECTIONS.reshape(400, body) or (0, {})
    assert status == 413
    assert answer == {
        "error": "too many stones",
        "limit": 3,
        "problems": [{"field": "stones", "rule": "at most 3 stones per request; send a file"}],
    }


def test_pydantic_errors_name_the_field_and_a_row_rule_names_its_field() -> None:
    body = _pydantic_400(
        {"type": "literal_error", "loc": ["stones", 1, "cut"], "msg": "Input should be 'Fair'"},
        {"type": "depth_rule", "loc": ["stones", 0], "msg": "depth must be known"},
    )
    status, answer = REJECTIONS.reshape(400, body) or (0, {})
    assert status == 400
    assert answer["problems"] == [
        {"field": "stones[1].cut", "rule": "Input should be 'Fair'"},
        {"field": "stones[0].depth", "rule": "depth must be known"},
    ]


def test_an_answer_already_in_our_shape_is_left_alone_and_labels_stay_bounded() -> None:
    assert REJECTIONS.reshape(400, b'{"error": "x", "problems": []}') is None
    assert REJECTIONS.metric_label("stones[4].carat") == "carat"
    assert REJECTIONS.metric_label("stones[0].a_clients_own_name") == "(unknown field)"
    assert REJECTIONS.metric_label("(body)") == "(body)"
