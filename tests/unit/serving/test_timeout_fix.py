"""BentoML's request timeout still answers 504, and no longer keeps answered requests alive.

The served app is the service's own (`ChurnService.to_asgi()`, BentoML's middleware stack as
`bentoml serve` builds it, not started: /livez needs no model), driven in process by httpx; the
signal is the event loop's pending timers armed by BentoML's TimeoutMiddleware, each of which
holds its request's objects until it fires.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any, cast

import httpx
import pytest
from bentoml._internal.server.http.traffic import TimeoutMiddleware
from starlette.responses import PlainTextResponse

from mlgitops.serving import timeout_fix

REQUESTS = 200
_UNPATCHED = TimeoutMiddleware.__call__  # BentoML's own, before the service patches it


def _pending_request_timers() -> int:
    """Timers of BentoML's TimeoutMiddleware still waiting in the running loop."""
    loop = asyncio.get_running_loop()
    scheduled: list[asyncio.TimerHandle] = loop._scheduled  # type: ignore[attr-defined]
    return len(
        [
            handle
            for handle in scheduled
            if not handle.cancelled()
            and isinstance(getattr(handle._callback, "__self__", None), TimeoutMiddleware)  # type: ignore[attr-defined]
        ]
    )


@pytest.fixture(scope="module")
def service_app() -> Any:
    """The service's ASGI app (one per process: BentoML registers its metrics once)."""
    from churn.service import ChurnService  # importing the service applies the fix

    return cast(Any, ChurnService).to_asgi()


def test_the_served_app_keeps_no_timer_for_an_answered_request(service_app: Any) -> None:
    assert asyncio.run(_timers_left_by(service_app)) == 0


def test_without_the_fix_every_answered_request_keeps_a_timer(
    service_app: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """What the test above would see if the fix were gone (so it can fail)."""
    assert _UNPATCHED.__module__ == TimeoutMiddleware.__module__, "not BentoML's own"
    monkeypatch.setattr(TimeoutMiddleware, "__call__", _UNPATCHED)
    assert asyncio.run(_timers_left_by(service_app)) == REQUESTS


async def _timers_left_by(app: Any) -> int:
    """Pending TimeoutMiddleware timers after REQUESTS answered GET /livez."""
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://service") as client:
        before = _pending_request_timers()
        for _ in range(REQUESTS):
            assert (await client.get("/livez")).status_code == 200
        return _pending_request_timers() - before


async def _slow(scope: Any, receive: Any, send: Any) -> None:
    await asyncio.sleep(5)
    await PlainTextResponse("late")(scope, receive, send)


async def _fast(scope: Any, receive: Any, send: Any) -> None:
    await PlainTextResponse("on time")(scope, receive, send)


def test_a_request_slower_than_the_timeout_still_gets_a_504(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(TimeoutMiddleware, "__call__", _UNPATCHED)  # put back afterwards
    assert timeout_fix.apply()
    response, _ = asyncio.run(_get(TimeoutMiddleware(_slow, timeout=0.05)))

    assert response.status_code == 504
    assert response.json() == {"error": "Not able to process the request in 0.05 seconds"}


def test_a_request_faster_than_the_timeout_is_answered_and_its_timer_cancelled(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(TimeoutMiddleware, "__call__", _UNPATCHED)  # put back afterwards
    assert timeout_fix.apply()
    response, timers_left = asyncio.run(_get(TimeoutMiddleware(_fast, timeout=30)))

    assert (response.status_code, response.text) == (200, "on time")
    assert timers_left == 0


async def _get(app: Any) -> tuple[httpx.Response, int]:
    """GET / from `app` (given 2 s at most), and the request timers it left pending."""
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://service") as client:
        before = _pending_request_timers()
        response = await asyncio.wait_for(client.get("/"), timeout=2)
        return response, _pending_request_timers() - before


def test_another_bentoml_version_is_left_alone_with_a_warning(
    caplog: pytest.LogCaptureFixture,
) -> None:
    current = TimeoutMiddleware.__call__
    with caplog.at_level(logging.WARNING, logger="mlgitops.serving.timeout_fix"):
        assert not timeout_fix.apply("1.5.0")
    assert TimeoutMiddleware.__call__ is current
    assert "BentoML 1.5.0 is not 1.4.39" in caplog.text
