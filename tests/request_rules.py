"""Bad requests generated from a pydantic model's declared rules: one per rule per field.

The rules are read from the model's pydantic-core schema, what pydantic itself validates with:
each field's presence, nullability, type or level set and its constraints (bounds, lengths),
the model's validators over the whole record (a row rule) and its refusal of unknown fields.
As for tables (tests/rules.py), a case is kept only when the model refuses it and a copy of the
model's schema without that rule accepts it (or no longer names that rule).
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import pandas as pd
from pydantic import BaseModel, TypeAdapter
from pydantic_core import SchemaValidator, ValidationError

from tests.rules import (
    EXTRA_COLUMN,
    NOT_A_NUMBER,
    Case,
    Generated,
    Op,
    Rule,
    break_record,
    guards,
)

Path = tuple[str, ...]
_ROW_VALIDATORS = ("function-after", "function-before", "function-wrap")
_BELOW = {"ge": lambda bound: bound - 1, "gt": lambda bound: bound}
_ABOVE = {"le": lambda bound: bound + 1, "lt": lambda bound: bound}
_WRONG_TYPE: dict[str, list[Any]] = {
    "int": [1.5, "1"],
    "float": [NOT_A_NUMBER],
    "str": [17],
    "bool": ["yes"],
}


def records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """Rows of a table as a client sends them: JSON values, a blank cell as null."""
    return [
        {str(k): None if isinstance(v, float) and np.isnan(v) else v for k, v in row.items()}
        for row in frame.to_dict("records")
    ]


def core_schema(model: Any) -> dict[str, Any]:
    """The pydantic-core schema of a model, a TypedDict or an annotated type."""
    if isinstance(model, type) and issubclass(model, BaseModel):
        return dict(model.__pydantic_core_schema__)  # a model's own, built with the class
    return dict(TypeAdapter(model).core_schema)


def _at(node: dict[str, Any], path: Path) -> dict[str, Any]:
    for key in path:
        node = node[key]
    return node


def _edit(path: Path, change: Callable[[dict[str, Any]], dict[str, Any] | None]) -> Any:
    """A function giving a copy of a core schema with the node at `path` changed."""

    def remove(core: dict[str, Any]) -> dict[str, Any]:
        copied = copy.deepcopy(core)
        parent, key = (_at(copied, path[:-1]), path[-1]) if path else (None, "")
        node = _at(copied, path)
        new = change(node)
        if new is None:
            return copied
        if parent is None:
            return new
        parent[key] = new
        return copied

    return remove


def _without_key(key: str) -> Callable[[dict[str, Any]], None]:
    def change(node: dict[str, Any]) -> None:
        del node[key]

    return change


def _fields_path(core: dict[str, Any]) -> tuple[Path, list[Path]]:
    """Where the fields are, and the row validators wrapped around them."""
    path: Path = ()
    wrappers = []
    node = core
    while node["type"] not in ("typed-dict", "model-fields"):
        if node["type"] in _ROW_VALIDATORS:
            wrappers.append(path)
        path = (*path, "schema")
        node = node["schema"]
    return path, wrappers


def _field_rules(name: str, field_path: Path, field: dict[str, Any]) -> list[Rule]:
    rules = []

    def rule(rule_name: str, remove: Any, values: Sequence[Any], *words: str) -> Rule:
        return Rule(name, rule_name, remove, tuple((None, "set", value) for value in values), words)

    schema_path = (*field_path, "schema")
    schema = field["schema"]
    if field["type"] == "typed-dict-field" and field.get("required", True):
        drop: Any = _edit(field_path, lambda node: node.update(required=False))  # None: in place
        rules.append(Rule(name, "required", drop, ((None, "drop", None),), ("missing",)))
    elif field["type"] == "model-field" and schema["type"] != "default":
        optional = _edit(
            schema_path, lambda node: {"type": "default", "schema": node, "default": None}
        )
        rules.append(Rule(name, "required", optional, ((None, "drop", None),), ("missing",)))
    if schema["type"] == "default":
        schema_path, schema = (*schema_path, "schema"), schema["schema"]
    if schema["type"] == "nullable":
        schema_path, schema = (*schema_path, "schema"), schema["schema"]
    else:
        nullable = _edit(schema_path, lambda node: {"type": "nullable", "schema": node})
        rules.append(rule("not nullable", nullable, [None]))
    anything = _edit(schema_path, lambda node: {"type": "any"})
    if schema["type"] == "literal":
        levels = list(schema["expected"])
        numbers = all(isinstance(level, int | float) for level in levels)
        outside = max(levels) + 1 if numbers else "not " + " or ".join(map(str, levels))
        rules.append(rule(f"levels {levels}", anything, [outside], "literal"))
    elif schema["type"] in _WRONG_TYPE:
        kind = schema["type"]
        rules.append(rule(f"type {kind}", anything, _WRONG_TYPE[kind], kind))
    bounds = {key: schema[key] for key in (*_BELOW, *_ABOVE) if key in schema}
    for key, bound in bounds.items():
        outside = (_BELOW | _ABOVE)[key](bound)
        end = "below" if key in _BELOW else "above"
        remove = _edit(schema_path, _without_key(key))
        rules.append(rule(f"{key}={bound} {end}", remove, [outside]))
    for key, shorter in (("min_length", True), ("max_length", False)):
        if key in schema:
            length = schema[key] - 1 if shorter else schema[key] + 1
            value: Any = "x" * length if schema["type"] == "str" else [None] * length
            remove = _edit(schema_path, _without_key(key))
            rules.append(rule(f"{key}={schema[key]}", remove, [value]))
    # allow_inf_nan=False beside two bounds is not a rule of its own: NaN and infinity fail a
    # bound already, so no request can tell it is gone.
    if schema.get("allow_inf_nan") is False and not (set(bounds) & set(_BELOW)):
        remove = _edit(schema_path, _without_key("allow_inf_nan"))
        rules.append(rule("finite", remove, [float("inf")]))
    return rules


def _forbids_extra(node: dict[str, Any]) -> bool:
    config = node.get("config", {})
    return bool(
        node.get("extra_behavior") == "forbid" or config.get("extra_fields_behavior") == "forbid"
    )


def request_rules(core: dict[str, Any], good: Sequence[dict[str, Any]]) -> list[Rule]:
    """Every rule a request model declares, each with breakages of good records to try."""
    fields_path, wrappers = _fields_path(core)
    holder = _at(core, fields_path)
    rules = [
        rule
        for name, field in holder["fields"].items()
        for rule in _field_rules(name, (*fields_path, "fields", name), field)
    ]
    for path in wrappers:
        wrapper = _at(core, path)
        function = wrapper["function"]["function"]
        set_: Op = "set"
        tries = tuple(
            (name, set_, value)
            for name in holder["fields"]
            for value in [None, 0, *[record[name] for record in good[1:3]]]
        )
        unwrap = _edit(path, lambda node: node["schema"])
        rules.append(Rule("(row)", f"row rule {function.__name__}", unwrap, tries))

    def allow_extra(core: dict[str, Any]) -> dict[str, Any]:
        copied = copy.deepcopy(core)
        node = copied
        for key in ("", *fields_path):
            node = node[key] if key else node
            if node.get("extra_behavior") == "forbid":
                node["extra_behavior"] = "ignore"
            if node.get("config", {}).get("extra_fields_behavior") == "forbid":
                node["config"] = {**node["config"], "extra_fields_behavior": "ignore"}
        return copied

    path_nodes = [_at(core, fields_path[:depth]) for depth in range(len(fields_path) + 1)]
    if any(_forbids_extra(node) for node in path_nodes):
        rules.append(Rule(EXTRA_COLUMN, "no unknown fields", allow_extra, ((None, "add", 1),)))
    return rules


def errors(core: dict[str, Any], record: dict[str, Any]) -> frozenset[str] | None:
    """The rules (error types at their fields) a record breaks, as JSON; None when it passes."""
    # A model validates through its class's own validator, which a copy without a rule would
    # never reach: its fields are validated as a dict, with the model's config.
    validator = (
        SchemaValidator(core["schema"], core.get("config"))
        if core["type"] == "model"
        else SchemaValidator(core)
    )
    try:
        validator.validate_json(json.dumps(record))
    except ValidationError as error:
        return frozenset(f"{detail['loc']}:{detail['type']}" for detail in error.errors())
    except Exception as error:  # a row rule may trip on a field a copy let go
        return frozenset({type(error).__name__})
    return None


def break_one(record: dict[str, Any], column: str, op: Op, value: Any) -> dict[str, Any]:
    if op == "drop":
        return {key: item for key, item in record.items() if key != column}
    return {**record, column: value}


def request_cases(contract: str, model: Any, good: Sequence[dict[str, Any]]) -> Generated:
    """A case for every rule of the request model that some breakage of a good record breaks
    alone; cell cases take the records in turn, so each names its own row."""
    core = core_schema(model)
    assert all(errors(core, record) is None for record in good[:3]), "good records must pass"
    generated = Generated()
    row = 0
    for rule in request_rules(core, good):
        generated.rules.append(rule)
        without = rule.remove(core)
        found = None
        for at in range(row, min(row + 20, len(good))):
            for column, op, value in rule.candidates:
                target = rule.column if column is None else column
                bad = break_one(good[at], target, op, value)
                refused = errors(core, bad)
                if refused is not None and guards(refused, errors(without, bad)):
                    where = at if op == "set" else None
                    found = Case(contract, target, rule.name, op, value, where, rule.words)
                    break
            if found:
                break
        if found is None:
            generated.unguarded.append(rule)
            continue
        generated.cases.append(found)
        row = (found.row if found.row is not None else row) + 1
    return generated


def record_notices(
    core: dict[str, Any], good: Sequence[dict[str, Any]]
) -> Callable[[Rule, Case], bool]:
    """`check(rule, case)`: the case, on its good record, tells the model from a copy of it
    without the rule (tests/rules.py `unnoticed_deletions`)."""

    def notices(rule: Rule, case: Case) -> bool:
        bad = break_record(good[case.row or 0], case)
        return bad is not None and guards(errors(core, bad), errors(rule.remove(core), bad))

    return notices
