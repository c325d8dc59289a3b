"""The train/test split is stable: new customers join it, old ones never move."""

from __future__ import annotations

import io

import pandas as pd
import pytest

from churn import schema
from tests.checkout import Checkout

pytestmark = pytest.mark.e2e

RAW = "data/raw/telco_churn.csv"
NEW_CUSTOMERS = 1000


def _assignment(checkout: Checkout) -> dict[str, str]:
    """Which split each customer is in, from the prepared files."""
    found: dict[str, str] = {}
    for split in ("train", "test"):
        ids = pd.read_parquet(checkout.path / f"data/prepared/{split}.parquet")[schema.ID]
        for customer in ids:
            assert customer not in found, f"{customer} is in both splits"
            found[customer] = split
    return found


def test_appending_customers_moves_none_of_the_old_ones(reproduced: Checkout) -> None:
    before = _assignment(reproduced)
    raw = reproduced.path / RAW
    old = pd.read_csv(raw)
    # New customers look like old ones (so the data stays valid) but have ids never seen.
    new = old.sample(NEW_CUSTOMERS, random_state=0).reset_index(drop=True)
    first = len(old) + 1
    new[schema.ID] = [f"N{number:06d}" for number in range(first, first + NEW_CUSTOMERS)]
    buffer = io.StringIO()
    new.to_csv(buffer, index=False, header=False)
    with raw.open("a") as handle:
        handle.write(buffer.getvalue())

    repro = reproduced.repro("validate")

    assert repro.returncode == 0, str(repro)
    assert repro.ran == ["prepare", "validate"], str(repro)
    after = _assignment(reproduced)
    assert {customer: after.get(customer) for customer in before} == before
    joined = {customer: split for customer, split in after.items() if customer not in before}
    assert set(joined) == set(new[schema.ID])
    assert set(joined.values()) == {"train", "test"}
