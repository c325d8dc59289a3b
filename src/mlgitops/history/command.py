"""`mlgitops history`: the delivery record; `history deployment` and `deployment-status` record a
release in GitHub (release.yml). The token comes from GITHUB_TOKEN, the API from GITHUB_API_URL.
"""

from __future__ import annotations

import json
import os
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console

from mlgitops.errors import UsageError
from mlgitops.history.outcome import read_outcome
from mlgitops.plain_http import allow_plain_http_option
from mlgitops.plugin import PARAMS, params_option

if TYPE_CHECKING:
    from mlgitops.history.github import HistoryClient

_REPO = re.compile(r"[\w.-]+/[\w.-]+")
_DAYS = re.compile(r"(\d+)d")

app = typer.Typer(
    help="The delivery record: metrics at every merge, releases and the delivery measures.",
    pretty_exceptions_show_locals=False,
    rich_markup_mode=None,
)
_RepoOption = typer.Option(
    "--repo", help="OWNER/NAME on GitHub (deployments, PRs); none: git only."
)
_PlainHttp = allow_plain_http_option()


def _moment(text: str, option: str) -> datetime:
    days = _DAYS.fullmatch(text)
    if days:
        return datetime.now(UTC) - timedelta(days=int(days[1]))
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise UsageError(
            f"history: {option} {text!r} is not a date (2026-01-31) nor days (90d)"
        ) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _client(
    repo: str | None, allow_plain_http: bool, *, needed: bool
) -> tuple[HistoryClient | None, str]:
    from mlgitops.history.github import HistoryClient
    from mlgitops.publish.github import DEFAULT_API_URL, make_http_client

    api_url = os.environ.get("GITHUB_API_URL", "").strip() or DEFAULT_API_URL
    token = os.environ.get("GITHUB_TOKEN", "").strip()
    if repo is not None and not _REPO.fullmatch(repo):
        raise UsageError(f"history: --repo {repo!r} is not OWNER/NAME")
    if repo is None:
        if needed:
            raise UsageError("history: this needs --repo OWNER/NAME (and GITHUB_TOKEN)")
        return None, api_url
    if not token:
        raise UsageError(
            f"history: --repo {repo} needs GITHUB_TOKEN, a token that may read pull requests "
            "and deployments (in a workflow: `env: GITHUB_TOKEN: ${{ github.token }}`)"
        )
    http = make_http_client(token, base_url=api_url, allow_plain_http=allow_plain_http)
    return HistoryClient(http), api_url


@app.callback(invoke_without_command=True)
def history(
    ctx: typer.Context,
    repo: Annotated[str | None, _RepoOption] = None,
    branch: Annotated[str, typer.Option(help="The branch whose merges are read.")] = "HEAD",
    since: Annotated[
        str | None, typer.Option(help="Start: a date or Nd (default history.since_days).")
    ] = None,
    until: Annotated[str | None, typer.Option(help="End: a date (default now).")] = None,
    output_format: Annotated[str, typer.Option("--format", help="markdown or json.")] = "markdown",
    out: Annotated[
        Path | None, typer.Option(help="Also write history.md, .json, images/ here.")
    ] = None,
    issue: Annotated[bool, typer.Option("--issue", help="Update the one record issue.")] = False,
    params: Annotated[Path, params_option("history")] = PARAMS,
    allow_plain_http: Annotated[bool, _PlainHttp] = False,
) -> None:
    """Print the record of --branch over the window: markdown (default) or JSON."""
    if ctx.invoked_subcommand is not None:
        return
    from mlgitops.history.chart import history_png
    from mlgitops.history.commits import head_sha
    from mlgitops.history.issue import upsert_issue
    from mlgitops.history.markdown import IMAGE, render_markdown
    from mlgitops.history.measures import Window
    from mlgitops.history.record import build_record, record_json
    from mlgitops.history.settings import load_history_settings
    from mlgitops.publish.assets import web_url

    if output_format not in ("markdown", "json"):
        raise UsageError(f"history: --format {output_format!r}: use markdown or json")
    settings = load_history_settings(params)
    end = _moment(until, "--until") if until else datetime.now(UTC)
    start = _moment(since, "--since") if since else end - timedelta(days=settings.since_days)
    if start >= end:
        raise UsageError(f"history: --since {start:%Y-%m-%d} is not before --until {end:%Y-%m-%d}")
    root = Path.cwd()
    tip = head_sha(root, branch)
    client, api_url = _client(repo, allow_plain_http, needed=issue)
    name = branch if branch != "HEAD" else "the checked-out branch"
    record = build_record(
        root,
        settings,
        Window(start, end),
        branch=tip,
        client=client,
        repo=repo,
    )
    record.branch = name
    png = history_png(record)
    markdown = render_markdown(record, with_chart=png is not None)
    document = json.dumps(record_json(record), indent=2) + "\n"
    typer.echo(document if output_format == "json" else markdown, nl=False)
    if out is not None:
        (out / "images").mkdir(parents=True, exist_ok=True)
        (out / "history.md").write_text(markdown, encoding="utf-8")
        (out / "history.json").write_text(document, encoding="utf-8")
        if png is not None:
            (out / "images" / IMAGE).write_bytes(png)
    if issue:
        from mlgitops.history.github import HistoryClient

        assert isinstance(client, HistoryClient) and repo is not None
        action, found = upsert_issue(
            client, repo, markdown, branch=name, title=settings.issue_title,
            label=settings.issue_label, png=png, sha=tip, author=client.identity(),
            site=web_url(api_url),
        )  # fmt: skip
        Console(stderr=True).print(f"history: {action} {found.get('html_url') or found['number']}")


@app.command()
def deployment(
    repo: Annotated[str, typer.Option("--repo", help="OWNER/NAME.")],
    sha: Annotated[str, typer.Option(help="The commit released.")],
    image: Annotated[str, typer.Option(help="The image released, pinned by digest.")],
    model_sha: Annotated[str, typer.Option(help="The sha256 of the model file.")] = "",
    environment: Annotated[str, typer.Option(help="The GitHub environment.")] = "production",
    log_url: Annotated[str | None, typer.Option(help="The workflow run's URL.")] = None,
    allow_plain_http: Annotated[bool, _PlainHttp] = False,
) -> None:
    """Create the GitHub Deployment of a release, set it in progress; print its id."""
    from mlgitops.history.github import HistoryClient

    client, _ = _client(repo, allow_plain_http, needed=True)
    assert isinstance(client, HistoryClient)
    payload = {"image": image, "model_sha256": model_sha}
    made = client.create_deployment(
        repo, sha=sha, environment=environment, payload=payload, description=f"release {image}"
    )
    number = int(made["id"])
    client.create_deployment_status(
        repo, number, state="in_progress", description="rolling out", log_url=log_url
    )
    typer.echo(str(number))


@app.command("deployment-status")
def deployment_status(
    repo: Annotated[str, typer.Option("--repo", help="OWNER/NAME.")],
    deployment_id: Annotated[int, typer.Option("--deployment", help="The deployment's id.")],
    outcome: Annotated[Path, typer.Option(help="The file `mlgitops deploy --outcome` wrote.")],
    log_url: Annotated[str | None, typer.Option(help="The workflow run's URL.")] = None,
    allow_plain_http: Annotated[bool, _PlainHttp] = False,
) -> None:
    """Set the deployment's final status from the deploy's outcome: success, failure (rolled
    back, with the failed step) or error; a missing outcome file is an error status."""
    from mlgitops.history.github import HistoryClient

    client, _ = _client(repo, allow_plain_http, needed=True)
    assert isinstance(client, HistoryClient)
    state, description = read_outcome(outcome)
    client.create_deployment_status(
        repo, deployment_id, state=state, description=description, log_url=log_url
    )
    Console(stderr=True).print(f"history: deployment {deployment_id} is {state}: {description}")


@app.command()
def label(
    repo: Annotated[str, typer.Option("--repo", help="OWNER/NAME.")],
    pr: Annotated[int, typer.Option("--pr", min=1, help="The pull request the gate failed.")],
    params: Annotated[Path, params_option("history")] = PARAMS,
    allow_plain_http: Annotated[bool, _PlainHttp] = False,
) -> None:
    """Label a pull request the quality gate failed (history.gate_label), so the record counts
    the regressions the gate stopped."""
    from mlgitops.history.github import HistoryClient
    from mlgitops.history.settings import load_history_settings

    settings = load_history_settings(params)
    client, _ = _client(repo, allow_plain_http, needed=True)
    assert isinstance(client, HistoryClient)
    client.add_labels(repo, pr, [settings.gate_label])
    Console(stderr=True).print(f"history: labelled #{pr} {settings.gate_label}")
