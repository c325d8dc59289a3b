"""What the service answers: one customer's prediction, a file's predictions, the model version.

Pydantic models, so BentoML's OpenAPI document describes the answers exactly.
"""

from __future__ import annotations

from typing import Annotated

from bentoml.validators import ContentType
from pydantic import BaseModel


class ModelVersion(BaseModel):
    """Which model answered: its file's sha256 and the git revision it was trained at."""

    sha256: str
    git_revision: str | None


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


# The media type stated, or BentoML derives it from the JSON schema of a list answer on every
# response (0.7 ms each, measured: a third of a single request's time in the server).
Answers = Annotated[list[Prediction], ContentType("application/json")]
