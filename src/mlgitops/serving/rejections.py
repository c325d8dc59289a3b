"""Rejected requests in one shape: a 4xx whose body names the field and the rule, counted.

BentoML validates a request against the API's pydantic model before the service sees it and
answers 400 with pydantic's error list (`detail`), or `[{"error": ...}]` for its own 4xx
exceptions, logging a traceback for each. `Rejections.reshape` turns those answers into ours
(and a list over the limit into a 413 naming it), `Rejections.reject` counts each by field for
Prometheus, and a log filter drops the tracebacks of requests that were only invalid. The ASGI
side lives in mlgitops.serving.middleware.

    {"error": "invalid request",
     "problems": [{"field": "rows[0].color", "rule": "Input should be ..."}]}
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Iterable, Mapping
from functools import cache
from typing import Any, Final

TOO_MANY: Final = "too_long"
BODY: Final = "(body)"
UNKNOWN_FIELD: Final = "(unknown field)"
REJECTED_METRIC: Final = "rejected_requests"
_INDEX = re.compile(r"\[\d+\]")


def field_path(loc: Iterable[str | int]) -> str:
    """A pydantic location as a client reads it: ("rows", 0, "age") -> rows[0].age."""
    path = ""
    for part in loc:
        path += f"[{part}]" if isinstance(part, int) else (f".{part}" if path else str(part))
    return path or BODY


@cache
def rejected_counter() -> Any:
    """The Prometheus counter of rejected requests (created in the worker, after BentoML set up
    multiprocess metrics, which is why prometheus_client is imported here and not on top)."""
    import prometheus_client

    return prometheus_client.Counter(
        REJECTED_METRIC,
        "Requests answered 4xx, by the field that broke a rule",
        labelnames=["field"],
    )


class Rejections:
    """How one service's rejected requests are shaped and counted.

    `fields`: the names a client may send (the metric's label is one of them, never a client's
    own name); `list_field`: the request's list of rows, limited to `max_rows`; `row_rules`: a
    pydantic error type raised by a row-level rule -> the field it is about; `too_many_hint`:
    what to do instead of sending more rows.
    """

    def __init__(
        self,
        *,
        fields: Iterable[str],
        list_field: str,
        max_rows: int,
        row_rules: Mapping[str, str] | None = None,
        too_many_hint: str = "",
    ) -> None:
        self.fields = frozenset([*fields, list_field, BODY])
        self.list_field = list_field
        self.max_rows = max_rows
        self.row_rules = dict(row_rules or {})
        self.too_many_hint = too_many_hint

    def metric_label(self, field: str) -> str:
        """A bounded label for the rejected-requests counter: the field, never a client's name."""
        name = _INDEX.sub("", field).rsplit(".", 1)[-1]
        return name if name in self.fields else UNKNOWN_FIELD

    def problems_from_pydantic(self, details: Iterable[Mapping[str, Any]]) -> list[dict[str, str]]:
        """One problem per pydantic error: the field's path and the rule it broke."""
        problems = []
        for detail in details:
            loc = list(detail.get("loc") or [])
            rule_field = self.row_rules.get(str(detail.get("type")))
            if rule_field is not None:
                loc.append(rule_field)  # a row rule is raised by the row; it is about this field
            problems.append({"field": field_path(loc), "rule": str(detail.get("msg", "invalid"))})
        return problems

    def reject(
        self, status: int, error: str, problems: list[dict[str, Any]], **extra: Any
    ) -> tuple[int, dict[str, Any]]:
        """The status and body of a rejected request, counted by field."""
        problems = problems or [{"field": BODY, "rule": error}]
        for label in sorted({self.metric_label(str(p.get("field", ""))) for p in problems}):
            rejected_counter().labels(field=label).inc()
        return status, {"error": error, **extra, "problems": problems}

    def reshape(self, status: int, body: bytes) -> tuple[int, dict[str, Any]] | None:
        """Our status and body for one of BentoML's 4xx answers; None when it is already ours."""
        try:
            answer = json.loads(body)
        except ValueError:
            return self.reject(status, body.decode("utf-8", "replace")[:200] or "bad request", [])
        if isinstance(answer, dict) and "problems" in answer:
            return None
        if isinstance(answer, dict) and isinstance(answer.get("detail"), list):
            details = answer["detail"]
            if any(
                d.get("type") == TOO_MANY and d.get("loc") == [self.list_field] for d in details
            ):
                return self._too_many()
            return self.reject(400, "invalid request", self.problems_from_pydantic(details))
        first = answer[0] if isinstance(answer, list) and answer else answer
        message = first.get("error") if isinstance(first, dict) else None
        return self.reject(status, str(message or "bad request"), [])

    def _too_many(self) -> tuple[int, dict[str, Any]]:
        rule = f"at most {self.max_rows} {self.list_field} per request"
        rule += f"; {self.too_many_hint}" if self.too_many_hint else ""
        problem = {"field": self.list_field, "rule": rule}
        return self.reject(413, f"too many {self.list_field}", [problem], limit=self.max_rows)


class InvalidRequestFilter(logging.Filter):
    """Drops BentoML's traceback for a request that was only invalid (answered 4xx, counted)."""

    def filter(self, record: logging.LogRecord) -> bool:
        from bentoml.exceptions import BentoMLException
        from pydantic import ValidationError

        exc = record.exc_info[1] if record.exc_info else None
        if isinstance(exc, BentoMLException):
            return int(exc.error_code) >= 500
        return not isinstance(exc, ValidationError)
