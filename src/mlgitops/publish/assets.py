"""Images for the comment, committed to a branch of the same repository and linked by commit.

Nothing goes to a third-party host (iterative/cml#291, #1120): a PNG is one file of the assets
branch under `pr-N/<head sha>/`, linked at the commit that added it, so the link never moves.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Mapping
from urllib.parse import urlsplit

from mlgitops.errors import ConflictError, NotFoundError
from mlgitops.publish.github import GitHubClient

logger = logging.getLogger(__name__)

DEFAULT_BRANCH = "mlgitops-assets"
_PUT_ATTEMPTS = 3


def web_url(api_url: str) -> str:
    """The web address that goes with an API address (github.com, GHES, ghe.com)."""
    parts = urlsplit(api_url.rstrip("/"))
    host, path = parts.netloc, parts.path
    if path.endswith("/api/v3"):  # GitHub Enterprise Server: https://HOST/api/v3
        path = path.removesuffix("/api/v3")
    elif host.startswith("api."):  # api.github.com, api.SUBDOMAIN.ghe.com
        host = host.removeprefix("api.")
    return f"{parts.scheme}://{host}{path}"


def upload_images(
    client: GitHubClient,
    repo: str,
    images: Mapping[str, bytes],
    *,
    pr: int,
    sha: str,
    branch: str = DEFAULT_BRANCH,
    site: str = "https://github.com",
) -> dict[str, str]:
    """Commits each image to `branch`; returns {name: commit-pinned URL of the raw file}."""
    if not images:
        return {}
    _ensure_branch(client, repo, branch)
    urls = {}
    for name, content in images.items():
        path = f"pr-{pr}/{sha}/{name}"
        commit = _put(client, repo, path, content, branch=branch, pr=pr, sha=sha)
        urls[name] = f"{site}/{repo}/blob/{commit}/{path}?raw=true"
        logger.info("uploaded %s to %s@%s", name, branch, commit[:7])
    return urls


def _ensure_branch(client: GitHubClient, repo: str, branch: str) -> None:
    """Creates `branch` from the default branch's head when it does not exist yet."""
    try:
        client.get_ref(repo, f"heads/{branch}")
        return
    except NotFoundError:
        pass
    default = client.get_repo(repo)["default_branch"]
    head = client.get_ref(repo, f"heads/{default}")["object"]["sha"]
    try:
        client.create_ref(repo, f"refs/heads/{branch}", head)
        logger.info("created branch %s from %s", branch, default)
    except ConflictError:
        logger.info("branch %s was created meanwhile", branch)


def _put(
    client: GitHubClient, repo: str, path: str, content: bytes, *, branch: str, pr: int, sha: str
) -> str:
    """The commit that holds `content` at `path` on `branch`, committing it if needed."""
    message = f"mlgitops: report image for PR #{pr} at {sha[:7]}"
    for attempt in range(_PUT_ATTEMPTS):
        # A re-run finds the file there: GitHub wants its blob sha to replace it (422 without).
        try:
            known: str | None = str(client.get_file(repo, path, ref=branch)["sha"])
        except NotFoundError:
            known = None
        if known == _blob_sha(content):
            return str(client.get_ref(repo, f"heads/{branch}")["object"]["sha"])
        try:
            return client.put_file(repo, path, content, message=message, branch=branch, sha=known)
        except ConflictError as error:
            # 409 (or 422): the branch or the file moved under us (another PR's run, a file
            # added meanwhile). Look at what is there and try again.
            if attempt == _PUT_ATTEMPTS - 1:
                raise
            logger.info("retrying %s after %s", path, error.status)
            client.pause(attempt)
    raise AssertionError("unreachable: the last attempt returns or raises")


def _blob_sha(content: bytes) -> str:
    """Git's object id of a blob, as the contents API reports a file's `sha`."""
    return hashlib.sha1(b"blob %d\0" % len(content) + content, usedforsecurity=False).hexdigest()
