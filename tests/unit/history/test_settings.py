"""params.yaml `history:`: this repository's section parses; a typo is named with its fix."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from mlgitops.errors import UsageError
from mlgitops.history.settings import HistorySettings, load_history_settings
from tests.workflow_steps import REPO_ROOT


def test_this_repositorys_section_parses_and_names_its_retraining_label() -> None:
    settings = load_history_settings(REPO_ROOT / "params.yaml")
    assert settings.metrics[0] == "test.roc_auc"
    params = yaml.safe_load((REPO_ROOT / "params.yaml").read_text())
    assert settings.retrain_label in params["retrain"]["pr_labels"]  # what it counts is put on


def test_without_the_section_the_defaults_apply(tmp_path: Path) -> None:
    (tmp_path / "params.yaml").write_text("train:\n  alpha: 1\n")
    assert load_history_settings(tmp_path / "params.yaml") == HistorySettings()
    assert load_history_settings(tmp_path / "absent.yaml") == HistorySettings()


def test_a_misspelt_key_is_refused_with_the_nearest_one(tmp_path: Path) -> None:
    (tmp_path / "params.yaml").write_text("history:\n  gate_lable: x\n")
    with pytest.raises(UsageError, match=r"history\.gate_lable.*gate_label"):
        load_history_settings(tmp_path / "params.yaml")
