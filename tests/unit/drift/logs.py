"""Small synthetic references and request logs, written as the service writes its log."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

PLANS = ("basic", "plus", "premium")


def reference_frame(rows: int = 3_000, *, seed: int = 0) -> pd.DataFrame:
    """A training table: an id, a label, two numeric features, a category, a 0/1 flag, a score."""
    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        {
            "customer_id": [f"c{i}" for i in range(rows)],
            "charges": rng.normal(70.0, 20.0, rows).round(2),
            "tenure": rng.integers(0, 73, rows),
            "plan": rng.choice(PLANS, rows, p=[0.5, 0.3, 0.2]),
            "flag": rng.integers(0, 2, rows),
            "churn": rng.choice(["No", "Yes"], rows),
            "churn_probability": rng.beta(2, 5, rows),
        }
    )


def customers(
    rows: int, *, seed: int, charges_scale: float = 1.0, plan_p: tuple[float, ...] = (0.5, 0.3, 0.2)
) -> list[dict[str, Any]]:
    """Log lines drawn like the reference (or shifted), as the service logs them."""
    rng = np.random.default_rng(seed)
    lines = []
    for _ in range(rows):
        lines.append(
            {
                "time": "2026-11-23T13:05:01.123+00:00",
                "endpoint": "predict",
                "customer_id_hmac": "ab" * 32,
                "model_sha256": "cd" * 32,
                "inputs": {
                    "charges": round(float(rng.normal(70.0, 20.0)) * charges_scale, 2),
                    "tenure": int(rng.integers(0, 73)),
                    "plan": str(rng.choice(PLANS, p=plan_p)),
                    "flag": int(rng.integers(0, 2)),
                },
                "outputs": {"churn_probability": float(rng.beta(2, 5)), "churn": False},
            }
        )
    return lines


def write_log(path: Path, lines: Iterable[Mapping[str, Any] | str]) -> Path:
    """Compact JSON lines, as the service writes them; a str is written as it is (broken lines)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8") as handle:
        for line in lines:
            text = line if isinstance(line, str) else json.dumps(line, separators=(",", ":"))
            handle.write(text + "\n")
    return path
