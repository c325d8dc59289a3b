"""The checks of `mlgitops smoke`, one request (or a run of them) each, as rows of its table.

Each takes an httpx client with the service's base URL and what the model card declares
(mlgitops.golden); none knows a field name of its own.
"""

from __future__ import annotations

import json
import math
import time
from dataclasses import dataclass
from typing import Any

import httpx

from mlgitops.golden import Golden, GoldenCase, describe, mismatches


@dataclass(frozen=True)
class Check:
    """One row of the smoke table."""

    name: str
    passed: bool
    detail: str


def status_check(client: httpx.Client, name: str, path: str) -> Check:
    """GET `path` must answer 200; a transport error propagates (the caller decides)."""
    response = client.get(path)
    if response.status_code == httpx.codes.OK:
        return Check(name, True, f"GET {path}: 200")
    return Check(name, False, f"GET {path}: {response.status_code} {snippet(response)}")


def _post(client: httpx.Client, golden: Golden, row: dict[str, Any]) -> httpx.Response:
    return client.post(golden.route, json=golden.body([row]))


def golden_check(
    client: httpx.Client, golden: Golden, index: int, case: GoldenCase
) -> tuple[Check, dict[str, Any] | None]:
    """The service's answer for one golden case must have the card's expected fields."""
    name, post = f"golden {index}", f"POST {golden.route}"
    try:
        response = _post(client, golden, case.input)
    except httpx.TransportError as error:
        return Check(name, False, f"{post}: {why(error)}"), None
    if response.status_code != httpx.codes.OK:
        return Check(name, False, f"{post}: {response.status_code} {snippet(response)}"), None
    answer = _only_answer(golden, response)
    if answer is None:
        where = f"body.{golden.response_key}" if golden.response_key else "the body"
        detail = f"{where} is not a list of one answer object: {snippet(response)}"
        return Check(name, False, detail), None
    found = mismatches(case.expected, answer, golden.tolerance)
    if found:
        return Check(name, False, "; ".join(found)), answer
    return Check(name, True, f"{describe(case.expected, answer)} as the card says"), answer


def _only_answer(golden: Golden, response: httpx.Response) -> dict[str, Any] | None:
    """The one answer of a one-row request, where the card says answers are, if well formed."""
    try:
        body: Any = response.json()
    except (json.JSONDecodeError, UnicodeDecodeError):
        return None
    answers = golden.answers(body)
    if answers is None or len(answers) != 1 or not isinstance(answers[0], dict):
        return None
    return answers[0]


def model_check(answers: list[dict[str, Any]], sha256: str | None) -> Check:
    """Every golden answer must name the card's model file (model.sha256)."""
    if sha256 is None:
        return Check("model sha256", False, "the card has no model.sha256 to compare with")
    if not answers:
        return Check("model sha256", False, "no golden answer to read the model from")
    served = {str((answer.get("model") or {}).get("sha256")) for answer in answers}
    if served != {sha256}:
        names = ", ".join(sorted(s[:12] for s in served))
        return Check("model sha256", False, f"served {names}, the card says {sha256[:12]}")
    return Check("model sha256", True, f"{sha256[:12]} as the card says")


def bad_request_check(client: httpx.Client, golden: Golden, features: tuple[str, ...]) -> Check:
    """The first golden input without one of its fields (a feature, if the card lists them)
    must get a 4xx that names the field."""
    row = dict(golden.cases[0].input)
    field = next((f for f in features if f in row), next(iter(row)))
    del row[field]
    name, post = f"bad request (no {field})", f"POST {golden.route}"
    try:
        response = _post(client, golden, row)
    except httpx.TransportError as error:
        return Check(name, False, f"{post}: {why(error)}")
    status = response.status_code
    if not httpx.codes.is_client_error(status):
        return Check(name, False, f"{post}: {status}, a 4xx expected {snippet(response)}")
    if field not in response.text:
        return Check(name, False, f"{status}, but the answer does not name {field}")
    return Check(name, True, f"{status} naming {field}")


def latency_check(
    client: httpx.Client, golden: Golden, *, requests: int, max_p99_ms: float
) -> Check:
    """`requests` sequential golden requests: all 200, p99 at or under the bound."""
    name = "latency"
    timings, failures = [], []
    for number in range(requests):
        start = time.perf_counter()
        try:
            response = _post(client, golden, golden.cases[number % len(golden.cases)].input)
        except httpx.TransportError as error:
            failures.append(why(error))
            continue
        timings.append((time.perf_counter() - start) * 1000)
        if response.status_code != httpx.codes.OK:
            failures.append(f"HTTP {response.status_code}")
    if not timings:
        return Check(name, False, f"all {requests} requests failed ({failures[0]})")
    p50, p99 = percentile(timings, 50), percentile(timings, 99)
    detail = f"p50 {p50:.1f} ms, p99 {p99:.1f} ms over {requests} requests (bound {max_p99_ms:g})"
    if failures:
        return Check(name, False, f"{len(failures)} of {requests} failed ({failures[0]}); {detail}")
    return Check(name, p99 <= max_p99_ms, detail)


def percentile(values: list[float], percent: float) -> float:
    """Nearest-rank percentile: a value that was observed, never an interpolation."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(percent / 100 * len(ordered)) - 1)]


def why(error: httpx.TransportError) -> str:
    if isinstance(error, httpx.TimeoutException):
        return f"timed out ({type(error).__name__})"
    return str(error) or type(error).__name__


def snippet(response: httpx.Response, limit: int = 200) -> str:
    text = " ".join(response.text.split())
    return f"({text[:limit]}{'...' if len(text) > limit else ''})" if text else ""
