"""Bad raw data stops `dvc repro` at validate and leaves the last good model and metrics alone."""

from __future__ import annotations

import json

import pytest

from churn.io import load_params
from tests.checkout import Checkout
from tests.corpus import CORPUS, BadData, assert_report_names

pytestmark = pytest.mark.e2e

RAW = "data/raw/telco_churn.csv"
LAST_GOOD_RUN = ("models", "metrics.json", "plots")


@pytest.mark.parametrize("bad", CORPUS, ids=str)
def test_bad_raw_data_stops_at_validate(reproduced: Checkout, bad: BadData) -> None:
    params = load_params("validate", reproduced.path / "params.yaml")
    raw = reproduced.path / RAW
    content, breakage = bad.make(raw.read_bytes(), params)
    raw.write_bytes(content)
    before = reproduced.digests(*LAST_GOOD_RUN)
    assert any(name.startswith("models/") for name in before)

    repro = reproduced.repro()

    assert repro.returncode != 0, str(repro)
    assert "failed to reproduce 'validate'" in repro.stderr, str(repro)
    assert repro.ran == ["prepare", "validate"], str(repro)
    report = json.loads((reproduced.path / "reports/validation.json").read_text())
    assert_report_names(report, repro.stderr, breakage)
    assert reproduced.digests(*LAST_GOOD_RUN) == before
