"""A corpus of bad raw data, each kind with what a correct validation report must say about it.

Every case starts from the good raw CSV (the real export), breaks it in one way, and returns
the bad file's bytes with a `Breakage`: the column the report must name, words its rule must
contain (taken from the schema or params, never from the report), and the lines and customers
it must point at. The unit tests run the corpus through prepare and validate in process; the
e2e tests run it through `dvc repro`.

Beside the hand-written kinds, `generated` makes a case for every rule the raw schema declares
(tests/rules.py), and `generated_batches` packs them into a few files that each break many
rules at once, so one `dvc repro` checks that the report names every one of them.
"""

from __future__ import annotations

import functools
import io
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from churn import schema
from churn.io import RawDataError, read_raw, write_parquet
from churn.prepare import clean, split
from churn.validate import validate
from tests.rules import Case, Generated, batches, break_all, csv_roundtrip, frame_cases

_HEADER_LINES = 1  # the CSV's first line is the header: row i of the frame is on line i + 2
GENERATION_ROWS = 100  # the good rows the generator breaks: one row of its own per cell case


@dataclass(frozen=True)
class Breakage:
    """What a report about one bad file must contain."""

    column: str  # the column it must name
    rule_words: tuple[str, ...]  # words (case-insensitive) the broken rule must contain
    lines: tuple[int, ...] = ()  # CSV line numbers it must show as examples
    customer_ids: tuple[str, ...] = ()  # customers it must show as examples
    only: bool = True  # no other column may be named (False where damage spreads)


@dataclass(frozen=True)
class BadData:
    """One kind of bad raw data: `make(good_csv, validate_params)` -> (bad bytes, breakage)."""

    name: str
    make: Callable[[bytes, dict[str, Any]], tuple[bytes, Breakage]]

    def __str__(self) -> str:
        return self.name


def _read(good_csv: bytes) -> pd.DataFrame:
    return pd.read_csv(io.BytesIO(good_csv))


def _write(frame: pd.DataFrame) -> bytes:
    return frame.to_csv(index=False).encode()


def _line(row: int) -> int:
    return row + _HEADER_LINES + 1


def _customer(frame: pd.DataFrame, row: int) -> str:
    return str(frame.at[row, schema.ID])


def missing_column(good: bytes, params: dict[str, Any]) -> tuple[bytes, Breakage]:
    frame = _read(good).drop(columns=["tenure"])
    return _write(frame), Breakage("tenure", ("missing",))


def wrong_type(good: bytes, params: dict[str, Any]) -> tuple[bytes, Breakage]:
    frame = _read(good)
    row = len(frame) // 3
    frame["monthly_charges"] = frame["monthly_charges"].astype(object)
    frame.loc[row, "monthly_charges"] = "twenty dollars"
    expected_type = "int64" if "monthly_charges" in schema.INTEGER else "float64"
    breakage = Breakage(
        "monthly_charges", (expected_type,), (_line(row),), (_customer(frame, row),)
    )
    return _write(frame), breakage


def out_of_range(good: bytes, params: dict[str, Any]) -> tuple[bytes, Breakage]:
    frame = _read(good)
    row = len(frame) // 4
    flipped = frame.index == row  # a sign flip in one row
    frame["monthly_charges"] = frame["monthly_charges"].mask(flipped, -frame["monthly_charges"])
    low, high = schema.NUMERIC_RANGES["monthly_charges"]
    breakage = Breakage(
        "monthly_charges", (str(low), str(high)), (_line(row),), (_customer(frame, row),)
    )
    return _write(frame), breakage


def duplicate_ids(good: bytes, params: dict[str, Any]) -> tuple[bytes, Breakage]:
    frame = _read(good)
    first = len(frame) // 5
    second = first + 7
    frame.loc[second, schema.ID] = _customer(frame, first)
    breakage = Breakage(
        schema.ID, ("unique",), (_line(first), _line(second)), (_customer(frame, first),)
    )
    return _write(frame), breakage


def unknown_level(good: bytes, params: dict[str, Any]) -> tuple[bytes, Breakage]:
    frame = _read(good)
    row = len(frame) // 6
    frame.loc[row, "contract"] = "Three year"
    levels = schema.CATEGORICAL["contract"]
    breakage = Breakage("contract", levels, (_line(row),), (_customer(frame, row),))
    return _write(frame), breakage


def empty_file(good: bytes, params: dict[str, Any]) -> tuple[bytes, Breakage]:
    return b"", Breakage("(file)", ("csv",))


def truncated_file(good: bytes, params: dict[str, Any]) -> tuple[bytes, Breakage]:
    """Cut in the middle of a row, as an interrupted download or copy leaves it."""
    frame = _read(good)
    row = len(frame) // 2
    lines = good.splitlines(keepends=True)
    kept = b"".join(lines[: _line(row) - 1])
    cut = lines[_line(row) - 1]
    bad = kept + cut[: len(cut) // 2]
    # The label is the last field: a half row has lost it, and validate must see the hole.
    breakage = Breakage(schema.LABEL, ("null",), (_line(row),), (_customer(frame, row),), False)
    return bad, breakage


def label_missing(good: bytes, params: dict[str, Any]) -> tuple[bytes, Breakage]:
    frame = _read(good).drop(columns=[schema.LABEL])
    return _write(frame), Breakage(schema.LABEL, ("missing",))


def all_one_class(good: bytes, params: dict[str, Any]) -> tuple[bytes, Breakage]:
    frame = _read(good)
    frame[schema.LABEL] = next(
        level for level in schema.LABEL_LEVELS if level != schema.LABEL_POSITIVE
    )
    bounds = (str(params["label_rate_min"]), str(params["label_rate_max"]))
    return _write(frame), Breakage(schema.LABEL, bounds)


def extra_column(good: bytes, params: dict[str, Any]) -> tuple[bytes, Breakage]:
    frame = _read(good)
    frame["referral_code"] = [f"R{number:05d}" for number in range(len(frame))]
    return _write(frame), Breakage("referral_code", ("schema",))


def flag_not_binary(good: bytes, params: dict[str, Any]) -> tuple[bytes, Breakage]:
    frame = _read(good)
    row = len(frame) // 7
    frame.loc[row, "partner"] = 2
    breakage = Breakage("partner", ("0", "1"), (_line(row),), (_customer(frame, row),))
    return _write(frame), breakage


def unknown_label(good: bytes, params: dict[str, Any]) -> tuple[bytes, Breakage]:
    frame = _read(good)
    row = len(frame) // 8
    frame.loc[row, schema.LABEL] = "Maybe"
    breakage = Breakage(schema.LABEL, schema.LABEL_LEVELS, (_line(row),), (_customer(frame, row),))
    return _write(frame), breakage


def blank_id(good: bytes, params: dict[str, Any]) -> tuple[bytes, Breakage]:
    frame = _read(good)
    row = len(frame) // 9
    frame[schema.ID] = frame[schema.ID].astype(object)
    frame.loc[row, schema.ID] = None
    return _write(frame), Breakage(schema.ID, ("null",), (_line(row),))


def fractional_count(good: bytes, params: dict[str, Any]) -> tuple[bytes, Breakage]:
    frame = _read(good)
    rows = [len(frame) // 10, len(frame) // 5]
    frame["tenure"] = frame["tenure"].astype("float64")
    frame.loc[rows, "tenure"] = [1.5, 12.25]
    breakage = Breakage(
        "tenure",
        ("whole",),
        tuple(_line(row) for row in rows),
        tuple(_customer(frame, row) for row in rows),
    )
    return _write(frame), breakage


def fractional_flag(good: bytes, params: dict[str, Any]) -> tuple[bytes, Breakage]:
    frame = _read(good)
    row = len(frame) // 7
    frame["partner"] = frame["partner"].astype("float64")
    frame.loc[row, "partner"] = 0.5
    breakage = Breakage("partner", ("isin",), (_line(row),), (_customer(frame, row),))
    return _write(frame), breakage


CORPUS: tuple[BadData, ...] = tuple(
    BadData(function.__name__, function)
    for function in (
        missing_column,
        wrong_type,
        out_of_range,
        duplicate_ids,
        unknown_level,
        empty_file,
        truncated_file,
        label_missing,
        all_one_class,
        extra_column,
        flag_not_binary,
        unknown_label,
        blank_id,
        fractional_count,
        fractional_flag,
    )
)


def assert_report_names(report: dict[str, Any], printed: str, breakage: Breakage) -> None:
    """The report (validate's JSON) and the printed text name the column, rule and rows."""
    assert report["status"] == "failed", report
    problems = [problem for table in report["tables"].values() for problem in table["problems"]]
    about_column = [problem for problem in problems if problem["column"] == breakage.column]
    assert about_column, f"no problem names column {breakage.column!r}: {problems}"
    matching = [
        problem
        for problem in about_column
        if all(word.lower() in problem["rule"].lower() for word in breakage.rule_words)
    ]
    assert matching, f"no rule on {breakage.column!r} mentions {breakage.rule_words}: {problems}"
    problem = matching[0]
    if breakage.only:
        assert {p["column"] for p in problems} == {breakage.column}, problems
    shown_lines = {example.get("line") for example in problem["examples"]}
    assert set(breakage.lines) <= shown_lines, problem
    shown_customers = {example.get(schema.ID) for example in problem["examples"]}
    assert set(breakage.customer_ids) <= shown_customers, problem

    assert breakage.column in printed
    assert problem["rule"] in printed
    for line in breakage.lines:
        assert str(line) in printed
    for customer in breakage.customer_ids:
        assert customer in printed


def prepare_and_validate(
    content: bytes, folder: Path, params: dict[str, Any], prepare_params: dict[str, Any]
) -> dict[str, Any]:
    """What the prepare and validate stages do, in process, on a raw file with `content`."""
    raw_path = folder / "raw.csv"
    raw_path.write_bytes(content)
    try:
        raw = read_raw(raw_path)
    except RawDataError:
        raw = pd.DataFrame()  # as prepare does: empty outputs, the verdict is validate's
    train, test = split(
        clean(raw), test_fraction=prepare_params["test_fraction"], salt=prepare_params["split_salt"]
    )
    prepared = [folder / "train.parquet", folder / "test.parquet"]
    write_parquet(train, prepared[0])
    write_parquet(test, prepared[1])
    return validate(raw_path, prepared, params)


def raw_schema(params: dict[str, Any]) -> Any:
    """The raw table's contract with the bounds of params.yaml's `validate` section."""
    return schema.raw_schema(
        label_rate_min=params["label_rate_min"], label_rate_max=params["label_rate_max"]
    )


@functools.cache
def _generated(good_csv: bytes, label_rate_min: float, label_rate_max: float) -> Generated:
    good = csv_roundtrip(_read(good_csv).head(GENERATION_ROWS))
    bounds = {"label_rate_min": label_rate_min, "label_rate_max": label_rate_max}
    return frame_cases("raw", raw_schema(bounds), good, load=csv_roundtrip)


def generated(good_csv: bytes, params: dict[str, Any]) -> Generated:
    """A case for every rule of the raw schema, on the first rows of the good file."""
    return _generated(good_csv, params["label_rate_min"], params["label_rate_max"])


def breakage(case: Case, broken: pd.DataFrame, *, only: bool = True) -> Breakage:
    """What the report must say about one generated case: its column, rule, line, customer."""
    lines: tuple[int, ...] = ()
    customers: tuple[str, ...] = ()
    if case.row is not None:
        lines = (_line(case.row),)
        if case.column != schema.ID and schema.ID in broken:
            customers = (_customer(broken, case.row),)
    return Breakage(case.reported or case.column, case.words, lines, customers, only)


def generated_file(good_csv: bytes, cases: list[Case]) -> tuple[bytes, list[Breakage]]:
    """One raw file breaking every case given, and what the report must say of each."""
    broken = break_all(_read(good_csv), cases)
    only = len(cases) == 1
    return _write(broken), [breakage(case, broken, only=only) for case in cases]


def generated_batches(good_csv: bytes, params: dict[str, Any]) -> list[list[Case]]:
    """The generated cases packed into a few files (tests/rules.py `batches`)."""
    return batches(generated(good_csv, params).cases)
