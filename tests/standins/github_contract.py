"""GitHub's published REST description, which the GitHub stand-in checks every request against
(issue 18, item 13).

The description is the `@octokit/openapi` npm package's `generated/api.github.com.json` (OpenAPI
3.0), fetched at a pinned version by the Makefile into .cache/tools (`make github-openapi`, a
prerequisite of `make test`). A request is a violation when the real API would refuse it: no
operation has its path and method, a query parameter the operation does not declare (or a
required one missing, or of the wrong type), or a JSON body that its requestBody schema rejects
(types, required fields, enums; validated with `jsonschema`, `$ref`s resolved by `referencing`),
or with top-level fields the schema does not declare (GitHub would silently drop them).
`FakeGitHub` keeps the violations and tests/conftest.py fails the test that made one.
"""

from __future__ import annotations

import functools
import json
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import jsonschema  # type: ignore[import-untyped]
import referencing
from referencing.jsonschema import DRAFT4

from tests.standins.routes import choose

# The Makefile's pin (OCTOKIT_OPENAPI); `make test` exports the same path as GITHUB_OPENAPI_PATH.
DEFAULT = Path(__file__).parents[2] / ".cache/tools/octokit-openapi-23.0.2/api.github.com.json"
_URI = "urn:api.github.com"  # the description as one schema resource; $refs point inside it
_METHODS = ("get", "put", "post", "patch", "delete", "head")


@dataclass(frozen=True)
class Operation:
    """One operation of GitHub's REST API."""

    method: str  # GET, POST ...
    template: str  # /repos/{owner}/{repo}/issues/{issue_number}/labels
    pattern: re.Pattern[str]
    parameters: tuple[dict[str, Any], ...]  # path and query parameters, $refs resolved
    body: str | None  # JSON pointer to the application/json requestBody schema
    body_required: bool


def _path() -> Path:
    return Path(os.environ.get("GITHUB_OPENAPI_PATH") or DEFAULT)


def _nullable(node: Any) -> Any:
    """OpenAPI 3.0's `nullable: true` as JSON Schema says it: the schema, or null."""
    if isinstance(node, list):
        return [_nullable(item) for item in node]
    if not isinstance(node, dict):
        return node
    converted = {key: _nullable(value) for key, value in node.items()}
    if converted.pop("nullable", False) is True:
        return {"anyOf": [{"type": "null"}, converted]}
    return converted


@functools.cache
def description() -> dict[str, Any]:
    """The whole description, nullable converted; read once per session (13 MB, ~1 s)."""
    path = _path()
    if not path.is_file():
        raise FileNotFoundError(f"{path} is missing: run `make github-openapi` (make test does)")
    document: dict[str, Any] = _nullable(json.loads(path.read_text(encoding="utf-8")))
    return document


@functools.cache
def _registry() -> referencing.Registry[Any]:
    resource = referencing.Resource.from_contents(description(), default_specification=DRAFT4)
    registry: referencing.Registry[Any] = referencing.Registry().with_resource(_URI, resource)
    return registry


def _resolve(node: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in node:
        node = _registry().resolver().lookup(_URI + node["$ref"]).contents
    return node


def _pointer(*parts: str) -> str:
    return "#/" + "/".join(p.replace("~", "~0").replace("/", "~1") for p in parts)


def _segment(parameter: str) -> str:
    # A file path or a git ref (`heads/main`) spans slashes; every other parameter is one segment.
    return "(.+)" if parameter in ("{path}", "{ref}") else "([^/]+)"


@functools.cache
def operations() -> tuple[Operation, ...]:
    """Every operation in the description."""
    found = []
    for template, item in description()["paths"].items():
        pieces = re.split(r"(\{[^}]+\})", template)
        regex = "".join(_segment(p) if p.startswith("{") else re.escape(p) for p in pieces)
        shared = item.get("parameters", [])
        for method in _METHODS:
            if method not in item:
                continue
            operation = item[method]
            params = [_resolve(p) for p in shared + operation.get("parameters", [])]
            request = operation.get("requestBody", {})
            base = request.get("$ref") or _pointer("paths", template, method, "requestBody")
            content = _resolve(request).get("content", {})
            found.append(
                Operation(
                    method=method.upper(),
                    template=template,
                    pattern=re.compile(regex),
                    parameters=tuple(p for p in params if p.get("in") in ("path", "query")),
                    body=f"{base}/content/application~1json/schema"
                    if "application/json" in content
                    else None,
                    body_required=bool(_resolve(request).get("required")),
                )
            )
    return tuple(found)


def _server_prefix() -> str:
    """The path the API lives under: none on api.github.com; GitHub Enterprise's /api/v3."""
    server: str = description()["servers"][0]["url"]
    return urlsplit(server).path.rstrip("/")


def _typed(value: str, schema: dict[str, Any]) -> Any:
    """A path or query string as the JSON value its schema's type asks for (or as sent)."""
    kind = schema.get("type")
    if kind == "integer" and re.fullmatch(r"-?\d+", value):
        return int(value)
    if kind == "number" and re.fullmatch(r"-?\d+(\.\d+)?", value):
        return float(value)
    if kind == "boolean" and value in ("true", "false"):
        return value == "true"
    return value


def _schema_problem(value: Any, schema_ref: str) -> str | None:
    validator = jsonschema.Draft4Validator({"$ref": _URI + schema_ref}, registry=_registry())
    error = jsonschema.exceptions.best_match(validator.iter_errors(value))
    if error is None:
        return None
    where = "/".join(str(part) for part in error.absolute_path) or "(root)"
    return f"{where}: {error.message}"


def _parameter_problem(operation: Operation, path: str, query: dict[str, str]) -> str | None:
    found = operation.pattern.fullmatch(path)
    assert found is not None
    names = re.findall(r"\{([^}]+)\}", operation.template)
    declared = {p["name"]: p for p in operation.parameters}
    values = {**dict(zip(names, found.groups(), strict=True)), **query}
    extra = sorted(set(query) - {n for n, p in declared.items() if p["in"] == "query"})
    if extra:
        return f"query parameter(s) {extra} not declared"
    missing = sorted(n for n, p in declared.items() if p.get("required") and n not in values)
    if missing:
        return f"required parameter(s) {missing} missing"
    for name, value in values.items():
        schema = declared[name].get("schema", {})
        error = jsonschema.exceptions.best_match(
            jsonschema.Draft4Validator(_resolve(schema)).iter_errors(
                _typed(value, _resolve(schema))
            )
        )
        if error is not None:
            return f"parameter {name}={value!r}: {error.message}"
    return None


def _unknown_fields(operation: Operation, body: Any) -> list[str]:
    """Top-level body fields the schema does not declare: GitHub drops them without a word."""
    assert operation.body is not None
    schema = _resolve({"$ref": operation.body})
    properties = schema.get("properties")
    if not isinstance(body, dict) or properties is None or "additionalProperties" in schema:
        return []
    return sorted(set(body) - set(properties))


def violation(method: str, path: str, query: dict[str, str], body: Any) -> str | None:
    """Why GitHub's published API would refuse this request as sent, or None if it takes it."""
    route = path.removeprefix(_server_prefix()) or "/"
    operation = choose(operations(), method, route, api="GitHub's REST API")
    if isinstance(operation, str):
        return operation.replace(f"{method} {route}:", f"{method} {path}:", 1)
    where = f"{method} {path} ({operation.template})"
    problem = _parameter_problem(operation, route, query)
    if problem is not None:
        return f"{where}: {problem}"
    if operation.body is None:
        return None if body is None else f"{where}: the operation takes no JSON body"
    if body is None:
        return f"{where}: a JSON body is required" if operation.body_required else None
    problem = _schema_problem(body, operation.body)
    if problem is not None:
        return f"{where}: body {problem}"
    unknown = _unknown_fields(operation, body)
    return f"{where}: body field(s) {unknown} not in the schema" if unknown else None
