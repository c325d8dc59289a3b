"""`mlgitops init`: the files that put an existing git+DVC repository on the PR loop.

Reads the repository through DVC (adopt.repository), then plans four changes: the two caller
workflows (pinned to a full sha of mlgitops's repository), a `gate:` section appended to
params.yaml from the metrics whose names say their direction, and `report/` in .gitignore.
A plan is applied or, with --dry-run, only shown as diffs. Running it twice changes nothing;
a workflow someone edited (its digest no longer matches) is kept unless --force.
"""

from __future__ import annotations

import difflib
import json
import re
import subprocess
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Literal
from urllib.parse import unquote, urlsplit

from mlgitops.adopt import init_texts
from mlgitops.adopt.init_gate import GateProposal, gate_yaml, has_gate, propose_gate
from mlgitops.adopt.init_texts import Pin
from mlgitops.adopt.repository import Repository, read_repository
from mlgitops.errors import UsageError

PARAMS = "params.yaml"
GITIGNORE = ".gitignore"
IGNORED = "report/"  # where the reusable workflow writes the report
_SHA = re.compile(r"^[0-9a-f]{40}$")
_SLUG = re.compile(r"^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+$")
_GITHUB_URL = re.compile(r"github\.com[:/]+([A-Za-z0-9_.-]+)/([A-Za-z0-9_.-]+?)(?:\.git)?/?$")
_GIT_TIMEOUT_SECONDS = 10

Action = Literal["create", "update", "append", "unchanged", "kept"]


@dataclass(frozen=True)
class Change:
    """One file init wants to write: what it holds now, what it would hold, and why."""

    path: str
    before: str | None
    after: str
    action: Action
    note: str

    def diff(self) -> str:
        return "".join(
            difflib.unified_diff(
                (self.before or "").splitlines(keepends=True),
                self.after.splitlines(keepends=True),
                fromfile="/dev/null" if self.before is None else f"a/{self.path}",
                tofile=f"b/{self.path}",
            )
        )


@dataclass(frozen=True)
class Plan:
    repository: Repository
    pin: Pin
    gate: GateProposal
    setup: str
    changes: tuple[Change, ...]


def plan_init(
    root: Path, *, repo: str | None, sha: str | None, setup: str | None, force: bool
) -> Plan:
    """What init would write at `root`; UsageError when the repository cannot be adopted."""
    repository = read_repository(root)
    pin = resolve_pin(repo, sha)
    proposal = propose_gate(repository)
    params_path = repository.root / PARAMS
    gated = has_gate(params_path) or bool(proposal.rules)
    remote = repository.default_remote
    scheme = init_texts.remote_scheme(remote.url if remote else None)
    if setup is None:
        setup = init_texts.setup_command((repository.root / "requirements.txt").is_file(), scheme)
    changes = (
        _workflow(repository.root, init_texts.PR_WORKFLOW,
                  init_texts.pr_workflow(pin, setup, gated, scheme), force),
        _workflow(repository.root, init_texts.COMMENT_WORKFLOW,
                  init_texts.comment_workflow(pin), force),
        _gate(params_path, proposal),
        _gitignore(repository.root / GITIGNORE),
    )  # fmt: skip
    return Plan(repository, pin, proposal, setup, changes)


def apply(plan: Plan) -> None:
    for change in plan.changes:
        if change.action in ("create", "update", "append"):
            path = plan.repository.root / change.path
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(change.after, encoding="utf-8")


def _workflow(root: Path, path: str, text: str, force: bool) -> Change:
    before = _read(root / path)
    if before is None:
        return Change(path, None, text, "create", "new")
    if before == text:
        return Change(path, before, text, "unchanged", "as init writes it")
    if init_texts.untouched(before) or force:
        why = "re-pinned" if init_texts.untouched(before) else "overwritten (--force)"
        return Change(path, before, text, "update", why)
    return Change(
        path,
        before,
        before,
        "kept",
        "edited since mlgitops init wrote it (or not written by init): its content no longer"
        " matches the digest in its header; --force overwrites it",
    )


def _gate(params_path: Path, proposal: GateProposal) -> Change:
    before = _read(params_path)
    if has_gate(params_path):
        return Change(PARAMS, before, before or "", "kept", "already has a gate: section")
    if not proposal.rules:
        return Change(PARAMS, before, before or "", "kept", "no metric to gate (see above)")
    prefix = "" if not before else before if before.endswith("\n") else before + "\n"
    after = f"{prefix}\n{gate_yaml(proposal.rules)}" if prefix else gate_yaml(proposal.rules)
    return Change(PARAMS, before, after, "append" if before else "create", "gate: added")


def _gitignore(path: Path) -> Change:
    before = _read(path)
    lines = {line.strip() for line in (before or "").splitlines()}
    if lines & {IGNORED, f"/{IGNORED}", IGNORED.rstrip("/"), f"/{IGNORED.rstrip('/')}"}:
        return Change(GITIGNORE, before, before or "", "unchanged", f"{IGNORED} already ignored")
    prefix = "" if not before else before if before.endswith("\n") else before + "\n"
    after = f"{prefix}# mlgitops: the PR report CI writes\n{IGNORED}\n"
    return Change(GITIGNORE, before, after, "append" if before else "create", f"{IGNORED} added")


def _read(path: Path) -> str | None:
    return path.read_text(encoding="utf-8") if path.is_file() else None


def resolve_pin(repo: str | None, sha: str | None) -> Pin:
    """The given OWNER/NAME and sha, else where the installed mlgitops came from."""
    found_repo, found_sha = installed_source()
    repo = repo or found_repo
    sha = sha or found_sha
    if repo is None or not _SLUG.match(repo):
        raise UsageError(
            f"{'no' if repo is None else f'{repo!r} is not an'} OWNER/NAME of the GitHub"
            " repository mlgitops comes from (the installed package does not say): pass"
            " --repo OWNER/NAME"
        )
    if sha is None or not _SHA.match(sha):
        raise UsageError(
            f"{'no' if sha is None else f'{sha!r} is not a'} full 40-character commit sha of"
            f" {repo} to pin the workflows to (the installed package does not say): pass --sha"
        )
    return Pin(repo, sha)


def installed_source() -> tuple[str | None, str | None]:
    """(OWNER/NAME, sha) of the installed mlgitops, from pip's direct_url.json (a git install)
    or the git checkout of an editable install; (None, None) when unknown (from an index)."""
    try:
        text = metadata.distribution("mlgitops").read_text("direct_url.json")
    except metadata.PackageNotFoundError:
        return None, None
    if not text:
        return None, None
    info = json.loads(text)
    url = str(info.get("url", ""))
    vcs = info.get("vcs_info") or {}
    if vcs.get("vcs") == "git":
        return _slug(url), vcs.get("commit_id")
    if url.startswith("file://"):
        checkout = Path(unquote(urlsplit(url).path))
        return _slug(_git(checkout, "remote", "get-url", "origin") or ""), _git(
            checkout, "rev-parse", "HEAD"
        )
    return None, None


def _slug(url: str) -> str | None:
    found = _GITHUB_URL.search(url)
    return f"{found[1]}/{found[2]}" if found else None


def _git(checkout: Path, *args: str) -> str | None:
    try:
        completed = subprocess.run(
            ["git", "-C", str(checkout), *args],
            capture_output=True,
            text=True,
            timeout=_GIT_TIMEOUT_SECONDS,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    return completed.stdout.strip() or None if completed.returncode == 0 else None
