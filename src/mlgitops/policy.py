"""The quality policy: the `gate` section of params.yaml, read by the report and the gate.

gate:
  - metric: test.roc_auc      # dotted key, as `dvc metrics diff` shows it
    file: metrics.json        # optional: needed only when several files have the key
    better: higher            # or lower
    at_least: 0.80            # optional absolute floor (at_most: ceiling, for `lower`)
    max_worsening: 0.01       # optional: largest allowed change for the worse vs the base
"""

from __future__ import annotations

from pathlib import Path

from mlgitops.settings import GatePolicy, MetricRule, load_settings

__all__ = ["MetricRule", "load_policy"]


def load_policy(params_path: Path) -> list[MetricRule]:
    """The policy from a params file; a missing file or section, or a wrong key, is a UsageError."""
    return load_settings(GatePolicy, params_path, "gate").root
