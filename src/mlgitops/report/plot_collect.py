"""Every plot a repository declares, with its datapoints at base and head, through DVC's API.

The same path as `dvc plots diff --json BASE [HEAD]`: `repo.plots.diff`, then DVC's own
renderer matching, which fills in x, y, labels and titles the way the Vega output has them.
DVC fills an undeclared label with the raw field name and an undeclared title with the plot
id; those become readable names here (report/plot_names.py), declared ones are kept as written.
"""

from __future__ import annotations

import logging
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mlgitops.report.plot_names import axis_label, plot_title
from mlgitops.report.plots import PlotData

if TYPE_CHECKING:
    from mlgitops.report.dvc_diff import Revisions

logger = logging.getLogger(__name__)


def collect_plots(repo: Any, revs: Revisions) -> tuple[list[PlotData], list[Any]]:
    """Every declared plot with its datapoints split into base and head, and DVC's renderers
    of them (for the interactive HTML)."""
    from dvc.render.match import match_defs_renderers

    data = repo.plots.diff(revs=[revs.base, revs.head])
    plots = []
    matches = match_defs_renderers(data)
    for matched in matches:
        renderer = matched.renderer
        for rev, error in matched.definition_errors.items():
            logger.warning("plot %s at %s: %s", renderer.name, rev, error)
        properties = renderer.properties
        base: list[dict[str, Any]] = []
        head: list[dict[str, Any]] = []
        for point in renderer.datapoints:
            (head if _is_head(str(point.get("rev", "")), revs) else base).append(point)
        x = str(properties.get("x", "step"))
        y = str(properties.get("y", ""))
        plots.append(
            PlotData(
                id=renderer.name,
                title=plot_title(properties.get("title"), renderer.name),
                template="image"
                if renderer.TYPE == "image"
                else str(properties.get("template") or "linear"),
                x=x,
                y=y,
                x_label=axis_label(properties.get("x_label"), x),
                y_label=axis_label(properties.get("y_label"), y),
                base=base,
                head=head,
                base_label=f"base ({_short(revs.base)})",
                head_label=f"head ({_short(revs.head)})",
            )
        )
    return plots, [matched.renderer for matched in matches]


def write_interactive(renderers: list[Any], path: Path) -> Path:
    """The HTML page `dvc plots diff` writes (Vega charts, images inline), at `path`."""
    from dvc_render import render_html  # type: ignore[import-untyped]

    path.parent.mkdir(parents=True, exist_ok=True)
    render_html(renderers=renderers, output_file=path)
    return path


def _short(rev: str) -> str:
    """A full commit sha as its first 7 digits (CI passes the base as one), names as given."""
    return rev[:7] if re.fullmatch(r"[0-9a-f]{40}", rev) else rev


def _is_head(label: str, revs: Revisions) -> bool:
    """Whether a datapoint's `rev` is the head; DVC joins names that share a commit with ','."""
    names = label.split(",")
    return revs.head in names or (revs.base not in names)
