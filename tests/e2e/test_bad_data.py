"""Bad raw data stops `dvc repro` at validate and leaves the last good model and metrics alone.

Every rule the raw schema declares is broken (tests/rules.py, packed a few files' worth by
tests/corpus.py): each file breaks many rules at once and the report must name each, so the
whole schema costs a handful of runs. The file-level kinds (empty, cut off) are hand-written.
"""

from __future__ import annotations

import json

import pytest

from churn.io import load_params
from tests.checkout import Checkout
from tests.corpus import (
    BadData,
    Breakage,
    assert_report_names,
    empty_file,
    generated_batches,
    generated_file,
    truncated_file,
)

pytestmark = pytest.mark.e2e

RAW = "data/raw/telco_churn.csv"
LAST_GOOD_RUN = ("models", "metrics.json", "plots")
# The corpus's other hand-written kinds each break one declared rule: the generated cases
# below break every one of those rules, on every column.
FILE_KINDS = tuple(
    BadData(function.__name__, function) for function in (empty_file, truncated_file)
)


def _stops_at_validate(checkout: Checkout, content: bytes, breakages: list[Breakage]) -> None:
    """`dvc repro` on a raw file with `content` fails at validate, its report names every
    breakage, and the model, metrics and plots of the last good run are byte for byte kept."""
    before = checkout.digests(*LAST_GOOD_RUN)
    assert any(name.startswith("models/") for name in before)
    (checkout.path / RAW).write_bytes(content)

    repro = checkout.repro()

    assert repro.returncode != 0, str(repro)
    assert "failed to reproduce 'validate'" in repro.stderr, str(repro)
    assert repro.ran == ["prepare", "validate"], str(repro)
    report = json.loads((checkout.path / "reports/validation.json").read_text())
    for breakage in breakages:
        assert_report_names(report, repro.stderr, breakage)
    assert checkout.digests(*LAST_GOOD_RUN) == before


@pytest.mark.parametrize("bad", FILE_KINDS, ids=str)
def test_a_bad_file_stops_at_validate(reproduced: Checkout, bad: BadData) -> None:
    params = load_params("validate", reproduced.path / "params.yaml")
    content, breakage = bad.make((reproduced.path / RAW).read_bytes(), params)
    _stops_at_validate(reproduced, content, [breakage])


def test_every_declared_rule_stops_at_validate_naming_column_rule_and_row(
    reproduced: Checkout,
) -> None:
    params = load_params("validate", reproduced.path / "params.yaml")
    good = (reproduced.path / RAW).read_bytes()
    packed = generated_batches(good, params)
    assert len(packed) < 10, [len(batch) for batch in packed]
    for batch in packed:
        content, breakages = generated_file(good, batch)
        _stops_at_validate(reproduced, content, breakages)
