"""`mlgitops smoke`: real requests against a running model service, checked against its card.

The deploy workflow runs it on new pods before they take traffic: health, readiness, the golden
cases the model's build declares in its card (mlgitops.golden: the route, the request's and the
answer's shape, each case's input and expected answer fields), a bad request that must get a
4xx, and a latency bound. It knows the service only through its HTTP contract and the card's
JSON, so it works for any model a repository serves this way. The checks: mlgitops.smoke_checks.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

import httpx
import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from mlgitops.errors import CheckFailedError, UsageError
from mlgitops.golden import Golden, GoldenFormatError, parse_golden
from mlgitops.plugin import plugin_app, run
from mlgitops.smoke_checks import (
    Check,
    bad_request_check,
    golden_check,
    latency_check,
    model_check,
    status_check,
    why,
)


@dataclass(frozen=True)
class Card:
    """What the smoke test reads from the model card: the golden cases, the model's sha256 and
    the feature names (one of them is left out of the bad request)."""

    golden: Golden
    sha256: str | None
    features: tuple[str, ...]


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
    """The card's golden cases; UsageError when the file is missing or has none usable."""
    if not path.is_file():
        raise UsageError(f"smoke: {path} not found; pass --card with the model card (card.json)")
    try:
        data: Any = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise UsageError(f"smoke: {path} is not valid JSON ({error})") from None
    try:
        golden = parse_golden(data)
    except GoldenFormatError as error:
        raise UsageError(
            f"smoke: {path} has no usable `golden` cases ({error}); re-run the train stage "
            "(dvc repro) with a version that writes them, or pass the card of the model being "
            "served (docs/serving.md, Smoke test)"
        ) from None
    model = data.get("model")
    sha256 = model.get("sha256") if isinstance(model, dict) else None
    features = data.get("features")
    return Card(
        golden=golden,
        sha256=sha256 if isinstance(sha256, str) else None,
        features=tuple(str(f) for f in features) if isinstance(features, list) else (),
    )


def run_smoke(
    client: httpx.Client, card: Card, *, requests: int = 50, max_p99_ms: float = 100.0
) -> SmokeResult:
    """Runs every check against the service behind `client` (its base URL set).

    Raises CheckFailedError at once when the service cannot be reached at all.
    """
    url = str(client.base_url)
    try:
        checks = [status_check(client, "livez", "/livez")]
    except httpx.TransportError as error:
        raise CheckFailedError(
            f"smoke: cannot reach {url} ({why(error)}); check --url and that the service is running"
        ) from None
    checks.append(status_check(client, "readyz", "/readyz"))
    answers: list[dict[str, Any]] = []
    for index, case in enumerate(card.golden.cases):
        check, answer = golden_check(client, card.golden, index, case)
        checks.append(check)
        if answer is not None:
            answers.append(answer)
    checks.append(model_check(answers, card.sha256))
    checks.append(bad_request_check(client, card.golden, card.features))
    checks.append(latency_check(client, card.golden, requests=requests, max_p99_ms=max_p99_ms))
    return SmokeResult(url, tuple(checks))


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
    """Health, readiness, the card's golden cases, a bad request and latency, against --url."""
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
