"""Every scored customer as one JSON line, with no customer id in clear; the drift check reads it.

`write` hashes each customer id with a keyed HMAC-SHA256, serialises the lines and writes them
through logging's RotatingFileHandler (one file per worker, rotated by size). The service calls
it after the response, from churn.deferred's background thread, never on the request's path.

One line per customer:
    {"time": "2026-11-23T13:05:01.123+00:00", "endpoint": "predict",
     "customer_id_hmac": "9f2c...", "model_sha256": "a1b7...",
     "inputs": {"female": 0, ..., "total_charges": null},
     "outputs": {"churn_probability": 0.031, "churn": false}}
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import math
import os
import secrets
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from logging.handlers import RotatingFileHandler
from pathlib import Path
from typing import Any, Final

from pydantic_core import to_json

logger = logging.getLogger(__name__)

DIR_ENV: Final = "CHURN_REQUEST_LOG_DIR"
MAX_BYTES_ENV: Final = "CHURN_REQUEST_LOG_MAX_BYTES"
BACKUPS_ENV: Final = "CHURN_REQUEST_LOG_BACKUPS"
KEY_ENV: Final = "CHURN_REQUEST_LOG_KEY"  # a secret; without it ids are unlinkable across restarts
DEFAULT_DIR: Final = "request-logs"  # under BENTOML_HOME (~/bentoml), never inside the Bento
DEFAULT_MAX_BYTES: Final = 50 * 1024 * 1024
DEFAULT_BACKUPS: Final = 10
_LINES_PER_WRITE: Final = 1000  # rotation happens between writes, so a file overshoots little

Records = Callable[[], Iterable[tuple[Mapping[str, Any], Mapping[str, Any]]]]
"""Produces (inputs, outputs) per customer, when the log is written (not on the request path)."""


@dataclass(frozen=True)
class RequestLogConfig:
    """Where and how the request log is written, from the serving process's environment."""

    directory: Path
    max_bytes: int
    backups: int
    key: bytes

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> RequestLogConfig:
        env = os.environ if environ is None else environ
        key = env.get(KEY_ENV, "")
        if not key:
            logger.warning(
                "%s is not set: customer ids are hashed with a random key, so one customer "
                "gets a different hash after a restart",
                KEY_ENV,
            )
        return cls(
            directory=Path(env.get(DIR_ENV) or _bentoml_home(env) / DEFAULT_DIR),
            max_bytes=int(env.get(MAX_BYTES_ENV) or DEFAULT_MAX_BYTES),
            backups=int(env.get(BACKUPS_ENV) or DEFAULT_BACKUPS),
            key=key.encode() if key else secrets.token_bytes(32),
        )


def _bentoml_home(env: Mapping[str, str]) -> Path:
    return Path(env.get("BENTOML_HOME") or "~/bentoml").expanduser()


def hash_id(key: bytes, customer_id: str) -> str:
    """The pseudonym of a customer id in the log: HMAC-SHA256 under the log's key."""
    return hmac.new(key, customer_id.encode(), hashlib.sha256).hexdigest()


def _json_value(value: Any) -> Any:
    """NaN (a missing number in a table) as JSON's null."""
    return None if isinstance(value, float) and math.isnan(value) else value


class RequestLog:
    """Writes scored customers as JSON lines to a size-rotated file."""

    def __init__(
        self, config: RequestLogConfig, *, id_field: str, model_sha256: str, name: str
    ) -> None:
        config.directory.mkdir(parents=True, exist_ok=True)
        self.path = config.directory / f"{name}.jsonl"
        self._handler = RotatingFileHandler(
            self.path, maxBytes=config.max_bytes, backupCount=config.backups, encoding="utf-8"
        )
        self._key = config.key
        self._id_field = id_field
        self._model_sha256 = model_sha256

    def write(self, endpoint: str, created: float, records: Records) -> None:
        """One line per customer of one request, stamped with the request's time."""
        stamp = datetime.fromtimestamp(created, UTC).isoformat(timespec="milliseconds")
        lines: list[str] = []
        for inputs, outputs in records():
            fields = {name: _json_value(value) for name, value in inputs.items()}
            pseudonym = hash_id(self._key, str(fields.pop(self._id_field, "")))
            line = {
                "time": stamp,
                "endpoint": endpoint,
                f"{self._id_field}_hmac": pseudonym,
                "model_sha256": self._model_sha256,
                "inputs": fields,
                "outputs": dict(outputs),
            }
            lines.append(to_json(line).decode())
            if len(lines) == _LINES_PER_WRITE:
                self._emit(lines)
                lines = []
        if lines:
            self._emit(lines)

    def close(self) -> None:
        self._handler.close()

    def _emit(self, lines: list[str]) -> None:
        self._handler.emit(logging.makeLogRecord({"msg": "\n".join(lines)}))
