"""Plots that compare, on a real two-revision DVC repository: areas in the legends, readable or
declared axis names, the confusion difference, importance shares, calibration base vs head.

Checked on the matplotlib figures (texts, lines, bars), not on pixels.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import chdir
from dataclasses import dataclass
from typing import Any

import numpy as np
import pytest
from sklearn.metrics import auc

from mlgitops.report import ReportRequest, build_report
from mlgitops.report.dvc_diff import open_repo, resolve_revisions
from mlgitops.report.plot_bars import bar_values, shares
from mlgitops.report.plot_collect import collect_plots
from mlgitops.report.plot_model import PlotData
from mlgitops.report.plot_names import readable
from mlgitops.report.plots import draw_plot
from tests.unit.mlgitops.report.repos import PYTHON, DvcRepo

# A stage scoring 400 synthetic rows; `train.signal` sets how well the score separates them.
_SCRIPT = """\
import csv, json, pathlib
import numpy as np, yaml
from sklearn import calibration, metrics
p = yaml.safe_load(open('params.yaml'))['train']
rng = np.random.default_rng(0)
label = rng.integers(0, 2, 400)
score = 1 / (1 + np.exp(-(2 * label - 1) * p['signal'] - rng.normal(0, 1, 400)))
fpr, tpr, _ = metrics.roc_curve(label, score)
precision, recall, _ = metrics.precision_recall_curve(label, score)
observed, predicted = calibration.calibration_curve(label, score, n_bins=8)
tables = {
    'roc': ('fpr,tpr', zip(fpr, tpr)),
    'pr': ('recall,precision', zip(recall, precision)),
    'confusion': ('actual,predicted', zip(label, (score >= 0.5).astype(int))),
    'calibration': ('mean_predicted,fraction_positive', zip(predicted, observed)),
    'importance': ('feature,gain', [('age', 50 * p['signal']), ('plan', 30.0), ('region', 5.0)]),
}
pathlib.Path('plots').mkdir(exist_ok=True)
for name, (header, rows) in tables.items():
    with open(f'plots/{name}.csv', 'w', newline='') as handle:
        writer = csv.writer(handle)
        writer.writerow(header.split(','))
        writer.writerows(rows)
pathlib.Path('metrics.json').write_text(json.dumps({'auc': metrics.roc_auc_score(label, score)}))
"""
_PLOTS: list[dict[str, Any]] = [
    {
        "plots/roc.csv": {
            "x": "fpr",
            "y": "tpr",
            "x_label": "False alarms",
            "y_label": "Hits",
            "title": "ROC (declared)",
        }
    },
    {"plots/pr.csv": {"x": "recall", "y": "precision"}},
    {"plots/confusion.csv": {"x": "predicted", "y": "actual", "template": "confusion"}},
    {"plots/calibration.csv": {"x": "mean_predicted", "y": "fraction_positive"}},
    {"plots/importance.csv": {"x": "gain", "y": "feature", "template": "bar_horizontal"}},
]


@dataclass(frozen=True)
class Compared:
    """The repository, its plots as the report collects them, and the report's images."""

    repo: DvcRepo
    plots: dict[str, PlotData]
    report: dict[str, Any]


@pytest.fixture(scope="module")
def compared(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Compared]:
    repo = DvcRepo.create(tmp_path_factory.mktemp("plots") / "repo")
    repo.write("train.py", _SCRIPT)
    repo.write_yaml("params.yaml", {"train": {"signal": 0.8}})
    plots = [{path: {"cache": False, **fields}} for item in _PLOTS for path, fields in item.items()]
    stage = {
        "cmd": f"{PYTHON} train.py",
        "deps": ["train.py"],
        "params": ["train.signal"],
        "metrics": [{"metrics.json": {"cache": False}}],
        "plots": plots,
    }
    repo.write_yaml("dvc.yaml", {"stages": {"train": stage}})
    repo.repro()
    base = repo.commit("base")
    repo.write_yaml("params.yaml", {"train": {"signal": 1.6}})
    repo.repro()
    repo.commit("head: stronger signal")
    with chdir(repo.root):
        report = build_report(
            ReportRequest(base=base, head="HEAD", images_dir=repo.root / "report" / "images")
        )
        with open_repo() as dvc:
            collected, _ = collect_plots(dvc, resolve_revisions(dvc, base, "HEAD"))
    yield Compared(repo, {plot.id: plot for plot in collected}, report)


def _xy(plot: PlotData, points: list[dict[str, Any]]) -> tuple[list[float], list[float]]:
    return [float(p[plot.x]) for p in points], [float(p[plot.y]) for p in points]


def test_every_declared_plot_is_rendered_as_a_png(compared: Compared) -> None:
    images = {plot["id"]: plot["image"] for plot in compared.report["plots"]}

    assert set(images) == {next(iter(item)) for item in _PLOTS}
    for image in images.values():
        data = (compared.repo.root / "report" / image).read_bytes()
        assert data.startswith(b"\x89PNG")
        assert int.from_bytes(data[16:20], "big") == 800  # GitHub's comment width, not scaled


@pytest.mark.parametrize(
    ("plot_id", "name"), [("plots/roc.csv", "AUC"), ("plots/pr.csv", "PR AUC")]
)
def test_the_legend_area_is_sklearns_auc_of_the_plotted_points(
    compared: Compared, plot_id: str, name: str
) -> None:
    plot = compared.plots[plot_id]
    legend = [t.get_text() for t in draw_plot(plot).axes[0].get_legend().get_texts()]

    for label, points in ((plot.base_label, plot.base), (plot.head_label, plot.head)):
        expected = auc(*_xy(plot, points))
        [entry] = [text for text in legend if text.startswith(label)]
        assert re.fullmatch(rf".*, {name} (\d\.\d{{3}})", entry), entry
        assert float(entry.rsplit(" ", 1)[1]) == pytest.approx(expected, abs=5e-4)
    assert plot.base and plot.head
    assert auc(*_xy(plot, plot.head)) > auc(*_xy(plot, plot.base))  # the change is visible


def test_axis_names_are_declared_ones_else_readable(compared: Compared) -> None:
    def names(plot_id: str) -> tuple[str, str, str]:
        figure = draw_plot(compared.plots[plot_id])
        axes = figure.axes[0]
        return axes.get_xlabel(), axes.get_ylabel(), figure.get_suptitle()

    assert names("plots/roc.csv") == ("False alarms", "Hits", "ROC (declared)")
    assert names("plots/pr.csv") == ("Recall", "Precision", "PR")
    assert names("plots/calibration.csv") == ("Mean predicted", "Fraction positive", "Calibration")


def test_the_confusion_difference_is_head_minus_base(compared: Compared) -> None:
    plot = compared.plots["plots/confusion.csv"]
    figure = draw_plot(plot)

    def matrix(points: list[dict[str, Any]]) -> np.ndarray:
        counts = np.zeros((2, 2), dtype=int)
        for point in points:
            counts[int(point["actual"]), int(point["predicted"])] += 1
        return counts

    expected = matrix(plot.head) - matrix(plot.base)
    difference = figure.axes[2]
    shown = {
        (round(t.get_position()[1]), round(t.get_position()[0])): t.get_text()
        for t in difference.texts
    }
    assert difference.get_title() == "difference\nhead − base"
    assert expected.any()
    assert shown == {
        (row, col): f"{value:+d}" if value else "0"
        for (row, col), value in np.ndenumerate(expected)
    }


def test_importance_is_drawn_as_shares_of_each_revisions_total(compared: Compared) -> None:
    plot = compared.plots["plots/importance.csv"]
    axes = draw_plot(plot).axes[0]

    for role in (plot.base, plot.head):
        assert sum((shares(bar_values(plot, role)) or {}).values()) == pytest.approx(1.0)
    widths = {bars.get_label(): sum(bar.get_width() for bar in bars) for bars in axes.containers}
    assert widths == {plot.base_label: pytest.approx(1.0), plot.head_label: pytest.approx(1.0)}
    assert axes.get_xlabel() == "Share of total gain"


def test_calibration_draws_base_and_head_on_one_figure_with_the_diagonal(
    compared: Compared,
) -> None:
    plot = compared.plots["plots/calibration.csv"]
    [axes] = draw_plot(plot).axes

    labels = [line.get_label() for line in axes.get_lines()]
    assert labels == [plot.base_label, plot.head_label, "perfectly calibrated"]


@pytest.mark.parametrize(
    ("name", "words"),
    [
        ("fraction_positive", "Fraction positive"),
        ("fpr", "False positive rate"),
        ("roc_curve", "ROC curve"),
        ("meanPredicted", "Mean predicted"),
        ("F1Score", "F1 score"),
        ("test-auc", "Test AUC"),
    ],
)
def test_raw_field_names_read_as_words(name: str, words: str) -> None:
    assert readable(name) == words
