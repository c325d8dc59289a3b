"""Rejected requests in one shape: a 4xx whose body names the field and the rule, counted.

BentoML validates a request against the API's pydantic model before the service sees it and
answers 400 with pydantic's error list (`detail`), or `[{"error": ...}]` for its own 4xx
exceptions, logging a traceback for each. `reshape` turns those answers into ours (and "too
many customers" into a 413 naming the limit), `rejection` counts each by field for Prometheus,
and a log filter drops the tracebacks of requests that were only invalid. The ASGI side lives
in churn.middleware.

    {"error": "invalid request",
     "problems": [{"field": "customers[0].contract", "rule": "Input should be ..."}]}
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Iterable, Mapping
from functools import cache
from typing import Any, Final

from churn import schema
from churn.request import ROW_RULE_ERROR, ROW_RULE_FIELD

TOO_MANY: Final = "too_long"
_KNOWN_FIELDS: Final = frozenset({schema.ID, *schema.FEATURES, schema.LABEL, "customers", "file"})
_INDEX = re.compile(r"\[\d+\]")


def field_path(loc: Iterable[str | int]) -> str:
    """A pydantic location as a client reads it: ("customers", 0, "age") -> customers[0].age."""
    path = ""
    for part in loc:
        path += f"[{part}]" if isinstance(part, int) else (f".{part}" if path else str(part))
    return path or "(body)"


def metric_label(field: str) -> str:
    """A bounded label for the rejected-requests counter: the column, never a client's name."""
    name = _INDEX.sub("", field).rsplit(".", 1)[-1]
    return name if name in _KNOWN_FIELDS or name == "(body)" else "(unknown field)"


def problems_from_pydantic(details: Iterable[Mapping[str, Any]]) -> list[dict[str, str]]:
    """One problem per pydantic error: the field's path and the rule it broke."""
    problems = []
    for detail in details:
        loc = list(detail.get("loc") or [])
        if detail.get("type") == ROW_RULE_ERROR:
            loc.append(ROW_RULE_FIELD)  # a row rule is raised by the model; it is about this field
        problems.append({"field": field_path(loc), "rule": str(detail.get("msg", "invalid"))})
    return problems


def rejection(
    status: int, error: str, problems: list[dict[str, Any]], **extra: Any
) -> tuple[int, dict[str, Any]]:
    """The status and body of a rejected request, counted by field."""
    problems = problems or [{"field": "(body)", "rule": error}]
    for label in sorted({metric_label(str(problem.get("field", ""))) for problem in problems}):
        rejected_counter().labels(field=label).inc()
    return status, {"error": error, **extra, "problems": problems}


@cache
def rejected_counter() -> Any:
    """The Prometheus counter of rejected requests (created in the worker, after BentoML set up
    multiprocess metrics, which is why prometheus_client is imported here and not on top)."""
    import prometheus_client

    return prometheus_client.Counter(
        "churn_rejected_requests",
        "Requests answered 4xx, by the field that broke a rule",
        labelnames=["field"],
    )


def reshape(status: int, body: bytes, *, max_customers: int) -> tuple[int, dict[str, Any]] | None:
    """Our status and body for one of BentoML's 4xx answers; None when it is already ours."""
    try:
        answer = json.loads(body)
    except ValueError:
        return rejection(status, body.decode("utf-8", "replace")[:200] or "bad request", [])
    if isinstance(answer, dict) and "problems" in answer:
        return None
    if isinstance(answer, dict) and isinstance(answer.get("detail"), list):
        details = answer["detail"]
        if any(d.get("type") == TOO_MANY and d.get("loc") == ["customers"] for d in details):
            rule = f"at most {max_customers} customers per request; send more to /predict_file"
            problem = {"field": "customers", "rule": rule}
            return rejection(413, "too many customers", [problem], limit=max_customers)
        return rejection(400, "invalid request", problems_from_pydantic(details))
    first = answer[0] if isinstance(answer, list) and answer else answer
    message = first.get("error") if isinstance(first, dict) else None
    return rejection(status, str(message or "bad request"), [])


class InvalidRequestFilter(logging.Filter):
    """Drops BentoML's traceback for a request that was only invalid (answered 4xx, counted)."""

    def filter(self, record: logging.LogRecord) -> bool:
        from bentoml.exceptions import BentoMLException
        from pydantic import ValidationError

        exc = record.exc_info[1] if record.exc_info else None
        if isinstance(exc, BentoMLException):
            return int(exc.error_code) >= 500
        return not isinstance(exc, ValidationError)
