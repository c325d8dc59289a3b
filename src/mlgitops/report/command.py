"""`mlgitops report`: compare two revisions of a DVC repository and write the PR report."""

from __future__ import annotations

import sys
import webbrowser
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer

from mlgitops.errors import UsageError
from mlgitops.params import read_params
from mlgitops.plugin import PARAMS, params_option, plugin_app
from mlgitops.report.build import ReportRequest, build_report, to_json, write_report
from mlgitops.report.gap import GAP_WIDENING
from mlgitops.report.markdown import render_markdown
from mlgitops.report.preview import image_links, write_preview
from mlgitops.settings import parse_settings
from mlgitops.settings.report import ReportSettings

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
_HTML_OPTION = typer.Option(
    "--html",
    help="Also write a local HTML preview of the comment as GitHub shows it (gate included).",
)
_OPEN_OPTION = typer.Option(
    "--open", help="Write the preview (--html, else beside --out, else report/) and open it."
)


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
    html: Annotated[Path | None, _HTML_OPTION] = None,
    open_preview: Annotated[bool, _OPEN_OPTION] = False,
) -> None:
    """Compare BASE with HEAD through DVC and print or write the report.

    Exit 0 with the report, also when some metrics could not be loaded (the report says so);
    exit 2 for an unknown revision or a directory outside a DVC repository.
    """
    fmt = _format(output_format, out)
    if open_preview and html is None:
        html = (out.parent if out is not None else Path("report")) / "preview.html"
    folder = out.parent if out is not None else html.parent if html is not None else None
    request = ReportRequest(
        base=base,
        head=head,
        all=show_all,
        params=params,
        repro_log=repro_log,
        images_dir=folder / "images" if folder is not None else None,
    )
    gap = _gap_widening(params)
    data = build_report(request)
    if out is None and html is None:
        text = to_json(data) if fmt == "json" else render_markdown(data, artifact_url=artifact_url)
        sys.stdout.write(text)
        return
    if out is not None:
        for path in write_report(data, out, fmt, artifact_url=artifact_url, gap_widening=gap):
            typer.echo(f"report: wrote {path}", err=True)
    if html is not None and folder is not None:
        page = _preview(data, params, html, folder / "images", gap)
        typer.echo(f"report: wrote {page}", err=True)
        if open_preview:
            webbrowser.open(page.resolve().as_uri())


def _gap_widening(params: Path) -> float:
    """params.yaml `report.gap_widening` (checked with the rest of `report`), or its default."""
    loaded = read_params(params) if params.is_file() else {}
    if "report" not in loaded:
        return GAP_WIDENING
    return parse_settings(ReportSettings, loaded, source=str(params), section="report").gap_widening


def _preview(data: dict[str, Any], params: Path, page: Path, images: Path, gap: float) -> Path:
    """The comment the trusted publisher would write (gate from `params`), as an HTML page."""
    # Imported here: mlgitops.publish imports mlgitops.report (the markdown), not the reverse.
    from mlgitops.publish.comment import linked_images, rewrite_image_links
    from mlgitops.publish.draft import preview_body

    body = preview_body(data, str(params), gap_widening=gap)
    body = rewrite_image_links(body, image_links(linked_images(body), images, page))
    base, head = data["base"], data["head"]
    title = f"mlgitops report: {base['rev']} → {head['rev']} (preview of the PR comment)"
    return write_preview(body, page, title=title)


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
