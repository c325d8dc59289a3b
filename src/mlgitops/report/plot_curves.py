"""Line and scatter overlays, base and head, with the area under ROC and precision-recall curves.

The legend's area is computed from the points drawn, per revision, by the trapezoid rule
(`numpy.trapezoid`, as `sklearn.metrics.auc`), so it is the picture's own number: it can differ
slightly from a metrics file's score (thinned curve points; average precision is a step sum).
"""

from __future__ import annotations

import re
from typing import Any

import numpy as np

from mlgitops.report.plot_model import BASE_STYLE, HEAD_COLORS, PlotData, note, number, series

# Well-known field names of classification curves (lower case).
_ROC = ({"fpr", "false_positive_rate", "fall_out"}, {"tpr", "true_positive_rate", "recall"})
_PR = ({"recall", "tpr", "true_positive_rate", "sensitivity"}, {"precision", "ppv"})
_CALIBRATION = (re.compile(r"pred|prob|score"), re.compile(r"fraction|observed|true|positive"))
_AREA = {"roc": "AUC", "pr": "PR AUC"}
_LEGEND = {"roc": "lower right", "pr": "lower left"}


def curve_kind(plot: PlotData) -> str:
    """ "roc", "pr", "calibration" from the plot's field names, else "" (any other line)."""
    x, y = plot.x.lower(), plot.y.lower()
    if x in _ROC[0] and y in _ROC[1]:
        return "roc"
    if x in _PR[0] and y in _PR[1]:
        return "pr"
    if _CALIBRATION[0].search(x) and _CALIBRATION[1].search(y):
        return "calibration"
    return ""


def curve_area(xs: list[float], ys: list[float]) -> float | None:
    """Area under the curve through the points in their order (trapezoid rule); None unless
    x is monotonic (either way, as `sklearn.metrics.auc` requires) with at least two points."""
    x = np.asarray(xs, dtype=float)
    y = np.asarray(ys, dtype=float)
    keep = ~(np.isnan(x) | np.isnan(y))
    x, y = x[keep], y[keep]
    if len(x) < 2:
        return None
    steps = np.diff(x)
    if not (np.all(steps >= 0) or np.all(steps <= 0)):
        return None
    return float(abs(np.trapezoid(y, x)))


def draw_lines(figure: Any, plot: PlotData) -> None:
    """Base dashed grey, head solid; the area in the legend for ROC and precision-recall."""
    axes = figure.add_subplot(1, 1, 1)
    kind = curve_kind(plot)
    area_name = _AREA.get(kind)
    categories: dict[str, int] = {}

    def position(value: Any) -> float:
        found = number(value)
        if found is not None:
            return found
        return float(categories.setdefault(str(value), len(categories)))

    scatter = plot.kind == "scatter"
    several = len(series(plot.head)) > 1 or len(series(plot.base)) > 1
    for role, points in (("base", plot.base), ("head", plot.head)):
        for index, (name, group) in enumerate(sorted(series(points).items())):
            xs = [position(point.get(plot.x)) for point in group]
            found = [number(point.get(plot.y)) for point in group]
            ys = [float("nan") if value is None else value for value in found]
            label = plot.base_label if role == "base" else plot.head_label
            if several:
                label = f"{label}: {name.split('::')[-1]}"
            area = curve_area(xs, ys) if area_name and not categories else None
            if area is not None:
                label = f"{label}, {area_name} {area:.3f}"
            axes.plot(xs, ys, label=label, **_style(role, index, several, scatter, kind))
    if kind in ("roc", "calibration"):
        reference = "chance" if kind == "roc" else "perfectly calibrated"
        axes.plot([0, 1], [0, 1], linestyle=":", color="#999999", linewidth=1, label=reference)
    if kind:
        axes.set_xlim(-0.02, 1.02)
        axes.set_ylim(-0.02, 1.02)
    if categories:
        axes.set_xticks(list(categories.values()), list(categories), rotation=45, ha="right")
    axes.set_xlabel(plot.x_label)
    axes.set_ylabel(plot.y_label)
    axes.grid(alpha=0.3)
    if plot.base or plot.head:
        axes.legend(loc=_LEGEND.get(kind, "best"))
    if area_name:
        note(figure, f"{area_name}: area under each curve as drawn, trapezoid rule")


def _style(role: str, index: int, several: bool, scatter: bool, kind: str) -> dict[str, Any]:
    color = HEAD_COLORS[index % len(HEAD_COLORS)]
    style: dict[str, Any] = (
        dict(BASE_STYLE) if role == "base" else {"color": color, "linestyle": "-"}
    )
    style["linewidth"] = 2
    if role == "base" and several:
        style.update(color=color, alpha=0.5)
    if kind == "calibration":
        style.update(marker="o", markersize=5)
    if scatter:
        style.update(linestyle="none", marker="o", markersize=3)
    return style
