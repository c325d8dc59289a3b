"""Draw one PNG per declared plot, base and head overlaid, from DVC's plot datapoints.

The datapoints are the ones `dvc plots diff --json` fills its Vega templates with; the
template name picks the picture: lines for x/y templates, side-by-side matrices for
confusion templates, paired bars for bar templates, both images for image plots.
"""

from __future__ import annotations

import base64
import io
import logging
import re
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

logger = logging.getLogger(__name__)

_BASE_STYLE = {"color": "#7f7f7f", "linestyle": "--"}
_HEAD_COLORS = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b"]
_MAX_BARS = 25


@dataclass(frozen=True)
class PlotData:
    """One declared plot: its DVC properties and its datapoints, each tagged base or head."""

    id: str
    title: str
    template: str
    x: str
    y: str
    x_label: str
    y_label: str
    base: list[dict[str, Any]] = field(default_factory=list)
    head: list[dict[str, Any]] = field(default_factory=list)
    base_label: str = "base"
    head_label: str = "head"

    @property
    def kind(self) -> str:
        """The picture to draw: image, confusion, bar, scatter or line."""
        if self.template == "image":
            return "image"
        for kind in ("confusion", "bar", "scatter"):
            if self.template.startswith(kind):
                return kind
        return "line"


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


def render_plot(plot: PlotData, path: Path) -> Path:
    """Write the overlay PNG of `plot` to `path` and return it."""
    from matplotlib.figure import Figure

    drawers = {
        "image": _draw_images,
        "confusion": _draw_confusion,
        "bar": _draw_bars,
        "scatter": _draw_lines,
        "line": _draw_lines,
    }
    figure = Figure(figsize=(10, 4.5) if plot.kind in ("confusion", "image") else (7, 4.5))
    drawers[plot.kind](figure, plot)
    figure.suptitle(plot.title)
    figure.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=100, format="png")
    return path


def _number(value: Any) -> float | None:
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def _series(points: list[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    """Datapoints grouped by source file and field (a plot may draw several)."""
    groups: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for point in points:
        groups[f"{point.get('filename', '')}::{point.get('field', '')}"].append(point)
    return dict(groups)


def _draw_lines(figure: Any, plot: PlotData) -> None:
    axes = figure.add_subplot(1, 1, 1)
    categories: dict[str, int] = {}

    def position(value: Any) -> float:
        number = _number(value)
        if number is not None:
            return number
        return float(categories.setdefault(str(value), len(categories)))

    marker = "o" if plot.kind == "scatter" else None
    several = len(_series(plot.head)) > 1 or len(_series(plot.base)) > 1
    for role, points in (("base", plot.base), ("head", plot.head)):
        for index, (name, group) in enumerate(sorted(_series(points).items())):
            xs = [position(point.get(plot.x)) for point in group]
            ys = [_number(point.get(plot.y)) for point in group]
            label = plot.base_label if role == "base" else plot.head_label
            if several:
                label = f"{label}: {name.split('::')[-1]}"
            style: dict[str, Any] = (
                dict(_BASE_STYLE)
                if role == "base"
                else {"color": _HEAD_COLORS[index % len(_HEAD_COLORS)], "linestyle": "-"}
            )
            if role == "base" and several:
                style["color"] = _HEAD_COLORS[index % len(_HEAD_COLORS)]
                style["alpha"] = 0.5
            if marker:
                style.update(linestyle="none", marker=marker, markersize=3)
            axes.plot(xs, [y if y is not None else float("nan") for y in ys], label=label, **style)
    if categories:
        axes.set_xticks(list(categories.values()), list(categories), rotation=45, ha="right")
    axes.set_xlabel(plot.x_label)
    axes.set_ylabel(plot.y_label)
    axes.grid(alpha=0.3)
    if plot.base or plot.head:
        axes.legend(loc="best", fontsize="small")


def _draw_confusion(figure: Any, plot: PlotData) -> None:
    """Two matrices side by side on a shared label set: rows = y (actual), columns = x."""
    labels = sorted(
        {str(point.get(axis)) for point in plot.base + plot.head for axis in (plot.x, plot.y)},
        key=lambda value: (_number(value) is None, _number(value) or 0.0, value),
    )
    index = {label: position for position, label in enumerate(labels)}
    normalized = plot.template.endswith("normalized")
    panels = (("base", plot.base_label, plot.base), ("head", plot.head_label, plot.head))
    for column, (_, label, points) in enumerate(panels, start=1):
        axes = figure.add_subplot(1, 2, column)
        axes.set_title(label)
        if not points:
            axes.text(0.5, 0.5, "no data", ha="center", va="center", transform=axes.transAxes)
            axes.set_axis_off()
            continue
        counts = [[0.0] * len(labels) for _ in labels]
        for point in points:
            counts[index[str(point.get(plot.y))]][index[str(point.get(plot.x))]] += 1
        if normalized:
            counts = [[cell / (sum(row) or 1.0) for cell in row] for row in counts]
        axes.imshow(counts, cmap="Blues")
        peak = max(max(row) for row in counts) or 1.0
        for row_number, row in enumerate(counts):
            for column_number, cell in enumerate(row):
                text = f"{cell:.2f}" if normalized else f"{int(cell)}"
                color = "white" if cell > peak / 2 else "black"
                axes.text(column_number, row_number, text, ha="center", va="center", color=color)
        axes.set_xticks(range(len(labels)), labels)
        axes.set_yticks(range(len(labels)), labels)
        axes.set_xlabel(plot.x_label)
        axes.set_ylabel(plot.y_label)


def _draw_bars(figure: Any, plot: PlotData) -> None:
    """Paired horizontal bars: one category per row (y), base and head values (x)."""
    axes = figure.add_subplot(1, 1, 1)
    values: dict[str, dict[str, float]] = {"base": {}, "head": {}}
    for role, points in (("base", plot.base), ("head", plot.head)):
        for point in points:
            number = _number(point.get(plot.x))
            if number is not None:
                values[role][str(point.get(plot.y))] = number
    categories = list(dict.fromkeys([*values["head"], *values["base"]]))
    if plot.template.endswith("sorted"):
        categories.sort(key=lambda name: values["head"].get(name, values["base"].get(name, 0.0)))
    else:
        categories.reverse()
    categories = categories[-_MAX_BARS:]
    height = 0.4
    rows = range(len(categories))
    axes.barh(
        [row + height / 2 for row in rows],
        [values["base"].get(name, 0.0) for name in categories],
        height=height,
        color=_BASE_STYLE["color"],
        label=plot.base_label,
    )
    axes.barh(
        [row - height / 2 for row in rows],
        [values["head"].get(name, 0.0) for name in categories],
        height=height,
        color=_HEAD_COLORS[0],
        label=plot.head_label,
    )
    axes.set_yticks(list(rows), categories, fontsize="small")
    axes.set_xlabel(plot.x_label)
    axes.legend(loc="lower right", fontsize="small")


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
