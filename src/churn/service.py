"""The churn model as a BentoML service: /predict (batched JSON), /predict_file (CSV/Parquet).

It loads LightGBM's text model once, after checking the file's sha256 against the model card
(churn.model_file), and refuses to start when they differ or a file is missing. Requests are
validated against the training schema (churn.request, churn.upload), encoded straight into an
array with the model's category codes (churn.encode) and answered (churn.answers) with the
probability, the label at params.yaml's threshold and the model's version. /readyz says ready
only once the card's golden customers scored as the card says. Bad requests become 4xx naming
the field (churn.middleware, churn.rejections); every scored customer goes to the request log
(churn.requestlog), after the response (churn.deferred). Settings: docs/serving.md.
"""

from __future__ import annotations

import gc
import logging
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any, cast

import bentoml
import numpy as np
from pydantic import TypeAdapter
from starlette.responses import JSONResponse

from churn import schema, timeout_fix
from churn.answers import Answers, FilePredictions, ModelVersion
from churn.deferred import Deferred
from churn.encode import columns_of
from churn.metrics import observe_all
from churn.middleware import RejectionMiddleware
from churn.model_file import CARD_PATH, PARAMS_PATH, read_card, verified_model, verify_levels
from churn.rejections import InvalidRequestFilter, rejected_counter, rejection
from churn.request import MAX_CUSTOMERS, Customers
from churn.requestlog import Columns, json_columns

logger = logging.getLogger(__name__)

# BentoML's request timer otherwise keeps every answered request alive for traffic.timeout:
# the garbage collector's pauses in walking them were the p99 (churn.timeout_fix).
timeout_fix.apply()

GOLDEN_TOLERANCE = 1e-9
BENTOML_ERROR_LOGGER = "bentoml._internal.server.http_app"  # logs each failed request

# Adaptive batching (docs/serving.md, "Batching"): a batch holds up to MAX_BATCH_SIZE customers,
# so one /predict of MAX_CUSTOMERS goes through in one call; a queued request is cancelled with
# a 503 only after MAX_LATENCY_MS, far beyond any latency this model needs, so none is shed.
MAX_BATCH_SIZE = MAX_CUSTOMERS
MAX_LATENCY_MS = 10_000
REQUEST_TIMEOUT_S = 10
EXCLUDED_FROM_TRACING = ["/predict", "/predict_file", "/livez", "/readyz", "/healthz", "/metrics"]
PARALLEL_FROM_ROWS = 1_000  # batches this big are scored on all of LightGBM's threads
GC_GEN0_THRESHOLD = 10_000  # Python's default 700 promoted in-flight request objects to gen 2


@bentoml.service(
    name="churn",
    # No request needs more: a file of 100,000 rows takes ~3 s. (Before churn.timeout_fix,
    # BentoML also kept every answered request alive this long, so it was kept short.)
    traffic={"timeout": REQUEST_TIMEOUT_S},
    # Our request log and metrics record every request; BentoML's line per request on stdout
    # cost 25% of the throughput.
    logging={"access": {"enabled": False}},
    # No trace exporter is configured, so spans were pure cost (630 -> 1,043 requests/s off);
    # a deployment that exports traces sets its own tracing config (docs/serving.md).
    tracing={"excluded_urls": EXCLUDED_FROM_TRACING},
)
class ChurnService:
    """Scores customers with the model the card describes (see the module docstring)."""

    def __init__(self) -> None:
        import lightgbm as lgb
        import prometheus_client
        import yaml

        from churn.encode import Encoder
        from churn.requestlog import RequestLog, RequestLogConfig

        card = read_card(CARD_PATH)
        model_path, sha256 = verified_model(card)
        self.booster = lgb.Booster(model_file=str(model_path))
        self.encoder = Encoder.from_card(card)
        verify_levels(card, self.booster.pandas_categorical or [])
        self.threshold = float(yaml.safe_load(PARAMS_PATH.read_text())["evaluate"]["threshold"])
        self.version = ModelVersion(sha256=sha256, git_revision=card["git"]["revision"])
        self.scored = prometheus_client.Counter(
            "churn_predictions", "Customers scored", labelnames=["endpoint"]
        )
        self.scores = prometheus_client.Histogram(
            "churn_probability",
            "Churn probabilities served",
            buckets=[i / 10 for i in range(1, 11)],
        )
        rejected_counter()  # registered now, so /metrics lists it before the first rejection
        logging.getLogger(BENTOML_ERROR_LOGGER).addFilter(InvalidRequestFilter())
        worker = bentoml.server_context.worker_index or 0
        self.request_log = RequestLog(
            RequestLogConfig.from_env(),
            id_field="customer_id",
            model_sha256=sha256,
            name=f"requests-worker{worker}",
        )
        self.deferred = Deferred(name="after-response")
        self.ready = self._golden_customers_score_as_the_card_says(card)
        # The ~200k objects of the imports and the model live as long as the worker: frozen,
        # a full collection no longer walks them (each took 75-115 ms, the p99 of requests).
        gc.collect()
        gc.freeze()
        gc.set_threshold(GC_GEN0_THRESHOLD, *gc.get_threshold()[1:])

    def _golden_customers_score_as_the_card_says(self, card: Mapping[str, Any]) -> bool:
        golden = card["golden"]
        customers = TypeAdapter(Customers).validate_python([case["customer"] for case in golden])
        scores = self._score(self.encoder.encode(customers))
        for case, score in zip(golden, scores, strict=True):
            if abs(float(score) - float(case["churn_probability"])) > GOLDEN_TOLERANCE:
                logger.error(
                    "not ready: golden customer %s scored %.12f, the card says %.12f",
                    case["customer"].get("customer_id"),
                    score,
                    case["churn_probability"],
                )
                return False
        logger.info("ready: %d golden customers scored as the card says", len(golden))
        return True

    @bentoml.on_deployment
    @staticmethod
    def refuse_a_wrong_model() -> None:
        """Check the model in the serving process, before any worker: `bentoml serve` exits 1.

        (A worker failing in __init__ is restarted forever outside a container.)
        """
        verified_model(read_card(CARD_PATH))

    def __is_ready__(self) -> bool:
        return self.ready

    @bentoml.api(batchable=True, max_batch_size=MAX_BATCH_SIZE, max_latency_ms=MAX_LATENCY_MS)
    async def predict(self, customers: Customers) -> Answers:
        """Churn probability and label for one customer or a list of them, in request order.

        async: the work is ~0.1 ms a batch, less than a hop to a worker thread costs.
        """
        columns = columns_of(customers)  # one pass over the dicts, reused by the log
        probabilities = self._score(self.encoder.encode_columns(columns))
        version = self.version.model_dump()
        # Plain dicts, serialised as they are (churn.answers); model_construct would cost
        # 2.6 µs a customer in Python (26 ms for a list of 10,000).
        answers = [
            {
                "customer_id": customer_id,
                "churn_probability": p,
                "churn": p >= self.threshold,
                "model": version,
            }
            for customer_id, p in zip(columns[schema.ID], probabilities.tolist(), strict=True)
        ]
        self._after_response("predict", probabilities)

        def log_columns() -> tuple[Columns, Columns]:
            labels = probabilities >= self.threshold
            return columns, {"churn_probability": probabilities.tolist(), "churn": labels.tolist()}

        self.deferred.submit(self.request_log.write, "predict", time.time(), log_columns)
        return cast(Answers, answers)

    @bentoml.api(route="/predict_file")
    def predict_file(self, file: Path) -> FilePredictions:
        """Churn probability and label for every customer of a CSV or Parquet table."""
        from churn.upload import UploadError, read_customers

        try:
            frame = read_customers(file)
        except UploadError as error:
            status, body = rejection(error.status, error.message, error.problems)
            return cast(FilePredictions, JSONResponse(body, status_code=status))
        columns = {column: frame[column].array for column in self.encoder.features}
        probabilities = self._score(self.encoder.encode_columns(columns))
        labels = probabilities >= self.threshold
        self._after_response("predict_file", probabilities)

        def log_columns() -> tuple[Columns, Columns]:
            outputs = {"churn_probability": probabilities.tolist(), "churn": labels.tolist()}
            return json_columns(frame), outputs

        self.deferred.submit(self.request_log.write, "predict_file", time.time(), log_columns)
        return FilePredictions.model_construct(
            customer_id=frame[schema.ID].astype("str").tolist(),
            churn_probability=probabilities.tolist(),
            churn=labels.tolist(),
            model=self.version,
        )

    def _score(self, rows: np.ndarray) -> np.ndarray:
        """Probabilities; a small batch on one thread, a bulk one on LightGBM's threads.

        Waking LightGBM's second OpenMP thread for a few rows cost up to a scheduler slice on
        a busy core: single requests then took 12 ms instead of 0.9 ms, one server start in 3.
        """
        if len(rows) < PARALLEL_FROM_ROWS:
            return np.asarray(self.booster.predict(rows, num_threads=1), dtype=np.float64)
        return np.asarray(self.booster.predict(rows), dtype=np.float64)

    def _after_response(self, endpoint: str, probabilities: np.ndarray) -> None:
        """Metrics off the request path."""
        self.deferred.submit(self._observe, endpoint, probabilities)

    def _observe(self, endpoint: str, probabilities: np.ndarray) -> None:
        self.scored.labels(endpoint=endpoint).inc(len(probabilities))
        observe_all(self.scores, probabilities)

    @bentoml.on_shutdown
    def flush(self) -> None:
        """Write out the queued request log lines and metrics before the worker exits."""
        self.deferred.close()
        self.request_log.close()


cast(Any, ChurnService).add_asgi_middleware(
    RejectionMiddleware,
    json_paths=["/predict"],
    upload_paths={"/predict_file": "file"},
    max_customers=MAX_CUSTOMERS,
)
