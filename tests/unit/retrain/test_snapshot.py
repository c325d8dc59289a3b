"""The snapshot: labelled rows merged into the tracked table by id, and bad files named."""

from __future__ import annotations

import io
from pathlib import Path

import pandas as pd
import pytest

from mlgitops.errors import UsageError
from mlgitops.retrain.snapshot import (
    incoming_files,
    merge_labelled,
    read_labelled,
    read_table,
    write_table,
)


def _text(csv: bytes) -> pd.DataFrame:
    return read_table(io.BytesIO(csv), name="table.csv", text=True)


def test_merging_nothing_new_rewrites_the_real_table_byte_for_byte(
    good_raw_csv: bytes, tmp_path: Path
) -> None:
    base = _text(good_raw_csv)
    first = base.head(20)
    merged, change = merge_labelled(base, [("same.csv", first)], id_column="customer_id")
    assert (change.added, change.updated, change.unchanged) == (0, 0, 20)
    assert not change.changed
    write_table(merged, tmp_path / "t.csv")
    assert (tmp_path / "t.csv").read_bytes() == good_raw_csv


def test_new_ids_are_appended_and_changed_rows_replace_old_ones(good_raw_csv: bytes) -> None:
    base = _text(good_raw_csv)
    new = base.iloc[10:13].copy()
    new["customer_id"] = ["X1", "X2", "X3"]
    relabelled = base.iloc[[4]].copy()
    relabelled["churn"] = "Yes" if relabelled["churn"].iloc[0] == "No" else "No"
    later = new.iloc[[0]].assign(tenure="7")  # a later file wins for the same id
    merged, change = merge_labelled(
        base, [("a.csv", pd.concat([new, relabelled])), ("b.csv", later)], id_column="customer_id"
    )
    assert (change.rows_before, change.rows_after) == (len(base), len(base) + 3)
    assert (change.added, change.updated, change.unchanged) == (3, 1, 0)
    assert change.files == ("a.csv", "b.csv")
    assert merged["customer_id"].is_unique
    # in file order; an id given twice sits where its last (winning) row is
    assert list(merged["customer_id"].tail(4)) == ["X2", "X3", base["customer_id"][4], "X1"]
    assert merged.set_index("customer_id").at["X1", "tenure"] == "7"
    assert base["customer_id"][4] not in set(merged["customer_id"].head(len(base) - 1))


def test_a_file_with_other_columns_is_named(good_raw_csv: bytes) -> None:
    base = _text(good_raw_csv)
    odd = base.head(2).drop(columns=["tenure"]).assign(extra="1")
    wrong = r"odd.csv: .*missing \['tenure'\], unexpected \['extra'\]"
    with pytest.raises(UsageError, match=wrong):
        merge_labelled(base, [("odd.csv", odd)], id_column="customer_id")


def test_rows_without_an_id_are_named_with_their_lines(good_raw_csv: bytes) -> None:
    base = _text(good_raw_csv)
    rows = base.head(3).copy()
    rows.loc[1, "customer_id"] = ""
    with pytest.raises(UsageError, match=r"x.csv: 1 row\(s\) without customer_id \(lines \[3\]\)"):
        merge_labelled(base, [("x.csv", rows)], id_column="customer_id")


def test_parquet_files_are_read_as_the_csv_table_text(
    good_raw: pd.DataFrame, tmp_path: Path
) -> None:
    folder = tmp_path / "incoming"
    folder.mkdir()
    good_raw.head(5).to_parquet(folder / "b.parquet")
    good_raw.head(5).to_csv(folder / "a.csv", index=False)
    (folder / "notes.txt").write_text("not a table")
    files = incoming_files(folder)
    assert [path.name for path in files] == ["a.csv", "b.parquet"]
    (_, csv), (_, parquet) = read_labelled(files, text=True)
    pd.testing.assert_frame_equal(csv, parquet)


def test_a_missing_incoming_folder_is_a_usage_error(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match=r"retrain\.incoming"):
        incoming_files(tmp_path / "nowhere")


def test_a_parquet_table_keeps_its_types_and_a_value_that_does_not_fit_is_named(
    good_raw: pd.DataFrame, tmp_path: Path
) -> None:
    base = good_raw.head(50).reset_index(drop=True)
    new = good_raw.iloc[50:52].copy()
    new["tenure"] = new["tenure"].astype(str)  # a CSV-ish file: numbers as text still fit
    merged, change = merge_labelled(base, [("n.csv", new)], id_column="customer_id")
    assert (change.added, len(merged)) == (2, 52)
    assert merged.dtypes.equals(base.dtypes)
    write_table(merged, tmp_path / "t.parquet")
    pd.testing.assert_frame_equal(pd.read_parquet(tmp_path / "t.parquet"), merged)
    bad = new.assign(tenure="many")
    with pytest.raises(UsageError, match=r"bad.csv: a value does not fit the table's column type"):
        merge_labelled(base, [("bad.csv", bad)], id_column="customer_id")
