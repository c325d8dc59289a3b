"""DVC stage `validate`: check the raw and the prepared tables against the schemas.

On failure it prints a readable report (the column, the rule, up to a few failing rows),
writes the same report to reports/validation.json and exits 1, so `dvc repro` stops here and
the model and metrics of the last good run stay as they were.
"""

from __future__ import annotations

import gc
import json
import logging
import re
import sys
from contextlib import AbstractContextManager, nullcontext
from pathlib import Path
from typing import Any

import pandas as pd

from churn import schema
from churn.io import RAW_PATH, TEST_PATH, TRAIN_PATH, RawDataError, load_params, read_raw
from churn.timing import StageTimer

logger = logging.getLogger(__name__)

REPORT_PATH = Path("reports/validation.json")
_COERCE = re.compile(r"coerce_dtype\('(.+)'\)")


def _describe(value: Any) -> Any:
    """A failing value as JSON can carry it: numbers stay numbers, the rest becomes text."""
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return None
    if isinstance(value, bool | int | float | str):
        return value
    if hasattr(value, "item"):
        return value.item()
    return str(value)


def _problems(
    frame: pd.DataFrame, failures: pd.DataFrame, *, rows_shown: int, line_offset: int | None
) -> list[dict[str, Any]]:
    """Group pandera's failure cases into one entry per (column, rule)."""
    problems: list[dict[str, Any]] = []
    failures = failures.copy()
    structural = failures["check"].isin(["column_in_dataframe", "column_in_schema"])
    failures.loc[structural, "column"] = failures.loc[structural, "failure_case"]
    failures.loc[structural, "index"] = None
    # A wide check (across columns) reports each failing row once per column: keep one.
    wide = (failures["schema_context"] == "DataFrameSchema") & ~structural
    failures.loc[wide, "column"] = "(row)"
    failures = failures.drop_duplicates(subset=["column", "check", "index"])
    # A value that cannot be read as the column's type also fails its dtype and value checks:
    # report the type, not its echoes.
    checks = failures["check"].astype("str")
    mistyped = set(failures.loc[checks.str.startswith("coerce_dtype"), "column"])
    echo = failures["column"].isin(mistyped) & ~checks.str.startswith("coerce_dtype")
    failures = failures[~echo]
    rules = {
        "column_in_dataframe": "column is required but missing",
        "column_in_schema": "column is not in the schema",
    }
    for (column, check), group in failures.groupby(["column", "check"], sort=False):
        rows = group[group["index"].notna()]
        examples = []
        for _, failure in rows.head(rows_shown).iterrows():
            position = int(failure["index"])
            example: dict[str, Any] = {"value": _describe(failure["failure_case"])}
            if line_offset is not None:
                example["line"] = position + line_offset
            if schema.ID in frame and position in frame.index:
                example[schema.ID] = _describe(frame.at[position, schema.ID])
            examples.append(example)
        problems.append(
            {
                "column": str(column),
                "rule": rules.get(
                    str(check), str(check).replace("coerce_dtype", "must be of type")
                ),
                "failing_rows": len(rows),
                "examples": examples,
            }
        )
    return problems


def check_table(
    frame: pd.DataFrame, table_schema: Any, *, rows_shown: int, line_offset: int | None
) -> list[dict[str, Any]]:
    """Every problem pandera finds in the frame (lazy: all rules, not just the first)."""
    from pandera.errors import SchemaErrors

    try:
        table_schema.validate(frame, lazy=True)
    except SchemaErrors as errors:
        return _problems(
            frame, errors.failure_cases, rows_shown=rows_shown, line_offset=line_offset
        )
    return []


def validate(
    raw_path: Path,
    prepared_paths: list[Path],
    params: dict[str, Any],
    *,
    timer: StageTimer | None = None,
) -> dict[str, Any]:
    """The validation report for the raw file and the prepared files; 'status' says the verdict.

    With a `timer`, reading the files counts as its `read` phase, apart from the checks.
    """

    def reading() -> AbstractContextManager[None]:
        return timer.phase("read") if timer else nullcontext()

    bounds = {
        "label_rate_min": params["label_rate_min"],
        "label_rate_max": params["label_rate_max"],
    }
    rows_shown = int(params["report_rows"])
    tables: dict[str, dict[str, Any]] = {}
    try:
        with reading():
            raw = read_raw(raw_path)
    except RawDataError as error:
        problem = {
            "column": "(file)",
            "rule": "readable CSV table",
            "failing_rows": 0,
            "examples": [{"value": str(error.__cause__ or error)}],
        }
        tables["raw"] = {"path": str(raw_path), "rows": 0, "problems": [problem]}
    else:
        # Line numbers as an editor shows them: the header is line 1.
        tables["raw"] = {
            "path": str(raw_path),
            "rows": len(raw),
            "problems": check_table(
                raw, schema.raw_schema(**bounds), rows_shown=rows_shown, line_offset=2
            ),
        }
    # Problems in the prepared frames would only echo the raw ones: check them on clean input.
    if not tables["raw"]["problems"]:
        with reading():
            frames = [pd.read_parquet(path) for path in prepared_paths]
        prepared = pd.concat(frames, ignore_index=True)
        tables["prepared"] = {
            "path": ", ".join(str(path) for path in prepared_paths),
            "rows": len(prepared),
            "problems": check_table(
                prepared, schema.prepared_schema(**bounds), rows_shown=rows_shown, line_offset=None
            ),
        }
    failed = any(table["problems"] for table in tables.values())
    return {"status": "failed" if failed else "passed", "tables": tables}


def format_report(report: dict[str, Any]) -> str:
    """The report as a person reads it in a terminal or a CI log."""
    lines = []
    for name, table in report["tables"].items():
        problems = table["problems"]
        if not problems:
            lines.append(f"{name} ({table['path']}): {table['rows']} rows, all rules pass")
            continue
        lines.append(f"{name} ({table['path']}): {len(problems)} rule(s) broken")
        for problem in problems:
            count = problem["failing_rows"]
            lines.append(
                f"  column {problem['column']!r}: {problem['rule']}"
                + (f" ({count} failing rows)" if count else "")
            )
            for example in problem["examples"]:
                where = ", ".join(
                    f"{key} {value}" for key, value in example.items() if key != "value"
                )
                lines.append(f"    {where + ': ' if where else ''}{example['value']!r}")
    return "\n".join(lines)


def main() -> None:
    timer = StageTimer("validate")
    with timer.phase("imports"):
        import pandera.pandas  # noqa: F401  (schema.py imports it on first use)
    gc.freeze()  # what is imported lives to the end: keep the GC off it (docs/benchmarks.md)
    params = load_params("validate")
    with timer.phase("work"):
        report = validate(RAW_PATH, [TRAIN_PATH, TEST_PATH], params, timer=timer)
    with timer.phase("write"):
        REPORT_PATH.parent.mkdir(parents=True, exist_ok=True)
        REPORT_PATH.write_text(json.dumps(report, indent=2) + "\n")
    timer.report()
    if report["status"] == "failed":
        logger.error(
            "validation failed; the model and metrics of the last good run are kept\n%s",
            format_report(report),
        )
        sys.exit(1)
    logger.info("%s", format_report(report))


if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    main()
