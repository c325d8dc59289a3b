"""The shipped churn service with one or more settings changed, for benchmarks/serving.py.

`bentoml serve benchmarks.serving_variants:ChurnService` from the repository root serves the
service from source with the comma-separated changes in CHURN_BENCH_VARIANT applied before
BentoML reads them, so each setting's effect can be measured on its own:

    shipped          nothing changed
    unbatched        @bentoml.api(batchable=False)
    latency-N        max_latency_ms=N            batch-N   max_batch_size=N
    timeout-N        traffic.timeout=N s (BentoML keeps every request's timer, and with it the
                     request's objects, for this long)
    no-access-log    BentoML's access log off
    no-tracing       /predict and /predict_file left out of OpenTelemetry's server spans
    omp-N            LightGBM's OpenMP threads (OMP_NUM_THREADS=N)
    gc-A-B-C         gc.set_threshold(A, B, C) in the worker
"""

from __future__ import annotations

import gc
import os
from typing import Any

from churn.service import ChurnService

VARIANT_ENV = "CHURN_BENCH_VARIANT"

__all__ = ["ChurnService"]


def apply(variant: str, service: Any = ChurnService) -> None:
    """Changes the service's settings in place; ValueError for an unknown name."""
    api = service.apis["predict"]
    config = service.config
    for item in filter(None, variant.split(",")):
        name, _, value = item.partition("-")
        if item == "shipped":
            continue
        if item == "unbatched":
            api.batchable = False
        elif name == "latency":
            api.max_latency_ms = int(value)
        elif name == "batch":
            api.max_batch_size = int(value)
        elif name == "timeout":
            config.setdefault("traffic", {})["timeout"] = int(value)
        elif item == "no-access-log":
            config.setdefault("logging", {}).setdefault("access", {})["enabled"] = False
        elif item == "no-tracing":
            config.setdefault("tracing", {})["excluded_urls"] = ["/predict", "/predict_file"]
        elif name == "omp":
            os.environ["OMP_NUM_THREADS"] = value  # read when LightGBM loads, in __init__
        elif name == "gc":
            first, second, third = (int(number) for number in value.split("-"))
            gc.set_threshold(first, second, third)
        else:
            raise ValueError(f"unknown variant {item!r} (see benchmarks/serving_variants.py)")


apply(os.environ.get(VARIANT_ENV, ""))
