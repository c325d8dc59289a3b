"""Every scored row as one JSON line, with no row id in clear; the drift check reads it.

`write` takes a request's rows as columns (the service has them so: the encoder's input, a
table's columns), hashes each row's id with a keyed HMAC-SHA256, serialises the lines and writes
them through logging's RotatingFileHandler (one file per worker, rotated by size). The service
calls it after the response, from mlgitops.serving.deferred's background thread, never on the
request's path; it still holds the GIL, so it is kept lean.

One line per row (`<id>` is the service's id field, e.g. "id_hmac" for an id field "id"):
    {"time": "2026-11-23T13:05:01.123+00:00", "endpoint": "predict",
     "<id>_hmac": "9f2c...", "model_sha256": "a1b7...",
     "inputs": {"age": 41, ..., "income": null},
     "outputs": {"score": 0.031, "label": false}}
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import os
import secrets
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from logging.handlers import RotatingFileHandler
from pathlib import Path
from typing import Any, Final

from pydantic_core import to_json

logger = logging.getLogger(__name__)

DIR_ENV: Final = "MLGITOPS_REQUEST_LOG_DIR"
MAX_BYTES_ENV: Final = "MLGITOPS_REQUEST_LOG_MAX_BYTES"
BACKUPS_ENV: Final = "MLGITOPS_REQUEST_LOG_BACKUPS"
KEY_ENV: Final = (
    "MLGITOPS_REQUEST_LOG_KEY"  # a secret; without it ids are unlinkable across restarts
)
DEFAULT_DIR: Final = "request-logs"  # under BENTOML_HOME (~/bentoml), never inside the Bento
DEFAULT_MAX_BYTES: Final = 50 * 1024 * 1024
DEFAULT_BACKUPS: Final = 10
_LINES_PER_WRITE: Final = 1000  # rotation happens between writes, so a file overshoots little

Columns = Mapping[str, Sequence[Any]]
"""{name: values}, one value per row; JSON's types (None for a missing value, no NaN)."""
MakeColumns = Callable[[], tuple[Columns, Columns]]
"""Produces (inputs, outputs) as columns, when the log is written (not on the request path)."""


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
                "%s is not set: ids are hashed with a random key, so one id gets a "
                "different hash after a restart",
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


def hash_id(key: bytes, row_id: str) -> str:
    """The pseudonym of a row's id in the log: HMAC-SHA256 under the log's key."""
    return hmac.new(key, row_id.encode(), hashlib.sha256).hexdigest()


def json_columns(frame: Any) -> dict[str, list[Any]]:
    """A pandas DataFrame's columns as JSON values: Python's types, NaN as None."""
    columns = {}
    for name in frame.columns:
        values = frame[name]
        if values.dtype.kind == "f" and values.isna().any():
            values = values.astype(object).where(values.notna(), None)
        columns[str(name)] = values.tolist()
    return columns


class RequestLog:
    """Writes scored rows as JSON lines to a size-rotated file."""

    def __init__(
        self, config: RequestLogConfig, *, id_field: str | None, model_sha256: str, name: str
    ) -> None:
        config.directory.mkdir(parents=True, exist_ok=True)
        self.path = config.directory / f"{name}.jsonl"
        self._handler = RotatingFileHandler(
            self.path, maxBytes=config.max_bytes, backupCount=config.backups, encoding="utf-8"
        )
        self._key = config.key
        self._id_field = id_field
        self._model_sha256 = model_sha256

    def write(self, endpoint: str, created: float, columns: MakeColumns) -> None:
        """One line per row of one request, stamped with the request's time."""
        stamp = datetime.fromtimestamp(created, UTC).isoformat(timespec="milliseconds")
        inputs, outputs = columns()
        names = [name for name in inputs if name != self._id_field]
        output_names = list(outputs)
        # Each line's fields in a fixed order around two objects, serialised a chunk at a time.
        head = to_json({"time": stamp, "endpoint": endpoint}).decode()[:-1]
        middle = ',"model_sha256":' + to_json(self._model_sha256).decode() + ',"inputs":'
        if self._id_field is None:  # a model without row ids: no pseudonym on the line
            ids: Sequence[Any] = [None] * len(outputs[output_names[0]]) if output_names else []
        else:
            ids = inputs[self._id_field]
            head += f',"{self._id_field}_hmac":"'
            middle = '"' + middle
        keyed = hmac.new(self._key, digestmod=hashlib.sha256)  # copied per id: no key setup
        rows = zip(*(inputs[name] for name in names), strict=True)
        results = zip(*outputs.values(), strict=True)
        for start in range(0, len(ids), _LINES_PER_WRITE):
            count = min(_LINES_PER_WRITE, len(ids) - start)
            values = _json_objects(
                [dict(zip(names, next(rows), strict=True)) for _ in range(count)]
            )
            answers = _json_objects(
                [dict(zip(output_names, next(results), strict=True)) for _ in range(count)]
            )
            lines = []
            for row_id, value, answer in zip(
                ids[start : start + count], values, answers, strict=True
            ):
                lines.append(
                    f'{head}{self._pseudonym(keyed, row_id)}{middle}{value},"outputs":{answer}}}'
                )
            self._emit("\n".join(lines))

    def _pseudonym(self, keyed: Any, row_id: Any) -> str:
        """The id's keyed hash; nothing when the model has no row ids."""
        if self._id_field is None:
            return ""
        pseudonym = keyed.copy()
        pseudonym.update(str(row_id).encode())
        return str(pseudonym.hexdigest())

    def close(self) -> None:
        self._handler.close()

    def _emit(self, text: str) -> None:
        self._handler.emit(logging.makeLogRecord({"msg": text}))


def _json_objects(objects: list[dict[str, Any]]) -> list[str]:
    """Each object's JSON, serialised by one call for all: one call each took 6x as long.

    The list's JSON is cut where one object ends and the next begins, `},{`; a string can hold
    those characters too, so when the count is not exactly one less than the objects, each
    is serialised on its own. (A raw newline never occurs in JSON: strings escape it.)
    """
    text = to_json(objects).decode()[1:-1]
    if text.count("},{") == len(objects) - 1:
        return text.replace("},{", "}\n{").split("\n") if objects else []
    return [to_json(item).decode() for item in objects]
