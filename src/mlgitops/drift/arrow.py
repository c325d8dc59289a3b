"""The fast path of the log reader: a whole chunk through pyarrow's C++ JSON reader.

No Python object per row: the chunk is parsed against a schema taken from the reference
(numbers as float64, text as string), categorical columns are counted by pyarrow and numeric
ones come out as numpy arrays. Measured on 100,000 lines: about 3x the rows/s of orjson line by
line with the same checks (docs/drift.md). It only says yes to a perfect chunk; anything else
(parse or type error, blank line, missing object or field, NaN literal) is None, and the caller
reads the chunk line by line to name the bad lines.
"""

from __future__ import annotations

import io
from collections.abc import Mapping

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.json as pa_json

from mlgitops.drift.chunk import Chunk, Values
from mlgitops.drift.reference import ValueType

_ARROW_TYPES = {"number": pa.float64(), "string": pa.string(), "bool": pa.bool_()}


def _schema(types: Mapping[str, ValueType], score: str | None) -> pa.Schema:
    inputs = pa.struct([(name, _ARROW_TYPES[kind]) for name, kind in types.items()])
    fields = [pa.field("inputs", inputs)]
    if score is not None:
        fields.append(pa.field("outputs", pa.struct([(score, pa.float64())])))
    return pa.schema(fields)


def read_chunk(
    lines: list[bytes],
    *,
    types: Mapping[str, ValueType],
    categorical: frozenset[str],
    score: str | None,
) -> Chunk | None:
    """The chunk's columns (in the order of `types`) and scores; None unless every line is good."""
    data = b"".join(lines)
    if b"NaN" in data or b"Infinity" in data:  # pyarrow takes them; JSON does not
        return None
    try:
        table = pa_json.read_json(
            io.BytesIO(data),
            read_options=pa_json.ReadOptions(use_threads=False, block_size=len(data) + 1),
            parse_options=pa_json.ParseOptions(
                explicit_schema=_schema(types, score), unexpected_field_behavior="ignore"
            ),
        )
    except pa.ArrowInvalid:
        return None
    if table.num_rows != len(lines):  # pyarrow skips blank lines
        return None
    inputs = table.column("inputs").combine_chunks()
    if inputs.null_count:
        return None
    columns: list[Values] = []
    for name in types:
        column = inputs.field(name)
        if not _nulls_are_written(column, name, data):
            return None
        columns.append(_values(column, counted=name in categorical))
    scores = None
    if score is not None:
        outputs = table.column("outputs").combine_chunks()
        if outputs.null_count or not _nulls_are_written(outputs.field(score), score, data):
            return None
        scores = np.asarray(outputs.field(score).to_numpy(zero_copy_only=False), dtype=np.float64)
    return Chunk(tuple(columns), scores, table.num_rows)


def _nulls_are_written(column: pa.Array, name: str, data: bytes) -> bool:
    """pyarrow reads a missing field as null: every null must be a written `"name":null`.

    The service writes compact JSON; a log with spaces (`"name": null`) fails this check and
    is read line by line instead, which is slower but still right.
    """
    return not column.null_count or column.null_count == data.count(b'"%s":null' % name.encode())


def _values(column: pa.Array, *, counted: bool) -> Values:
    if not counted:
        return np.asarray(column.to_numpy(zero_copy_only=False), dtype=np.float64)
    counts = pc.value_counts(column)
    return dict(
        zip(counts.field("values").to_pylist(), counts.field("counts").to_pylist(), strict=True)
    )
