"""git and dvc as subprocesses in the repository: each call checked, its output kept for errors.

Subprocesses rather than DVC's Python API: `dvc repro` must run the stages exactly as a person
or CI runs them (its own process, its own logging), and git has no Python API of its own here.
"""

from __future__ import annotations

import logging
import subprocess
from dataclasses import dataclass
from pathlib import Path

from mlgitops.errors import CheckFailedError, RemoteError, UsageError

logger = logging.getLogger(__name__)

_TIMEOUT_SECONDS = 3600  # a validating `dvc repro` on a big table


@dataclass(frozen=True)
class Ran:
    """A finished command."""

    args: tuple[str, ...]
    returncode: int
    output: str  # stdout and stderr, interleaved as the command wrote them

    @property
    def ok(self) -> bool:
        return self.returncode == 0

    def tail(self, lines: int = 40) -> str:
        return "\n".join(self.output.rstrip().splitlines()[-lines:])


class Workspace:
    """A git repository with DVC: the commands retrain-pr runs in it."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def run(self, *args: str) -> Ran:
        logger.debug("$ %s", " ".join(args))
        try:
            completed = subprocess.run(
                args,
                cwd=self.root,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                text=True,
                timeout=_TIMEOUT_SECONDS,
                check=False,
            )
        except FileNotFoundError:
            raise UsageError(f"{args[0]} is not installed or not on PATH") from None
        return Ran(tuple(args), completed.returncode, completed.stdout)

    def must(self, *args: str, remote: bool = False) -> str:
        """Runs a command that must succeed; its output. RemoteError for a refused push."""
        ran = self.run(*args)
        if not ran.ok:
            kind = RemoteError if remote else CheckFailedError
            raise kind(f"`{' '.join(args)}` failed (exit {ran.returncode}):\n{ran.tail()}")
        return ran.output.strip()

    def git(self, *args: str, remote: bool = False) -> str:
        return self.must("git", *args, remote=remote)

    def dvc(self, *args: str, remote: bool = False) -> str:
        return self.must("dvc", *args, remote=remote)

    def changed_tracked(self) -> list[str]:
        """Tracked files that differ from HEAD (staged or not), repository-relative."""
        ran = self.run("git", "status", "--porcelain", "--untracked-files=no", "-z")
        if not ran.ok:
            raise CheckFailedError(f"`git status` failed:\n{ran.tail()}")
        # "XY path" entries; not stripped, as X may be a space.
        return sorted(entry[3:] for entry in ran.output.split("\0") if entry)

    def remote_branch_exists(self, branch: str) -> bool:
        return bool(self.git("ls-remote", "--heads", "origin", f"refs/heads/{branch}", remote=True))

    def fetch(self, branch: str) -> str:
        """Fetches origin's `branch` into refs/remotes/origin/; the ref to start from."""
        self.git("fetch", "--quiet", "origin", f"+refs/heads/{branch}:refs/remotes/origin/{branch}",
                 remote=True)  # fmt: skip
        return f"refs/remotes/origin/{branch}"
