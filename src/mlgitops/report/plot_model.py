"""A declared plot with its datapoints at base and head, and what every drawing shares.

Pictures are drawn at 800 px wide (8 in at 100 dpi), GitHub's comment width, so text sizes
in points are what a reviewer sees: 12 pt body text is about 17 px on the page.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from matplotlib.typing import RcKeyType

WIDTH_INCHES = 8.0
DPI = 100
RC: dict[RcKeyType, Any] = {
    "font.size": 12,
    "axes.titlesize": 13,
    "axes.labelsize": 12,
    "xtick.labelsize": 11,
    "ytick.labelsize": 11,
    "legend.fontsize": 11,
    "figure.titlesize": 14,
    "figure.titleweight": "bold",
}
BASE_STYLE = {"color": "#7f7f7f", "linestyle": "--"}
HEAD_COLORS = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b"]
NOTE_SIZE = 10


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


def number(value: Any) -> float | None:
    """A datapoint's value as a float (DVC gives CSV values as strings); None if not a number."""
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def series(points: list[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    """Datapoints grouped by source file and field (a plot may draw several)."""
    groups: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for point in points:
        groups[f"{point.get('filename', '')}::{point.get('field', '')}"].append(point)
    return dict(groups)


def note(figure: Any, text: str) -> None:
    """A one-line note under the picture (how a number in it was computed)."""
    figure.text(0.01, 0.01, text, fontsize=NOTE_SIZE, color="#444444", ha="left", va="bottom")
