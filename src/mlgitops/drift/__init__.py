"""Drift: compares the service's logged inputs and scores with the training reference.

Public: `run_drift` (the command's work), `DriftPolicy` and `load_policy`, `psi`.
"""

from mlgitops.drift.command import run_drift
from mlgitops.drift.policy import DriftPolicy, load_policy
from mlgitops.drift.stats import psi

__all__ = ["DriftPolicy", "load_policy", "psi", "run_drift"]
