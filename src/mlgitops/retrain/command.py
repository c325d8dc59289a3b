"""`mlgitops retrain-pr`: when the drift report says retraining is due, open (or update) the PR.

The token comes from GITHUB_TOKEN and the API from GITHUB_API_URL, read here only.
"""

from __future__ import annotations

import os
import re
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.text import Text

from mlgitops.errors import UsageError
from mlgitops.plain_http import allow_plain_http_option
from mlgitops.plugin import PARAMS, params_option, plugin_app
from mlgitops.publish.assets import web_url
from mlgitops.publish.github import DEFAULT_API_URL, GitHubClient, make_http_client
from mlgitops.retrain.settings import load_settings
from mlgitops.retrain.verdict import read_verdict

if TYPE_CHECKING:
    from mlgitops.retrain.flow import Outcome

_REPO = re.compile(r"^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+$")

app = plugin_app("Open (or update) the retraining pull request when drift makes it due.")


_DRY_RUN_OPTION = typer.Option(
    "--dry-run", help="Build and validate the snapshot, print the PR body; push and call nothing."
)


@app.callback(invoke_without_command=True)
def command(
    drift: Annotated[Path, typer.Option(help="The folder `mlgitops drift --out` wrote.")],
    repo: Annotated[
        str | None, typer.Option(help="OWNER/NAME (default: GITHUB_REPOSITORY).")
    ] = None,
    base: Annotated[str, typer.Option(help="The branch the PR merges into.")] = "main",
    params: Annotated[Path, params_option("retrain")] = PARAMS,
    dry_run: Annotated[bool, _DRY_RUN_OPTION] = False,
    allow_plain_http: Annotated[bool, allow_plain_http_option()] = False,
) -> None:
    """Snapshot new labelled data, validate it, push it, commit the pointer, open the PR.

    Token from GITHUB_TOKEN; API from GITHUB_API_URL (default https://api.github.com).
    """
    console = Console(stderr=True, highlight=False, soft_wrap=True)  # paths stay whole
    verdict = read_verdict(drift)
    if not verdict.due:  # nothing else is needed: not even params or a token
        console.print(f"retrain-pr: {verdict.reason}; nothing to do", markup=False)
        return
    settings = load_settings(params)
    repo = repo or os.environ.get("GITHUB_REPOSITORY", "").strip() or None
    token = os.environ.get("GITHUB_TOKEN", "").strip()
    if not dry_run:
        if repo is None or not _REPO.match(repo):
            raise UsageError(
                f"--repo {repo!r} is not OWNER/NAME; pass it (or set GITHUB_REPOSITORY)"
            )
        if not token:
            raise UsageError(
                "GITHUB_TOKEN is not set; set it to a token that may push branches and open pull "
                "requests (contents: write, pull-requests: write), or pass --dry-run"
            )
    # Here, not on top: the flow imports pandas, and every `mlgitops` command would pay for it.
    from mlgitops.retrain.flow import RetrainRequest, retrain_pr

    api_url = os.environ.get("GITHUB_API_URL", "").strip() or DEFAULT_API_URL
    request = RetrainRequest(
        root=Path.cwd(),
        settings=settings,
        verdict=verdict,
        base=base,
        today=datetime.now(UTC).date(),
        repo=repo,
        dry_run=dry_run,
        site=web_url(api_url),
    )

    outcome: Outcome
    # A spinner on a terminal while a step runs (dvc repro, pushes); plain lines in CI.
    with console.status("retrain-pr") as status:

        def progress(line: str) -> None:
            console.print(f"retrain-pr: {line}", markup=False)
            status.update(Text(f"retrain-pr: {line}"))

        if dry_run:
            outcome = retrain_pr(request, None, progress)
        else:
            with make_http_client(
                token, base_url=api_url, allow_plain_http=allow_plain_http
            ) as http:
                outcome = retrain_pr(request, GitHubClient(http), progress)
    if dry_run and outcome.body is not None:
        typer.echo(outcome.body)
    console.print(f"retrain-pr: {outcome.message}", markup=False)
