"""The drift policy: the `drift` section of params.yaml, checked once and passed on explicitly."""

from __future__ import annotations

from pathlib import Path

from mlgitops.settings import DriftPolicy, load_settings

__all__ = ["DriftPolicy", "load_policy"]


def load_policy(params_path: Path) -> DriftPolicy:
    """The policy from a params file; a missing file or section, or a wrong key, is a UsageError."""
    return load_settings(DriftPolicy, params_path, "drift")
