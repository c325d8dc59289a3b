"""Data changes: which changed paths are inputs, and what a table looks like on each side."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from fsspec.implementations.local import LocalFileSystem  # type: ignore[import-untyped]

from mlgitops.report import data
from mlgitops.report.data import (
    Inputs,
    changed_inputs,
    compare_columns,
    describe_changes,
    describe_file,
)

FRAME = pd.DataFrame({"id": [1, 2, 3], "score": [0.5, 0.25, 1.0], "plan": ["a", "b", "a"]})
DTYPES = {"id": "int64", "score": "float64", "plan": "str"}


@pytest.fixture
def files(tmp_path: Path) -> Path:
    FRAME.to_csv(tmp_path / "t.csv", index=False)
    FRAME.to_csv(tmp_path / "t.tsv", index=False, sep="\t")
    FRAME.to_parquet(tmp_path / "t.parquet", index=False)
    (tmp_path / "model.txt").write_text("tree\n")
    (tmp_path / "broken.parquet").write_bytes(b"not parquet at all")
    return tmp_path


@pytest.mark.parametrize("name", ["t.csv", "t.tsv", "t.parquet"])
def test_tables_give_rows_and_column_types(files: Path, name: str) -> None:
    described = describe_file(LocalFileSystem(), str(files / name))

    assert described == {
        "size": (files / name).stat().st_size,
        "rows": 3,
        "columns": DTYPES,
    }


def test_large_csv_is_read_in_chunks_to_the_same_answer(
    files: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(data, "_WHOLE_READ_LIMIT", 0)
    monkeypatch.setattr(data, "_CHUNK_ROWS", 2)

    assert describe_file(LocalFileSystem(), str(files / "t.csv"))["rows"] == 3


def test_other_files_give_size_only_and_broken_tables_say_why(files: Path) -> None:
    assert describe_file(LocalFileSystem(), str(files / "model.txt")) == {
        "size": 5,
        "rows": None,
        "columns": None,
    }
    broken = describe_file(LocalFileSystem(), str(files / "broken.parquet"))
    assert (broken["size"], broken["rows"]) == (18, None)
    assert broken["error"].startswith("cannot read as a table:")


def test_column_changes() -> None:
    old = {"columns": {"a": "int64", "b": "str", "c": "float64"}}
    new = {"columns": {"a": "str", "c": "float64", "d": "bool"}}

    assert compare_columns(old, new) == {
        "columns_added": ["d"],
        "columns_removed": ["b"],
        "columns_retyped": [{"column": "a", "old": "int64", "new": "str"}],
    }
    assert compare_columns(None, new)["columns_added"] == []


def test_inputs_are_tracked_data_external_deps_and_tables_between_stages() -> None:
    inputs = Inputs(
        sources=frozenset({"data/raw"}),
        deps=frozenset({"data/raw", "data/prepared/train.parquet", "models/model.txt", "ext.csv"}),
        produced=frozenset({"data/prepared/train.parquet", "models/model.txt", "plots/images"}),
    )
    diff: dict[str, list[dict[str, Any]]] = {
        "added": [{"path": "data/raw/"}, {"path": "data/raw/part-2.csv"}],
        "modified": [
            {"path": "data/prepared/train.parquet"},
            {"path": "models/model.txt"},
            {"path": "plots/images/roc.png"},
            {"path": "ext.csv"},
        ],
        "renamed": [{"path": {"old": "data/raw/a.csv", "new": "data/raw/b.csv"}}],
    }

    assert changed_inputs(diff, inputs) == [
        {
            "path": "data/prepared/train.parquet",
            "change": "modified",
            "from": "data/prepared/train.parquet",
        },
        {"path": "data/raw/b.csv", "change": "renamed", "from": "data/raw/a.csv"},
        {"path": "data/raw/part-2.csv", "change": "added", "from": "data/raw/part-2.csv"},
        {"path": "ext.csv", "change": "modified", "from": "ext.csv"},
    ]


def test_a_renamed_table_is_a_modification_from_its_old_path(files: Path) -> None:
    FRAME.head(2).to_csv(files / "renamed.csv", index=False)
    entries = [
        {"path": str(files / "renamed.csv"), "change": "renamed", "from": str(files / "t.csv")}
    ]

    [record] = describe_changes(entries, LocalFileSystem(), LocalFileSystem())

    assert record["change"] == "modified"
    assert record["from"] == str(files / "t.csv")
    assert (record["old"]["rows"], record["new"]["rows"]) == (3, 2)
