"""What a model's BentoML service holds besides its model, set up in one call in its __init__.

`ServingRuntime` reads the model card and refuses a model file that is not the card's, exports
the score histogram (named and bucketed by params.yaml's `serving:` section) and a counter of
scored rows, keeps the request log, runs metrics and log writes after the response, and says
ready only once the card's golden cases answered as declared. `service_config` gives the
`@bentoml.service` settings every such service wants (docs/serving.md says what each changed).
"""

from __future__ import annotations

import gc
import logging
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any, Final

import numpy as np

from mlgitops.card import model_version, read_card, verified_model
from mlgitops.golden import describe, mismatches, parse_golden
from mlgitops.serving.deferred import Deferred
from mlgitops.serving.metrics import observe_all
from mlgitops.serving.rejections import InvalidRequestFilter, rejected_counter
from mlgitops.serving.requestlog import MakeColumns, RequestLog, RequestLogConfig
from mlgitops.settings import ServingSettings, load_settings

logger = logging.getLogger(__name__)

READY_TOLERANCE: Final = 1e-9  # the same code, process and model as the build: only rounding
# Adaptive batching: a queued request is cancelled with a 503 only after this, far beyond any
# latency a model here needs, so none is shed (docs/serving.md, "Batching").
MAX_LATENCY_MS: Final = 10_000
PREDICTIONS_METRIC: Final = "predictions"
PROBES: Final = ("/livez", "/readyz", "/healthz", "/metrics")
GC_GEN0_THRESHOLD: Final = 10_000  # Python's default 700 promoted in-flight requests to gen 2
_BENTOML_ERROR_LOGGER: Final = "bentoml._internal.server.http_app"  # logs each failed request

Answer = Callable[[Any], list[dict[str, Any]]]
"""The service's answers for validated request rows, exactly as its API builds them."""


def service_config(*, routes: Iterable[str], timeout: int = 10) -> dict[str, Any]:
    """Keyword arguments for `@bentoml.service`: request timeout, no access log, no spans.

    - `traffic.timeout`: what the slowest request needs (BentoML's default is 60 s);
    - the access log off: a line per request on stdout cost a quarter of the throughput, and
      the request log and metrics carry the same facts;
    - no tracing spans on the API routes and the probes: with no exporter configured they were
      pure cost (630 -> 1,043 requests/s); a deployment that exports traces sets its own.
    """
    return {
        "traffic": {"timeout": timeout},
        "logging": {"access": {"enabled": False}},
        "tracing": {"excluded_urls": [*routes, *PROBES]},
    }


class ServingRuntime:
    """The card, the model file it names, metrics, the request log and readiness of one worker.

    Raises ModelRefusedError when the card is unreadable or the model file is not the card's,
    UsageError when params.yaml's `serving:` section is missing or wrong.
    """

    def __init__(
        self, *, root: Path, card_path: Path, params_path: Path, id_field: str | None = None
    ) -> None:
        import bentoml
        import prometheus_client

        self.card = read_card(card_path)
        self.model_path, sha256 = verified_model(self.card, root=root)
        self.version = model_version(self.card)
        settings = load_settings(ServingSettings, params_path, "serving")
        self.score_field = settings.score
        self._scored = prometheus_client.Counter(
            PREDICTIONS_METRIC, "Rows scored", labelnames=["endpoint"]
        )
        self._scores = prometheus_client.Histogram(
            settings.score,
            f"The model's {settings.score} served",
            buckets=list(settings.score_buckets),
        )
        rejected_counter()  # registered now, so /metrics lists it before the first rejection
        logging.getLogger(_BENTOML_ERROR_LOGGER).addFilter(InvalidRequestFilter())
        worker = bentoml.server_context.worker_index or 0
        self.request_log = RequestLog(
            RequestLogConfig.from_env(),
            id_field=id_field,
            model_sha256=sha256,
            name=f"requests-worker{worker}",
        )
        self.deferred = Deferred(name="after-response")
        self.ready = False

    def check_golden(self, request_type: Any, answer: Answer) -> bool:
        """Whether the card's golden cases, validated as `request_type`, answer as declared.

        Sets `ready` (the service's `__is_ready__`); each mismatch is logged.
        """
        from pydantic import TypeAdapter

        golden = parse_golden(self.card)
        rows = TypeAdapter(request_type).validate_python([case.input for case in golden.cases])
        answers = answer(rows)
        tolerance = min(golden.tolerance, READY_TOLERANCE)
        self.ready = True
        for index, (case, got) in enumerate(zip(golden.cases, answers, strict=True)):
            found = mismatches(case.expected, got, tolerance)
            if found:
                logger.error("not ready: golden case %d: %s", index, "; ".join(found))
                self.ready = False
            else:
                logger.debug("golden case %d: %s", index, describe(case.expected, got))
        if self.ready:
            logger.info("ready: %d golden cases answered as the card says", len(golden.cases))
        return self.ready

    @staticmethod
    def settle() -> None:
        """Keep the collector off what lives as long as the worker; call at the end of __init__.

        The ~200k objects of the imports and the model, frozen, are no longer walked by a full
        collection (each took 75-115 ms, the p99 of requests).
        """
        gc.collect()
        gc.freeze()
        gc.set_threshold(GC_GEN0_THRESHOLD, *gc.get_threshold()[1:])

    def after_response(self, endpoint: str, scores: np.ndarray, columns: MakeColumns) -> None:
        """Count and observe the scores and log the rows, in the background thread."""
        created = time.time()
        self.deferred.submit(self._observe, endpoint, scores)
        self.deferred.submit(self.request_log.write, endpoint, created, columns)

    def _observe(self, endpoint: str, scores: np.ndarray) -> None:
        self._scored.labels(endpoint=endpoint).inc(len(scores))
        observe_all(self._scores, scores)

    def close(self) -> None:
        """Write out the queued log lines and metrics; call from the service's on_shutdown."""
        self.deferred.close()
        self.request_log.close()
