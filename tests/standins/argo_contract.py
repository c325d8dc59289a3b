"""The Argo Server's published REST description, which the Argo stand-in checks every request
against (issue 18, item 13).

Hera's `hera.workflows.service` is generated from the Argo Server's swagger (of the Argo
version the pinned Hera targets): one method per operation, with its HTTP method, path
template, query parameters and request body model. Read here with `ast`, never run, it is the
route table of a real server: a request that fits no operation, sends a query parameter the
operation lacks, or a body with a field its model (also generated from the swagger) does not
declare, is one the real server would reject or ignore, and is recorded as a violation;
`FakeArgo` keeps them and tests/conftest.py fails the test that made one.
"""

from __future__ import annotations

import ast
import functools
import inspect
import re
from dataclasses import dataclass
from typing import Any

import pydantic
from hera.workflows import models, service

from tests.standins.routes import choose


@dataclass(frozen=True)
class Operation:
    """One operation of the Argo Server's API."""

    name: str  # Hera's method name, e.g. submit_workflow
    method: str  # GET, POST ...
    template: str  # /api/v1/workflows/{namespace}/submit
    query: frozenset[str]
    body: str | None  # the request model's name, e.g. WorkflowSubmitRequest

    @functools.cached_property
    def pattern(self) -> re.Pattern[str]:
        parts = re.split(r"(\{[^}]+\})", self.template)
        regex = "".join("[^/]+" if p.startswith("{") else re.escape(p) for p in parts)
        return re.compile(regex)


def _keyword(call: ast.Call, name: str) -> ast.expr | None:
    return next((k.value for k in call.keywords if k.arg == name), None)


def _operation(function: ast.FunctionDef) -> Operation | None:
    for node in ast.walk(function):
        if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)):
            continue
        if node.func.attr != "_request":
            continue
        method, url, params = (_keyword(node, k) for k in ("method", "url", "params"))
        # url=urljoin(self.host, "api/v1/...").format(...)
        assert isinstance(method, ast.Constant) and isinstance(url, ast.Call)
        join = url.func.value if isinstance(url.func, ast.Attribute) else url
        assert isinstance(join, ast.Call) and isinstance(join.args[1], ast.Constant)
        query = frozenset(
            str(k.value) for k in (params.keys if isinstance(params, ast.Dict) else [])
            if isinstance(k, ast.Constant)
        )  # fmt: skip
        body = next(
            (a.annotation.id for a in function.args.args
             if a.arg == "req" and isinstance(a.annotation, ast.Name)),
            None,
        )  # fmt: skip
        template = "/" + str(join.args[1].value)
        return Operation(function.name, str(method.value).upper(), template, query, body)
    return None


@functools.cache
def operations() -> tuple[Operation, ...]:
    """Every operation of the Argo Server's API, as Hera's generated services declare them."""
    tree = ast.parse(inspect.getsource(service))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef):
            operation = _operation(node)
            if operation is not None:
                found.append(operation)
    return tuple(found)


def _unknown_fields(model: type[pydantic.BaseModel], body: Any, where: str) -> list[str]:
    """Fields of `body` that `model` (and, one level down, its nested models) lacks."""
    if not isinstance(body, dict):
        return []
    fields = {(f.alias or name): f for name, f in model.model_fields.items()}
    unknown = [f"{where}{key}" for key in body if key not in fields]
    for key, value in body.items():
        field = fields.get(key)
        nested = getattr(field, "annotation", None) if field is not None else None
        for candidate in getattr(nested, "__args__", (nested,)):
            if isinstance(candidate, type) and issubclass(candidate, pydantic.BaseModel):
                unknown += _unknown_fields(candidate, value, f"{where}{key}.")
    return unknown


def violation(method: str, path: str, query: dict[str, Any], body: Any) -> str | None:
    """Why the real Argo Server would not take this request as sent, or None if it would."""
    operation = choose(operations(), method, path, api="the Argo Server API")
    if isinstance(operation, str):
        return operation
    extra = sorted(set(query) - operation.query)
    if extra:
        return f"{method} {path}: query parameter(s) {extra} not in {operation.name}"
    if operation.body is None:
        return None if body is None else f"{method} {path}: {operation.name} takes no body"
    model: type[pydantic.BaseModel] = getattr(models, operation.body)
    try:
        model.model_validate(body)
    except pydantic.ValidationError as error:
        return f"{method} {path}: body is not a {operation.body}: {error.errors()[0]['msg']}"
    unknown = _unknown_fields(model, body, "")
    if unknown:
        return f"{method} {path}: {operation.body} has no field(s) {unknown}"
    return None
