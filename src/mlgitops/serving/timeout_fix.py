"""BentoML's request timeout, with its per-request timer cancelled once the answer has started.

BentoML 1.4.39's `TimeoutMiddleware.__call__` (bentoml/_internal/server/http/traffic.py,
lines 22-50) arms `loop.call_later(self.timeout, self._set_timer_out, waiter)` for every HTTP
request and drops the handle: the timer is never cancelled, so it stays in the event loop for
`traffic.timeout` seconds after the answer. The handle holds the waiter future, and the timer's
copy of the request's context holds the request itself (the Request, its OpenTelemetry span,
every middleware's send and receive closures). At ~1,000 requests/s and a 10 s timeout that is
~10,000 finished requests kept alive, promoted into the collector's old generations and walked
by every full collection: gen-1 and gen-2 pauses of 50-230 ms, which were the service's p99
(measured in docs/benchmarks.md, "Where the time goes"; the variant `cancel-timer` of
benchmarks/serving_variants.py took p99 from 45.7 to 3.5 ms at 1 connection, 144 to 50 ms at
32). No upstream issue or fix was found (BentoML's later `traffic.py`, which adds a done
callback, still never cancels the timer).

`apply()` replaces `TimeoutMiddleware.__call__` with the same code plus `timer.cancel()` once
the first message of the answer has gone out (the timeout only ever bounds the wait for it)
and when the request ends any other way. It patches only the BentoML version it was written
against; any other version is left alone with a warning, to be checked and this module updated
or removed.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any, Final

from starlette.responses import JSONResponse

logger = logging.getLogger(__name__)

PATCHED_VERSION: Final = "1.4.39"  # uv.lock's BentoML; the copy below is of its traffic.py


async def _call(self: Any, scope: Any, receive: Any, send: Any) -> None:
    """BentoML 1.4.39's TimeoutMiddleware.__call__, its timer cancelled (marked "ours")."""
    if scope["type"] not in ("http", "websocket"):
        await self.app(scope, receive, send)
        return
    loop = asyncio.get_running_loop()
    waiter = loop.create_future()
    timer = loop.call_later(self.timeout, self._set_timer_out, waiter)  # ours: keep the handle

    async def _send(message: Any) -> None:
        if not waiter.done():
            waiter.set_result(None)
        await send(message)

    fut = asyncio.ensure_future(self.app(scope, receive, _send), loop=loop)
    try:
        await waiter
    except TimeoutError:  # asyncio.TimeoutError is TimeoutError since Python 3.11
        if fut.cancel():
            error = {"error": f"Not able to process the request in {self.timeout} seconds"}
            await JSONResponse(error, status_code=504)(scope, receive, send)
    else:
        timer.cancel()  # ours: the answer has started, nothing is left to time out
        await fut
    finally:
        timer.cancel()  # ours: also when the request was cancelled (the client went away)


def apply(bentoml_version: str | None = None) -> bool:
    """Patch BentoML's TimeoutMiddleware if BentoML is the version this was written for.

    Returns whether it patched; any other version is left as it is, with a warning.
    """
    import bentoml
    from bentoml._internal.server.http.traffic import TimeoutMiddleware

    version = bentoml.__version__ if bentoml_version is None else bentoml_version
    if version != PATCHED_VERSION:
        logger.warning(
            "BentoML %s is not %s: its TimeoutMiddleware is left unpatched "
            "(mlgitops.serving.timeout_fix); check whether it still keeps every request alive "
            "for traffic.timeout",
            version,
            PATCHED_VERSION,
        )
        return False
    TimeoutMiddleware.__call__ = _call  # type: ignore[method-assign]
    return True
