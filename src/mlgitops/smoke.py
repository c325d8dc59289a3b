"""`mlgitops smoke`: real requests against a running model service, checked against its card.

The deploy workflow runs it on new pods before they take traffic: health, readiness, the golden
customers whose probabilities the model card stores, a bad request that must get a 4xx, and a
latency bound. It knows the service only through its HTTP contract and the card's JSON, so it
works for any model a repository serves this way.
"""

from __future__ import annotations

import json
import math
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, TypeGuard

import httpx
import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from mlgitops.errors import CheckFailedError, UsageError
from mlgitops.plugin import plugin_app, run

TOLERANCE = 1e-6  # the service and the card's booster compute the same float, bar rounding


@dataclass(frozen=True)
class GoldenCase:
    """One customer of the model card, as the API takes it, with the probability it must get."""

    customer: dict[str, Any]
    churn_probability: float


@dataclass(frozen=True)
class Card:
    """What the smoke test reads from the model card: the golden cases, the model's sha256 and
    the feature names (one of them is left out of the bad request)."""

    golden: tuple[GoldenCase, ...]
    sha256: str | None
    features: tuple[str, ...]


@dataclass(frozen=True)
class Check:
    """One row of the smoke table."""

    name: str
    passed: bool
    detail: str


@dataclass(frozen=True)
class SmokeResult:
    """Every check, in the order they ran."""

    url: str
    checks: tuple[Check, ...]

    @property
    def passed(self) -> bool:
        return all(check.passed for check in self.checks)

    @property
    def failed(self) -> tuple[Check, ...]:
        return tuple(check for check in self.checks if not check.passed)


def load_card(path: Path) -> Card:
    """The card's golden cases; UsageError when the file is missing or has none."""
    if not path.is_file():
        raise UsageError(f"smoke: {path} not found; pass --card with the model card (card.json)")
    try:
        data: Any = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise UsageError(f"smoke: {path} is not valid JSON ({error})") from None
    golden = data.get("golden") if isinstance(data, dict) else None
    if not isinstance(golden, list) or not golden:
        raise UsageError(
            f"smoke: {path} has no `golden` cases; re-run the train stage (dvc repro) with a "
            "version that writes them, or pass the card of the model being served"
        )
    cases = []
    for index, entry in enumerate(golden):
        case = _golden_case(entry)
        if case is None:
            raise UsageError(
                f"smoke: {path} golden[{index}] is not "
                '{"customer": {...}, "churn_probability": <number in [0, 1]>}'
            )
        cases.append(case)
    model = data.get("model")
    sha256 = model.get("sha256") if isinstance(model, dict) else None
    features = data.get("features")
    return Card(
        golden=tuple(cases),
        sha256=sha256 if isinstance(sha256, str) else None,
        features=tuple(str(f) for f in features) if isinstance(features, list) else (),
    )


def _golden_case(entry: Any) -> GoldenCase | None:
    if not isinstance(entry, dict):
        return None
    customer, probability = entry.get("customer"), entry.get("churn_probability")
    if not isinstance(customer, dict) or not _is_probability(probability):
        return None
    return GoldenCase(customer, float(probability))


def run_smoke(
    client: httpx.Client, card: Card, *, requests: int = 50, max_p99_ms: float = 100.0
) -> SmokeResult:
    """Runs every check against the service behind `client` (its base URL set).

    Raises CheckFailedError at once when the service cannot be reached at all.
    """
    url = str(client.base_url)
    try:
        checks = [_status_check(client, "livez", "/livez")]
    except httpx.TransportError as error:
        raise CheckFailedError(
            f"smoke: cannot reach {url} ({_why(error)}); check --url and that the service is "
            "running"
        ) from None
    checks.append(_status_check(client, "readyz", "/readyz"))
    answers: list[dict[str, Any]] = []
    for index, case in enumerate(card.golden):
        check, answer = _golden_check(client, index, case)
        checks.append(check)
        if answer is not None:
            answers.append(answer)
    checks.append(_model_check(answers, card.sha256))
    checks.append(_bad_request_check(client, card))
    checks.append(_latency_check(client, card.golden, requests=requests, max_p99_ms=max_p99_ms))
    return SmokeResult(url, tuple(checks))


def _status_check(client: httpx.Client, name: str, path: str) -> Check:
    """GET `path` must answer 200; a transport error propagates (the caller decides)."""
    response = client.get(path)
    if response.status_code == httpx.codes.OK:
        return Check(name, True, f"GET {path}: 200")
    return Check(name, False, f"GET {path}: {response.status_code} {_snippet(response)}")


def _predict(client: httpx.Client, customer: dict[str, Any]) -> httpx.Response:
    return client.post("/predict", json={"customers": [customer]})


def _golden_check(
    client: httpx.Client, index: int, case: GoldenCase
) -> tuple[Check, dict[str, Any] | None]:
    """The service's probability for one golden customer must be the card's, to TOLERANCE."""
    name = f"golden {index}"
    try:
        response = _predict(client, case.customer)
    except httpx.TransportError as error:
        return Check(name, False, f"POST /predict: {_why(error)}"), None
    if response.status_code != httpx.codes.OK:
        detail = f"POST /predict: {response.status_code} {_snippet(response)}"
        return Check(name, False, detail), None
    answer = _first_prediction(response)
    if answer is None:
        detail = f"the answer has no predictions[0].churn_probability: {_snippet(response)}"
        return Check(name, False, detail), None
    got, expected = answer["churn_probability"], case.churn_probability
    off = abs(got - expected)
    if off > TOLERANCE:
        detail = f"got {got:.6f}, the card says {expected:.6f} (off by {off:.2g} > {TOLERANCE:g})"
        return Check(name, False, detail), answer
    return Check(name, True, f"{got:.6f} as the card says (off by {off:.1g})"), answer


def _first_prediction(response: httpx.Response) -> dict[str, Any] | None:
    """predictions[0] of the answer (`{"predictions": [...]}` or a bare list), if well formed."""
    try:
        body: Any = response.json()
    except (json.JSONDecodeError, UnicodeDecodeError):
        return None
    predictions = body.get("predictions") if isinstance(body, dict) else body
    if not isinstance(predictions, list) or len(predictions) != 1:
        return None
    first = predictions[0]
    if not isinstance(first, dict) or not _is_probability(first.get("churn_probability")):
        return None
    return first


def _model_check(answers: list[dict[str, Any]], sha256: str | None) -> Check:
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


def _bad_request_check(client: httpx.Client, card: Card) -> Check:
    """The first golden customer without one feature must get a 4xx that names the feature."""
    customer = dict(card.golden[0].customer)
    field = next((f for f in card.features if f in customer), next(iter(customer), None))
    if field is None:
        return Check("bad request", False, "golden 0 has no field to leave out")
    del customer[field]
    name = f"bad request (no {field})"
    try:
        response = _predict(client, customer)
    except httpx.TransportError as error:
        return Check(name, False, f"POST /predict: {_why(error)}")
    status = response.status_code
    if not httpx.codes.is_client_error(status):
        return Check(name, False, f"POST /predict: {status}, a 4xx expected {_snippet(response)}")
    if field not in response.text:
        return Check(name, False, f"{status}, but the answer does not name {field}")
    return Check(name, True, f"{status} naming {field}")


def _latency_check(
    client: httpx.Client, cases: tuple[GoldenCase, ...], *, requests: int, max_p99_ms: float
) -> Check:
    """`requests` sequential golden requests: all 200, p99 at or under the bound."""
    name = "latency"
    timings, failures = [], []
    for number in range(requests):
        start = time.perf_counter()
        try:
            response = _predict(client, cases[number % len(cases)].customer)
        except httpx.TransportError as error:
            failures.append(_why(error))
            continue
        timings.append((time.perf_counter() - start) * 1000)
        if response.status_code != httpx.codes.OK:
            failures.append(f"HTTP {response.status_code}")
    if not timings:
        return Check(name, False, f"all {requests} requests failed ({failures[0]})")
    p50, p99 = _percentile(timings, 50), _percentile(timings, 99)
    detail = f"p50 {p50:.1f} ms, p99 {p99:.1f} ms over {requests} requests (bound {max_p99_ms:g})"
    if failures:
        return Check(name, False, f"{len(failures)} of {requests} failed ({failures[0]}); {detail}")
    return Check(name, p99 <= max_p99_ms, detail)


def _percentile(values: list[float], percent: float) -> float:
    """Nearest-rank percentile: a value that was observed, never an interpolation."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(percent / 100 * len(ordered)) - 1)]


def _is_probability(value: Any) -> TypeGuard[float]:
    return isinstance(value, int | float) and not isinstance(value, bool) and 0 <= value <= 1


def _why(error: httpx.TransportError) -> str:
    if isinstance(error, httpx.TimeoutException):
        return f"timed out ({type(error).__name__})"
    return str(error) or type(error).__name__


def _snippet(response: httpx.Response, limit: int = 200) -> str:
    text = " ".join(response.text.split())
    return f"({text[:limit]}{'...' if len(text) > limit else ''})" if text else ""


def render_table(result: SmokeResult) -> Table:
    """The checks as a rich table, for the terminal."""
    verdict = "passed" if result.passed else "FAILED"
    table = Table(title=f"Smoke test of {escape(result.url)}: {verdict}", title_justify="left")
    for column in ("Check", "Result", "Detail"):
        table.add_column(column)
    for check in result.checks:
        mark = "[green]pass[/]" if check.passed else "[bold red]FAIL[/]"
        table.add_row(escape(check.name), mark, escape(check.detail))
    return table


def make_client(
    url: str, *, timeout: float, transport: httpx.BaseTransport | None = None
) -> httpx.Client:
    """An httpx client for the service at `url`; UsageError when it is not an http(s) URL."""
    parsed = httpx.URL(url)
    if parsed.scheme not in ("http", "https") or not parsed.host:
        raise UsageError(f"smoke: --url {url!r} is not an http(s) URL like http://127.0.0.1:3000")
    return httpx.Client(
        base_url=url.rstrip("/"),
        timeout=httpx.Timeout(timeout, connect=min(timeout, 5.0)),
        headers={"User-Agent": "mlgitops-smoke"},
        transport=transport,
    )


app = plugin_app(
    "Smoke-test a running model service with real requests: exit 0 when every check holds, "
    "exit 1 with a table of what failed."
)


@app.callback(invoke_without_command=True)
def smoke(
    url: Annotated[
        str, typer.Option("--url", help="The service's base URL, e.g. http://127.0.0.1:3000.")
    ],
    card: Annotated[
        Path, typer.Option("--card", help="The model card whose `golden` cases to check.")
    ] = Path("models/card.json"),
    max_p99_ms: Annotated[
        float, typer.Option("--max-p99-ms", min=0, help="Latency bound on single requests (ms).")
    ] = 100.0,
    requests: Annotated[
        int, typer.Option("--requests", min=1, help="Sequential requests the latency is over.")
    ] = 50,
    timeout: Annotated[
        float, typer.Option("--timeout", min=0.1, help="Seconds to wait for any one answer.")
    ] = 10.0,
) -> None:
    """Health, readiness, golden customers, a bad request and latency, against --url."""
    loaded = load_card(card)
    with make_client(url, timeout=timeout) as client:
        result = run_smoke(client, loaded, requests=requests, max_p99_ms=max_p99_ms)
    console = Console(stderr=True)
    console.print(render_table(result))
    if not result.passed:
        raise CheckFailedError(
            f"smoke: {len(result.failed)} of {len(result.checks)} checks failed against "
            f"{result.url}:\n" + "\n".join(f"{c.name}: {c.detail}" for c in result.failed)
        )
    console.print(
        f"smoke: passed, all {len(result.checks)} checks hold against {result.url}",
        highlight=False,
        markup=False,
    )


if __name__ == "__main__":  # the deploy workflow runs `python -m mlgitops.smoke` inside the Bento
    run(app)
