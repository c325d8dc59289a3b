"""The shipped churn service with one or more settings changed, for benchmarks/serving.py.

`bentoml serve benchmarks.serving_variants:ChurnService` from the repository root serves the
service from source with the comma-separated changes in CHURN_BENCH_VARIANT applied before
BentoML reads them, so each setting's effect can be measured on its own:

    shipped          nothing changed
    unbatched        @bentoml.api(batchable=False)
    latency-N        max_latency_ms=N            batch-N   max_batch_size=N
    timeout-N        traffic.timeout=N s (BentoML keeps every request's timer, and with it the
                     request's objects, for this long)
    access-log       BentoML's access log on     no-access-log   off
    tracing          OpenTelemetry server spans for every route (BentoML's default)
    no-tracing       /predict and /predict_file left out of them
    omp-N            LightGBM's OpenMP threads (OMP_NUM_THREADS=N)
    parallel-N       batches of N rows or more scored on all of LightGBM's threads, smaller
                     ones on one (parallel-1: every batch on all threads)
    keep-timer       BentoML's own TimeoutMiddleware, which never cancels its per-request timer
                     (the timer keeps the request's objects alive for traffic.timeout); the
                     service ships mlgitops.serving.timeout_fix, which cancels it
    gc-default       after the service's __init__: gc.unfreeze() and Python's thresholds
    gc-A-B-C         after the service's __init__: gc.set_threshold(A, B, C), the freeze kept
"""

from __future__ import annotations

import gc
import os
from typing import Any

from churn import model as model_module
from churn.service import ChurnService

VARIANT_ENV = "CHURN_BENCH_VARIANT"
PYTHON_GC_THRESHOLDS = (700, 10, 10)

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
        elif item in ("access-log", "no-access-log"):
            config.setdefault("logging", {}).setdefault("access", {})["enabled"] = item[0] == "a"
        elif item == "tracing":
            config.setdefault("tracing", {})["excluded_urls"] = []
        elif item == "no-tracing":
            config.setdefault("tracing", {})["excluded_urls"] = ["/predict", "/predict_file"]
        elif name == "parallel":
            model_module.PARALLEL_FROM_ROWS = int(value)
        elif name == "omp":
            os.environ["OMP_NUM_THREADS"] = value  # read when LightGBM loads, in __init__
        elif item == "keep-timer":
            _keep_timeout_timers()
        elif name == "gc":
            default = value == "default"
            thresholds = PYTHON_GC_THRESHOLDS if default else value.split("-")
            _after_init(service, tuple(int(n) for n in thresholds), unfreeze=default)
        else:
            raise ValueError(f"unknown variant {item!r} (see benchmarks/serving_variants.py)")


def _keep_timeout_timers() -> None:
    """BentoML 1.4.39's TimeoutMiddleware.__call__ as it is (our timeout_fix replaced it)."""
    import asyncio

    from bentoml._internal.server.http import traffic
    from starlette.responses import JSONResponse

    async def call(self: Any, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] not in ("http", "websocket"):
            return await self.app(scope, receive, send)  # type: ignore[no-any-return]
        loop = asyncio.get_running_loop()
        waiter = loop.create_future()
        loop.call_later(self.timeout, self._set_timer_out, waiter)  # the handle is dropped

        async def sending(message: Any) -> None:
            if not waiter.done():
                waiter.set_result(None)
            await send(message)

        task = asyncio.ensure_future(self.app(scope, receive, sending), loop=loop)
        try:
            await waiter
        except TimeoutError:
            if task.cancel():
                error = {"error": f"Not able to process the request in {self.timeout} seconds"}
                await JSONResponse(error, status_code=504)(scope, receive, send)
        else:
            await task

    traffic.TimeoutMiddleware.__call__ = call  # type: ignore[method-assign]


def _after_init(service: Any, thresholds: tuple[int, ...], *, unfreeze: bool) -> None:
    """Sets the GC thresholds (and undoes gc.freeze) once the service's __init__ has run."""
    inner = service.inner
    original = inner.__init__

    def init(self: Any) -> None:
        original(self)
        if unfreeze:
            gc.unfreeze()
        gc.set_threshold(*thresholds)

    inner.__init__ = init


apply(os.environ.get(VARIANT_ENV, ""))
