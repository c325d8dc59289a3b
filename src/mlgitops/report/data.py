"""Which DVC-tracked inputs changed, and for tables how: size, rows, columns and their types.

`dvc diff` says which files changed; this opens both versions (through DVC's file system,
so a base revision is read from the cache or remote) and compares their shapes.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any, Protocol

logger = logging.getLogger(__name__)

TABLE_SUFFIXES = (".csv", ".tsv", ".parquet", ".pq")
_WHOLE_READ_LIMIT = 64 * 1024 * 1024  # larger CSV files are read in chunks
_CHUNK_ROWS = 200_000
MAX_FILES = 200  # entries described; the rest are counted in the log


class FileSystem(Protocol):
    """What we need of a file system at one revision (DVC's `DVCFileSystem` has it)."""

    def open(self, path: str, mode: str = "rb") -> Any: ...

    def info(self, path: str) -> dict[str, Any]: ...


@dataclass(frozen=True)
class Inputs:
    """Repo-relative paths: `.dvc`-tracked data, stage dependencies, and what stages write."""

    sources: frozenset[str] = frozenset()
    deps: frozenset[str] = frozenset()
    produced: frozenset[str] = frozenset()

    def merge(self, other: Inputs) -> Inputs:
        """Both revisions' paths together."""
        return Inputs(
            sources=self.sources | other.sources,
            deps=self.deps | other.deps,
            produced=self.produced | other.produced,
        )

    def holds(self, path: str) -> bool:
        """Whether `path` is an input: `.dvc`-tracked data, a dependency no stage writes, or a
        table passed between stages (a model file passed between stages is not)."""
        if _under(path, self.sources):
            return True
        if not _under(path, self.deps):
            return False
        return not _under(path, self.produced) or path.lower().endswith(TABLE_SUFFIXES)


def _under(path: str, roots: frozenset[str]) -> bool:
    path = path.rstrip("/")
    return any(path == root or path.startswith(root.rstrip("/") + "/") for root in roots)


def changed_inputs(diff: dict[str, list[dict[str, Any]]], inputs: Inputs) -> list[dict[str, Any]]:
    """The file entries of a `dvc diff` result that are inputs, as (path, change, old path)."""
    entries: list[dict[str, Any]] = []
    for change in ("added", "deleted", "modified", "renamed"):
        for entry in diff.get(change, []):
            path = entry["path"]
            old_path = path
            if isinstance(path, dict):
                old_path, path = path["old"], path["new"]
            if path.endswith("/") or not (inputs.holds(path) or inputs.holds(old_path)):
                continue
            entries.append({"path": path, "change": change, "from": old_path})
    entries.sort(key=lambda entry: str(entry["path"]))
    if len(entries) > MAX_FILES:
        logger.warning("data: %d changed inputs, describing the first %d", len(entries), MAX_FILES)
    return entries[:MAX_FILES]


def describe_changes(
    entries: list[dict[str, Any]], base_fs: FileSystem, head_fs: FileSystem
) -> list[dict[str, Any]]:
    """One record per changed input: both sides described, and the column changes of tables."""
    records = []
    for entry in entries:
        change = entry["change"]
        old = None if change == "added" else describe_file(base_fs, entry["from"])
        new = None if change == "deleted" else describe_file(head_fs, entry["path"])
        # a rename is a modification whose `from` differs (report.json knows three changes)
        record: dict[str, Any] = {"path": entry["path"], "change": "modified"}
        if change != "renamed":
            record["change"] = change
        else:
            record["from"] = entry["from"]
        record.update(old=old, new=new, **compare_columns(old, new))
        records.append(record)
    return records


def describe_file(fs: FileSystem, path: str) -> dict[str, Any]:
    """Size, and for a table its row count and column types; a failure is noted, not raised."""
    described: dict[str, Any] = {"size": None, "rows": None, "columns": None}
    try:
        described["size"] = int(fs.info(path)["size"])
    except (OSError, KeyError, TypeError, ValueError) as error:
        described["error"] = f"cannot stat: {error}"
        return described
    if not path.lower().endswith(TABLE_SUFFIXES):
        return described
    try:
        rows, columns = _read_table(fs, path, described["size"])
    except Exception as error:  # any reader or cache failure is reported, not raised
        logger.warning("data: cannot read %s as a table: %s", path, error)
        described["error"] = f"cannot read as a table: {type(error).__name__}: {error}"
        return described
    described.update(rows=rows, columns=columns)
    return described


def _read_table(fs: FileSystem, path: str, size: int | None) -> tuple[int, dict[str, str]]:
    import pandas as pd

    lower = path.lower()
    with fs.open(path, mode="rb") as handle:
        if lower.endswith((".parquet", ".pq")):
            import pyarrow.parquet as pq

            parquet = pq.ParquetFile(handle)
            empty = parquet.schema_arrow.empty_table().to_pandas()
            return int(parquet.metadata.num_rows), _dtypes(empty)
        separator = "\t" if lower.endswith(".tsv") else ","
        if size is not None and size <= _WHOLE_READ_LIMIT:
            frame = pd.read_csv(handle, sep=separator)
            return len(frame), _dtypes(frame)
        rows = 0
        columns: dict[str, str] = {}
        for chunk in pd.read_csv(handle, sep=separator, chunksize=_CHUNK_ROWS):
            rows += len(chunk)
            columns = columns or _dtypes(chunk)
        return rows, columns


def _dtypes(frame: Any) -> dict[str, str]:
    return {str(name): str(dtype) for name, dtype in frame.dtypes.items()}


def compare_columns(old: dict[str, Any] | None, new: dict[str, Any] | None) -> dict[str, list[Any]]:
    """Columns added, removed and retyped between two table descriptions."""
    before = (old or {}).get("columns") or {}
    after = (new or {}).get("columns") or {}
    if not (before and after):
        return {"columns_added": [], "columns_removed": [], "columns_retyped": []}
    return {
        "columns_added": [name for name in after if name not in before],
        "columns_removed": [name for name in before if name not in after],
        "columns_retyped": [
            {"column": name, "old": before[name], "new": after[name]}
            for name in after
            if name in before and before[name] != after[name]
        ],
    }
