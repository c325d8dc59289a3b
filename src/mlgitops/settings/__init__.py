"""Every params.yaml section a plugin reads, as a pydantic model that refuses unknown keys.

    load_settings(ServingSettings, Path("params.yaml"), "serving")

A wrong key stops with a UsageError (exit 2): one sentence per problem naming the file, the key
path and what was expected, and "did you mean" for a near miss.
"""

from __future__ import annotations

from mlgitops.settings.deploy import DeploySettings, RenderSettings
from mlgitops.settings.load import Section, Sections, key_path, load_settings, parse_settings
from mlgitops.settings.report import ReportSettings
from mlgitops.settings.sections import (
    AlertSettings,
    CronSettings,
    DriftPolicy,
    GatePolicy,
    MetricRule,
    RetrainSettings,
    ServingSettings,
)

__all__ = [
    "AlertSettings",
    "CronSettings",
    "DeploySettings",
    "DriftPolicy",
    "GatePolicy",
    "MetricRule",
    "RenderSettings",
    "ReportSettings",
    "RetrainSettings",
    "Section",
    "Sections",
    "ServingSettings",
    "key_path",
    "load_settings",
    "parse_settings",
]
