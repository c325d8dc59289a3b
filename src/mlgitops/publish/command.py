"""`mlgitops comment`: publishes a report directory as the one comment of a pull request.

Reads report/report.md (and gate.md, report.json), commits the linked images to the assets
branch, then hands the body to the chosen backend. The token comes from GITHUB_TOKEN only.
"""

from __future__ import annotations

import enum
import json
import logging
import os
import re
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console

from mlgitops.errors import UsageError
from mlgitops.gate import load_report
from mlgitops.plain_http import allow_plain_http_option
from mlgitops.plugin import plugin_app
from mlgitops.publish.assets import DEFAULT_BRANCH, upload_images, web_url
from mlgitops.publish.cml import find_cml, publish_with_cml
from mlgitops.publish.comment import build_body, linked_images, upsert_comment
from mlgitops.publish.draft import Pull, decide_gate, draft
from mlgitops.publish.github import DEFAULT_API_URL, GitHubClient, make_http_client
from mlgitops.publish.images import read_images
from mlgitops.publish.target import resolve_pull
from mlgitops.publish.trusted import report_body

logger = logging.getLogger(__name__)

_REPO = re.compile(r"^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+$")
_SHA = re.compile(r"^[0-9a-f]{7,40}$")


class Backend(enum.StrEnum):
    """Who posts the comment: `cml` when it is on PATH (auto), else the REST API."""

    auto = "auto"
    github = "github"
    cml = "cml"


@dataclass(frozen=True)
class ReportFiles:
    """What the publisher reads from a report directory."""

    markdown: str
    gate: str | None
    images: dict[str, bytes]
    head_sha: str | None
    report: dict[str, Any] | None = None  # report.json, when the body was rendered from it


def read_report_json(folder: Path) -> ReportFiles:
    """The body rendered from report.json alone (inert), its plots' images; for the trusted side."""
    report = load_report(folder / "report.json")
    markdown, names = report_body(report)
    head = (report.get("head") or {}).get("sha")
    return ReportFiles(
        markdown=markdown,
        gate=None,
        images=read_images(folder, names),
        head_sha=head if isinstance(head, str) and head else None,
        report=report,
    )


def read_report_dir(folder: Path) -> ReportFiles:
    """The report's markdown, gate verdict, linked images and head sha; UsageError if broken."""
    report_md = folder / "report.md"
    if not report_md.is_file():
        raise UsageError(
            f"{report_md} not found; run `mlgitops report --base REV --out {report_md}` first, "
            "or pass --report-dir"
        )
    markdown = report_md.read_text(encoding="utf-8")
    gate_md = folder / "gate.md"
    return ReportFiles(
        markdown=markdown,
        gate=gate_md.read_text(encoding="utf-8") if gate_md.is_file() else None,
        images=read_images(folder, linked_images(markdown)),
        head_sha=_head_sha(folder / "report.json"),
    )


def _head_sha(report_json: Path) -> str | None:
    if not report_json.is_file():
        return None
    try:
        data: Any = json.loads(report_json.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise UsageError(f"{report_json} is not valid JSON; re-run `mlgitops report`") from None
    sha = (data.get("head") or {}).get("sha") if isinstance(data, dict) else None
    return sha if isinstance(sha, str) and sha else None


def publish(
    client: GitHubClient,
    files: ReportFiles,
    *,
    repo: str,
    pr: int,
    sha: str,
    backend: Backend,
    assets_branch: str = DEFAULT_BRANCH,
    site: str = "https://github.com",
    head_repo: str | None = None,
    head_ref: str | None = None,
    author: str | None = None,
    base_params: str | None = None,
) -> str:
    """Checks the PR, uploads the images, builds the body and posts it; returns what happened.

    `head_repo`/`head_ref`: where GitHub says the run's commit came from (the PR must be open
    from there); `author`: the login our comment is written by (default: the token's);
    `base_params`: the gate is decided here with this file's policy at the PR's base commit.
    """
    pull, moved_on = resolve_pull(client, repo, pr, sha=sha, head_repo=head_repo, head_ref=head_ref)
    if moved_on is not None:
        return f"comment: {moved_on}"
    words = decide_gate(
        client, files, repo=repo, pull=pull, head_repo=head_repo, base_params=base_params
    )  # the same words as `--dry-run` prints (publish/draft.py)
    urls = upload_images(
        client, repo, files.images, pr=pr, sha=sha, branch=assets_branch, site=site
    )
    body = build_body(
        words.markdown, pr=pr, gate_md=words.gate_md, notice=words.notice, image_urls=urls
    )
    chosen = backend
    if backend is Backend.auto:
        chosen = Backend.cml if find_cml() else Backend.github
    if chosen is Backend.cml:
        publish_with_cml(body, repo=repo, pr=pr, site=site)
        return f"comment: published with cml on {site}/{repo}/pull/{pr}"
    action, comment = upsert_comment(client, repo, pr, body, author=author or client.identity())
    return f"comment: {action} {comment.get('html_url') or comment.get('id')}"


app = plugin_app(
    "Publish a report directory as one comment per pull request, edited on every push."
)


@app.callback(invoke_without_command=True)
def comment(
    repo: Annotated[str, typer.Option("--repo", help="The repository, as OWNER/NAME.")],
    pr: Annotated[int, typer.Option("--pr", min=1, help="The pull request number.")],
    report_dir: Annotated[
        Path, typer.Option("--report-dir", help="The folder `mlgitops report --out` wrote.")
    ] = Path("report"),
    sha: Annotated[
        str | None,
        typer.Option("--sha", help="The PR's head commit (default: head.sha of report.json)."),
    ] = None,
    backend: Annotated[
        Backend, typer.Option("--backend", help="auto: cml when it is on PATH, else github.")
    ] = Backend.auto,
    assets_branch: Annotated[
        str, typer.Option("--assets-branch", help="The branch of the repo that holds the images.")
    ] = DEFAULT_BRANCH,
    head_repo: Annotated[
        str | None,
        typer.Option("--head-repo", help="OWNER/NAME the PR comes from (workflow_run's)."),
    ] = None,
    head_ref: Annotated[
        str | None, typer.Option("--head-ref", help="The PR's branch (workflow_run's).")
    ] = None,
    author: Annotated[
        str | None,
        typer.Option(
            "--author",
            help="The login the token posts as (default: GET /user, else github-actions[bot]).",
        ),
    ] = None,
    base_params: Annotated[
        str | None,
        typer.Option(
            "--base-params",
            help="Write the comment from report.json alone and decide the gate with this params "
            "file read at the PR's base commit (what the trusted workflows do).",
        ),
    ] = None,
    allow_plain_http: Annotated[bool, allow_plain_http_option()] = False,
    dry_run: Annotated[
        bool,
        typer.Option(
            "--dry-run",
            help="Print the body it would post and change nothing (no token needed: without "
            "one, --base-params is read from this checkout). Images stay images/NAME.png.",
        ),
    ] = False,
) -> None:
    """Token from GITHUB_TOKEN; API from GITHUB_API_URL (default https://api.github.com)."""
    token = os.environ.get("GITHUB_TOKEN", "").strip()
    if not token and not dry_run:
        raise UsageError(
            "GITHUB_TOKEN is not set; set it to a token that may write pull-request comments and "
            "contents (in a workflow: `env: GITHUB_TOKEN: ${{ github.token }}`)"
        )
    if not _REPO.match(repo):
        raise UsageError(f"--repo {repo!r} is not OWNER/NAME; pass it like octo-org/models")
    files = read_report_json(report_dir) if base_params else read_report_dir(report_dir)
    head = (sha or files.head_sha or "").lower()
    if not _SHA.match(head) and not (dry_run and not token):
        raise UsageError(
            f"no usable head sha ({head or 'none'}): pass --sha with the PR's head commit, or a "
            "report.json whose head.sha is set"
        )
    api_url = os.environ.get("GITHUB_API_URL", "").strip() or DEFAULT_API_URL
    pull = Pull(repo, pr, head_repo or None, head_ref or None)
    if dry_run and not token:  # nothing to ask: the policy is the local file
        sys.stdout.write(draft(files, pull, base_params=base_params or None, sha=None, http=None))
        return
    with make_http_client(token, base_url=api_url, allow_plain_http=allow_plain_http) as http:
        if dry_run:
            sys.stdout.write(
                draft(files, pull, base_params=base_params or None, sha=head, http=http)
            )
            return
        outcome = publish(
            GitHubClient(http),
            files,
            repo=repo,
            pr=pr,
            sha=head,
            backend=backend,
            assets_branch=assets_branch,
            site=web_url(api_url),
            head_repo=pull.head_repo,
            head_ref=pull.head_ref,
            author=author or None,
            base_params=base_params or None,
        )
    Console(stderr=True).print(outcome, highlight=False, markup=False)
