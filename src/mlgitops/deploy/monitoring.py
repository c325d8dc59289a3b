"""The in-cluster drift check (an Argo CronWorkflow) and the Prometheus alert rules, rendered
into deploy/ (a placeholder until the monitoring plugin lands)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def files(settings: Mapping[str, Any]) -> dict[str, str]:
    """File name under deploy/ -> its text, from the whole params.yaml (`settings`)."""
    return {}
