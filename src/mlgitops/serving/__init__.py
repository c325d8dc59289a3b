"""The serving runtime: what any BentoML model service needs besides its model.

A model's service class builds a `ServingRuntime` in its __init__ (card, model file check,
metrics, request log, readiness from the card's golden cases), declares itself with
`service_config`, and adds `RejectionMiddleware` so bad requests become 4xx naming the field.
docs/serving.md describes each part; importing this package imports BentoML.
"""

from __future__ import annotations

from mlgitops.card import ModelRefusedError, model_version, read_card, verified_model
from mlgitops.serving.middleware import RejectionMiddleware
from mlgitops.serving.rejections import Rejections
from mlgitops.serving.requestlog import Columns, json_columns
from mlgitops.serving.runtime import MAX_LATENCY_MS, ServingRuntime, service_config
from mlgitops.serving.timeout_fix import apply as apply_timeout_fix

__all__ = [
    "MAX_LATENCY_MS",
    "Columns",
    "ModelRefusedError",
    "RejectionMiddleware",
    "Rejections",
    "ServingRuntime",
    "apply_timeout_fix",
    "json_columns",
    "model_version",
    "read_card",
    "service_config",
    "verified_model",
]
