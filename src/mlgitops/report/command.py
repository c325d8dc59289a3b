"""`mlgitops report`: compare two revisions of a DVC repository and write the PR report."""

from __future__ import annotations

import sys
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from mlgitops.errors import UsageError
from mlgitops.plugin import PARAMS, params_option, plugin_app
from mlgitops.report.build import ReportRequest, build_report, to_json, write_report
from mlgitops.report.markdown import render_markdown

app = plugin_app("Compare two revisions of a DVC repository: metrics, params, plots, data, stages.")


class Format(StrEnum):
    """Output formats: the comment markdown, or the report data."""

    md = "md"
    json = "json"


# Each option once, so the signature below reads one line per option.
_BASE_OPTION = typer.Option(help="Base revision (branch, tag or commit), e.g. main.")
_HEAD_OPTION = typer.Option(help="Head revision; default: the workspace (after dvc repro).")
_FORMAT_OPTION = typer.Option(
    "--format", help="md or json; default: from the --out suffix, else md.", show_default=False
)
_OUT_OPTION = typer.Option(
    help="Write here instead of stdout, with images/ beside it; md also writes the .json beside it."
)
_ALL_OPTION = typer.Option("--all", help="Show unchanged metrics and params too.")
_REPRO_LOG_OPTION = typer.Option(help="Captured `dvc repro` output: a failed stage is reported.")
_ARTIFACT_OPTION = typer.Option(help="Link to this run's report artifact, shown under plots.")


@app.callback(invoke_without_command=True)
def report(
    base: Annotated[str, _BASE_OPTION],
    head: Annotated[str | None, _HEAD_OPTION] = None,
    output_format: Annotated[Format | None, _FORMAT_OPTION] = None,
    out: Annotated[Path | None, _OUT_OPTION] = None,
    show_all: Annotated[bool, _ALL_OPTION] = False,
    repro_log: Annotated[Path | None, _REPRO_LOG_OPTION] = None,
    params: Annotated[Path, params_option("gate")] = PARAMS,
    artifact_url: Annotated[str | None, _ARTIFACT_OPTION] = None,
) -> None:
    """Compare BASE with HEAD through DVC and print or write the report.

    Exit 0 with the report, also when some metrics could not be loaded (the report says so);
    exit 2 for an unknown revision or a directory outside a DVC repository.
    """
    fmt = _format(output_format, out)
    request = ReportRequest(
        base=base,
        head=head,
        all=show_all,
        params=params,
        repro_log=repro_log,
        images_dir=out.parent / "images" if out is not None else None,
    )
    data = build_report(request)
    if out is None:
        sys.stdout.write(
            to_json(data) if fmt == "json" else render_markdown(data, artifact_url=artifact_url)
        )
        return
    for path in write_report(data, out, fmt, artifact_url=artifact_url):
        typer.echo(f"report: wrote {path}", err=True)


def _format(chosen: Format | None, out: Path | None) -> str:
    if chosen is not None:
        return chosen.value
    if out is None or out.suffix.lower() in (".md", ".markdown", ""):
        return "md"
    if out.suffix.lower() == ".json":
        return "json"
    raise UsageError(
        f"report: cannot tell the format of {out}; name it .md or .json, or pass --format"
    )
