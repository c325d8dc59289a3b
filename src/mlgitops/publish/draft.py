"""What the comment will say, without posting it: the gate's verdict as the publisher decides
it, and `mlgitops comment --dry-run`'s body, composed exactly as `publish` composes it."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import httpx

from mlgitops.publish.comment import build_body
from mlgitops.publish.github import GitHubClient
from mlgitops.publish.target import resolve_pull
from mlgitops.publish.trusted import base_gate, fork_note, local_gate, report_body

if TYPE_CHECKING:
    from mlgitops.publish.command import ReportFiles

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Pull:
    """The pull request a comment is for, and where GitHub says its commit came from."""

    repo: str
    pr: int
    head_repo: str | None = None
    head_ref: str | None = None


@dataclass(frozen=True)
class Words:
    """What the comment says around the numbers: the report's markdown, the gate's, a notice."""

    markdown: str
    gate_md: str | None
    notice: str = ""


def decide_gate(
    client: GitHubClient | None,
    files: ReportFiles,
    *,
    repo: str,
    pull: dict[str, Any] | None,
    head_repo: str | None,
    base_params: str | None,
) -> Words:
    """The artifact's report.md and gate.md; or with `base_params`, the trusted side's words:
    the gate decided, and the headline's gap threshold read, from that params file at the PR's
    base (with a client) or in this checkout (without: `--dry-run` and no token)."""
    if base_params is None or files.report is None:
        return Words(files.markdown, files.gate)
    if client is None or pull is None:
        policy = local_gate(files.report, base_params)
    else:
        base_sha = str(pull.get("base", {}).get("sha", ""))
        policy = base_gate(client, repo, files.report, base_sha=base_sha, params=base_params)
    markdown, _ = report_body(files.report, gap_widening=policy.gap_widening)
    return Words(markdown, policy.gate_md, fork_note(repo, head_repo))


def draft(
    files: ReportFiles,
    target: Pull,
    *,
    base_params: str | None,
    sha: str | None,
    http: httpx.Client | None,
) -> str:
    """The body `publish` would post, images linked as images/NAME.png (their URLs exist only
    once uploaded); reads the PR and the base's policy when `http` is given, writes nothing."""
    client, pull = None, None
    if http is not None and sha is not None:
        client = GitHubClient(http)
        pull, moved_on = resolve_pull(
            client,
            target.repo,
            target.pr,
            sha=sha,
            head_repo=target.head_repo,
            head_ref=target.head_ref,
        )
        if moved_on is not None:
            logger.warning("comment: %s (dry run: shown anyway)", moved_on)
    words = decide_gate(
        client,
        files,
        repo=target.repo,
        pull=pull,
        head_repo=target.head_repo,
        base_params=base_params,
    )
    return build_body(
        words.markdown, pr=target.pr, gate_md=words.gate_md, notice=words.notice, image_urls={}
    )


def preview_body(report: dict[str, Any], params: str, *, gap_widening: float) -> str:
    """The body the trusted publisher would write for `report`, the gate decided with the
    policy file `params` here: what `mlgitops report --html` shows (no marker needed, PR 0)."""
    markdown, _ = report_body(report, gap_widening=gap_widening)
    return build_body(markdown, pr=0, gate_md=local_gate(report, params).gate_md, image_urls={})
