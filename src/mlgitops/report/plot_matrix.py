"""Confusion matrices: base, head and their difference (head minus base), side by side.

Rows are the actual class (the plot's y), columns the predicted one (x), on one label set
shared by both revisions. The difference is coloured by what it means, not by its sign: more
rows on the diagonal or fewer off it is better (blue), the opposite worse (red), fully so at a
change of a tenth of the largest cell.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from mlgitops.report.plot_model import PlotData, note, number

_MAX_ANNOTATED = 12  # more classes than this: colours only, numbers would not fit
_TITLE_CHARS = 26  # a third of 800 px at 13 pt


def confusion_labels(plot: PlotData) -> list[str]:
    """Every class seen at base or head, numbers in numeric order, then names."""
    seen = {str(point.get(axis)) for point in plot.base + plot.head for axis in (plot.x, plot.y)}
    return sorted(seen, key=lambda value: (number(value) is None, number(value) or 0.0, value))


def confusion_counts(plot: PlotData, points: list[dict[str, Any]], labels: list[str]) -> Any:
    """The matrix of `points` (rows actual, columns predicted); row shares when normalized."""
    index = {label: position for position, label in enumerate(labels)}
    counts = np.zeros((len(labels), len(labels)))
    for point in points:
        counts[index[str(point.get(plot.y))], index[str(point.get(plot.x))]] += 1
    if plot.template.endswith("normalized"):
        totals = counts.sum(axis=1, keepdims=True)
        counts = counts / np.where(totals == 0, 1.0, totals)
    return counts


def draw_confusion(figure: Any, plot: PlotData) -> None:
    labels = confusion_labels(plot)
    normalized = plot.template.endswith("normalized")
    base = confusion_counts(plot, plot.base, labels) if plot.base else None
    head = confusion_counts(plot, plot.head, labels) if plot.head else None
    peak = (
        max(float(matrix.max()) for matrix in (base, head) if matrix is not None)
        if (base is not None or head is not None)
        else 1.0
    )
    panels = ((plot.base_label, base), (plot.head_label, head))
    for column, (label, counts) in enumerate(panels, start=1):
        axes = figure.add_subplot(1, 3, column)
        axes.set_title(_fit(label).replace(" (", "\n(", 1))  # the revision on its own line
        if counts is None:
            _empty(axes, "no data")
            continue
        axes.imshow(counts, cmap="Blues", vmin=0, vmax=peak or 1.0)
        _annotate(
            axes,
            counts,
            lambda cell: f"{cell:.2f}" if normalized else f"{int(cell)}",
            lambda cell, row, col: "white" if cell > (peak or 1.0) / 2 else "black",
        )
        _ticks(axes, plot, labels, first=column == 1)
    axes = figure.add_subplot(1, 3, 3)
    axes.set_title("difference\nhead − base")
    if base is None or head is None:
        _empty(axes, "needs both")
        return
    difference = head - base
    # better = more on the diagonal, fewer off it: colour by that, show the signed change
    goodness = np.where(np.eye(len(labels), dtype=bool), difference, -difference)
    # full colour at a change of a tenth of the largest cell: a few rows moving stay pale
    scale = max(float(np.abs(goodness).max()), 0.1 * peak) or 1.0
    axes.imshow(goodness, cmap="RdBu", vmin=-scale, vmax=scale)
    _annotate(
        axes,
        difference,
        lambda cell: _signed(cell, normalized),
        lambda cell, row, col: "white" if abs(goodness[row, col]) > scale * 0.45 else "black",
    )
    _ticks(axes, plot, labels, first=False)
    note(figure, "head − base: blue = better (more on the diagonal, fewer off it), red = worse")


def confusion_height(plot: PlotData) -> float:
    """Inches: square panels plus room for the class names under them (rotated past 4)."""
    return 4.2 if len(confusion_labels(plot)) <= 4 else 4.6


def _fit(label: str, width: int = _TITLE_CHARS) -> str:
    """A panel title cut to what fits a third of the picture."""
    return label if len(label) <= width else f"{label[: width - 2]}…)"


def _signed(cell: float, normalized: bool) -> str:
    if normalized:
        return f"{cell:+.2f}" if round(cell, 2) else "0"
    return f"{int(cell):+d}" if cell else "0"


def _annotate(axes: Any, matrix: Any, text: Any, color: Any) -> None:
    if len(matrix) > _MAX_ANNOTATED:
        return
    for (row, col), cell in np.ndenumerate(matrix):
        axes.text(
            col,
            row,
            text(cell),
            ha="center",
            va="center",
            color=color(cell, row, col),
            fontsize=12 if len(matrix) <= 4 else 9,
        )


def _ticks(axes: Any, plot: PlotData, labels: list[str], *, first: bool) -> None:
    axes.set_xticks(range(len(labels)), labels, rotation=0 if len(labels) <= 4 else 90)
    axes.set_yticks(range(len(labels)), labels if first else [""] * len(labels))
    axes.set_xlabel(plot.x_label)
    if first:
        axes.set_ylabel(plot.y_label)


def _empty(axes: Any, text: str) -> None:
    axes.text(0.5, 0.5, text, ha="center", va="center", transform=axes.transAxes)
    axes.set_axis_off()
