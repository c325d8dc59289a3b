"""deploy/pipeline.yaml: the repository's DVC pipeline as an Argo WorkflowTemplate.

Rendered by `mlgitops render` beside the deploy template when params.yaml has a `pipeline`
section (a repository without one renders nothing here), from dvc.yaml as DVC reads it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from mlgitops.params import read_params
from mlgitops.pipeline.stages import read_stages
from mlgitops.pipeline.template import template
from mlgitops.settings import parse_settings
from mlgitops.settings.pipeline import PipelineSettings

PIPELINE_FILE = "pipeline.yaml"
SECTION = "pipeline"
HEADER = (
    "# Rendered from params.yaml's `pipeline` and every dvc.yaml by `make render`"
    " (mlgitops render); do not edit.\n"
)


def settings(params: dict[str, Any], source: str = "params.yaml") -> PipelineSettings | None:
    """params.yaml's `pipeline` section, None when it has none."""
    if SECTION not in params:
        return None
    return parse_settings(PipelineSettings, params, source=source, section=SECTION)


def render(root: Path, pipeline: PipelineSettings) -> str:
    """The WorkflowTemplate of the DVC pipeline at `root`, as YAML with its header."""
    return HEADER + template(pipeline, read_stages(root)).to_yaml()


def files(params_path: Path) -> dict[str, str]:
    """{pipeline.yaml: text} for the repository whose params file is `params_path`; nothing
    when it has no `pipeline` section."""
    pipeline = settings(read_params(params_path), str(params_path))
    if pipeline is None:
        return {}
    return {PIPELINE_FILE: render(params_path.resolve().parent, pipeline)}
