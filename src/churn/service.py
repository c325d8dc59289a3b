"""The churn model as a BentoML service: /predict (batched JSON), /predict_file (CSV/Parquet).

How to load, encode and predict, and nothing else: the model comes from churn.model (checked
against the card), requests are validated against the training schema (churn.request,
churn.upload), encoded straight into an array with the model's category codes (churn.encode)
and answered (churn.answers) with the probability, the label at the card's threshold and the
model's version. The rest is mlgitops.serving: bad requests as 4xx naming the field, metrics,
the request log after the response, readiness from the card's golden cases (docs/serving.md).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, cast

import bentoml
import numpy as np
from starlette.responses import JSONResponse

from churn import schema
from churn.answers import Answers, FilePredictions, ModelVersion
from churn.encode import columns_of
from churn.model import CARD_PATH, ROOT, load_model, predict, threshold
from churn.request import MAX_CUSTOMERS, ROW_RULE_ERROR, ROW_RULE_FIELD, Customers
from mlgitops import serving

serving.apply_timeout_fix()  # BentoML's request timer kept every answer alive for 10 s

REJECTIONS = serving.Rejections(
    fields=[schema.ID, *schema.FEATURES, schema.LABEL, "file"],
    list_field="customers",
    max_rows=MAX_CUSTOMERS,
    row_rules={ROW_RULE_ERROR: ROW_RULE_FIELD},
    too_many_hint="send more to /predict_file",
)


@bentoml.service(name="churn", **serving.service_config(routes=["/predict", "/predict_file"]))
class ChurnService:
    """Scores customers with the model the card describes (see the module docstring)."""

    def __init__(self) -> None:
        from churn.encode import Encoder

        self.runtime = serving.ServingRuntime(
            root=ROOT, card_path=CARD_PATH, params_path=ROOT / "params.yaml", id_field=schema.ID
        )
        card = self.runtime.card
        self.booster = load_model(card, root=ROOT)
        self.encoder = Encoder.from_card(card)
        self.threshold = threshold(card)
        self.version = ModelVersion.model_validate(self.runtime.version)
        self.runtime.check_golden(Customers, lambda rows: self._answers(columns_of(rows))[0])
        self.runtime.settle()

    @bentoml.on_deployment
    @staticmethod
    def refuse_a_wrong_model() -> None:
        """Check the model in the serving process, before any worker: `bentoml serve` exits 1.

        (A worker failing in __init__ is restarted forever outside a container.)
        """
        serving.verified_model(serving.read_card(CARD_PATH), root=ROOT)

    def __is_ready__(self) -> bool:
        return self.runtime.ready

    @bentoml.api(
        batchable=True, max_batch_size=MAX_CUSTOMERS, max_latency_ms=serving.MAX_LATENCY_MS
    )
    async def predict(self, customers: Customers) -> Answers:
        """Churn probability and label for one customer or a list of them, in request order.

        async: the work is ~0.1 ms a batch, less than a hop to a worker thread costs.
        """
        columns = columns_of(customers)  # one pass over the dicts, reused by the log
        answers, probabilities = self._answers(columns)
        self.runtime.after_response(
            "predict", probabilities, lambda: (columns, self._outputs(probabilities))
        )
        return cast(Answers, answers)

    @bentoml.api(route="/predict_file")
    def predict_file(self, file: Path) -> FilePredictions:
        """Churn probability and label for every customer of a CSV or Parquet table."""
        from churn.upload import UploadError, read_customers

        try:
            frame = read_customers(file)
        except UploadError as error:
            status, body = REJECTIONS.reject(error.status, error.message, error.problems)
            return cast(FilePredictions, JSONResponse(body, status_code=status))
        columns = {column: frame[column].array for column in self.encoder.features}
        probabilities = self._score(columns)
        outputs = self._outputs(probabilities)
        self.runtime.after_response(
            "predict_file", probabilities, lambda: (serving.json_columns(frame), outputs)
        )
        ids = frame[schema.ID].astype("str").tolist()
        return FilePredictions.model_construct(
            customer_id=ids,
            churn_probability=outputs["churn_probability"],
            churn=outputs["churn"],
            model=self.version,
        )

    def _score(self, columns: Any) -> np.ndarray:
        return predict(self.booster, self.encoder.encode_columns(columns))

    def _outputs(self, probabilities: np.ndarray) -> dict[str, list[Any]]:
        labels = probabilities >= self.threshold
        return {"churn_probability": probabilities.tolist(), "churn": labels.tolist()}

    def _answers(self, columns: Any) -> tuple[list[dict[str, Any]], np.ndarray]:
        """/predict's answers as plain dicts, serialised as they are (churn.answers), and the
        probabilities: model_construct would cost 2.6 µs a customer (26 ms for 10,000)."""
        probabilities = self._score(columns)
        version, threshold = self.runtime.version, self.threshold
        answers = [
            {"customer_id": i, "churn_probability": p, "churn": p >= threshold, "model": version}
            for i, p in zip(columns[schema.ID], probabilities.tolist(), strict=True)
        ]
        return answers, probabilities

    @bentoml.on_shutdown
    def flush(self) -> None:
        """Write out the queued request log lines and metrics before the worker exits."""
        self.runtime.close()


cast(Any, ChurnService).add_asgi_middleware(
    serving.RejectionMiddleware,
    json_paths=["/predict"],
    upload_paths={"/predict_file": "file"},
    rejections=REJECTIONS,
)
