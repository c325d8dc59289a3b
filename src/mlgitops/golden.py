"""The golden cases a model's build declares in its card: requests with the answers they must get.

The model's train stage writes them into the model card (`models/card.json`, key `golden`); the
serving runtime is ready only once they score as declared, and `mlgitops smoke` sends them to a
deployed service. Neither knows the model: the field names come from here.

    "golden": {
      "route": "/predict",            # where the cases are POSTed
      "request_key": "rows",          # body {"rows": [input, ...]}; null: the body is the list
      "response_key": null,           # the answers at body["..."]; null: the body is the list
      "tolerance": 1e-06,             # numbers match within it; anything else must be equal
      "cases": [{"input": {"id": "A1", "age": 41},
                 "expected": {"score": 0.031, "label": false}}]
    }
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError


class GoldenCase(BaseModel):
    """One request row, and the answer fields it must get."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    input: dict[str, Any] = Field(min_length=1)
    expected: dict[str, Any] = Field(min_length=1)


class Golden(BaseModel):
    """The card's `golden` section (see the module docstring)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    route: str = Field(default="/predict", pattern=r"^/")
    request_key: str | None
    response_key: str | None = None
    tolerance: float = Field(default=1e-6, ge=0)
    cases: tuple[GoldenCase, ...] = Field(min_length=1)

    def body(self, inputs: Sequence[Mapping[str, Any]]) -> Any:
        """The JSON body of a request for these rows."""
        rows = [dict(row) for row in inputs]
        return rows if self.request_key is None else {self.request_key: rows}

    def answers(self, body: Any) -> list[Any] | None:
        """The answers in a response's JSON body, None when they are not where declared."""
        if self.response_key is not None:
            body = body.get(self.response_key) if isinstance(body, dict) else None
        return body if isinstance(body, list) else None


class GoldenFormatError(ValueError):
    """Raised when a card's `golden` section is missing or not of the declared shape."""


def parse_golden(card: Any) -> Golden:
    """The golden section of a card (its parsed JSON); GoldenFormatError saying what is wrong."""
    section = card.get("golden") if isinstance(card, dict) else None
    if section is None:
        raise GoldenFormatError("it has no `golden` section")
    try:
        return Golden.model_validate(section)
    except ValidationError as error:
        where = "; ".join(
            f"{'.'.join(['golden', *(str(p) for p in e['loc'])])}: {e['msg']}"
            for e in error.errors(include_url=False)
        )
        raise GoldenFormatError(where) from None


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def mismatches(expected: Mapping[str, Any], answer: Any, tolerance: float) -> list[str]:
    """What in `answer` differs from `expected`, one phrase per field; empty when it matches.

    Numbers match within `tolerance`, anything else must be equal.
    """
    if not isinstance(answer, dict):
        return [f"the answer is not an object: {answer!r:.100}"]
    found = []
    for field, want in expected.items():
        if field not in answer:
            found.append(f"{field}: missing from the answer")
            continue
        got = answer[field]
        if _is_number(want) and _is_number(got):
            off = abs(float(got) - float(want))
            if not off <= tolerance:  # also NaN
                found.append(
                    f"{field}: got {got:.6f}, the card says {want:.6f} "
                    f"(off by {off:.2g} > {tolerance:g})"
                )
        elif got != want:
            found.append(f"{field}: got {got!r}, the card says {want!r}")
    return found


def describe(expected: Mapping[str, Any], answer: Mapping[str, Any]) -> str:
    """The answer's expected fields, short: `score=0.031063, label=False`."""
    parts = []
    for field in expected:
        value = answer.get(field)
        parts.append(f"{field}={value:.6f}" if _is_number(value) else f"{field}={value!r}")
    return ", ".join(parts)
