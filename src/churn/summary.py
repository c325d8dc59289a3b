"""Print what `make run` produced: the metrics as a table and where the plots are."""

from __future__ import annotations

import json
from pathlib import Path

from rich.console import Console
from rich.table import Table

from churn.evaluate import IMAGES_DIR, METRICS_PATH


def metrics_table(metrics: dict[str, dict[str, float]]) -> Table:
    """One row per metric, one column per split."""
    splits = list(metrics)
    table = Table(title=f"Metrics ({METRICS_PATH})")
    table.add_column("metric")
    for split in splits:
        table.add_column(split, justify="right")
    for name in metrics[splits[0]]:
        table.add_row(name, *(f"{metrics[split][name]:.4f}" for split in splits))
    return table


def main(metrics_path: Path = METRICS_PATH, images_dir: Path = IMAGES_DIR) -> None:
    console = Console()
    console.print(metrics_table(json.loads(metrics_path.read_text())))
    for image in sorted(images_dir.glob("*.png")):
        console.print(f"plot: {image}")
    console.print("interactive plots: run 'dvc plots show', then open dvc_plots/index.html")


if __name__ == "__main__":
    main()
