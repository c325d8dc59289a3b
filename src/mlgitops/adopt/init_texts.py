"""The two caller workflows `mlgitops init` writes, and the digest that tells init's own files
from files a person edited.

Each file carries `# mlgitops-init-digest: <hex>` in its header: the sha256 of the rest of the
file. A file whose digest still matches is init's untouched output and may be rewritten (a
new pin); any other file is someone's, and init leaves it alone unless told --force.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

PR_WORKFLOW = ".github/workflows/mlgitops-pr.yml"
COMMENT_WORKFLOW = ".github/workflows/mlgitops-comment.yml"
PR_NAME = "mlgitops-pr"  # the comment workflow's workflow_run names the PR workflow by this
_DIGEST = re.compile(r"^# mlgitops-init-digest: ([0-9a-f]{16})\n", re.MULTILINE)
# DVC's plugin for each remote scheme, which the setup command must install for pull and push.
_PLUGINS = {
    "s3": "dvc-s3",
    "gs": "dvc-gs",
    "azure": "dvc-azure",
    "gdrive": "dvc-gdrive",
    "ssh": "dvc-ssh",
    "oss": "dvc-oss",
    "hdfs": "dvc-hdfs",
    "webdav": "dvc-webdav",
    "webdavs": "dvc-webdav",
}
# What the commented `secrets:` lines of the PR caller offer, per scheme.
_SECRETS = {
    "s3": ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"),
    "gs": ("GOOGLE_CREDENTIALS_JSON",),
    "azure": ("AZURE_STORAGE_CONNECTION_STRING",),
}


@dataclass(frozen=True)
class Pin:
    """Where the reusable workflows live: OWNER/NAME of mlgitops's repository, a full sha."""

    repo: str
    sha: str


def digest_of(body: str) -> str:
    return hashlib.sha256(body.encode()).hexdigest()[:16]


def with_digest(text: str) -> str:
    """`text` with its digest line after the first comment block."""
    head, _, rest = text.partition("\n\n")
    body = f"{head}\n\n{rest}"
    return f"{head}\n# mlgitops-init-digest: {digest_of(body)}\n\n{rest}"


def untouched(text: str) -> bool:
    """True when `text` is init's output as written: its digest matches the rest."""
    found = _DIGEST.search(text)
    if found is None:
        return False
    return digest_of(text[: found.start()] + text[found.end() :]) == found[1]


def remote_scheme(url: str | None) -> str | None:
    if not url or "://" not in url:
        return None
    return url.split("://", 1)[0].lower()


def setup_command(requirements: bool, scheme: str | None) -> str:
    """`pip install -r requirements.txt` (when there is one) and DVC's plugin for the remote."""
    words = ["-r", "requirements.txt"] if requirements else []
    plugin = _PLUGINS.get(scheme or "")
    if plugin:
        words.append(plugin)
    return f"pip install {' '.join(words)}" if words else ""


def pr_workflow(pin: Pin, setup: str, gate: bool, scheme: str | None) -> str:
    lines = [
        "# Written by `mlgitops init`: each pull request is reproduced (dvc repro --pull",
        "# --allow-missing), reported and gated by mlgitops's reusable workflow, pinned to one",
        "# commit; mlgitops-comment.yml publishes the report. Edit freely: init then leaves this",
        "# file alone (--force overwrites it). To move the pin: mlgitops init --sha NEW --force.",
        "",
        f"name: {PR_NAME}",
        "",
        "on:",
        "  pull_request:",
        "",
        "permissions: {}",
        "",
        "jobs:",
        "  reproduce:",
        "    permissions:",
        "      contents: read  # add `id-token: write` for OIDC to the DVC remote (docs/adopt.md)",
        f"    uses: {pin.repo}/.github/workflows/reusable-pr.yml@{pin.sha}",
    ]
    inputs = []
    if setup:
        inputs.append(f"      setup-command: {_quoted(setup)}")
    if not gate:
        inputs.append("      gate: false  # no gate section in params.yaml yet: report only")
    if inputs:
        lines += ["    with:", *inputs]
    names = _SECRETS.get(scheme or "")
    if names:
        lines.append("    # The DVC remote's credentials, from this repository's secrets:")
        lines.append("    # secrets:")
        lines += [f"    #   {name}: ${{{{ secrets.{name} }}}}" for name in names]
        # A remote pods can reach is what the cluster needs first: offer it with the keys,
        # one line each, so uncommenting any of them leaves valid YAML.
        lines.append(
            "    #   ARGO_TOKEN: ${{ secrets.ARGO_TOKEN }}  # pipeline on Argo: docs/scale.md"
        )
    return with_digest("\n".join(lines) + "\n")


def comment_workflow(pin: Pin) -> str:
    lines = [
        "# Written by `mlgitops init`: publishes the report of each finished mlgitops-pr run as",
        "# the pull request's one comment. GitHub runs it from the default branch only, so it",
        "# starts working once merged there. Edit freely: init then leaves this file alone.",
        "",
        "name: mlgitops-comment",
        "",
        "on:",
        "  # zizmor: ignore[dangerous-triggers] safe: the called publisher checks out and runs no"
        " code of this repository and validates the artifact as data",
        "  workflow_run:",
        f"    workflows: [{PR_NAME}]",
        "    types: [completed]",
        "",
        "permissions: {}",
        "",
        "jobs:",
        "  publish:",
        "    # A cancelled run was superseded by a newer push, whose own run will publish.",
        "    if: >-",
        "      github.event.workflow_run.event == 'pull_request'",
        "      && github.event.workflow_run.conclusion != 'cancelled'",
        "      && github.event.workflow_run.conclusion != 'skipped'",
        "    cache-mode: none  # restores and saves no cache: a PR's run cannot poison it",
        "    permissions:",
        "      actions: read  # download the artifact of the mlgitops-pr run",
        "      contents: write  # push the report's images to the mlgitops-assets branch",
        "      pull-requests: write  # create or update the report comment",
        f"    uses: {pin.repo}/.github/workflows/reusable-comment.yml@{pin.sha}",
    ]
    return with_digest("\n".join(lines) + "\n")


def _quoted(text: str) -> str:
    """A YAML double-quoted scalar (JSON's string syntax is valid YAML)."""
    import json

    return json.dumps(text)
