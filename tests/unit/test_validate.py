"""validate: every kind of bad raw data is reported by column and rule, pointing at the rows."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from churn import schema
from churn.validate import check_table, format_report
from tests.corpus import (
    CORPUS,
    BadData,
    assert_report_names,
    generated,
    generated_batches,
    generated_file,
    prepare_and_validate,
    raw_schema,
)


def test_good_data_passes(
    good_small_csv: bytes,
    tmp_path: Path,
    validate_params: dict[str, Any],
    prepare_params: dict[str, Any],
) -> None:
    report = prepare_and_validate(good_small_csv, tmp_path, validate_params, prepare_params)

    assert report["status"] == "passed", format_report(report)
    assert set(report["tables"]) == {"raw", "prepared"}
    rows = len(pd.read_csv(io.BytesIO(good_small_csv)))
    for table in report["tables"].values():
        assert table["problems"] == []
        assert table["rows"] == rows


def test_good_data_rewritten_by_pandas_passes(
    good_small: pd.DataFrame,
    tmp_path: Path,
    validate_params: dict[str, Any],
    prepare_params: dict[str, Any],
) -> None:
    """The corpus rewrites the CSV with pandas: the rewrite alone must not be what fails."""
    content = good_small.to_csv(index=False).encode()
    report = prepare_and_validate(content, tmp_path, validate_params, prepare_params)
    assert report["status"] == "passed", format_report(report)


@pytest.mark.parametrize("bad", CORPUS, ids=str)
def test_bad_data_is_reported_by_column_and_rule(
    bad: BadData,
    good_small_csv: bytes,
    tmp_path: Path,
    validate_params: dict[str, Any],
    prepare_params: dict[str, Any],
) -> None:
    content, breakage = bad.make(good_small_csv, validate_params)

    report = prepare_and_validate(content, tmp_path, validate_params, prepare_params)

    assert_report_names(report, format_report(report), breakage)


def test_the_report_shows_at_most_report_rows_examples(
    good_small: pd.DataFrame,
    tmp_path: Path,
    validate_params: dict[str, Any],
    prepare_params: dict[str, Any],
) -> None:
    broken = list(range(10, 30))
    good_small.loc[broken, "contract"] = "Three year"
    params = {**validate_params, "report_rows": 3}

    report = prepare_and_validate(
        good_small.to_csv(index=False).encode(), tmp_path, params, prepare_params
    )

    [problem] = report["tables"]["raw"]["problems"]
    assert problem["column"] == "contract"
    assert problem["failing_rows"] == len(broken)
    assert [example["line"] for example in problem["examples"]] == [row + 2 for row in broken[:3]]
    assert [example[schema.ID] for example in problem["examples"]] == list(
        good_small.loc[broken[:3], schema.ID]
    )
    assert {example["value"] for example in problem["examples"]} == {"Three year"}
    assert str(len(broken)) in format_report(report)


def test_every_broken_rule_is_reported_not_just_the_first(
    good_small: pd.DataFrame,
    tmp_path: Path,
    validate_params: dict[str, Any],
    prepare_params: dict[str, Any],
) -> None:
    good_small.loc[5, "contract"] = "Three year"
    good_small.loc[6, "monthly_charges"] = -1.0
    frame = good_small.drop(columns=["partner"])

    report = prepare_and_validate(
        frame.to_csv(index=False).encode(), tmp_path, validate_params, prepare_params
    )

    columns = {problem["column"] for problem in report["tables"]["raw"]["problems"]}
    assert columns == {"contract", "monthly_charges", "partner"}
    printed = format_report(report)
    for column in columns:
        assert column in printed


def test_a_good_table_is_reported_as_passing_with_its_row_count(
    good_small_csv: bytes,
    tmp_path: Path,
    validate_params: dict[str, Any],
    prepare_params: dict[str, Any],
) -> None:
    report = prepare_and_validate(good_small_csv, tmp_path, validate_params, prepare_params)
    printed = format_report(report)
    for table in report["tables"].values():
        assert table["path"] in printed
        assert str(table["rows"]) in printed


def test_every_declared_rule_broken_alone_is_reported_by_column_rule_and_row(
    good_small_csv: bytes,
    tmp_path: Path,
    validate_params: dict[str, Any],
    prepare_params: dict[str, Any],
) -> None:
    """One generated case per rule of the raw schema (tests/rules.py), each in a file alone,
    checked as validate checks the raw table (the batches below go through prepare too)."""
    cases = generated(good_small_csv, validate_params).cases
    assert len(cases) >= len(schema.RAW_COLUMNS) * 2, cases
    contract = raw_schema(validate_params)
    rows_shown = int(validate_params["report_rows"])
    unreported = []
    for case in cases:
        content, [breakage] = generated_file(good_small_csv, [case])
        raw = pd.read_csv(io.BytesIO(content))
        problems = check_table(raw, contract, rows_shown=rows_shown, line_offset=2)
        table = {"path": "raw.csv", "rows": len(raw), "problems": problems}
        report = {"status": "failed" if problems else "passed", "tables": {"raw": table}}
        try:
            assert_report_names(report, format_report(report), breakage)
        except AssertionError as error:
            unreported.append(f"{case}: {error}")
    assert not unreported, "\n".join(unreported)


def test_a_file_breaking_many_rules_reports_each(
    good_small_csv: bytes,
    tmp_path: Path,
    validate_params: dict[str, Any],
    prepare_params: dict[str, Any],
) -> None:
    """The batches the e2e test sends through `dvc repro`: every case in them is named."""
    packed = generated_batches(good_small_csv, validate_params)
    assert sum(map(len, packed)) == len(generated(good_small_csv, validate_params).cases)
    assert len(packed) < 10, [len(batch) for batch in packed]  # the e2e test runs each
    unreported = []
    for batch in packed:
        content, breakages = generated_file(good_small_csv, batch)
        report = prepare_and_validate(content, tmp_path, validate_params, prepare_params)
        for case, breakage in zip(batch, breakages, strict=True):
            try:
                assert_report_names(report, format_report(report), breakage)
            except AssertionError as error:
                unreported.append(f"{case}: {error}")
    assert not unreported, "\n".join(unreported)
