"""DVC stage `evaluate`: score train and test, write metrics.json, the plots and the reference.

Plots are written twice: as data files that `dvc plots` renders and diffs, and as PNG images
for people who open the folder (and for the PR comment). The reference is the training rows'
features with the model's score, what `mlgitops drift` compares the service's logs with.
"""

from __future__ import annotations

import gc
import json
import logging
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from churn import schema
from churn.io import CARD_PATH, TEST_PATH, TRAIN_PATH, write_parquet
from churn.model import load_model, predict
from churn.model import threshold as card_threshold
from churn.predictions import write_predictions
from churn.timing import StageTimer

logger = logging.getLogger(__name__)

METRICS_PATH = Path("metrics.json")
PLOTS_DIR = Path("plots")
IMAGES_DIR = PLOTS_DIR / "images"
REFERENCE_PATH = Path("data/reference.parquet")
SCORE_COLUMN = "churn_probability"  # as the service's answers and request log name the score
_MAX_CURVE_POINTS = 400  # curves keep their shape; plot files stay small at any data size
_CALIBRATION_BINS = 10


def compute_metrics(
    labels: np.ndarray, scores: np.ndarray, *, threshold: float
) -> dict[str, float]:
    """The metrics a reviewer compares between branches, rounded for readable diffs."""
    from sklearn import metrics

    predicted = scores >= threshold
    values = {
        "roc_auc": metrics.roc_auc_score(labels, scores),
        "average_precision": metrics.average_precision_score(labels, scores),
        "log_loss": metrics.log_loss(labels, scores, labels=[0, 1]),
        "brier": metrics.brier_score_loss(labels, scores),
        "accuracy": metrics.accuracy_score(labels, predicted),
        "f1": metrics.f1_score(labels, predicted, zero_division=0.0),
    }
    return {name: round(float(value), 6) for name, value in values.items()}


def reference_table(frame: pd.DataFrame, scores: np.ndarray) -> pd.DataFrame:
    """The features of the training rows and the model's score for each: the drift reference.

    No customer id and no label: the drift check compares inputs and scores only.
    """
    return frame[list(schema.FEATURES)].assign(**{SCORE_COLUMN: scores}).reset_index(drop=True)


def _thin(frame: pd.DataFrame, max_points: int = _MAX_CURVE_POINTS) -> pd.DataFrame:
    """At most `max_points` rows, evenly spaced, always keeping the first and the last."""
    if len(frame) <= max_points:
        return frame
    positions = np.unique(np.linspace(0, len(frame) - 1, max_points).round().astype(int))
    return frame.iloc[positions]


def plot_data(
    labels: np.ndarray, scores: np.ndarray, *, threshold: float, importance: pd.DataFrame
) -> dict[str, pd.DataFrame]:
    """One table per plot, in the shape `dvc plots` templates read."""
    from sklearn import calibration, metrics

    fpr, tpr, _ = metrics.roc_curve(labels, scores)
    precision, recall, _ = metrics.precision_recall_curve(labels, scores)
    observed, predicted = calibration.calibration_curve(labels, scores, n_bins=_CALIBRATION_BINS)
    return {
        "roc": _thin(pd.DataFrame({"fpr": fpr, "tpr": tpr})),
        "precision_recall": _thin(pd.DataFrame({"recall": recall, "precision": precision})),
        "confusion": pd.DataFrame(
            {"actual": labels.astype(int), "predicted": (scores >= threshold).astype(int)}
        ),
        "calibration": pd.DataFrame({"mean_predicted": predicted, "fraction_churned": observed}),
        "importance": importance,
    }


def feature_importance(booster: Any) -> pd.DataFrame:
    """Total gain per feature, largest first."""
    gains = booster.feature_importance(importance_type="gain")
    frame = pd.DataFrame({"feature": booster.feature_name(), "gain": np.round(gains, 3)})
    return frame.sort_values("gain", ascending=False, kind="stable")


def save_images(
    tables: dict[str, pd.DataFrame], *, metrics: dict[str, float], folder: Path
) -> list[Path]:
    """The same plots as PNG files; returns their paths."""
    import matplotlib
    import matplotlib.ticker

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    folder.mkdir(parents=True, exist_ok=True)
    paths = []

    def finish(figure: Any, name: str) -> None:
        figure.tight_layout()
        path = folder / f"{name}.png"
        figure.savefig(path, dpi=100)
        plt.close(figure)
        paths.append(path)

    figure, axes = plt.subplots(figsize=(4.5, 4))
    roc = tables["roc"]
    axes.plot(roc["fpr"], roc["tpr"], label=f"test ROC AUC {metrics['roc_auc']:.3f}")
    axes.plot([0, 1], [0, 1], linestyle=":", color="grey")
    axes.set(xlabel="false positive rate", ylabel="true positive rate", title="ROC (test)")
    axes.legend(loc="lower right")
    finish(figure, "roc")

    figure, axes = plt.subplots(figsize=(4.5, 4))
    curve = tables["precision_recall"]
    axes.plot(
        curve["recall"],
        curve["precision"],
        label=f"average precision {metrics['average_precision']:.3f}",
    )
    axes.set(xlabel="recall", ylabel="precision", title="Precision-recall (test)")
    axes.legend(loc="upper right")
    finish(figure, "precision_recall")

    figure, axes = plt.subplots(figsize=(4, 3.6))
    confusion = pd.crosstab(tables["confusion"]["actual"], tables["confusion"]["predicted"])
    confusion = confusion.reindex(index=[0, 1], columns=[0, 1], fill_value=0)
    axes.imshow(confusion.to_numpy(), cmap="Blues")
    for (row, column), count in np.ndenumerate(confusion.to_numpy()):
        axes.text(column, row, str(count), ha="center", va="center")
    axes.set(
        xticks=[0, 1],
        yticks=[0, 1],
        xticklabels=["stays", "churns"],
        yticklabels=["stays", "churns"],
        xlabel="predicted",
        ylabel="actual",
        title="Confusion matrix (test)",
    )
    finish(figure, "confusion")

    figure, axes = plt.subplots(figsize=(4.5, 4))
    calibration = tables["calibration"]
    axes.plot(calibration["mean_predicted"], calibration["fraction_churned"], marker="o")
    axes.plot([0, 1], [0, 1], linestyle=":", color="grey")
    axes.set(
        xlabel="mean predicted probability",
        ylabel="fraction that churned",
        title="Calibration (test)",
    )
    finish(figure, "calibration")

    figure, axes = plt.subplots(figsize=(5.5, 5))
    importance = tables["importance"].iloc[::-1]
    # a share, as the PR report draws it: total gain grows with the number of trees
    axes.barh(importance["feature"], importance["gain"] / (importance["gain"].sum() or 1.0))
    axes.xaxis.set_major_formatter(matplotlib.ticker.PercentFormatter(xmax=1.0, decimals=0))
    axes.set(xlabel="share of total gain", title="Feature importance")
    finish(figure, "importance")
    return paths


def main() -> None:
    timer = StageTimer("evaluate")
    with timer.phase("imports"):
        # The functions above import these lazily; here they are timed as imports, not work.
        import lightgbm  # noqa: F401
        import matplotlib
        import sklearn.calibration
        import sklearn.metrics  # noqa: F401

        matplotlib.use("Agg")
        import matplotlib.pyplot
    gc.freeze()  # what is imported lives to the end: keep the GC off it (docs/benchmarks.md)
    columns = [schema.ID, *schema.FEATURES, schema.LABEL]  # the id keys the predictions
    with timer.phase("read"):
        card = json.loads(CARD_PATH.read_text())
        booster = load_model(card, root=Path())
        threshold = card_threshold(card)  # params.yaml's, as train wrote it into the card
        frames = {
            "train": pd.read_parquet(TRAIN_PATH, columns=columns),
            "test": pd.read_parquet(TEST_PATH, columns=columns),
        }
    with timer.phase("work"):
        scores = {split: predict(booster, frame) for split, frame in frames.items()}
        labels = {split: frame[schema.LABEL].to_numpy() for split, frame in frames.items()}
        metrics = {
            split: compute_metrics(labels[split], scores[split], threshold=threshold)
            for split in frames
        }
        tables = plot_data(
            labels["test"],
            scores["test"],
            threshold=threshold,
            importance=feature_importance(booster),
        )
    with timer.phase("write"):
        METRICS_PATH.write_text(json.dumps(metrics, indent=2) + "\n")
        PLOTS_DIR.mkdir(exist_ok=True)
        for name, table in tables.items():
            table.to_csv(PLOTS_DIR / f"{name}.csv", index=False)
        images = save_images(tables, metrics=metrics["test"], folder=IMAGES_DIR)
        write_parquet(reference_table(frames["train"], scores["train"]), REFERENCE_PATH)
        write_predictions(frames["test"], scores["test"], score_column=SCORE_COLUMN)
    logger.info(
        "evaluate: test ROC AUC %.4f, plots in %s/ and %d images in %s/",
        metrics["test"]["roc_auc"],
        PLOTS_DIR,
        len(images),
        IMAGES_DIR,
    )
    timer.report()


if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    main()
