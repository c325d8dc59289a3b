"""Streaming reader of the service's request logs: files in order, chunks of checked rows.

A log is JSON lines, one scored row per line, the model's inputs under `inputs` and its
answer under `outputs` (see the service's request log). Files are read `chunk_rows` lines at a
time, so memory holds one chunk whatever the size of the logs. Each chunk goes through the fast
reader (drift/arrow.py); a chunk it refuses is read again line by line with orjson, and each bad
line (not JSON, a field missing, a value of the wrong type) is remembered with its file and line
number; the caller decides what to do with them.
"""

from __future__ import annotations

import gzip
import operator
import re
from collections import Counter
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from itertools import islice
from pathlib import Path
from typing import IO, Any

import numpy as np
import orjson

from mlgitops.drift.arrow import read_chunk
from mlgitops.drift.chunk import Chunk
from mlgitops.drift.reference import ValueType
from mlgitops.errors import UsageError

LOG_GLOB = "requests-worker*.jsonl*"
_ROTATION = re.compile(r"\.jsonl(?:\.(\d+))?(?:\.gz)?$")
_ALLOWED: dict[ValueType, tuple[type, ...]] = {
    "number": (int, float, type(None)),
    "string": (str, type(None)),
    "bool": (bool, type(None)),
}
_ALLOWED_SETS = {kind: frozenset(types) for kind, types in _ALLOWED.items()}
Getter = Callable[[Any], tuple[Any, ...]]
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


@dataclass
class LogReader:
    """Reads `files` in chunks; `bad` keeps the first `max_reported` bad lines, `bad_count` all.

    `types` maps each feature to the type its values must have; the `categorical` ones are
    counted per value, the others returned as float arrays. `score` is the field of `outputs`
    to read too (None: no score). A logged input neither in `types` nor in `ignore`
    is a UsageError at once: the reference lacks that column.
    """

    files: Sequence[Path]
    types: Mapping[str, ValueType]
    categorical: frozenset[str]
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
        first = 1
        try:
            with _open(path) as handle:
                while lines := list(islice(handle, self.chunk_rows)):  # C-speed line splitting
                    chunk = self._parse(path, first, lines)
                    if on_bytes is not None:
                        on_bytes(sum(map(len, lines)))
                    if chunk is not None:
                        yield chunk
                    first += len(lines)
        except (OSError, EOFError, gzip.BadGzipFile) as error:
            raise UsageError(f"drift: cannot read request log {path} ({error})") from None

    def _report(self, path: Path, line: int, problem: str) -> None:
        self.bad_count += 1
        if len(self.bad) < self.max_reported:
            self.bad.append(BadLine(path, line, problem))

    def _parse(self, path: Path, first: int, lines: list[bytes]) -> Chunk | None:
        if not lines:
            return None
        self._check_first(path, first, lines[0])
        chunk = None
        if not self.bad_count:  # after a bad line, only bad lines are counted
            chunk = read_chunk(
                lines, types=self.types, categorical=self.categorical, score=self.score
            )
        if chunk is None:
            chunk = self._parse_lines(path, first, lines)
        if chunk is not None:
            self.rows += chunk.rows
        return chunk

    def _check_first(self, path: Path, first: int, line: bytes) -> None:
        """The chunk's first line, if it is good, must have no input the reference lacks."""
        try:
            inputs = orjson.loads(line)["inputs"]
        except (orjson.JSONDecodeError, KeyError, TypeError, IndexError):
            return  # the line-by-line pass reports it
        if isinstance(inputs, dict):
            self._check_extra(path, first, inputs)

    def _parse_lines(self, path: Path, first: int, lines: list[bytes]) -> Chunk | None:
        """Line by line with orjson, noting each bad line's number and what is wrong with it."""
        names = list(self.types)
        getter = _getter(names)
        rows: list[tuple[Any, ...]] = []
        scores: list[Any] = []
        numbers: list[int] = []
        for offset, raw in enumerate(lines):
            try:
                record = orjson.loads(raw)
                row = getter(record["inputs"])
                score = record["outputs"][self.score] if self.score is not None else None
            except orjson.JSONDecodeError:
                if raw.strip():  # a blank line is harmless
                    self._report(path, first + offset, "not valid JSON (a truncated line?)")
                continue
            except (KeyError, TypeError, IndexError):
                self._report(path, first + offset, _missing(record, names, self.score))
                continue
            rows.append(row)
            scores.append(score)
            numbers.append(first + offset)
        columns = tuple(zip(*rows, strict=True)) if rows else ((),) * len(names)
        checks = [*zip(names, columns, self.types.values(), strict=True)]
        if self.score is not None:
            checks.append((f"outputs.{self.score}", tuple(scores), "number"))
        for name, values, expected in checks:
            if not set(map(type, values)) <= _ALLOWED_SETS[expected]:
                self._report_types(path, numbers, name, values, expected)
        if self.bad_count:
            return None
        converted = tuple(
            Counter(values) if name in self.categorical else np.array(values, dtype=np.float64)
            for name, values in zip(names, columns, strict=True)
        )
        score_values = np.array(scores, dtype=np.float64) if self.score is not None else None
        return Chunk(converted, score_values, len(rows))

    def _check_extra(self, path: Path, line: int, inputs: Mapping[str, Any]) -> None:
        """UsageError when the log has inputs the reference lacks: they could not be judged."""
        extra = [name for name in inputs if name not in self.types and name not in self.ignore]
        if extra:
            raise UsageError(
                f"drift: the reference lacks columns {', '.join(extra)}, which the request log "
                f"has as inputs ({path}:{line}); use a reference with every model input, or "
                "list them in drift.ignore"
            )

    def _report_types(
        self, path: Path, numbers: list[int], name: str, values: Sequence[Any], expected: ValueType
    ) -> None:
        allowed = _ALLOWED[expected]
        label = name if name.startswith("outputs.") else f"inputs.{name}"
        for number, value in zip(numbers, values, strict=True):
            if type(value) not in allowed:
                shown = orjson.dumps(value).decode()[:40]
                self._report(path, number, f"{label} is {shown}, {_NAMES[expected]} expected")


def _getter(names: list[str]) -> Getter:
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
