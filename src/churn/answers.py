"""What the service answers: one customer's prediction, a file's predictions, the model version.

Pydantic models, so BentoML's OpenAPI document describes the answers exactly.
"""

from __future__ import annotations

from typing import Annotated, Any

from bentoml.validators import ContentType
from pydantic import BaseModel, PlainSerializer, PlainValidator, TypeAdapter, WithJsonSchema
from pydantic_core import to_json


class ModelVersion(BaseModel):
    """Which model answered: its file's sha256 (the card holds no commit: it is deterministic;
    the Bento's labels and the image tag say which commit was built)."""

    sha256: str


class Prediction(BaseModel):
    """One customer's answer."""

    customer_id: str
    churn_probability: float
    churn: bool
    model: ModelVersion


class FilePredictions(BaseModel):
    """The answers for an uploaded table, column-wise, in the file's row order."""

    customer_id: list[str]
    churn_probability: list[float]
    churn: list[bool]
    model: ModelVersion


def _as_built(answers: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return answers


def _as_json(answers: list[dict[str, Any]]) -> bytes:
    return to_json(answers)


def _inlined(node: Any, definitions: dict[str, Any]) -> Any:
    """A JSON schema with its local references ("#/$defs/Name") replaced by what they name."""
    if isinstance(node, list):
        return [_inlined(item, definitions) for item in node]
    if not isinstance(node, dict):
        return node
    if "$ref" in node:
        return _inlined(definitions[node["$ref"].rsplit("/", 1)[-1]], definitions)
    return {key: _inlined(value, definitions) for key, value in node.items() if key != "$defs"}


_PREDICTIONS_SCHEMA = TypeAdapter(list[Prediction]).json_schema(mode="serialization")
_PREDICTIONS_DOCUMENTED = _inlined(_PREDICTIONS_SCHEMA, _PREDICTIONS_SCHEMA.get("$defs", {}))

Answers = Annotated[
    list[Prediction],
    # /predict builds its answers as dicts of exactly this shape. BentoML would validate them
    # into Prediction models, dump those twice and json.dumps the result: ~100 ms for 10,000
    # customers. Taken as built and serialised in one call to bytes, which BentoML sends as
    # they are. The OpenAPI document still shows list[Prediction]: the input type documents
    # the validation side, the inlined schema the answer (a reference there would not
    # resolve: pydantic looks it up among its own definitions).
    PlainValidator(_as_built, json_schema_input_type=list[Prediction]),
    PlainSerializer(_as_json),
    WithJsonSchema(_PREDICTIONS_DOCUMENTED, mode="serialization"),
    # The media type stated, or BentoML derives it from the JSON schema of a list answer on
    # every response (0.7 ms each, measured: a third of a single request's time in the server).
    ContentType("application/json"),
]
