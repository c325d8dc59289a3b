"""Retraining: snapshots newly labelled data and opens the pull request that changes the pointer.

command.py (the CLI edge) -> flow.py (the phases) -> verdict.py (drift.json), settings.py
(params.yaml), snapshot.py (the table), workspace.py (git, dvc), body.py, pull_request.py.
"""

from mlgitops.retrain.flow import Outcome, RetrainRequest, retrain_pr
from mlgitops.retrain.settings import RetrainSettings, load_settings
from mlgitops.retrain.verdict import DriftVerdict, read_verdict

__all__ = [
    "DriftVerdict",
    "Outcome",
    "RetrainRequest",
    "RetrainSettings",
    "load_settings",
    "read_verdict",
    "retrain_pr",
]
