"""`mlgitops render`: write deploy/ from params.yaml (what `make render` runs)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from mlgitops.plugin import PARAMS, params_option, plugin_app
from mlgitops.settings import RenderSettings, load_settings

app = plugin_app(
    "Render deploy/ from params.yaml: the deploy WorkflowTemplate, its RBAC, the retraining "
    "CronWorkflow, the alert rules and the pipeline DAG; files no longer rendered are removed."
)


@app.callback(invoke_without_command=True)
def render(
    params: Annotated[Path, params_option("deploy", "retrain", "serving", "pipeline")] = PARAMS,
    out: Annotated[
        Path, typer.Option("--out", help="The folder to render into; it holds only rendered files.")
    ] = Path("deploy"),
) -> None:
    """Render deploy/ from params.yaml's deploy, retrain, serving and pipeline sections."""
    # Here, not on top: Hera takes most of a second to import, and only the render needs it.
    from mlgitops.deploy.render import rendered, write
    from mlgitops.pipeline.render import files as pipeline_files

    files = rendered(load_settings(RenderSettings, params))
    files.update(pipeline_files(params))  # params.yaml's `pipeline`: the DVC pipeline as a DAG
    removed = write(files, out)
    for name in sorted(files):
        typer.echo(f"rendered {out / name}", err=True)
    for path in removed:
        typer.echo(f"removed {path} (no longer rendered)", err=True)
