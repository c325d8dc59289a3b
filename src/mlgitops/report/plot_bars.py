"""Paired horizontal bars, base and head: one category per row (y), its value (x).

An importance plot (a value field like gain, importance or SHAP, or categories named
feature/variable) is drawn as each feature's share of its revision's total: total gain grows
with model size, so raw totals of two models do not compare, shares do.
"""

from __future__ import annotations

import re
from typing import Any

from mlgitops.report.plot_model import BASE_STYLE, HEAD_COLORS, PlotData, number

MAX_BARS = 25
_IMPORTANCE_VALUE = re.compile(r"gain|importance|shap|split", re.IGNORECASE)
_TOTAL = re.compile(r"^total\s+", re.IGNORECASE)  # "Total gain" -> "Share of total gain"
_IMPORTANCE_NAME = re.compile(r"^(features?|variables?|columns?)$", re.IGNORECASE)


def bar_values(plot: PlotData, points: list[dict[str, Any]]) -> dict[str, float]:
    """Category -> value of one revision's datapoints (non-numbers skipped)."""
    values: dict[str, float] = {}
    for point in points:
        found = number(point.get(plot.x))
        if found is not None:
            values[str(point.get(plot.y))] = found
    return values


def is_importance(plot: PlotData) -> bool:
    """Whether the bars are feature importances (drawn as shares of the total)."""
    return bool(_IMPORTANCE_VALUE.search(plot.x) or _IMPORTANCE_NAME.match(plot.y))


def shares(values: dict[str, float]) -> dict[str, float] | None:
    """Each value over the total (they sum to 1); None when a value is negative or all are 0."""
    total = sum(values.values())
    if not values or total <= 0 or min(values.values()) < 0:
        return None
    return {name: value / total for name, value in values.items()}


def draw_bars(figure: Any, plot: PlotData) -> None:
    axes = figure.add_subplot(1, 1, 1)
    values = {"base": bar_values(plot, plot.base), "head": bar_values(plot, plot.head)}
    label = plot.x_label
    if is_importance(plot):
        fractions = {role: shares(found) for role, found in values.items()}
        if all(found is not None or not values[role] for role, found in fractions.items()):
            values = {role: found or {} for role, found in fractions.items()}
            label = f"Share of total {_TOTAL.sub('', label).lower()}"
            axes.xaxis.set_major_formatter(_percent())
    categories = list(dict.fromkeys([*values["head"], *values["base"]]))
    if plot.template.endswith("sorted") or is_importance(plot):
        categories.sort(key=lambda name: values["head"].get(name, values["base"].get(name, 0.0)))
    else:
        categories.reverse()
    categories = categories[-MAX_BARS:]
    height = 0.4
    rows = range(len(categories))
    for role, offset, color, name in (
        ("base", height / 2, BASE_STYLE["color"], plot.base_label),
        ("head", -height / 2, HEAD_COLORS[0], plot.head_label),
    ):
        axes.barh(
            [row + offset for row in rows],
            [values[role].get(category, 0.0) for category in categories],
            height=height,
            color=color,
            label=name,
        )
    axes.set_yticks(list(rows), categories)
    axes.set_ylim(-0.6, len(categories) - 0.4)
    axes.set_xlabel(label)
    axes.grid(axis="x", alpha=0.3)
    axes.legend(loc="lower right")


def _percent() -> Any:
    from matplotlib.ticker import PercentFormatter

    return PercentFormatter(xmax=1.0, decimals=0)


def figure_height(plot: PlotData) -> float:
    """Inches for the bars: a row per category (up to MAX_BARS), readable at 800 px wide."""
    rows = len({str(point.get(plot.y)) for point in plot.base + plot.head})
    return max(3.5, 0.38 * min(rows, MAX_BARS) + 1.6)
