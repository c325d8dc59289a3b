"""The pull-request comment: its body, and the one comment per PR that every push edits.

The body opens with a hidden marker naming the PR, then the gate's one-line verdict;
`upsert_comment` finds the comment by the marker and edits it, so a PR never collects one
comment per push (iterative/cml#512, #991).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from typing import Any

from mlgitops.errors import ServerError, UnreachableError
from mlgitops.gate.verdict import PREFIXES
from mlgitops.publish.github import GitHubClient

logger = logging.getLogger(__name__)

COMMENT_LIMIT = 65_536  # GitHub refuses longer comment bodies
_CREATE_ATTEMPTS = 3
_TRUNCATED = (
    "\n\n> **Truncated** to fit GitHub's comment limit; the full report is in the workflow "
    "run's `report` artifact.\n"
)
# `![alt](images/roc.png)`, `[x](./images/roc.png "t")`, `<img src="images/roc.png">`
_IMAGE_LINK = re.compile(
    r"(?P<lead>\]\(\s*<?|(?:src|href)\s*=\s*[\"'])(?:\./)?images/(?P<name>[\w.-]+\.png)"
)
_HEADING = re.compile(r"^#{1,6}\s")
_FENCE = re.compile(r"^\s*(```|~~~)")
_DETAILS = re.compile(r"<details[\s>]")


def marker(pr: int) -> str:
    """The hidden first line that identifies our comment on pull request `pr`."""
    return f"<!-- mlgitops-report pr={pr} -->"


def linked_images(markdown: str) -> list[str]:
    """Names of the `images/<name>.png` files the markdown links, in order, once each."""
    return list(dict.fromkeys(match["name"] for match in _IMAGE_LINK.finditer(markdown)))


def rewrite_image_links(markdown: str, urls: Mapping[str, str]) -> str:
    """Points each `images/<name>.png` link at `urls[name]` (left alone when not in `urls`)."""

    def _swap(match: re.Match[str]) -> str:
        url = urls.get(match["name"])
        return match[0] if url is None else match["lead"] + url

    return _IMAGE_LINK.sub(_swap, markdown)


def split_headline(markdown: str) -> tuple[str, str]:
    """(headline, rest): the opening block, up to the first heading that follows some text.

    `mlgitops report` opens with a title and the headline's lines, then one heading per section.
    """
    lines = markdown.splitlines(keepends=True)
    seen_text, in_fence = False, False
    for index, line in enumerate(lines):
        if _FENCE.match(line):
            in_fence = not in_fence
        if in_fence:
            seen_text = True
            continue
        if _HEADING.match(line):
            if seen_text:
                return "".join(lines[:index]), "".join(lines[index:])
        elif line.strip():
            seen_text = True
    return markdown, ""


def split_verdict(gate_md: str | None) -> tuple[str, str]:
    """(the gate's one-line verdict, the rest of gate.md); ("", gate.md) when it has none."""
    text = (gate_md or "").strip("\n")
    first, _, rest = text.partition("\n\n")
    if first.startswith(PREFIXES) and "\n" not in first:
        return first, rest
    return "", text


def build_body(
    report_md: str,
    *,
    pr: int,
    gate_md: str | None = None,
    image_urls: Mapping[str, str],
    notice: str = "",
) -> str:
    """The comment: marker, the gate's verdict line, `notice` (a fork's), the headline, the
    gate's table, the rest of the report; under the limit."""
    verdict, gate_rest = split_verdict(gate_md)
    headline, rest = split_headline(report_md)
    parts = [marker(pr), verdict, notice, headline, gate_rest, rest]
    body = "\n\n".join(part.strip("\n") for part in parts if part.strip()) + "\n"
    return fit_limit(rewrite_image_links(body, image_urls))


def fit_limit(body: str, limit: int = COMMENT_LIMIT) -> str:
    """The body cut at a line boundary under `limit`, open blocks closed, with a note."""
    if len(body) <= limit:
        return body
    room = limit - len(_TRUNCATED) - 64  # the closers below
    kept = body[: body.rfind("\n", 0, room) + 1]
    closers = ""
    if sum(1 for line in kept.splitlines() if _FENCE.match(line)) % 2:
        closers += "```\n"
    opened = len(_DETAILS.findall(kept)) - kept.count("</details>")
    closers += "</details>\n" * max(0, opened)
    return kept + closers + _TRUNCATED


def upsert_comment(
    client: GitHubClient, repo: str, pr: int, body: str, *, author: str
) -> tuple[str, dict[str, Any]]:
    """Edits our comment on the PR, or creates it; returns ("updated"|"created", comment).

    Ours is a comment that opens with the marker AND was written by `author` (the token's
    login): anyone can type the marker, and their comment is never edited nor deleted.
    A create that fails with a 5xx may still have happened, so before trying again it looks
    for the marker once more: one comment per PR, whatever the network does.
    """
    tag = marker(pr)
    for attempt in range(_CREATE_ATTEMPTS):
        ours = [
            comment
            for comment in client.list_issue_comments(repo, pr)
            if str(comment.get("body") or "").startswith(tag)
            and (comment.get("user") or {}).get("login") == author
        ]
        if ours:
            for duplicate in ours[1:]:
                logger.warning("deleting duplicate report comment %s", duplicate["id"])
                client.delete_issue_comment(repo, int(duplicate["id"]))
            return "updated", client.update_issue_comment(repo, int(ours[0]["id"]), body)
        try:
            return "created", client.create_issue_comment(repo, pr, body)
        except (ServerError, UnreachableError) as error:
            if attempt == _CREATE_ATTEMPTS - 1:
                raise
            logger.warning("creating the comment failed (%s); checking before retrying", error)
            client.pause(attempt)
    raise AssertionError("unreachable: the last attempt returns or raises")
