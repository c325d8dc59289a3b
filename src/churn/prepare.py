"""DVC stage `prepare`: clean the raw table and split it into train and test by customer id.

Prepare never judges the data: it coerces what it can and leaves the verdict to `validate`,
which checks both the raw and the prepared frames and reports every problem in one place.
"""

from __future__ import annotations

import gc
import logging

import numpy as np
import pandas as pd

from churn import schema
from churn.io import (
    RAW_PATH,
    TEST_PATH,
    TRAIN_PATH,
    RawDataError,
    load_params,
    read_raw,
    write_parquet,
)
from churn.timing import StageTimer

logger = logging.getLogger(__name__)

_SPLIT_BUCKETS = 10_000


def clean(raw: pd.DataFrame) -> pd.DataFrame:
    """Typed, model-ready columns; values that cannot be coerced become nulls for validate."""
    frame = pd.DataFrame(index=raw.index)
    if schema.ID in raw:
        frame[schema.ID] = raw[schema.ID].astype("str")
    for column in schema.BINARY:
        if column in raw:
            values = pd.to_numeric(raw[column], errors="coerce")
            frame[column] = values.astype("Int8") if values.isna().any() else values.astype("int8")
    for column in schema.NUMERIC_RANGES:
        if column in raw:
            frame[column] = pd.to_numeric(raw[column], errors="coerce")
    if "total_charges" in frame and "tenure" in frame:
        # New customers (tenure 0) have not been billed yet: their blank total is a true zero.
        new_customer = frame["tenure"] == 0
        frame.loc[new_customer, "total_charges"] = frame.loc[new_customer, "total_charges"].fillna(
            0.0
        )
    for column, levels in schema.CATEGORICAL.items():
        if column in raw:
            # Unknown levels become nulls (later pandas refuses to cast them); validate names them.
            values = raw[column].astype("str")
            frame[column] = values.where(values.isin(levels)).astype(schema.category_dtype(column))
    if schema.LABEL in raw:
        is_churner = raw[schema.LABEL].astype("str") == schema.LABEL_POSITIVE
        known = raw[schema.LABEL].isin(schema.LABEL_LEVELS)
        frame[schema.LABEL] = is_churner.astype("int8").where(known, other=np.nan)
        if known.all():
            frame[schema.LABEL] = frame[schema.LABEL].astype("int8")
    return frame


def test_mask(customer_ids: pd.Series, *, test_fraction: float, salt: str) -> np.ndarray:
    """True for customers in the test set, decided by a keyed hash of the id alone.

    The hash depends only on the id and the salt, so adding customers never moves anyone.
    """
    key = salt.ljust(16, "_")[:16]  # pandas' SipHash takes a 16-character key
    hashes = pd.util.hash_pandas_object(
        customer_ids.astype("str"), index=False, hash_key=key
    ).to_numpy()
    return np.asarray(hashes % _SPLIT_BUCKETS < round(test_fraction * _SPLIT_BUCKETS))


def split(
    frame: pd.DataFrame, *, test_fraction: float, salt: str
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(train, test) by customer id; a frame without ids all goes to train, for validate to flag."""
    if schema.ID not in frame:
        return frame, frame.iloc[0:0]
    in_test = test_mask(frame[schema.ID], test_fraction=test_fraction, salt=salt)
    return frame[~in_test], frame[in_test]


def main() -> None:
    timer = StageTimer("prepare")
    gc.freeze()  # what is imported lives to the end: keep the GC off it (docs/benchmarks.md)
    params = load_params("prepare")
    with timer.phase("read"):
        try:
            raw = read_raw(RAW_PATH)
        except RawDataError as error:
            logger.warning("%s; writing empty outputs, validate will report it", error)
            raw = pd.DataFrame()
    with timer.phase("work"):
        train, test = split(
            clean(raw), test_fraction=params["test_fraction"], salt=params["split_salt"]
        )
    with timer.phase("write"):
        write_parquet(train, TRAIN_PATH)
        write_parquet(test, TEST_PATH)
    logger.info("prepare: %d rows -> %d train, %d test", len(raw), len(train), len(test))
    timer.report()


if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    main()
