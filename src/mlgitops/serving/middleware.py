"""The ASGI middleware in front of the API routes: content-type guard, then 4xx reshaping.

BentoML parses a form for any form content type, answers a malformed multipart body with a 500,
and fetches a URL given as a text field where a file is expected. So a JSON route takes JSON
only, and an upload must be a well-formed multipart body whose file field is a file part;
everything else is left to BentoML, and its 4xx answers are rewritten by Rejections.reshape.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any, Final

from mlgitops.serving.rejections import BODY, Rejections

ASGIApp = Any  # (scope, receive, send) -> awaitable, typed loosely as Starlette does


class RejectionMiddleware:
    """Guards the API paths' content types and rewrites their 4xx answers into our shape."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        json_paths: Iterable[str],
        upload_paths: Mapping[str, str],
        rejections: Rejections,
    ) -> None:
        self.app = app
        self.json_paths = frozenset(json_paths)
        self.upload_paths = dict(upload_paths)  # path -> name of its file field
        self.rejections = rejections

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        path = scope.get("path")
        guarded = path in self.json_paths or path in self.upload_paths
        if scope["type"] != "http" or not guarded:
            await self.app(scope, receive, send)
            return
        media_type = _media_type(scope)
        if path in self.json_paths and media_type in _FORM_TYPES:
            problem = {"field": BODY, "rule": "must be JSON (Content-Type: application/json)"}
            await _send_json(
                send, *self.rejections.reject(415, "unsupported media type", [problem])
            )
            return
        if path in self.upload_paths:
            body = await _read_body(receive)
            field = self.upload_paths[path]
            refused = await _check_upload(scope, body, media_type, field, self.rejections)
            if refused is not None:
                await _send_json(send, *refused)
                return
            receive = _replay(body, receive)
        await self.app(scope, receive, self._reshaping(send))

    def _reshaping(self, send: Any) -> Any:
        held: dict[str, Any] = {}
        chunks: list[bytes] = []

        async def send_reshaped(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start" and 400 <= message["status"] < 500:
                held.update(message)
                return
            if not held or message["type"] != "http.response.body":
                await send(message)
                return
            chunks.append(message.get("body", b""))
            if message.get("more_body", False):
                return
            body = b"".join(chunks)
            reshaped = self.rejections.reshape(held["status"], body)
            if reshaped is None:
                await send(held)
                await send({"type": "http.response.body", "body": body, "more_body": False})
            else:
                await _send_json(send, *reshaped, headers=held.get("headers", []))

        return send_reshaped


_FORM_TYPES: Final = frozenset({"multipart/form-data", "application/x-www-form-urlencoded"})


def _media_type(scope: Mapping[str, Any]) -> str:
    for name, value in scope.get("headers", []):
        if name.lower() == b"content-type":
            return str(value.decode("latin-1").split(";")[0].strip().lower())
    return ""


async def _read_body(receive: Any) -> bytes:
    chunks = []
    while True:
        message = await receive()
        if message["type"] != "http.request":
            break
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            break
    return b"".join(chunks)


def _replay(body: bytes, receive: Any) -> Any:
    """A receive channel that gives the already-read body once, then defers to the client's."""
    given = False

    async def replay() -> dict[str, Any]:
        nonlocal given
        if given:
            return dict(await receive())
        given = True
        return {"type": "http.request", "body": body, "more_body": False}

    return replay


async def _check_upload(
    scope: dict[str, Any], body: bytes, media_type: str, field: str, rejections: Rejections
) -> tuple[int, dict[str, Any]] | None:
    """The rejection of an upload BentoML would mishandle, or None to let it through."""
    from starlette.datastructures import UploadFile
    from starlette.exceptions import HTTPException
    from starlette.formparsers import MultiPartException
    from starlette.requests import Request

    if media_type != "multipart/form-data":
        rule = f"must be multipart/form-data with the table in the file field '{field}'"
        return rejections.reject(415, "unsupported media type", [{"field": BODY, "rule": rule}])
    try:
        form = await Request(scope, _replay(body, _no_more)).form()
    except (HTTPException, MultiPartException) as error:
        detail = getattr(error, "detail", None) or getattr(error, "message", "")
        rule = f"must be a well-formed multipart/form-data body ({detail})"
        return rejections.reject(400, "invalid request", [{"field": BODY, "rule": rule}])
    try:
        if any(not isinstance(value, UploadFile) for value in form.getlist(field)):
            rule = "must be a file part of the form (a text value or URL is not fetched)"
            return rejections.reject(400, "invalid request", [{"field": field, "rule": rule}])
    finally:
        await form.close()
    return None


async def _no_more() -> dict[str, Any]:
    return {"type": "http.disconnect"}


async def _send_json(
    send: Any, status: int, content: Mapping[str, Any], headers: Iterable[Any] = ()
) -> None:
    body = json.dumps(content).encode()
    kept = [
        (name, value)
        for name, value in headers
        if name.lower() not in (b"content-length", b"content-type")
    ]
    kept += [(b"content-type", b"application/json"), (b"content-length", b"%d" % len(body))]
    await send({"type": "http.response.start", "status": status, "headers": kept})
    await send({"type": "http.response.body", "body": body, "more_body": False})
