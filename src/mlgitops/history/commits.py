"""The default branch as git holds it: its first-parent commits, and file contents at many commits.

Three processes whatever the number of commits: one `git log` for the first-parent line, one
`git cat-file --batch` for the files (a merge's metrics, its dvc.lock), one `git log` of the
whole graph for when each merge's first commit was made.
"""

from __future__ import annotations

import subprocess
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from mlgitops.errors import UsageError

_TIMEOUT = 120  # seconds for one git process; 500 merges take well under one


@dataclass(frozen=True)
class Commit:
    """One commit on the default branch's first-parent line (a merge, or a direct push)."""

    sha: str
    parents: tuple[str, ...]
    committed: datetime  # when it landed on the branch
    subject: str

    @property
    def merge(self) -> bool:
        return len(self.parents) > 1


def _git(root: Path, *args: str, stdin: bytes | None = None) -> bytes:
    try:
        done = subprocess.run(
            ["git", "-C", str(root), *args],
            input=stdin, capture_output=True, timeout=_TIMEOUT, check=False,
        )  # fmt: skip
    except FileNotFoundError:
        raise UsageError(
            "history: git is not installed (it is needed to read the history)"
        ) from None
    if done.returncode != 0:
        message = done.stderr.decode(errors="replace").strip().splitlines()
        raise UsageError(f"history: git {args[0]} failed in {root}: {' '.join(message[-1:])}")
    return done.stdout


def branch_commits(
    root: Path, branch: str, *, since: datetime | None = None, until: datetime | None = None
) -> list[Commit]:
    """The first-parent commits of `branch` that landed in [since, until], oldest first."""
    args = ["log", "--first-parent", "--format=%H%x00%P%x00%ct%x00%s", branch, "--"]
    if since is not None:
        args.insert(1, f"--since={int(since.timestamp())}")
    if until is not None:
        args.insert(1, f"--until={int(until.timestamp())}")
    commits = []
    for line in _git(root, *args).decode(errors="replace").splitlines():
        sha, parents, stamp, subject = line.split("\0", 3)
        when = datetime.fromtimestamp(int(stamp), tz=UTC)
        commits.append(Commit(sha, tuple(parents.split()), when, subject))
    return commits[::-1]


def read_blobs(root: Path, specs: Sequence[str]) -> list[bytes | None]:
    """The contents of each `<rev>:<path>` (None where there is no such file), one process."""
    if not specs:
        return []
    out = _git(root, "cat-file", "--batch", stdin="".join(f"{s}\n" for s in specs).encode())
    found: list[bytes | None] = []
    at = 0
    for _ in specs:
        end = out.index(b"\n", at)
        header = out[at:end].split()
        at = end + 1
        if len(header) != 3 or header[1] != b"blob":  # "<spec> missing", or a tree
            found.append(None)
            continue
        size = int(header[2])
        found.append(out[at : at + size])
        at += size + 1  # the newline after the contents
    return found


def first_commit_times(root: Path, commits: Sequence[Commit]) -> dict[str, datetime]:
    """For each merge of `commits` (the whole first-parent line, oldest first): when the
    earliest commit it brought in was authored, i.e. its PR's first commit. One `git log`:
    walking the line in order, a merge brought in what its second parent reaches and the
    line did not reach before it."""
    if not commits:
        return {}
    out = _git(root, "log", "--format=%H %at %P", commits[-1].sha, "--")
    graph: dict[str, tuple[int, list[str]]] = {}
    for line in out.decode().splitlines():
        sha, stamp, *parents = line.split()
        graph[sha] = (int(stamp), parents)
    reached: set[str] = set()
    found = {}
    for commit in commits:
        if commit.merge:
            brought, todo = [], [commit.parents[1]]
            while todo:
                sha = todo.pop()
                if sha in reached or sha not in graph:
                    continue
                reached.add(sha)
                brought.append(graph[sha][0])
                todo += graph[sha][1]
            if brought:
                found[commit.sha] = datetime.fromtimestamp(min(brought), tz=UTC)
        reached.add(commit.sha)
        reached.update(commit.parents[:1])
    return found


def head_sha(root: Path, rev: str) -> str:
    """The commit `rev` names; UsageError naming it when there is none."""
    try:
        return _git(root, "rev-parse", "--verify", "--quiet", f"{rev}^{{commit}}").decode().strip()
    except UsageError:
        raise UsageError(f"history: {rev!r} is not a branch or commit of {root}") from None
