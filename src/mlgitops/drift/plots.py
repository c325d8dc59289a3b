"""One picture per drifted column: the reference's and the logs' shares per bin, side by side."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np

from mlgitops.drift.compare import FeatureResult


def image_name(feature: str) -> str:
    """A file name for the feature's picture (letters, digits, `_`, `-`, `.` only)."""
    return re.sub(r"[^A-Za-z0-9_.-]", "_", feature) + ".png"


def save_plot(result: FeatureResult, folder: Path) -> Path:
    """Bars of the reference's and the current shares per bin, written as PNG."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    # Bins empty on both sides (often "(missing)" and "(unseen)") would only add noise.
    keep = (result.reference + result.current) > 0
    labels = [label for label, kept in zip(result.labels, keep, strict=True) if kept]
    reference = result.reference[keep] / max(result.reference.sum(), 1)
    current = result.current[keep] / max(result.current.sum(), 1)
    positions = np.arange(len(labels))
    width = 0.4
    figure, axes = plt.subplots(figsize=(max(5.0, 0.7 * len(labels) + 2), 4))
    axes.bar(positions - width / 2, reference, width, label="reference", color="#4c72b0")
    axes.bar(positions + width / 2, current, width, label="current (logs)", color="#dd8452")
    axes.set_xticks(positions, labels, rotation=35, ha="right", fontsize=8)
    axes.set_ylabel("share of rows")
    verdict = "drifted" if result.drifted else "stable"
    axes.set_title(f"{result.name} ({result.kind}): PSI {result.psi:.3f}, {verdict}")
    axes.legend()
    figure.tight_layout()
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / image_name(result.name)
    figure.savefig(path, dpi=100)
    plt.close(figure)
    return path
