"""Overlay PNGs: base and head on one picture, drawn the way the plot's template asks."""

from __future__ import annotations

import base64
import io
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from matplotlib.figure import Figure
from matplotlib.image import imread

from mlgitops.report.plots import PlotData, image_name, render_plot

GREY = (0.498, 0.498, 0.498)  # the base: #7f7f7f
BLUE = (0.122, 0.467, 0.706)  # the head: #1f77b4


def _points(rev: str, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{**row, "rev": rev, "filename": "p.csv", "field": "y"} for row in rows]


def _plot(template: str, x: str, y: str, base: list[Any], head: list[Any]) -> PlotData:
    return PlotData(
        id="plots/p.csv",
        title="P",
        template=template,
        x=x,
        y=y,
        x_label=x,
        y_label=y,
        base=_points("main", base),
        head=_points("workspace", head),
    )


def _has(pixels: np.ndarray, color: tuple[float, float, float]) -> bool:
    distance = np.abs(pixels[..., :3] - np.array(color)).max(axis=-1)
    return bool((distance < 0.03).sum() > 20)


def _render(plot: PlotData, tmp_path: Path) -> np.ndarray:
    path = render_plot(plot, tmp_path / "out" / "p.png")
    assert path.read_bytes().startswith(b"\x89PNG")
    pixels: np.ndarray = imread(path)
    return pixels


@pytest.mark.parametrize("template", ["simple", "linear", "smooth", "scatter", "my-template.json"])
def test_lines_overlay_base_and_head(template: str, tmp_path: Path) -> None:
    base = [{"x": str(i), "y": str(i * 0.1)} for i in range(10)]
    head = [{"x": str(i), "y": str(i * 0.12)} for i in range(10)]

    pixels = _render(_plot(template, "x", "y", base, head), tmp_path)

    assert _has(pixels, GREY) and _has(pixels, BLUE)


def test_categorical_x_still_draws(tmp_path: Path) -> None:
    base = [{"x": name, "y": "1"} for name in ("a", "b")]
    head = [{"x": name, "y": "2"} for name in ("a", "c")]

    assert _has(_render(_plot("linear", "x", "y", base, head), tmp_path), BLUE)


def test_bars_pair_base_and_head(tmp_path: Path) -> None:
    base = [{"gain": "5", "feature": "age"}, {"gain": "3", "feature": "plan"}]
    head = [{"gain": "6", "feature": "age"}, {"gain": "1", "feature": "region"}]

    pixels = _render(_plot("bar_horizontal_sorted", "gain", "feature", base, head), tmp_path)

    assert _has(pixels, GREY) and _has(pixels, BLUE)


def test_confusion_matrices_side_by_side(tmp_path: Path) -> None:
    head = [{"actual": str(i % 2), "predicted": str((i // 3) % 2)} for i in range(30)]

    pixels = _render(_plot("confusion", "predicted", "actual", [], head), tmp_path)

    height, width = pixels.shape[:2]
    assert width > height
    ink = pixels[..., :3].mean(axis=-1) < 0.8
    base, head, difference = (
        ink[:, i * width // 3 : (i + 1) * width // 3].mean() for i in range(3)
    )
    # the base panel says "no data", the head panel is a matrix, the difference needs both
    assert head > 4 * base and head > 4 * difference


def test_image_plots_show_both_images(tmp_path: Path) -> None:
    def data_uri(color: str) -> str:
        figure = Figure(figsize=(1, 1))
        figure.patch.set_facecolor(color)
        buffer = io.BytesIO()
        figure.savefig(buffer, format="png")
        return "data:image;base64," + base64.b64encode(buffer.getvalue()).decode()

    plot = PlotData(
        id="plots/shap.png",
        title="SHAP",
        template="image",
        x="",
        y="",
        x_label="",
        y_label="",
        base=[{"rev": "main", "src": data_uri("#7f7f7f")}],
        head=[{"rev": "workspace", "src": data_uri("#1f77b4")}],
    )

    pixels = _render(plot, tmp_path)

    assert _has(pixels, GREY) and _has(pixels, BLUE)


def test_image_names_are_unique() -> None:
    taken: set[str] = set()

    names = [image_name(plot_id, taken) for plot_id in ("plots/roc.csv", "eval/roc.csv", "a b")]

    assert names == ["roc.png", "eval_roc.csv.png", "a_b.png"]
