"""A stand-in for a model service that `mlgitops smoke` checks, shaped by the card it is given.

It knows the golden cases of a card and answers them as a real service would, at the card's
route, its rows under the card's request key and its answers under the response key (the
expected fields, plus the model's sha256), refuses a row with a missing field with a 422
naming it, and serves BentoML's /livez and /readyz. Each `Fault`
breaks one of those the way a broken deployment would. Use it in process through
`httpx.MockTransport(fake)`, or as a real server with `fake.serve()`.
"""

from __future__ import annotations

import enum
import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx

from tests.standins._server import serving

Answer = tuple[int, bytes]


class Fault(enum.Enum):
    """How the stand-in misbehaves."""

    none = "none"
    wrong_model = "wrong_model"  # every number 0.05 off the card's
    wrong_label = "wrong_label"  # every other (non-number) expected field flipped or changed
    other_model = "other_model"  # right answers, another model file's sha256
    crash_on_bad = "crash_on_bad"  # a 500 (with a traceback) for a bad request
    accept_bad = "accept_bad"  # scores a row with a missing field anyway
    vague_bad = "vague_bad"  # a 400 for a bad request that does not say what is wrong
    slow = "slow"  # every prediction takes `delay` seconds
    not_ready = "not_ready"  # /readyz answers 503
    flaky = "flaky"  # every third prediction is a 503 "overloaded"


@dataclass
class FakeScoringService:
    """Answers the card's golden cases; `seen` counts the prediction requests."""

    card: dict[str, Any]
    fault: Fault = Fault.none
    delay: float = 0.0
    seen: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def __call__(self, request: httpx.Request) -> httpx.Response:
        """The `httpx.MockTransport` handler."""
        status, body = self.handle(request.method, request.url.path, request.content)
        return httpx.Response(status, content=body, headers={"Content-Type": "application/json"})

    def handle(self, method: str, path: str, content: bytes) -> Answer:
        if method == "GET" and path == "/livez":
            return 200, b""
        if method == "GET" and path == "/readyz":
            return (503, b"Runner not ready") if self.fault is Fault.not_ready else (200, b"")
        if method == "POST" and path == self.card["golden"]["route"]:
            with self._lock:
                self.seen += 1
                seen = self.seen
            return self._predict(json.loads(content), seen)
        return 404, json.dumps({"error": f"not found: {method} {path}"}).encode()

    def _predict(self, body: dict[str, Any], seen: int) -> Answer:
        if self.fault is Fault.slow:
            time.sleep(self.delay)
        if self.fault is Fault.flaky and seen % 3 == 0:
            return 503, b'{"error": "Service busy"}'
        golden = self.card["golden"]
        key, cases = golden["request_key"], golden["cases"]
        answers = []
        for index, row in enumerate(body[key] if key else body):
            missing = [name for name in cases[0]["input"] if name not in row]
            if missing and self.fault is Fault.crash_on_bad:
                return 500, b"Traceback (most recent call last): KeyError"
            if missing and self.fault is Fault.vague_bad:
                return 400, b'{"error": "bad request"}'
            if missing and self.fault is not Fault.accept_bad:
                where = f"{key}[{index}]" if key else f"[{index}]"
                problem = {"field": f"{where}.{missing[0]}", "rule": "required"}
                return 422, json.dumps({"error": "invalid request", "problems": [problem]}).encode()
            known = [case["expected"] for case in cases if case["input"] == row]
            answer = {name: self._broken(value) for name, value in (known or [{}])[0].items()}
            sha = "0" * 64 if self.fault is Fault.other_model else self.card["model"]["sha256"]
            answers.append({**answer, "model": {"sha256": sha}})
        response_key = golden.get("response_key")
        return 200, json.dumps({response_key: answers} if response_key else answers).encode()

    def _broken(self, value: Any) -> Any:
        """An expected value as this fault answers it."""
        number = isinstance(value, int | float) and not isinstance(value, bool)
        if number and self.fault is Fault.wrong_model:
            return value + 0.05
        if not number and self.fault is Fault.wrong_label:
            return not value if isinstance(value, bool) else f"not {value}"
        return value

    @contextmanager
    def serve(self) -> Iterator[str]:
        """Serves the stand-in on 127.0.0.1 on a free port; yields its base URL."""
        fake = self

        class _Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"  # keep-alive, as uvicorn does
            disable_nagle_algorithm = True  # else headers and body wait 40 ms for an ACK

            def _any(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                status, body = fake.handle(self.command, self.path, self.rfile.read(length))
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                except (BrokenPipeError, ConnectionResetError):
                    self.close_connection = True  # the client gave up waiting (a timeout test)

            do_GET = do_POST = _any  # noqa: N815

            def log_message(self, format: str, *args: Any) -> None:
                """Quiet: tests read the smoke table instead."""

        server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        server.daemon_threads = False  # server_close() waits for a slow answer to finish
        with serving(server) as url:
            yield url
