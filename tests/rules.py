"""Bad cases generated from a table's declared rules: one bad value per rule per column.

The rules are read from a pandera `DataFrameSchema` itself: each column's presence, type,
nullability, uniqueness and checks (a range gives two rules, its low and its high end), the
table's own checks and its strictness. For each rule the generator tries a few breakages of a
good table and keeps the first that the schema refuses and the same schema without that rule
accepts, or refuses without naming that rule: so deleting the rule lets the case through or
changes what the report says (tests/unit/test_rules.py checks that). A rule no candidate
breaks is returned as unguarded, never dropped silently. tests/request_rules.py does the same
for a pydantic request model.
"""

from __future__ import annotations

import copy
import functools
import io
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import pandas as pd
import pandera.pandas as pa
from pandera.errors import SchemaError, SchemaErrors

Op = Literal["set", "drop", "add", "copy", "fill", "cast"]
TABLE = "(table)"  # the column of a rule on the whole table
EXTRA_COLUMN = "unexpected_column"
NOT_A_NUMBER = "not a number"


@dataclass(frozen=True)
class Case:
    """One broken rule: where it is broken, how, and what a report must name."""

    contract: str  # which contract declared the rule ("raw", "request", ...)
    column: str  # the column or field it breaks
    rule: str  # the rule as declared ("in_range(0, 120) above", "not nullable", ...)
    op: Op  # set a cell, drop or add a column, copy another row's cell, fill or cast a column
    value: Any = None  # the bad value (set, fill, add), the row copied (copy), the dtype (cast)
    row: int | None = None  # the row broken (set, copy); None: the whole column
    words: tuple[str, ...] = ()  # words from the contract the report's rule must contain
    reported: str = ""  # the column a report names, when not `column` (a table rule: "(row)")

    def __str__(self) -> str:
        return f"{self.contract}:{self.column}:{self.rule}"


@dataclass(frozen=True)
class Rule:
    """A rule of a contract: a copy of the contract without it, and breakages to try."""

    column: str
    name: str
    remove: Callable[[Any], Any]
    candidates: tuple[tuple[str | None, Op, Any], ...]  # (column, or None: the rule's own; ...)
    words: tuple[str, ...] = ()
    probe: Callable[[pd.DataFrame], bool] | None = None  # a quick look: may the rule refuse it?


@dataclass
class Generated:
    """What the generator made of a contract: its rules, a case for each, the rules it could not
    break."""

    rules: list[Rule] = field(default_factory=list)
    cases: list[Case] = field(default_factory=list)
    unguarded: list[Rule] = field(default_factory=list)


def csv_roundtrip(frame: pd.DataFrame) -> pd.DataFrame:
    """The table as a pipeline that reads CSV sees it (every cell text until pandas infers)."""
    return pd.read_csv(io.BytesIO(frame.to_csv(index=False).encode()))


def _fits(series: pd.Series, value: float) -> bool:
    """An integer column can hold the value as it is (whole, within its dtype's bounds)."""
    try:
        bounds = np.iinfo(str(series.dtype))
    except (TypeError, ValueError):  # a nullable extension dtype: widen rather than guess
        return False
    return float(value).is_integer() and bounds.min <= value <= bounds.max


def _put(series: pd.Series, row: int, value: Any) -> pd.Series:
    """The column with `value` at `row`, widened only as much as the value needs."""
    numeric = pd.api.types.is_numeric_dtype(series) and not pd.api.types.is_bool_dtype(series)
    if value is None and pd.api.types.is_float_dtype(series):
        value = np.nan
    elif numeric and isinstance(value, int | float) and not isinstance(value, bool):
        if pd.api.types.is_integer_dtype(series) and not _fits(series, value):
            series = series.astype("float64")
    elif not (isinstance(value, str) and pd.api.types.is_object_dtype(series)):
        series = series.astype(object)
    series = series.copy()
    series.iloc[row] = value
    return series


def break_frame(frame: pd.DataFrame, case: Case) -> pd.DataFrame:
    """A copy of `frame` with the case's rule broken."""
    frame = frame.copy()
    if case.op == "drop":
        return frame.drop(columns=[case.column])
    if case.op in ("add", "fill"):
        frame[case.column] = case.value
    elif case.op == "cast":
        frame[case.column] = frame[case.column].astype(case.value)
    else:
        assert case.row is not None, case
        value = frame[case.column].iloc[case.value] if case.op == "copy" else case.value
        frame[case.column] = _put(frame[case.column], case.row, value)
    return frame


def break_record(record: dict[str, Any], case: Case) -> dict[str, Any] | None:
    """A copy of a request record with the case's rule broken; None when it breaks a table."""
    if case.op == "drop" and case.column in record:
        return {key: value for key, value in record.items() if key != case.column}
    if case.op in ("add", "set") and (case.column in record or case.op == "add"):
        return {**record, case.column: case.value}
    return None


def _bounds(check: pa.Check) -> Iterator[tuple[str, Any]]:
    """The ends of a range-like check, each as (which end, a value just outside it)."""
    stats = check.statistics or {}
    low, high = stats.get("min_value"), stats.get("max_value")
    if check.name in ("in_range", "greater_than_or_equal_to", "greater_than") and low is not None:
        strict = check.name == "greater_than" or not stats.get("include_min", True)
        yield "below", low if strict else low - 1
    if check.name in ("in_range", "less_than_or_equal_to", "less_than") and high is not None:
        strict = check.name == "less_than" or not stats.get("include_max", True)
        yield "above", high if strict else high + 1


def _outside(check: pa.Check) -> list[Any]:
    """Values a level-set or length check refuses, from its own statistics."""
    stats = check.statistics or {}
    if check.name == "isin":
        allowed = list(stats["allowed_values"])
        if all(isinstance(value, int | float) for value in allowed):
            return [max(allowed) + 1]
        return ["not " + " or ".join(map(str, allowed))]
    if check.name == "notin":
        return list(stats["forbidden_values"])[:1]
    if check.name == "str_length":
        low, high = stats.get("min_value"), stats.get("max_value")
        return [*(["x" * (low - 1)] if low else []), *(["x" * (high + 1)] if high else [])]
    return []


def _generic(series: pd.Series, row: int, *, fills: bool = True) -> list[tuple[Op, Any]]:
    """Breakages for a check the generator cannot read (a custom function): odd cells, and
    the whole column one of its values (for a check on the column's distribution)."""
    value: Any = series.iloc[row]
    cells: list[Any] = [None, 0, "", "?"]
    if isinstance(value, int | float | np.number) and not np.isnan(float(value)):
        cells = [float(value) + 0.5, -abs(float(value)) - 1, *cells]
    cells += series.drop(series.index[row]).dropna().unique().tolist()[:2]
    levels = series.dropna().unique().tolist()[:5] if fills else []
    return [*(("set", cell) for cell in cells), *(("fill", level) for level in levels)]


def _label(check: pa.Check) -> str:
    """How a report names the check (its error message, else its name)."""
    return str(check.error or check.name)


def _rule_name(check: pa.Check) -> str:
    """The rule's name: a built-in check's label carries its bounds or levels (part of the
    rule); a custom check's message may carry params.yaml's values, so its name stands."""
    return _label(check) if check.statistics else str(check.name)


def column_rules(name: str, column: pa.Column, good: pd.DataFrame) -> list[Rule]:
    """Every rule one column declares."""

    def changed(**kwargs: Any) -> Callable[[Any], Any]:
        return lambda schema: schema.update_column(name, **kwargs)

    def rule(rule_name: str, remove: Any, tries: Sequence[tuple[Op, Any]], *words: str) -> Rule:
        return Rule(name, rule_name, remove, tuple((None, op, v) for op, v in tries), words)

    rules = []
    if column.required:
        rules.append(rule("required", changed(required=False), [("drop", None)], "required"))
    if not column.nullable:
        rules.append(rule("not nullable", changed(nullable=True), [("set", None)], "null"))
    if column.unique:
        rules.append(rule("unique", changed(unique=False), [("copy", 0)], "unique"))
    if column.dtype is not None:
        dtype = str(column.dtype)
        # A coerced column takes a cell that cannot be read as its type; an uncoerced one
        # must already hold the type, so a whole column of a near type breaks it.
        near = [d for d in ("float32", "float64", "int64", "object", "category") if d != dtype]
        tries: list[tuple[Op, Any]] = (
            [("set", NOT_A_NUMBER), ("set", 1.5)] if column.coerce else [("cast", d) for d in near]
        )
        rules.append(rule(f"type {dtype}", changed(dtype=None), tries, dtype))
    for index, check in enumerate(column.checks):
        remove = changed(checks=[c for i, c in enumerate(column.checks) if i != index])
        label, rule_name = _label(check), _rule_name(check)
        ends = list(_bounds(check))
        for end, value in ends:
            rules.append(rule(f"{rule_name} {end}", remove, [("set", value)], label))
        if not ends:
            outside: list[tuple[Op, Any]] = [("set", value) for value in _outside(check)]
            generic = _generic(good[name], 0) if name in good else []
            rules.append(rule(rule_name, remove, [*outside, *generic], label))
    return rules


def table_rules(schema: pa.DataFrameSchema, good: pd.DataFrame) -> list[Rule]:
    """The rules of the whole table: its checks across columns, and no column but its own."""

    def without_check(index: int) -> Callable[[Any], Any]:
        def remove(table: pa.DataFrameSchema) -> pa.DataFrameSchema:
            copied = copy.deepcopy(table)
            copied.checks = [c for i, c in enumerate(table.checks) if i != index]
            return copied

        return remove

    def not_strict(table: pa.DataFrameSchema) -> pa.DataFrameSchema:
        copied = copy.deepcopy(table)
        copied.strict = False
        return copied

    rules = []
    for index, check in enumerate(schema.checks):
        # A cross-column check: any one cell of any column may be what breaks it.
        tries = tuple(
            (name, op, value)
            for name in schema.columns
            if name in good
            for op, value in _generic(good[name], 0, fills=False)
        )
        label = _label(check)
        probe = functools.partial(_check_refuses, check)
        rules.append(Rule(TABLE, _rule_name(check), without_check(index), tries, (label,), probe))
    if schema.strict is True:
        rules.append(Rule(EXTRA_COLUMN, "strict", not_strict, ((None, "add", "x"),), ("schema",)))
    return rules


def _check_refuses(check: pa.Check, frame: pd.DataFrame) -> bool:
    """The check alone refuses the frame (or cannot run on it), before a full validation."""
    try:
        return not bool(check(frame).check_passed)
    except Exception:  # any error is the check refusing, as pandera reports it
        return True


def failures(schema: pa.DataFrameSchema, frame: pd.DataFrame) -> frozenset[str] | None:
    """The rules (pandera's check labels) the frame breaks; None when it passes."""
    try:
        schema.validate(frame, lazy=True)
    except SchemaErrors as errors:
        return frozenset(errors.failure_cases["check"].astype(str))
    except SchemaError as error:
        return frozenset({str(error.check)})
    return None


def guards(with_rule: frozenset[str] | None, without_rule: frozenset[str] | None) -> bool:
    """A case guards a rule when deleting the rule lets it pass, or drops a rule from what a
    report says about it (the tests assert the rule's words in the report)."""
    if with_rule is None:
        return False
    return without_rule is None or bool(with_rule - without_rule)


def _focus(schema: pa.DataFrameSchema, frame: pd.DataFrame, column: str) -> Any:
    """One column's rules on that column alone: fast, where no rule spans columns."""
    if column not in schema.columns:
        return schema, frame
    focused = pa.DataFrameSchema({column: schema.columns[column]})
    return focused, frame[[column]] if column in frame else frame[[]]


def frame_cases(
    contract: str,
    schema: pa.DataFrameSchema,
    good: pd.DataFrame,
    *,
    load: Callable[[pd.DataFrame], pd.DataFrame] = lambda frame: frame,
    first_row: int = 1,
) -> Generated:
    """A case for every rule of `schema` that some breakage of `good` breaks alone.

    `load` is what the pipeline does to a table before validating it (a CSV round trip).
    Each cell case gets a row of its own, from `first_row` on, so many fit in one table; a
    rule across columns may look a few rows further for a row where a cell can break it.
    """
    assert failures(schema, load(good)) is None, "the good table must pass its own schema"
    generated = Generated()
    row = first_row
    rules = [
        rule for name, column in schema.columns.items() for rule in column_rules(name, column, good)
    ]
    for rule in [*rules, *table_rules(schema, good)]:
        generated.rules.append(rule)
        without = rule.remove(schema)
        found = None
        rows = range(row, min(row + 20, len(good))) if rule.column == TABLE else [row]
        for attempt in (
            Case(
                contract,
                rule.column if column is None else column,
                rule.name,
                op,
                value,
                at if op in ("set", "copy") else None,
                rule.words,
                "(row)" if rule.column == TABLE else "",
            )
            for at in rows
            for column, op, value in rule.candidates
        ):
            # A column's own rules are tried on that column alone: a CSV round trip of one
            # column and a validation of one column are what keeps this to seconds.
            alone = (
                attempt.column in schema.columns and rule.column != TABLE and attempt.op != "drop"
            )
            try:
                bad = load(break_frame(good[[attempt.column]] if alone else good, attempt))
            except (TypeError, ValueError):  # a cast the column's values cannot take
                continue
            if rule.probe and not rule.probe(bad):
                continue
            focus = attempt.column if rule.column != TABLE else TABLE
            refused = failures(*_focus(schema, bad, focus))
            if refused is not None and guards(refused, failures(*_focus(without, bad, focus))):
                found = attempt
                break
        if found is None:
            generated.unguarded.append(rule)
            continue
        generated.cases.append(found)
        if found.row is not None:
            row = found.row + 1
    return generated


def batches(cases: Sequence[Case], *, max_drops: int = 5) -> list[list[Case]]:
    """Cases that can share one table and still each be reported.

    One case per column (a cell of the wrong type hides the other problems of its column); a
    rule across columns never beside a missing column (a missing column turns it off); a few
    missing columns at most per table.
    """
    ordered = sorted(cases, key=lambda case: (case.reported != "(row)", case.op == "drop"))
    out: list[list[Case]] = []
    for case in ordered:
        for batch in out:
            columns = {c.column for c in batch}
            drops = sum(c.op == "drop" for c in batch)
            across = any(c.reported == "(row)" for c in batch)
            if case.column in columns:
                continue
            if case.op == "drop" and (across or drops >= max_drops):
                continue
            if case.reported == "(row)" and drops:
                continue
            batch.append(case)
            break
        else:
            out.append([case])
    return out


def break_all(frame: pd.DataFrame, cases: Sequence[Case]) -> pd.DataFrame:
    """Every case of a batch broken in one table."""
    for case in cases:
        frame = break_frame(frame, case)
    return frame


def unnoticed_deletions(rules: list[Rule], cases: list[Case], check: Any) -> list[str]:
    """The rules whose deletion no case notices; `check(rule, case)` is True when it does."""
    unnoticed = []
    for rule in rules:
        # Its own case first, then its column's: the first that notices ends the search.
        ordered = sorted(
            cases, key=lambda case: (case.column != rule.column, case.rule != rule.name)
        )
        if not any(check(rule, case) for case in ordered):
            unnoticed.append(f"{rule.column}: {rule.name}")
    return unnoticed


def frame_notices(
    contract: pa.DataFrameSchema,
    good: pd.DataFrame,
    load: Callable[[pd.DataFrame], pd.DataFrame] = lambda frame: frame,
) -> Callable[[Rule, Case], bool]:
    """`check(rule, case)` for a pandera contract: each case's table and failures made once."""
    seen: dict[Case, tuple[pd.DataFrame, frozenset[str] | None]] = {}

    def notices(rule: Rule, case: Case) -> bool:
        if case not in seen:
            bad = load(break_frame(good, case))
            seen[case] = bad, failures(contract, bad)
        bad, refused = seen[case]
        return guards(refused, failures(rule.remove(contract), bad))

    return notices
