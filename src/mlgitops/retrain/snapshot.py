"""The new training snapshot: the tracked table plus newly labelled rows, one row per id.

A labelled row replaces the table's row with the same id; a row identical to the one the table
holds changes nothing, so running again on the same files is a no-op. A CSV table is handled as
text, so rows that did not change keep their exact bytes and the data diff shows only real
changes; a Parquet table keeps its column types and incoming files are cast to them.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import pandas as pd

from mlgitops.errors import UsageError

logger = logging.getLogger(__name__)

CSV_SUFFIXES = (".csv",)
PARQUET_SUFFIXES = (".parquet", ".pq")


@dataclass(frozen=True)
class SnapshotChange:
    """What the labelled files changed in the table."""

    rows_before: int
    rows_after: int
    added: int  # ids the table did not have
    updated: int  # ids it had, with other values now (a new label, corrected inputs)
    unchanged: int  # labelled rows identical to the table's
    files: tuple[str, ...]

    @property
    def changed(self) -> bool:
        return bool(self.added or self.updated)


def is_text_table(path: Path) -> bool:
    """Whether the table is CSV (handled as text) or Parquet (typed); UsageError otherwise."""
    suffix = path.suffix.lower()
    if suffix in CSV_SUFFIXES:
        return True
    if suffix in PARQUET_SUFFIXES:
        return False
    raise UsageError(f"{path}: only CSV and Parquet tables can be refreshed, not {suffix!r}")


def incoming_files(folder: Path) -> list[Path]:
    """The CSV and Parquet files in `folder` (not below it), by name; UsageError if no folder."""
    if not folder.is_dir():
        raise UsageError(
            f"{folder} is not a folder; retrain.incoming in params.yaml names where newly "
            "labelled CSV/Parquet files land (mount the bucket there, or change the key)"
        )
    suffixes = CSV_SUFFIXES + PARQUET_SUFFIXES
    return sorted(
        path for path in folder.iterdir() if path.is_file() and path.suffix.lower() in suffixes
    )


def read_table(source: Path | IO[bytes], *, name: str, text: bool) -> pd.DataFrame:
    """A CSV or Parquet table; as text (every cell a string, blanks "") when `text`."""
    parquet = name.lower().endswith(PARQUET_SUFFIXES)
    try:
        if not parquet:
            if text:
                return pd.read_csv(source, dtype=str, keep_default_na=False)
            return pd.read_csv(source)
        frame = pd.read_parquet(source)
    except (OSError, ValueError, pd.errors.ParserError) as error:
        raise UsageError(f"{name} cannot be read as a table: {error}") from None
    if text:
        frame = frame.astype(object).where(frame.notna(), "").map(str)
    return frame


def _aligned(frame: pd.DataFrame, base: pd.DataFrame, name: str, id_column: str) -> pd.DataFrame:
    """`frame` with `base`'s columns in `base`'s order and types; UsageError naming the file."""
    missing = [column for column in base.columns if column not in frame.columns]
    extra = [column for column in frame.columns if column not in base.columns]
    if missing or extra:
        raise UsageError(
            f"{name}: its columns differ from the table's: missing {missing}, unexpected {extra}"
        )
    frame = frame[list(base.columns)]
    blank = frame[id_column].isna() | (frame[id_column].astype(str).str.strip() == "")
    if blank.any():
        lines = [int(i) + 2 for i in frame.index[blank][:5]]  # header is line 1
        raise UsageError(f"{name}: {int(blank.sum())} row(s) without {id_column} (lines {lines})")
    try:
        return frame.astype(base.dtypes.to_dict())
    except (TypeError, ValueError) as error:
        raise UsageError(f"{name}: a value does not fit the table's column type: {error}") from None


def _same_rows(new: pd.DataFrame, old: pd.DataFrame) -> pd.Series[bool]:
    """Row by row (aligned on the index), whether every cell is equal (two blanks are equal)."""
    equal = (new == old) | (new.isna() & old.isna())
    return equal.all(axis=1)


def merge_labelled(
    base: pd.DataFrame, labelled: list[tuple[str, pd.DataFrame]], *, id_column: str
) -> tuple[pd.DataFrame, SnapshotChange]:
    """The table with the labelled rows merged in (later files win), and what changed."""
    if id_column not in base.columns:
        raise UsageError(f"the table has no id column {id_column!r} (retrain.id_column)")
    names = tuple(name for name, _ in labelled)
    frames = [_aligned(frame, base, name, id_column) for name, frame in labelled]
    if not frames:
        empty = SnapshotChange(len(base), len(base), 0, 0, 0, names)
        return base, empty
    new = pd.concat(frames, ignore_index=True).drop_duplicates(subset=id_column, keep="last")
    lookup = base.drop_duplicates(subset=id_column, keep="last").set_index(id_column)
    known = new[id_column].isin(lookup.index)
    keyed = new.set_index(id_column)
    known_ids = new.loc[known, id_column]
    identical = _same_rows(keyed.loc[known_ids], lookup.loc[known_ids, keyed.columns])
    unchanged_ids = set(identical.index[identical])
    changed = new[~new[id_column].isin(unchanged_ids)]
    merged = pd.concat(
        [base[~base[id_column].isin(changed[id_column])], changed], ignore_index=True
    )
    change = SnapshotChange(
        rows_before=len(base),
        rows_after=len(merged),
        added=int((~known).sum()),
        updated=int(known.sum()) - len(unchanged_ids),
        unchanged=len(unchanged_ids),
        files=names,
    )
    return merged, change


def write_table(frame: pd.DataFrame, path: Path) -> None:
    """Writes the snapshot where the tracked table is, in the table's own format."""
    if is_text_table(path):
        frame.to_csv(path, index=False)
    else:
        frame.to_parquet(path, index=False)


def read_labelled(files: list[Path], *, text: bool) -> list[tuple[str, pd.DataFrame]]:
    """Every labelled file as (its name, its rows)."""
    found: list[tuple[str, Any]] = []
    for path in files:
        found.append((str(path), read_table(path, name=str(path), text=text)))
        logger.info("retrain: %s: %d labelled rows", path, len(found[-1][1]))
    return found
