"""Tests of the rendered deploy/ files: manifests, the Argo workflow, RBAC, the render itself."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from mlgitops.deploy import render
from mlgitops.params import read_params
from mlgitops.settings import DeploySettings, RenderSettings, parse_settings

REPO_ROOT = Path(__file__).resolve().parents[3]
DEPLOY_DIR = REPO_ROOT / "deploy"
K8S_VERSION = "1.37.0"  # the newest schemas kubernetes-validate 1.37 ships


def repo_params() -> dict[str, Any]:
    return read_params(REPO_ROOT / "params.yaml")


def render_settings(params: dict[str, Any] | None = None) -> RenderSettings:
    """What the render reads, from `params` (default: the repository's params.yaml)."""
    return parse_settings(RenderSettings, repo_params() if params is None else params)


def deploy_settings() -> DeploySettings:
    return render_settings().deploy


def rendered_workflow() -> dict[str, Any]:
    """The committed WorkflowTemplate, as the cluster gets it."""
    document = yaml.safe_load((DEPLOY_DIR / render.WORKFLOW_FILE).read_text())
    assert isinstance(document, dict)
    return document


def templates(workflow: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {template["name"]: template for template in workflow["spec"]["templates"]}
