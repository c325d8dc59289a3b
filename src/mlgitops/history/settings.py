"""params.yaml `history:` (what `mlgitops history` reads); every key has a default, so a
repository without the section still gets its record."""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar

from mlgitops.params import read_params
from mlgitops.settings import parse_settings
from mlgitops.settings.load import Positive, Section, Text
from mlgitops.settings.sections import Names


class HistorySettings(Section):
    """params.yaml `history`: the environment deploys go to, the labels counted, the chart."""

    docs: ClassVar[str] = "docs/history.md"

    environment: Text = "production"  # the GitHub environment release.yml deploys to
    gate_label: Text = "gate-failed"  # put on a PR when the quality gate fails it
    retrain_label: Text = "retraining"  # the retraining PR's label (retrain.pr_labels)
    drift_workflow: Text = "retrain.yml"  # the scheduled drift check's workflow file
    drift_job: Text = "retraining PR"  # its job that runs only when drift was found
    metrics: Names = ()  # the metrics charted and tabled; empty: every metric
    since_days: Positive = 90  # the default window
    issue_title: Text = "Delivery record"  # the one issue the scheduled workflow updates
    issue_label: Text = "delivery-record"


def load_history_settings(path: Path) -> HistorySettings:
    """The `history:` section, or the defaults when the file or the section is absent."""
    if not path.is_file():
        return HistorySettings()
    params = read_params(path)
    if "history" not in params:
        return HistorySettings()
    return parse_settings(HistorySettings, params, source=str(path), section="history")
