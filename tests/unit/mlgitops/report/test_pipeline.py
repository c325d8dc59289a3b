"""The pipeline's outcome from `dvc repro` output; the real failure is in test_build.py."""

from __future__ import annotations

from pathlib import Path

import pytest

from mlgitops.errors import UsageError
from mlgitops.report.pipeline import parse_repro_log, read_repro_log

FAILED = """\
Stage 'prepare' didn't change, skipping
Running stage 'validate':
> python -m churn.validate
validation failed: 2 rules broken
  label_rate 0.9 is above 0.6
\x1b[31mERROR\x1b[39m: failed to reproduce 'validate': failed to run: python -m churn.validate
"""


def test_failed_stage_and_its_own_output() -> None:
    pipeline = parse_repro_log(FAILED)

    assert pipeline["status"] == "failed"
    assert pipeline["failed_stage"] == "validate"
    assert pipeline["log_tail"].startswith("Running stage 'validate':\n> python -m churn.validate")
    assert "label_rate 0.9 is above 0.6" in pipeline["log_tail"]
    assert "skipping" not in pipeline["log_tail"]


def test_clean_log_is_ok_and_no_log_is_unknown(tmp_path: Path) -> None:
    log = tmp_path / "repro.log"
    log.write_text("Stage 'train' didn't change, skipping\nData and pipelines are up to date.\n")

    assert read_repro_log(log) == {"status": "ok", "failed_stage": None, "log_tail": None}
    assert read_repro_log(None)["status"] == "unknown"


def test_unreadable_log_is_a_usage_error(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="cannot read the repro log"):
        read_repro_log(tmp_path / "missing.log")
