"""Baseline A of benchmarks/serving.py: the churn model served the way BentoML's docs show it.

Adaptive batching joins the requests' JSON records into one list, which becomes a pandas
DataFrame, typed by the training pipeline's own `prepare.clean` and scored. No validation beyond
what pandas does. The
batching settings are the prototype's (batches of up to 100 within 100 ms), the ones that shed
about 1% of requests with a 503 under load.

Not BentoML's own DataFrame input (`pd.DataFrame` with `DataframeSchema`), which the docs also
show: with `batchable=True` it hangs every request for 60 s in BentoML 1.4.39, because
`PandasDataFrameContainer.get_batch_size` returns the frame's shape tuple and the batching
dispatcher dies on the first request (`TypeError: unsupported operand type(s) for +: 'int' and
'tuple'`).

    bentoml serve dataframe_service:ChurnDataFrame --working-dir benchmarks/baselines
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import bentoml
import pandas as pd

from churn import schema
from churn.prepare import clean

MODEL_PATH = Path(
    os.environ.get("CHURN_MODEL_PATH", Path(__file__).resolve().parents[2] / "models/model.txt")
)


@bentoml.service
class ChurnDataFrame:
    """One LightGBM booster behind a batchable DataFrame endpoint."""

    def __init__(self) -> None:
        import lightgbm as lgb

        self.booster: Any = lgb.Booster(model_file=str(MODEL_PATH))

    @bentoml.api(batchable=True, max_batch_size=100, max_latency_ms=100)  # type: ignore[untyped-decorator]
    def predict(self, customers: list[dict[str, Any]]) -> list[float]:
        """Churn probabilities of the batch's customers, in order."""
        frame = clean(pd.DataFrame.from_records(customers))
        probabilities: list[float] = self.booster.predict(frame[list(schema.FEATURES)]).tolist()
        return probabilities
