"""Hand-written `evidence` for report.json, of the exact shape `mlgitops report` writes
(docs/pr-loop.md): the gate, the comment and the preview are tested against it."""

from __future__ import annotations

from typing import Any

BOOTSTRAP = {"resamples": 2000, "seed": 0, "confidence": 0.95}


def record(
    base: float,
    head: float,
    ci: tuple[float, float],
    *,
    better: str = "higher",
    label: str | None = None,
) -> dict[str, Any]:
    """One metric's record: point values, the delta and its interval, a label from the CI."""
    low, high = ci
    if label is None:
        improved = low > 0 if better == "higher" else high < 0
        worsened = high < 0 if better == "higher" else low > 0
        label = "better" if improved else "worse" if worsened else "within noise"
    return {
        "path": "metrics.json",
        "better": better,
        "paired": True,
        "base": base,
        "head": head,
        "delta": round(head - base, 6),
        "base_ci": [round(base - 0.022, 6), round(base + 0.022, 6)],
        "head_ci": [round(head - 0.022, 6), round(head + 0.022, 6)],
        "delta_ci": [low, high],
        "label": label,
        "resamples": 2000,
        "delong_p": 0.003 if "roc_auc" else None,
    }


def evidence(
    roc_auc: dict[str, Any] | None = None,
    log_loss: dict[str, Any] | None = None,
    *,
    status: str = "paired",
    slices: bool = True,
) -> dict[str, Any]:
    """Paired evidence for test.roc_auc and test.log_loss, three slices and one folded."""
    roc = roc_auc or record(0.843236, 0.837126, (-0.0101, -0.0023))
    loss = log_loss or record(0.428137, 0.433, (0.0011, 0.0089), better="lower")
    slice_rows = []
    if slices:
        for value, rows, delta in (("Month-to-month", 760, -0.015), ("One year", 290, 0.002)):
            base = 0.7
            slice_rows.append(
                {
                    "column": "contract",
                    "value": value,
                    "rows": {"base": rows, "head": rows},
                    "metrics": {
                        "test.roc_auc": record(base, base + delta, (delta - 0.01, delta + 0.009))
                    },
                }
            )
    return {
        "status": status,
        "note": (
            "Base and head scored the same 1,376 rows (reports/predictions.parquet): paired 95% "
            "intervals from 2,000 bootstrap resamples (seed 0)."
        ),
        "rows": {"base": 1376, "head": 1376, "shared": 1376},
        "bootstrap": dict(BOOTSTRAP),
        "metrics": {"test.roc_auc": roc, "test.log_loss": loss},
        "slices": slice_rows,
        "folded": [{"column": "contract", "values": ["Two year"], "rows": 42}] if slices else [],
        "smallest_slice_rows": 290 if slices else None,
        "worst_slice": {
            "column": "contract",
            "value": "Month-to-month",
            "metric": "test.roc_auc",
            "delta": -0.015,
            "label": "worse",
        }
        if slices
        else None,
    }
