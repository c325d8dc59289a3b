"""Draw one PNG per declared plot, base and head compared, from DVC's plot datapoints.

The datapoints are the ones `dvc plots diff --json` fills its Vega templates with; the
template name picks the picture: lines for x/y templates (report/plot_curves.py), base, head
and their difference for confusion templates (plot_matrix.py), paired bars for bar templates
(plot_bars.py), both images for image plots. Every picture is 800 px wide, GitHub's comment
width, so its text is read at the size it was drawn.
"""

from __future__ import annotations

import base64
import io
import logging
import re
from pathlib import Path
from typing import Any

from mlgitops.report.plot_bars import draw_bars, figure_height
from mlgitops.report.plot_curves import draw_lines
from mlgitops.report.plot_matrix import confusion_height, draw_confusion
from mlgitops.report.plot_model import DPI, RC, WIDTH_INCHES, PlotData

__all__ = ["PlotData", "draw_plot", "image_name", "render_plot"]

logger = logging.getLogger(__name__)


def image_name(plot_id: str, taken: set[str]) -> str:
    """A file name for a plot's PNG, from its id (plots/roc.csv -> roc.png), unique in `taken`."""
    stem = _safe(Path(plot_id).stem)
    name = f"{stem}.png"
    if name in taken:
        whole = _safe(plot_id)
        name = f"{whole}.png"
        number = 2
        while name in taken:
            name = f"{whole}_{number}.png"
            number += 1
    taken.add(name)
    return name


def _safe(text: str) -> str:
    """Letters, digits, '_', '.', '-' only, starting with a letter or digit."""
    cleaned = re.sub(r"[^A-Za-z0-9_.-]+", "_", text)
    return re.sub(r"^[^A-Za-z0-9]+", "", cleaned).rstrip("_.") or "plot"


def draw_plot(plot: PlotData) -> Any:
    """The matplotlib Figure comparing base and head for `plot` (not saved)."""
    from matplotlib import rc_context
    from matplotlib.figure import Figure

    drawers = {
        "image": _draw_images,
        "confusion": draw_confusion,
        "bar": draw_bars,
        "scatter": draw_lines,
        "line": draw_lines,
    }
    with rc_context(RC):
        figure = Figure(figsize=(WIDTH_INCHES, _height(plot)), dpi=DPI)
        drawers[plot.kind](figure, plot)
        noted = bool(figure.texts)  # a one-line note under the axes needs room at the bottom
        figure.suptitle(plot.title)
        figure.tight_layout(rect=(0, 0.35 / figure.get_figheight() if noted else 0, 1, 1))
    return figure


def _height(plot: PlotData) -> float:
    """Inches: matrices and bars grow with their classes and categories, lines are 5."""
    if plot.kind == "confusion":
        return confusion_height(plot)
    if plot.kind == "bar":
        return figure_height(plot)
    return 4.0 if plot.kind == "image" else 5.0


def render_plot(plot: PlotData, path: Path) -> Path:
    """Write the comparison PNG of `plot` to `path` and return it."""
    from matplotlib import rc_context

    figure = draw_plot(plot)
    path.parent.mkdir(parents=True, exist_ok=True)
    with rc_context(RC):
        figure.savefig(path, dpi=DPI, format="png")
    return path


def _draw_images(figure: Any, plot: PlotData) -> None:
    """An image plot (a PNG the pipeline writes): base and head side by side."""
    from matplotlib.image import imread

    panels = ((plot.base_label, plot.base), (plot.head_label, plot.head))
    for column, (label, points) in enumerate(panels, start=1):
        axes = figure.add_subplot(1, 2, column)
        axes.set_title(label)
        axes.set_axis_off()
        source = str(points[0].get("src", "")) if points else ""
        if not source.startswith("data:"):
            axes.text(0.5, 0.5, "no image", ha="center", va="center", transform=axes.transAxes)
            continue
        data = base64.b64decode(source.split(",", 1)[1])
        try:
            axes.imshow(imread(io.BytesIO(data)))
        except (OSError, ValueError, SyntaxError) as error:
            logger.warning("plot %s at %s: cannot read the image (%s)", plot.id, label, error)
            axes.text(0.5, 0.5, "unreadable", ha="center", va="center", transform=axes.transAxes)
