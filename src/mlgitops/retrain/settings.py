"""The `retrain:` section of params.yaml, read and checked once."""

from __future__ import annotations

from pathlib import Path

from mlgitops.settings import RetrainSettings
from mlgitops.settings import load_settings as _load

__all__ = ["RetrainSettings", "load_settings"]


def load_settings(path: Path) -> RetrainSettings:
    """params.yaml's retrain section; UsageError naming the file and the key that is wrong."""
    return _load(RetrainSettings, path, "retrain")
