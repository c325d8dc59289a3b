"""Streaming reader of the service's request logs: parsed, checked, in chunks of rows.

A log is JSON lines, one scored customer per line, the model's inputs under `inputs` and its
answer under `outputs` (see the service's request log). Files are read line by line with
orjson (the fastest parser measured here, see docs/drift.md), `chunk_rows` lines at a time, so
memory holds one chunk whatever the size of the logs. A bad line (not JSON, a field missing, a
value of the wrong type) is remembered with its file and line number; the caller decides.
"""

from __future__ import annotations

import gzip
import operator
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import orjson

from mlgitops.drift.reference import ValueType
from mlgitops.errors import UsageError

LOG_GLOB = "requests-worker*.jsonl*"
_ROTATION = re.compile(r"\.jsonl(?:\.(\d+))?(?:\.gz)?$")
_ALLOWED: dict[ValueType, tuple[type, ...]] = {
    "number": (int, float, type(None)),
    "string": (str, type(None)),
    "bool": (bool, type(None)),
}
_NAMES: dict[ValueType, str] = {"number": "a number", "string": "a string", "bool": "true/false"}


def log_files(path: Path) -> list[Path]:
    """The log files at `path` (one file, or a directory of them), oldest rotation first."""
    if path.is_file():
        return [path]
    if not path.is_dir():
        raise UsageError(f"drift: --current {path} not found; pass a request log or its directory")
    files = [found for found in path.glob(LOG_GLOB) if found.is_file()]
    if not files:
        raise UsageError(f"drift: no request logs ({LOG_GLOB}) in {path}")
    return sorted(files, key=_age_order)


def _age_order(path: Path) -> tuple[str, int, str]:
    """requests-worker1.jsonl.2 before .jsonl.1 before .jsonl (the handler's rotation)."""
    match = _ROTATION.search(path.name)
    rotation = int(match[1]) if match and match[1] else 0
    base = path.name[: match.start()] if match else path.name
    return base, -rotation, path.name


@dataclass(frozen=True)
class BadLine:
    """One line that could not be used, and why."""

    path: Path
    line: int
    problem: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.problem}"


@dataclass(frozen=True)
class Chunk:
    """Parsed rows: one tuple of values per feature (in the reader's order), and the scores."""

    columns: tuple[tuple[Any, ...], ...]
    scores: tuple[Any, ...] | None
    rows: int


@dataclass
class LogReader:
    """Reads `files` in chunks; `bad` keeps the first `max_reported` bad lines, `bad_count` all.

    `types` maps each feature to the type its values must have; `score` is the field of
    `outputs` to read too (None: no score). A logged input neither in `types` nor in `ignore`
    is a UsageError at once: the reference lacks that column.
    """

    files: Sequence[Path]
    types: Mapping[str, ValueType]
    score: str | None
    chunk_rows: int
    max_reported: int = 5
    bad: list[BadLine] = field(default_factory=list)
    bad_count: int = 0
    rows: int = 0
    ignore: frozenset[str] = frozenset()  # logged inputs that are not compared

    def chunks(self, on_bytes: Callable[[int], None] | None = None) -> Iterator[Chunk]:
        """The good rows, chunk by chunk; once a bad line was seen, only counts continue."""
        for path in self.files:
            yield from self._read_file(path, on_bytes)

    def _read_file(self, path: Path, on_bytes: Callable[[int], None] | None) -> Iterator[Chunk]:
        lines: list[bytes] = []
        first = 1
        try:
            with _open(path) as handle:
                for number, line in enumerate(handle, start=1):
                    lines.append(line)
                    if len(lines) == self.chunk_rows:
                        chunk = self._parse(path, first, lines)
                        if on_bytes is not None:
                            on_bytes(sum(map(len, lines)))
                        if chunk is not None:
                            yield chunk
                        lines, first = [], number + 1
                chunk = self._parse(path, first, lines)
                if on_bytes is not None:
                    on_bytes(sum(map(len, lines)))
                if chunk is not None:
                    yield chunk
        except (OSError, EOFError, gzip.BadGzipFile) as error:
            raise UsageError(f"drift: cannot read request log {path} ({error})") from None

    def _report(self, path: Path, line: int, problem: str) -> None:
        self.bad_count += 1
        if len(self.bad) < self.max_reported:
            self.bad.append(BadLine(path, line, problem))

    def _parse(self, path: Path, first: int, lines: list[bytes]) -> Chunk | None:
        names = list(self.types)
        getter = _getter(names)
        rows: list[tuple[Any, ...]] = []
        scores: list[Any] = []
        numbers: list[int] = []
        score = self.score
        for offset, raw in enumerate(lines):
            try:
                record = orjson.loads(raw)
                row = getter(record["inputs"])
                if score is not None:
                    scores.append(record["outputs"][score])
            except orjson.JSONDecodeError:
                if raw.strip():
                    self._report(path, first + offset, "not valid JSON (a truncated line?)")
                continue
            except (KeyError, TypeError, IndexError):
                self._report(path, first + offset, _missing(record, names, score))
                continue
            if not numbers:
                self._check_extra(path, first + offset, record["inputs"])
            rows.append(row)
            numbers.append(first + offset)
        columns = tuple(zip(*rows, strict=True)) if rows else tuple(() for _ in names)
        for name, values in zip(names, columns, strict=True):
            self._check_types(path, numbers, name, values, self.types[name])
        if score is not None:
            self._check_types(path, numbers, f"outputs.{score}", scores, "number")
        if self.bad_count:
            return None
        self.rows += len(rows)
        return Chunk(columns, tuple(scores) if score is not None else None, len(rows))

    def _check_extra(self, path: Path, line: int, inputs: Mapping[str, Any]) -> None:
        """UsageError when the log has inputs the reference lacks: they could not be judged."""
        extra = [name for name in inputs if name not in self.types and name not in self.ignore]
        if extra:
            raise UsageError(
                f"drift: the reference lacks columns {', '.join(extra)}, which the request log "
                f"has as inputs ({path}:{line}); use a reference with every model input, or "
                "list them in drift.ignore"
            )

    def _check_types(
        self,
        path: Path,
        numbers: list[int],
        name: str,
        values: Sequence[Any],
        expected: ValueType,
    ) -> None:
        allowed = _ALLOWED[expected]
        if set(map(type, values)) <= set(allowed):
            return
        label = name if name.startswith("outputs.") else f"inputs.{name}"
        for number, value in zip(numbers, values, strict=True):
            if type(value) not in allowed:
                shown = orjson.dumps(value).decode()[:40]
                self._report(path, number, f"{label} is {shown}, {_NAMES[expected]} expected")


def _getter(names: list[str]) -> Callable[[Any], tuple[Any, ...]]:
    if len(names) == 1:
        only = names[0]
        return lambda inputs: (inputs[only],)
    return operator.itemgetter(*names)


def _missing(record: Any, names: list[str], score: str | None) -> str:
    """Which field a parsed line lacks, for the message."""
    if not isinstance(record, dict):
        return "not a JSON object"
    inputs = record.get("inputs")
    if not isinstance(inputs, dict):
        return "no `inputs` object"
    absent = [name for name in names if name not in inputs]
    if absent:
        return f"inputs lack {', '.join(absent[:5])}{' ...' if len(absent) > 5 else ''}"
    outputs = record.get("outputs")
    if not isinstance(outputs, dict):
        return "no `outputs` object"
    return f"outputs lack {score}"


def _open(path: Path) -> IO[bytes]:
    if path.name.endswith(".gz"):
        return gzip.open(path, "rb")  # type: ignore[return-value]
    return path.open("rb")
